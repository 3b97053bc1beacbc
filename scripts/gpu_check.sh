#!/usr/bin/env bash
# `make gpu-check`: the CUDA backend's checks on a machine with an NVIDIA GPU, CUDA 13 and a
# reference PyTorch, with no package registry: installs the prebuilt wheel from dist/, runs the
# kernel self test, the `cuda` tests and the kernel compile test, then the GPU benchmarks side by
# side with that PyTorch. Usage: scripts/gpu_check.sh [python]   (default: python3)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${1:-python3}
VENV=${GPU_VENV:-.gpu-venv}
WHEEL=$(ls dist/ferrotorch-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$WHEEL" ]; then
    echo "gpu-check: no dist/ferrotorch-*.whl; build one with 'make wheels' first" >&2
    exit 2
fi

# The machine's own packages (torch, numpy, pytest) stay visible; only ferrotorch is added.
"$PY" -m venv --system-site-packages "$VENV"
"$VENV/bin/pip" install -q --no-deps --no-index --force-reinstall "$WHEEL"
PYV="$VENV/bin/python"

echo "== device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
"$PYV" - <<'PY'
import ferrotorch as ft
from ferrotorch.cuda import _libs
print("ferrotorch.cuda.is_available():", ft.cuda.is_available(), " device_count:", ft.cuda.device_count())
for lib in ("cuda", "nvrtc", "cublas"):
    print(f"  {lib}: {_libs.library_location(lib)}")
if ft.cuda.is_available():
    print(" ", ft.cuda.get_device_properties(0))
PY

echo "== kernel self test (compile, load, launch, compare with the CPU)"
"$PYV" -c "from ferrotorch import _C; [print('  ok', name) for name in _C._cuda_self_test(0)]"

echo "== tests"
if "$PYV" -c "import pytest, numpy" 2>/dev/null; then
    (cd tests && "../$PYV" -m pytest -q -p no:cacheprovider -m cuda cuda)
    (cd tests && "../$PYV" -m pytest -q -p no:cacheprovider cuda/test_kernel_compile.py)
else
    echo "  pytest or numpy missing on this machine: tests skipped"
fi

echo "== benchmarks against PyTorch"
"$PYV" bench/gpu.py
