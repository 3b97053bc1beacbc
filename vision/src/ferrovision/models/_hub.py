"""Checkpoint cache, as `torch.hub.load_state_dict_from_url`: a file is fetched once into
``$TORCH_HOME/hub/checkpoints`` (default ``~/.cache/torch/hub/checkpoints``) and read from there after."""

import hashlib
import os
import re
import shutil
import sys
import tempfile
import urllib.request
from urllib.parse import urlparse

import ferrotorch

__all__ = ["get_dir", "download_url_to_file", "load_state_dict_from_url"]

# The sha256 prefix torch.hub expects in a checkpoint's file name, e.g. resnet18-f37072fd.pth.
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")


def get_dir():
    """The hub directory: ``$TORCH_HOME/hub``, ``$XDG_CACHE_HOME/torch/hub`` or ``~/.cache/torch/hub``."""
    cache = os.getenv("XDG_CACHE_HOME", "~/.cache")
    torch_home = os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(cache, "torch")))
    return os.path.join(torch_home, "hub")


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Copy ``url`` (http(s):// or file://) to ``dst`` through a temporary file, checking that the
    sha256 of the content starts with ``hash_prefix`` when one is given."""
    sha256 = hashlib.sha256()
    dst_dir = os.path.dirname(os.path.abspath(dst))
    tmp = tempfile.NamedTemporaryFile(delete=False, dir=dst_dir, suffix=".partial")
    try:
        with urllib.request.urlopen(url) as response, tmp:  # noqa: S310 (users ask for this url)
            total = response.headers.get("Content-Length")
            done = 0
            while True:
                chunk = response.read(1 << 20)
                if not chunk:
                    break
                tmp.write(chunk)
                sha256.update(chunk)
                done += len(chunk)
                if progress:
                    sys.stderr.write(f"\r{done}/{total or '?'} bytes")
        if progress:
            sys.stderr.write("\n")
        if hash_prefix is not None:
            digest = sha256.hexdigest()
            if digest[: len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
        shutil.move(tmp.name, dst)
    finally:
        if os.path.exists(tmp.name):
            os.remove(tmp.name)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False,
                             file_name=None, weights_only=True):
    """Load the checkpoint at ``url`` with :func:`ferrotorch.load`, from the cache when it is there.

    ``url`` may also be the path of a local file, which is read in place. Downloads happen only
    when the file is missing from ``model_dir`` (default ``get_dir()/checkpoints``); with
    ``check_hash`` the download must match the sha256 prefix in the file name.
    """
    if os.path.isfile(url):
        cached_file = url
    else:
        model_dir = model_dir or os.path.join(get_dir(), "checkpoints")
        os.makedirs(model_dir, exist_ok=True)
        filename = file_name or os.path.basename(urlparse(url).path)
        cached_file = os.path.join(model_dir, filename)
        if not os.path.exists(cached_file):
            if progress:
                sys.stderr.write(f'Downloading: "{url}" to {cached_file}\n')
            match = HASH_REGEX.search(filename) if check_hash else None
            download_url_to_file(url, cached_file, match.group(1) if match else None, progress=progress)
    return ferrotorch.load(cached_file, map_location=map_location, weights_only=weights_only)
