"""``ferrotorch.save`` / ``ferrotorch.load`` in PyTorch's zip checkpoint format.

Files are PyTorch's byte for byte in layout (``<name>/data.pkl``, ``<name>/data/<key>`` records
aligned to 64 bytes, ``byteorder``, ``version``, ...) and their pickles name ``torch.*`` globals, so
PyTorch loads what ferrotorch saves and the other way round. ``load`` is ``weights_only`` by
default: a restricted unpickler that never runs code from the file.
"""

import io
import mmap as _mmap
import os
import pickle
import secrets
import tempfile
import zipfile

from ._serialization.pickler import make_pickler_class
from ._serialization.storages import StorageLoader
from ._serialization.unpickler import make_unpickler_class
from ._serialization.weights_only import (  # noqa: F401  (public: ferrotorch.serialization.add_safe_globals, ...)
    WeightsOnlyUnpickler,
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)
from ._serialization.zipformat import ZipWriter, archive_prefix

__all__ = ["save", "load"]

_ZIP_MAGIC = b"PK\x03\x04"
# The pickled magic number that starts PyTorch's legacy (pre-1.6, non-zip) format.
_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
_UNSAFE_MESSAGE = (
    "In ferrotorch, as in PyTorch 2.6+, the default value of the `weights_only` argument of `load` is True. "
    "Re-running `load` with `weights_only` set to `False` will likely succeed, but it can result in "
    "arbitrary code execution. Do it only if you got the file from a trusted source."
)


def _is_path(f):
    return isinstance(f, (str, os.PathLike))


def _pickle_object(obj, pickle_module, pickle_protocol):
    """The ``data.pkl`` bytes of ``obj`` and the storages its tensors reference, in key order."""
    base = getattr(pickle_module, "_Pickler", None) or pickle._Pickler
    data = io.BytesIO()
    pickler = make_pickler_class(base)(data, pickle_protocol)
    pickler.dump(obj)
    return data.getvalue(), list(pickler.storages.values())


def _write_archive(stream, name, data_pkl, storages):
    writer = ZipWriter(stream)
    writer.write_record(f"{name}/data.pkl", data_pkl)
    writer.write_record(f"{name}/.format_version", b"1")
    writer.write_record(f"{name}/.storage_alignment", b"64")
    writer.write_record(f"{name}/byteorder", b"little")
    for record in storages:
        writer.write_record(f"{name}/data/{record.key}", record.to_bytes())
    writer.write_record(f"{name}/version", b"3\n")
    serialization_id = "".join(f"{secrets.randbits(64):020d}" for _ in range(2))
    writer.write_record(f"{name}/.data/serialization_id", serialization_id.encode())
    writer.close()


def _replace_atomically(path, write):
    """Runs ``write(stream)`` on a temporary file beside ``path``, then renames it over ``path``:
    a save that fails half-way leaves the previous file untouched."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; give it an ordinary file's mode
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def save(obj, f, pickle_module=pickle, pickle_protocol=2, _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Saves ``obj`` (tensors, state dicts, nested containers, ...) to ``f`` in PyTorch's zip format.

    Args:
        obj: what to save.
        f: a path (``str`` or ``os.PathLike``) or a writable binary file object. A path is written
            atomically (a temporary file renamed over it), so a failed save keeps the old file.
        pickle_module: module providing the pickler (its pure-Python ``_Pickler`` is used).
        pickle_protocol: pickle protocol of ``data.pkl``. Default: 2, like PyTorch.
    """
    if not _use_new_zipfile_serialization:
        raise ValueError("ferrotorch.save writes only the zip format (_use_new_zipfile_serialization=True)")
    data_pkl, storages = _pickle_object(obj, pickle_module, pickle_protocol)
    if _disable_byteorder_record:
        raise ValueError("ferrotorch.save always writes the byteorder record")
    if _is_path(f):
        path = os.fspath(f)
        name = os.path.splitext(os.path.basename(path))[0] or "archive"
        _replace_atomically(path, lambda stream: _write_archive(stream, name, data_pkl, storages))
    else:
        _write_archive(f, "archive", data_pkl, storages)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Loads an object saved with ``ferrotorch.save`` or ``torch.save`` (zip format).

    Args:
        f: a path or a readable binary file object.
        map_location: where storages go: ``None`` (where they were saved), a device or its name,
            a dict mapping saved locations to new ones, or ``fn(storage, location)`` returning the
            storage to use (``None`` for the default).
        pickle_module: module providing the unpickler; only with ``weights_only=False``.
        weights_only: unpickle with a restricted unpickler accepting only tensors, containers,
            primitive types and allowlisted globals (see :func:`add_safe_globals`). Default: True.
        mmap: map the file instead of reading it; tensors then view the mapped file (copy on
            write). ``f`` must be a path.
    """
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if _is_path(f) and os.fspath(f).endswith(".safetensors"):
        from .utils.safetensors import load_file

        return load_file(f, device=str(map_location) if map_location is not None else "cpu")
    if mmap and not _is_path(f):
        raise ValueError("f must be a file path in order to use the mmap argument")
    stream = open(f, "rb") if _is_path(f) else f
    try:
        if not getattr(stream, "seekable", lambda: False)():
            stream = io.BytesIO(stream.read())
        start = stream.tell()
        magic = stream.read(len(_LEGACY_MAGIC))
        stream.seek(start)
        if not magic.startswith(_ZIP_MAGIC):
            _reject_non_zip(f, magic)
        mapped = None
        if mmap:
            if os.path.getsize(f) == 0:
                raise RuntimeError(f"mmap: {f} is empty")
            mapped = _mmap.mmap(stream.fileno(), 0, access=_mmap.ACCESS_COPY)
        return _load_zip(stream, map_location, pickle_module, weights_only, mapped, pickle_load_args)
    finally:
        if stream is not f and _is_path(f):
            stream.close()


def _reject_non_zip(f, magic):
    if magic == _LEGACY_MAGIC:
        raise RuntimeError(
            f"{f!r} is in PyTorch's legacy (pre-1.6) format, which ferrotorch does not read; "
            "re-save it with torch.save(obj, path) from a current PyTorch"
        )
    raise pickle.UnpicklingError(f"{f!r} is not a checkpoint: expected a zip archive written by torch.save or ferrotorch.save")


def _load_zip(stream, map_location, pickle_module, weights_only, mapped, pickle_load_args):
    try:
        zf = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as e:
        raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {e}") from None
    with zf:
        prefix = archive_prefix(zf)
        data_pkl = io.BytesIO(zf.read(prefix + "data.pkl"))
        storages = StorageLoader(zf, prefix, stream, map_location, mapped)
        encoding = pickle_load_args.pop("encoding", "utf-8")
        if weights_only:
            try:
                return WeightsOnlyUnpickler(data_pkl, storages, encoding=encoding).load()
            except pickle.UnpicklingError as e:
                raise pickle.UnpicklingError(
                    f"Weights only load failed. {_UNSAFE_MESSAGE}\n\tWeightsUnpickler error: {e}"
                ) from None
        unpickler_class = make_unpickler_class(pickle_module or pickle)
        return unpickler_class(data_pkl, storages, encoding=encoding, **pickle_load_args).load()
