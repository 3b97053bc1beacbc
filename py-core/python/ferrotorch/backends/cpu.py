"""``ferrotorch.backends.cpu``: the vector instruction set the CPU kernels can use."""

import platform

__all__ = ["get_cpu_capability"]

_AVX512 = {"avx512f", "avx512bw", "avx512vl", "avx512dq"}


def _cpu_flags():
    """The instruction-set flags Linux reports for this CPU (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def get_cpu_capability():
    """PyTorch's name for the widest vector instruction set available: ``"AVX512"``,
    ``"AVX2"`` or ``"NO AVX"`` on x86-64, ``"DEFAULT"`` elsewhere."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return "DEFAULT"
    flags = _cpu_flags()
    if _AVX512 <= flags:
        return "AVX512"
    if {"avx2", "fma"} <= flags:
        return "AVX2"
    return "NO AVX" if "avx" not in flags else "DEFAULT"
