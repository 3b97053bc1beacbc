"""Download, integrity and archive helpers shared by the datasets, as `torchvision.datasets.utils`.

Nothing here runs at import time. Downloads go through `urllib` (so `file://` mirrors work too) and are
checked against an MD5 when one is given.
"""

import bz2
import gzip
import hashlib
import lzma
import os
import pathlib
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from typing import Callable, IO, Optional, Union

USER_AGENT = "pytorch/vision"

PathLike = Union[str, pathlib.Path]


def _urlretrieve(url: str, filename: PathLike, chunk_size: int = 1024 * 32) -> None:
    """Stream `url` into `filename` in chunks, so large archives never sit in memory whole."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request) as response, open(filename, "wb") as fh:
        while chunk := response.read(chunk_size):
            fh.write(chunk)


def calculate_md5(fpath: PathLike, chunk_size: int = 1024 * 1024) -> str:
    """Hex MD5 digest of a file (an integrity check, not a security measure)."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath: PathLike, md5: str, **kwargs) -> bool:
    """True when the file's MD5 digest equals `md5`."""
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath: PathLike, md5: Optional[str] = None) -> bool:
    """True when `fpath` is a file and, if `md5` is given, its digest matches."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def download_url(
    url: str,
    root: PathLike,
    filename: Optional[PathLike] = None,
    md5: Optional[str] = None,
    max_redirect_hops: int = 3,
) -> None:
    """Download `url` into `root/filename` unless a file with a matching MD5 is already there.

    Args:
        url (str): URL to download the file from (``https://``, ``http://`` or ``file://``).
        root (str): Directory to place the downloaded file in.
        filename (str, optional): Name to save the file under. Default: the basename of the URL.
        md5 (str, optional): MD5 checksum of the download. If None, it is not checked.
        max_redirect_hops (int, optional): Kept for torchvision's signature; urllib follows redirects itself.
    """
    root = os.path.expanduser(root)
    if not filename:
        filename = os.path.basename(url)
    fpath = os.fspath(os.path.join(root, filename))
    os.makedirs(root, exist_ok=True)

    if check_integrity(fpath, md5):
        return

    try:
        _urlretrieve(url, fpath)
    except (urllib.error.URLError, OSError) as e:
        # Some hosts serve only plain http; torchvision retries the same way.
        if url[:5] != "https":
            raise e
        _urlretrieve(url.replace("https:", "http:"), fpath)

    if not check_integrity(fpath, md5):
        raise RuntimeError("File not found or corrupted.")


def list_dir(root: PathLike, prefix: bool = False) -> list[str]:
    """Names (or paths, with `prefix`) of the directories directly under `root`."""
    root = os.path.expanduser(root)
    directories = [p for p in os.listdir(root) if os.path.isdir(os.path.join(root, p))]
    return [os.path.join(root, d) for d in directories] if prefix else directories


def list_files(root: PathLike, suffix: str, prefix: bool = False) -> list[str]:
    """Names (or paths, with `prefix`) of the files directly under `root` ending with `suffix`."""
    root = os.path.expanduser(root)
    files = [p for p in os.listdir(root) if os.path.isfile(os.path.join(root, p)) and p.endswith(suffix)]
    return [os.path.join(root, f) for f in files] if prefix else files


def _extract_tar(from_path: PathLike, to_path: PathLike, compression: Optional[str]) -> None:
    with tarfile.open(from_path, f"r:{compression[1:]}" if compression else "r") as tar:
        # The "data" filter refuses members that would escape to_path (absolute paths, "..", outside links).
        tar.extractall(to_path, filter="data")


_ZIP_COMPRESSION_MAP = {".bz2": zipfile.ZIP_BZIP2, ".xz": zipfile.ZIP_LZMA}


def _extract_zip(from_path: PathLike, to_path: PathLike, compression: Optional[str]) -> None:
    mode = _ZIP_COMPRESSION_MAP[compression] if compression else zipfile.ZIP_STORED
    with zipfile.ZipFile(from_path, "r", compression=mode) as archive:
        archive.extractall(to_path)


_ARCHIVE_EXTRACTORS: dict[str, Callable[[PathLike, PathLike, Optional[str]], None]] = {
    ".tar": _extract_tar,
    ".zip": _extract_zip,
}
_COMPRESSED_FILE_OPENERS: dict[str, Callable[..., IO]] = {".bz2": bz2.open, ".gz": gzip.open, ".xz": lzma.open}
_FILE_TYPE_ALIASES = {".tbz": (".tar", ".bz2"), ".tbz2": (".tar", ".bz2"), ".tgz": (".tar", ".gz")}


def _detect_file_type(file: PathLike) -> tuple[str, Optional[str], Optional[str]]:
    """(suffix, archive type, compression) of a file name, e.g. ``("tar.gz", ".tar", ".gz")``."""
    suffixes = pathlib.Path(file).suffixes
    if not suffixes:
        raise RuntimeError(
            f"File '{file}' has no suffixes that could be used to detect the archive type and compression."
        )
    suffix = suffixes[-1]
    if suffix in _FILE_TYPE_ALIASES:
        return (suffix, *_FILE_TYPE_ALIASES[suffix])
    if suffix in _ARCHIVE_EXTRACTORS:
        return suffix, suffix, None
    if suffix in _COMPRESSED_FILE_OPENERS:
        if len(suffixes) > 1 and suffixes[-2] in _ARCHIVE_EXTRACTORS:
            return suffixes[-2] + suffix, suffixes[-2], suffix
        return suffix, None, suffix
    valid_suffixes = sorted(set(_FILE_TYPE_ALIASES) | set(_ARCHIVE_EXTRACTORS) | set(_COMPRESSED_FILE_OPENERS))
    raise RuntimeError(f"Unknown compression or archive type: '{suffix}'.\nKnown suffixes are: '{valid_suffixes}'.")


def _decompress(from_path: PathLike, to_path: PathLike, remove_finished: bool = False) -> pathlib.Path:
    """Decompress a single compressed file (``.gz``, ``.bz2``, ``.xz``) to `to_path`."""
    suffix, _, compression = _detect_file_type(from_path)
    if not compression:
        raise RuntimeError(f"Couldn't detect a compression from suffix {suffix}.")
    with _COMPRESSED_FILE_OPENERS[compression](from_path, "rb") as rfh, open(to_path, "wb") as wfh:
        wfh.write(rfh.read())
    if remove_finished:
        os.remove(from_path)
    return pathlib.Path(to_path)


def extract_archive(
    from_path: PathLike, to_path: Optional[PathLike] = None, remove_finished: bool = False
) -> PathLike:
    """Extract an archive (tar, zip, possibly compressed) or decompress a single compressed file.

    The type is detected from the file name. Returns the directory extracted into, or the path of the
    decompressed file, as a ``str`` when `from_path` was one.
    """
    if to_path is None:
        to_path = os.path.dirname(from_path)
    suffix, archive_type, compression = _detect_file_type(from_path)
    if not archive_type:
        target = os.path.join(to_path, os.path.basename(from_path).replace(suffix, ""))
        result = _decompress(from_path, target, remove_finished=remove_finished)
    else:
        _ARCHIVE_EXTRACTORS[archive_type](from_path, to_path, compression)
        if remove_finished:
            os.remove(from_path)
        result = pathlib.Path(to_path)
    return os.fspath(result) if isinstance(from_path, str) else result


def download_and_extract_archive(
    url: str,
    download_root: PathLike,
    extract_root: Optional[PathLike] = None,
    filename: Optional[PathLike] = None,
    md5: Optional[str] = None,
    remove_finished: bool = False,
) -> None:
    """`download_url` into `download_root`, then `extract_archive` into `extract_root` (default: the same)."""
    download_root = os.path.expanduser(download_root)
    if extract_root is None:
        extract_root = download_root
    if not filename:
        filename = os.path.basename(url)
    download_url(url, download_root, filename, md5)
    extract_archive(os.path.join(download_root, filename), extract_root, remove_finished)


def iterable_to_str(iterable: Iterable) -> str:
    """``'a', 'b', 'c'``: the quoted listing used in error messages."""
    return "'" + "', '".join(str(item) for item in iterable) + "'"


def verify_str_arg(
    value: str,
    arg: Optional[str] = None,
    valid_values: Optional[Iterable[str]] = None,
    custom_msg: Optional[str] = None,
) -> str:
    """Return `value` if it is a string among `valid_values`, else raise torchvision's ValueError."""
    if not isinstance(value, str):
        if arg is None:
            msg = f"Expected type str, but got type {type(value)}."
        else:
            msg = f"Expected type str for argument {arg}, but got type {type(value)}."
        raise ValueError(msg)
    if valid_values is None:
        return value
    if value not in valid_values:
        if custom_msg is not None:
            raise ValueError(custom_msg)
        raise ValueError(
            f"Unknown value '{value}' for argument {arg}. Valid values are {{{iterable_to_str(valid_values)}}}."
        )
    return value
