"""The autocast region API: state functions, `autocast` as context manager and decorator,
nesting, unsupported devices and dtypes, aliases, `custom_fwd`/`custom_bwd`."""

import warnings

import pytest

import ferrotorch as ft
from ferrotorch.amp import autocast, custom_bwd, custom_fwd


def _product_dtype():
    """The dtype of a float32 matrix product: what autocast does to `mm` right now."""
    a = ft.ones(2, 2)
    return (a @ a).dtype


def test_defaults():
    assert ft.is_autocast_enabled("cpu") is False
    assert ft.is_autocast_enabled("cuda") is False
    assert ft.get_autocast_dtype("cpu") == ft.bfloat16
    assert ft.get_autocast_dtype("cuda") == ft.float16
    assert ft.is_autocast_cache_enabled() is True
    assert ft.amp.is_autocast_available("cpu") and ft.amp.is_autocast_available("cuda")
    assert not ft.amp.is_autocast_available("mps")


def test_unknown_device_string_raises():
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda, .* device type at start of device string: foo"):
        ft.is_autocast_enabled("foo")
    with pytest.raises(RuntimeError, match="device string: foo"):
        autocast("foo")


def test_device_type_must_be_a_string():
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`, got: `<class 'int'>`"):
        autocast(1)


def test_device_without_autocast_raises():
    with pytest.raises(RuntimeError, match="User specified an unsupported autocast device_type 'mps'"):
        autocast("mps")


def test_region_turns_autocast_on_and_restores_state():
    with autocast("cpu") as region:
        assert isinstance(region, autocast)
        assert ft.is_autocast_enabled("cpu")
        assert _product_dtype() == ft.bfloat16
    assert not ft.is_autocast_enabled("cpu")
    assert _product_dtype() == ft.float32


def test_state_restored_when_region_raises():
    with pytest.raises(KeyError):
        with autocast("cpu", dtype=ft.float16, cache_enabled=False):
            raise KeyError("x")
    assert not ft.is_autocast_enabled("cpu")
    assert ft.get_autocast_dtype("cpu") == ft.bfloat16
    assert ft.is_autocast_cache_enabled()


def test_nested_regions():
    with autocast("cpu"):
        with autocast("cpu", enabled=False):
            assert not ft.is_autocast_enabled("cpu")
            assert _product_dtype() == ft.float32
        with autocast("cpu", dtype=ft.float16):
            assert ft.get_autocast_dtype("cpu") == ft.float16
            assert _product_dtype() == ft.float16
        assert ft.get_autocast_dtype("cpu") == ft.bfloat16
        assert _product_dtype() == ft.bfloat16


def test_nesting_counter():
    assert ft.autocast_increment_nesting() == 1
    assert ft.autocast_increment_nesting() == 2
    assert ft.autocast_decrement_nesting() == 1
    assert ft.autocast_decrement_nesting() == 0


def test_decorator_runs_function_in_region():
    @autocast("cpu")
    def product(a, b):
        assert ft.is_autocast_enabled("cpu")
        return a @ b

    a = ft.ones(2, 2)
    assert product(a, a).dtype == ft.bfloat16
    assert product.__name__ == "product"
    assert not ft.is_autocast_enabled("cpu")


def test_decorator_needs_a_callable():
    with pytest.raises(TypeError, match=r"autocast\(\)\(func\) requires a callable, but got int"):
        autocast("cpu")(5)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_unsupported_cpu_dtype_warns_and_disables(dtype):
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                      "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently."):
        region = autocast("cpu", dtype=dtype)
    with region:
        assert not ft.is_autocast_enabled("cpu")
        assert _product_dtype() == ft.float32


def test_cuda_without_cuda_warns_and_disables():
    with pytest.warns(UserWarning, match="CUDA is not available or torch_xla is imported. Disabling autocast."):
        region = autocast("cuda")
    with region:
        assert not ft.is_autocast_enabled("cuda")


def test_set_and_get_state_functions():
    try:
        ft.set_autocast_enabled("cpu", True)
        ft.set_autocast_dtype("cpu", ft.float16)
        assert ft.is_autocast_enabled("cpu") and _product_dtype() == ft.float16
        ft.set_autocast_cache_enabled(False)
        assert not ft.is_autocast_cache_enabled()
    finally:
        ft.set_autocast_enabled("cpu", False)
        ft.set_autocast_dtype("cpu", ft.bfloat16)
        ft.set_autocast_cache_enabled(True)
    assert _product_dtype() == ft.float32


def test_legacy_one_argument_set_enabled_is_cuda():
    ft.set_autocast_enabled(True)
    try:
        assert ft.is_autocast_enabled("cuda") and ft.is_autocast_enabled()
        assert not ft.is_autocast_enabled("cpu")
    finally:
        ft.set_autocast_enabled(False)


def test_aliases():
    assert ft.autocast is autocast
    with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.autocast\(args...\)` is deprecated"):
        region = ft.cpu.amp.autocast()
    assert isinstance(region, autocast) and region.device == "cpu" and region.fast_dtype == ft.bfloat16
    with region:
        assert _product_dtype() == ft.bfloat16
    with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.GradScaler\(args...\)` is deprecated"):
        scaler = ft.cpu.amp.GradScaler(init_scale=8.0)
    assert scaler.is_enabled() and scaler.get_scale() == 8.0
    assert ft.cpu.is_available() and ft.cpu.device_count() == 1 and ft.cpu.current_device() == "cpu"


class _Double(ft.autograd.Function):
    """y = 2 x, recording the dtype and autocast state forward and backward ran under."""

    seen = {}

    @staticmethod
    @custom_fwd(device_type="cpu", cast_inputs=ft.float32)
    def forward(ctx, x):
        _Double.seen["forward"] = (x.dtype, ft.is_autocast_enabled("cpu"))
        return x * 2

    @staticmethod
    @custom_bwd(device_type="cpu")
    def backward(ctx, g):
        _Double.seen["backward"] = ft.is_autocast_enabled("cpu")
        return g * 2


class _Plain(ft.autograd.Function):
    """Like _Double without cast_inputs: forward runs under the caller's autocast state."""

    seen = {}

    @staticmethod
    @custom_fwd(device_type="cpu")
    def forward(ctx, x):
        _Plain.seen["forward"] = (x.dtype, ft.is_autocast_enabled("cpu"))
        return x * 2

    @staticmethod
    @custom_bwd(device_type="cpu")
    def backward(ctx, g):
        _Plain.seen["backward"] = (ft.is_autocast_enabled("cpu"), ft.get_autocast_dtype("cpu"))
        return g * 2


def test_custom_fwd_casts_inputs_and_runs_without_autocast():
    x = ft.ones(3, dtype=ft.bfloat16, requires_grad=True)
    with autocast("cpu"):
        y = _Double.apply(x)
    assert _Double.seen["forward"] == (ft.float32, False)
    assert y.dtype == ft.float32
    y.sum().backward()
    assert _Double.seen["backward"] is False
    assert x.grad.dtype == ft.bfloat16 and x.grad.float().tolist() == [2.0, 2.0, 2.0]


def test_custom_fwd_outside_region_is_a_no_op():
    x = ft.ones(3, dtype=ft.bfloat16)
    assert _Double.apply(x).dtype == ft.bfloat16
    assert _Double.seen["forward"] == (ft.bfloat16, False)


def test_custom_bwd_runs_backward_under_forward_state():
    x = ft.ones(3, requires_grad=True)
    with autocast("cpu", dtype=ft.float16):
        y = _Plain.apply(x)
    assert _Plain.seen["forward"] == (ft.float32, True)
    y.sum().backward()
    assert _Plain.seen["backward"] == (True, ft.float16)
    assert not ft.is_autocast_enabled("cpu")


def test_custom_fwd_device_type_must_be_a_string():
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        custom_fwd(lambda ctx: None, device_type=None)


def test_no_warning_for_supported_dtypes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        autocast("cpu", dtype=ft.float16)
        autocast("cpu")
