"""Where pip-installed NVIDIA libraries live, for the CUDA backend's library discovery.

The Rust core loads libcuda, libnvrtc, libcublas and libcudnn itself, before any CUDA call (see
``core-rs/src/cuda/libs.rs``): first from the loader path, then ``$CUDA_HOME``/``$CUDA_PATH``,
then the folders registered here. Only Python knows where site-packages is, so this module
lists the ``lib`` folders of the NVIDIA wheels found on ``sys.path`` and hands them to the core,
which opens a library found there by full path with ``RTLD_GLOBAL`` (PyTorch preloads its
wheels' libraries the same way). Keeping the loading itself in Rust gives one search order,
one error message and no second copy of the logic.
"""

import os
import sys

from .. import _C

# The lib folders of the NVIDIA wheels: CUDA 13 wheels share nvidia/cu13/lib; CUDA 12 wheels
# had one folder per library, as cuDNN's wheel still has.
PACKAGE_LIB_DIRS = (
    os.path.join("nvidia", "cu13", "lib"),
    os.path.join("nvidia", "cudnn", "lib"),
    os.path.join("nvidia", "cuda_nvrtc", "lib"),
    os.path.join("nvidia", "cublas", "lib"),
    os.path.join("nvidia", "cuda_runtime", "lib"),
)


def library_dirs(search_path=None):
    """The NVIDIA wheel library folders under each entry of ``search_path`` (``sys.path`` by
    default), in that order, without duplicates."""
    found = []
    for entry in sys.path if search_path is None else search_path:
        if not isinstance(entry, str) or not entry:
            continue
        for relative in PACKAGE_LIB_DIRS:
            folder = os.path.join(entry, relative)
            if os.path.isdir(folder) and folder not in found:
                found.append(folder)
    return found


def register(search_path=None):
    """Registers the folders with the core; returns them."""
    folders = library_dirs(search_path)
    _C._cuda_add_library_dirs(folders)
    return folders


def library_location(name):
    """Where the core loaded a CUDA library from (``"loader path"`` or a folder), or None when
    it cannot be loaded. ``name``: ``cuda``, ``nvrtc``, ``cublas`` or ``cublasLt``."""
    return _C._cuda_library_location(name)
