#!/usr/bin/env bash
# `make gpu-check`: the CUDA backend's checks on a machine with an NVIDIA GPU, CUDA 13 and a
# reference PyTorch, with no package registry: installs the prebuilt wheel from dist/, runs the
# kernel self test, the `cuda` tests and the kernel compile test, then the GPU benchmarks side by
# side with that PyTorch. Usage: scripts/gpu_check.sh [python]   (default: python3)
#
# Built for a short lease: every stage has a time limit (GPU_TEST_TIMEOUT, GPU_BENCH_TIMEOUT,
# seconds), a failing stage does not stop the next, full logs go to $LOGS (default $OUT, the
# device tool's folder that comes back, else gpu-logs/; at most six files, as the tool returns
# eight), and a short summary is printed last. GPU_PROFILE names bench workloads to profile;
# GPU_SKIP_COMPILE=1 skips the NVRTC compile test of every module (about 40 s).
set -uo pipefail
cd "$(dirname "$0")/.."

PY=${1:-python3}
LOGS=${LOGS:-${OUT:-gpu-logs}}
TEST_TIMEOUT=${GPU_TEST_TIMEOUT:-240}
BENCH_TIMEOUT=${GPU_BENCH_TIMEOUT:-150}
mkdir -p "$LOGS"
export PYTHONUNBUFFERED=1
WHEEL=$(ls dist/ferrotorch-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$WHEEL" ]; then
    echo "gpu-check: no dist/ferrotorch-*.whl; build one with 'make wheels' first" >&2
    exit 2
fi

# The machine's own packages (torch, numpy, pytest) stay visible; only ferrotorch is added, in a
# folder of its own on PYTHONPATH (a venv made from a venv's python would not see the packages).
SITE=${GPU_SITE:-$(pwd)/.gpu-site}
rm -rf "$SITE"
"$PY" -m pip install -q --no-deps --no-index --no-compile --target "$SITE" "$WHEEL" || exit 2
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
PYV=$("$PY" -c "import sys; print(sys.executable)")
declare -A STATUS

echo "== device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
timeout 60 "$PYV" - <<'PY' 2>&1 | tee "$LOGS/setup.log"
import ferrotorch as ft
from ferrotorch.cuda import _libs
print("ferrotorch.cuda.is_available():", ft.cuda.is_available(), " device_count:", ft.cuda.device_count())
for lib in ("cuda", "nvrtc", "cublas", "cublasLt", "cudnn"):
    print(f"  {lib}: {_libs.library_location(lib)}")
print("  cuDNN version:", ft.backends.cudnn.version())
if ft.cuda.is_available():
    print(" ", ft.cuda.get_device_properties(0))
PY
STATUS[device]=$?

echo "== kernel self test (compile, load, launch, compare with the CPU)"
timeout 120 "$PYV" -c "from ferrotorch import _C; [print('  ok', name) for name in _C._cuda_self_test(0)]" 2>&1 | tee -a "$LOGS/setup.log" | tail -n 5
STATUS[selftest]=$?

echo "== tests (limit ${TEST_TIMEOUT}s)"
PYTEST_ARGS=(-q -p no:cacheprovider -rfE --junitxml="$LOGS/cuda-tests.xml")
"$PYV" -c "import xdist" 2>/dev/null && PYTEST_ARGS+=(-n 8)
"$PYV" -c "import pytest_timeout" 2>/dev/null && PYTEST_ARGS+=(--timeout 120)
# RUST_BACKTRACE: an op that reaches for host memory of a CUDA tensor names itself in the error.
(cd tests && RUST_BACKTRACE=1 timeout "$TEST_TIMEOUT" "$PYV" -m pytest "${PYTEST_ARGS[@]}" -m cuda cuda) > "$LOGS/cuda-tests.log" 2>&1
STATUS[tests]=$?
STATUS[compile]=skipped
if [ -z "${GPU_SKIP_COMPILE:-}" ]; then
    (cd tests && timeout 120 "$PYV" -m pytest -q -p no:cacheprovider cuda/test_kernel_compile.py) >> "$LOGS/setup.log" 2>&1
    STATUS[compile]=$?
fi

echo "== benchmarks against PyTorch (limit ${BENCH_TIMEOUT}s)"
timeout "$BENCH_TIMEOUT" "$PYV" bench/gpu.py --repeats 3 > "$LOGS/bench.log" 2> "$LOGS/bench-errors.log"
STATUS[bench]=$?

if [ -n "${GPU_PROFILE:-}" ] && command -v ncu >/dev/null; then
    # GPU_PROFILE="workload;workload": where each bench/gpu.py workload's time goes, per kernel.
    IFS=';' read -ra WORKLOADS <<< "$GPU_PROFILE"
    for w in "${WORKLOADS[@]}"; do
        echo "== profile: $w"
        csv="$(mktemp -d)/kernels.csv"  # large: only the summary comes back
        timeout "${GPU_PROFILE_TIMEOUT:-150}" ncu --csv --clock-control none --metrics gpu__time_duration.sum \
            "$PYV" scripts/gpu_profile.py run "$w" > "$csv" 2> "$csv.err"
        code=$?
        [ "$code" = 124 ] && note=" (timed out: partial)" || note=""
        [ "$code" != 0 ] && [ "$code" != 124 ] && note=" (exit $code)"
        { echo "== $w$note"; "$PYV" scripts/gpu_profile.py summary "$csv" || tail -n 5 "$csv.err"; } | tee -a "$LOGS/profile.log"
    done
fi

echo "== summary"
echo "failed tests (first 60 of $(grep -c '^FAILED\|^ERROR' "$LOGS/cuda-tests.log")):"
grep '^FAILED\|^ERROR' "$LOGS/cuda-tests.log" | cut -c1-220 | head -n 60
tail -n 3 "$LOGS/cuda-tests.log"
tail -n 1 "$LOGS/setup.log"
cat "$LOGS/bench.log"
for stage in device selftest tests compile bench; do printf '%s=%s ' "$stage" "${STATUS[$stage]}"; done; echo
