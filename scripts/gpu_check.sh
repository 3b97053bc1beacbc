#!/usr/bin/env bash
# `make gpu-check`: the CUDA backend's checks on a machine with an NVIDIA GPU, CUDA 13 and a
# reference PyTorch, with no package registry: installs the prebuilt wheel from dist/, runs the
# kernel self test, the `cuda` tests and the kernel compile test, then the GPU benchmarks side by
# side with that PyTorch. Usage: scripts/gpu_check.sh [python]   (default: python3)
#
# Built for a short lease: the whole run keeps within GPU_DEADLINE seconds (default 380, for a
# call limited to 400), every stage has a time limit (GPU_TEST_TIMEOUT, GPU_BENCH_TIMEOUT,
# seconds) cut to what the deadline leaves (the tests leave the benchmarks their share), a
# failing stage does not stop the next, each stage's status is logged as it ends, full logs go
# to $LOGS (default $OUT, the device tool's folder that comes back, else gpu-logs/; at most six
# files, as the tool returns eight), and a short summary is printed last. GPU_PROFILE names
# bench workloads to profile when time is left; GPU_COMPILE=1 adds the NVRTC compile test of
# every module (CI runs it without a GPU; about 40 s).
set -uo pipefail
cd "$(dirname "$0")/.."

PY=${1:-python3}
LOGS=$(mkdir -p "${LOGS:-${OUT:-gpu-logs}}" && realpath "${LOGS:-${OUT:-gpu-logs}}") || exit 2
START=$SECONDS
DEADLINE=${GPU_DEADLINE:-380}
TEST_TIMEOUT=${GPU_TEST_TIMEOUT:-150}
BENCH_TIMEOUT=${GPU_BENCH_TIMEOUT:-150}
export PYTHONUNBUFFERED=1
# Compiled kernels are cached on disk; without HOME or XDG_CACHE_HOME every process would
# compile them again.
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/ferrotorch-cache}

# Seconds a stage may take: its own limit, cut to the deadline less `reserve` for later stages.
limit() {
    local left=$((DEADLINE - (SECONDS - START) - $2))
    [ "$left" -lt "$1" ] && echo $((left > 5 ? left : 5)) || echo "$1"
}
declare -A STATUS
ended() {
    STATUS[$1]=$2
    echo "stage $1: exit $2 at $((SECONDS - START))s" >> "$LOGS/setup.log"
}
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
ended device $?

echo "== kernel self test (compile, load, launch, compare with the CPU)"
timeout 120 "$PYV" -c "from ferrotorch import _C; [print('  ok', name) for name in _C._cuda_self_test(0)]" 2>&1 | tee -a "$LOGS/setup.log" | tail -n 5
ended selftest $?

TESTS_LIMIT=$(limit "$TEST_TIMEOUT" $((BENCH_TIMEOUT < 120 ? BENCH_TIMEOUT : 120)))
echo "== tests (limit ${TESTS_LIMIT}s)"
PYTEST_ARGS=(-q -p no:cacheprovider -rfE --junitxml="$LOGS/cuda-tests.xml")
"$PYV" -c "import xdist" 2>/dev/null && PYTEST_ARGS+=(-n 8)
# A test still running after FERROTORCH_TEST_WATCHDOG seconds ends its worker (tests/conftest.py:
# faulthandler's watchdog, which a wait holding the GIL cannot block), and xdist starts another.
# RUST_BACKTRACE: an op that reaches for host memory of a CUDA tensor names itself in the error.
# SIGINT at the limit: pytest still prints its summary and writes the XML. Few CPU threads per
# worker: eight workers share the machine's cores for the CPU references.
(cd tests && FERROTORCH_TEST_WATCHDOG=${GPU_TEST_WATCHDOG:-60} RUST_BACKTRACE=1 RAYON_NUM_THREADS=2 timeout -s INT -k 15 "$TESTS_LIMIT" \
    "$PYV" -m pytest "${PYTEST_ARGS[@]}" -m cuda cuda) > "$LOGS/cuda-tests.log" 2>&1
ended tests $?
STATUS[compile]=skipped
if [ -n "${GPU_COMPILE:-}" ]; then
    (cd tests && timeout "$(limit 120 120)" "$PYV" -m pytest -q -p no:cacheprovider cuda/test_kernel_compile.py) >> "$LOGS/setup.log" 2>&1
    ended compile $?
fi

BENCH_LIMIT=$(limit "$BENCH_TIMEOUT" 5)
echo "== benchmarks against PyTorch (limit ${BENCH_LIMIT}s)"
timeout -s INT -k 10 "$BENCH_LIMIT" "$PYV" bench/gpu.py --repeats 3 > "$LOGS/bench.log" 2> "$LOGS/bench-errors.log"
ended bench $?

if [ -n "${GPU_PROFILE:-}" ] && command -v ncu >/dev/null; then
    # GPU_PROFILE="workload;workload": where each bench/gpu.py workload's time goes, per kernel,
    # as long as the deadline leaves a minute for each.
    IFS=';' read -ra WORKLOADS <<< "$GPU_PROFILE"
    for w in "${WORKLOADS[@]}"; do
        [ $((DEADLINE - (SECONDS - START))) -lt 60 ] && { echo "== profile: $w skipped (deadline)" | tee -a "$LOGS/profile.log"; continue; }
        echo "== profile: $w"
        csv="$(mktemp -d)/kernels.csv"  # large: only the summary comes back
        timeout "$(limit "${GPU_PROFILE_TIMEOUT:-150}" 5)" ncu --csv --clock-control none --metrics gpu__time_duration.sum --profile-from-start off \
            "$PYV" scripts/gpu_profile.py run "$w" > "$csv" 2> "$csv.err"
        code=$?
        [ "$code" = 124 ] && note=" (timed out: partial)" || note=""
        [ "$code" != 0 ] && [ "$code" != 124 ] && note=" (exit $code)"
        { echo "== $w$note"; "$PYV" scripts/gpu_profile.py summary "$csv" || tail -n 5 "$csv.err"; } 2>&1 | tee -a "$LOGS/profile.log"
    done
fi

echo "== summary"
echo "failed tests (first 60 of $(grep -c '^FAILED\|^ERROR' "$LOGS/cuda-tests.log")):"
grep '^FAILED\|^ERROR' "$LOGS/cuda-tests.log" | cut -c1-220 | head -n 60
tail -n 3 "$LOGS/cuda-tests.log"
cat "$LOGS/bench.log"
for stage in device selftest tests compile bench; do printf '%s=%s ' "$stage" "${STATUS[$stage]}"; done; echo
