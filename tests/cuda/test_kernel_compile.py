"""CI's kernel check: every CUDA kernel module compiles with NVRTC for sm_80 and sm_90. Needs
libnvrtc (the Makefile's venv installs nvidia-cuda-nvrtc==13.0.88), not a GPU; skipped only
where no libnvrtc can be found."""

import pytest

from ferrotorch import _C
from ferrotorch.cuda import _libs

needs_nvrtc = pytest.mark.skipif(_libs.library_location("nvrtc") is None, reason="libnvrtc not found")

MODULES = _C._cuda_kernel_modules()


def test_kernel_modules_are_one_op_each_plus_fill_copy_and_reduce():
    assert "fill" in MODULES and "reduce" in MODULES
    assert "copy_f32" in MODULES and "unary_exp" in MODULES and "binary_add" in MODULES
    assert len(MODULES) == len(set(MODULES))


@needs_nvrtc
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_every_kernel_module_compiles_with_every_kernel(arch):
    results = _C._cuda_compile_kernels(arch)
    assert [name for name, *_ in results] == MODULES
    for name, ptx_bytes, kernels, entries in results:
        assert ptx_bytes > 0 and kernels > 0, name
        assert entries == kernels, name


@needs_nvrtc
def test_nvrtc_is_version_13():
    assert _C._cuda_nvrtc_version()[0] == 13


@needs_nvrtc
@pytest.mark.parametrize("arch", ["", "sm_", "90", "sm_90; rm", "--help"])
def test_invalid_architecture_raises_value_error(arch):
    with pytest.raises(ValueError, match="invalid CUDA architecture"):
        _C._cuda_compile_kernels(arch, ["fill"])


def test_kernel_cache_dir_follows_xdg_cache_home():
    path = _C._cuda_kernel_cache_dir()
    assert path is None or path.endswith("ferrotorch/kernels")
