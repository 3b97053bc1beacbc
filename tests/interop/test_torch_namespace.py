"""PyTorch as the reference for the top-level namespace (skipped where it is not installed):
finfo/iinfo, switches, backends, legacy types, torch.special and the composites."""

import warnings

import numpy as np
import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")

FLOATS = ["float16", "bfloat16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


def both(array, dtype="float64"):
    """The same values as a ferrotorch and a torch tensor."""
    array = np.asarray(array)
    return ft.tensor(array, dtype=getattr(ft, dtype)), torch.tensor(array, dtype=getattr(torch, dtype))


def same(f_result, t_result, rtol=1e-12, atol=1e-300):
    t_np = t_result.detach().float().numpy() if t_result.dtype == torch.bfloat16 else t_result.detach().numpy()
    f_np = f_result.detach().float().numpy() if f_result.dtype == ft.bfloat16 else f_result.detach().numpy()
    assert str(f_result.dtype) == str(t_result.dtype)
    assert f_np.shape == t_np.shape
    np.testing.assert_allclose(f_np, t_np, rtol=rtol, atol=atol, equal_nan=True)


# --- finfo / iinfo ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", FLOATS)
def test_finfo_equals_torch(name):
    f, t = ft.finfo(getattr(ft, name)), torch.finfo(getattr(torch, name))
    for field in ["bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"]:
        assert getattr(f, field) == getattr(t, field), field
    assert repr(f) == repr(t) and str(f) == str(t)


@pytest.mark.parametrize("name", INTS)
def test_iinfo_equals_torch(name):
    f, t = ft.iinfo(getattr(ft, name)), torch.iinfo(getattr(torch, name))
    assert (f.bits, f.min, f.max, f.dtype) == (t.bits, t.min, t.max, t.dtype)
    assert repr(f) == repr(t)


def test_info_errors_equal_torch():
    for f_call, t_call in [
        (lambda: ft.finfo(ft.int32), lambda: torch.finfo(torch.int32)),
        (lambda: ft.iinfo(ft.float32), lambda: torch.iinfo(torch.float32)),
        (lambda: ft.iinfo(ft.bool), lambda: torch.iinfo(torch.bool)),
    ]:
        with pytest.raises(TypeError) as f_error:
            f_call()
        with pytest.raises(TypeError) as t_error:
            t_call()
        assert str(f_error.value) == str(t_error.value)


def test_constants_equal_torch():
    assert (ft.pi, ft.e, ft.inf, ft.newaxis) == (torch.pi, torch.e, torch.inf, torch.newaxis)


# --- switches and backends -------------------------------------------------------------------

def test_deterministic_switches_follow_torch():
    try:
        for mode in ["default", "warn", "error", 0, 1, 2]:
            ft.set_deterministic_debug_mode(mode)
            torch.set_deterministic_debug_mode(mode)
            assert ft.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
            assert ft.are_deterministic_algorithms_enabled() == torch.are_deterministic_algorithms_enabled()
            assert ft.is_deterministic_algorithms_warn_only_enabled() == torch.is_deterministic_algorithms_warn_only_enabled()
        for bad in ["x", 3]:
            with pytest.raises(RuntimeError) as f_error:
                ft.set_deterministic_debug_mode(bad)
            with pytest.raises(RuntimeError) as t_error:
                torch.set_deterministic_debug_mode(bad)
            assert str(f_error.value) == str(t_error.value)
    finally:
        ft.set_deterministic_debug_mode(0)
        torch.set_deterministic_debug_mode(0)  # torch.use_deterministic_algorithms imports for seconds


def test_float32_matmul_precision_default_and_warning_equal_torch():
    assert ft.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    with warnings.catch_warnings(record=True) as f_warnings:
        warnings.simplefilter("always")
        ft.set_float32_matmul_precision("low")
    with warnings.catch_warnings(record=True) as t_warnings:
        warnings.simplefilter("always")
        torch.set_float32_matmul_precision("low")
    assert str(t_warnings[0].message).startswith(str(f_warnings[0].message))


def test_backend_defaults_equal_torch():
    for name in ["enabled", "benchmark", "deterministic", "allow_tf32"]:
        assert getattr(ft.backends.cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert ft.backends.mkldnn.enabled == torch.backends.mkldnn.enabled
    matmul_f, matmul_t = ft.backends.cuda.matmul, torch.backends.cuda.matmul
    assert matmul_f.allow_bf16_reduced_precision_reduction == matmul_t.allow_bf16_reduced_precision_reduction
    assert ft.backends.mps.is_available() == torch.backends.mps.is_available()
    assert ft.backends.cpu.get_cpu_capability() == torch.backends.cpu.get_cpu_capability()


def test_cudnn_flags_context_defaults_equal_torch():
    with torch.backends.cudnn.flags():
        expected = [getattr(torch.backends.cudnn, n) for n in ["enabled", "benchmark", "deterministic", "allow_tf32"]]
    with ft.backends.cudnn.flags():
        got = [getattr(ft.backends.cudnn, n) for n in ["enabled", "benchmark", "deterministic", "allow_tf32"]]
    assert got == expected


# --- legacy types ----------------------------------------------------------------------------

LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "ByteTensor", "CharTensor",
          "ShortTensor", "IntTensor", "LongTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_types_equal_torch(name):
    f_cls, t_cls = getattr(ft, name), getattr(torch, name)
    for args in [(2, 3), ([1, 0, 2],), ((3, 4),)]:
        f, t = f_cls(*args), t_cls(*args)
        assert str(f.dtype) == str(t.dtype) and tuple(f.shape) == tuple(t.shape)
        if len(args) == 1:
            assert f.tolist() == t.tolist()
        assert f.type() == t.type() == ft.typename(f) == torch.typename(t)
    for dtype in FLOATS + INTS + ["bool"]:
        assert isinstance(ft.zeros(1, dtype=getattr(ft, dtype)), f_cls) == isinstance(
            torch.zeros(1, dtype=getattr(torch, dtype)), t_cls
        )


def test_tensor_type_conversions_equal_torch():
    f, t = both([1.5, -2.5], "float32")
    for target in ["torch.IntTensor", "torch.DoubleTensor"]:
        same(f.type(target), t.type(target))
    same(f.type(ft.LongTensor), t.type(torch.LongTensor))


# --- torch.special ---------------------------------------------------------------------------

UNARY_SPECIAL = {
    "i0": np.linspace(-30, 30, 13), "i0e": [-700.0, -25.0, -3.0, 0.0, 0.5, 19.9, 20.1, 200.0],
    "i1": np.linspace(-30, 30, 13), "i1e": [-700.0, -25.0, -3.0, 0.0, 0.5, 19.9, 20.1, 200.0],
    "ndtr": [-40.0, -5.0, -1.0, 0.0, 2.0, 9.0], "log_ndtr": [-1e3, -50.0, -21.0, -3.0, 0.0, 4.0, 12.0],
    "ndtri": [0.0, 1e-300, 1e-20, 1e-3, 0.1, 0.5, 0.77, 0.999, 1.0, -0.5, 1.5],
    "sinc": [-2.5, -1.0, 0.0, 1e-3, 0.5, 3.0], "entr": [-1.0, 0.0, 1e-5, 0.5, 2.0, np.nan],
    "expit": [-5.0, 0.0, 3.0], "gammaln": [0.5, 3.0, 40.0], "erfinv": [-0.9, 0.0, 0.3],
}


# PyTorch's ndtr loses ~1e-11 relative in the lower tail (ours is within 1e-14 of the true value).
SPECIAL_RTOL = {"ndtr": 1e-10}


@pytest.mark.parametrize("name", sorted(UNARY_SPECIAL))
def test_special_unary_float64_equals_torch(name):
    f, t = both(UNARY_SPECIAL[name])
    same(getattr(ft.special, name)(f), getattr(torch.special, name)(t), rtol=SPECIAL_RTOL.get(name, 1e-12))


@pytest.mark.parametrize("dtype,name", [
    (dtype, name) for dtype in ["float32", "float16", "bfloat16"]
    for name in ["i0", "i0e", "i1e", "ndtr", "ndtri", "log_ndtr", "sinc", "entr"]
    if dtype == "float32" or name not in ("ndtri", "log_ndtr")  # PyTorch has no half kernels for these
])
def test_special_low_precision_dtypes_equal_torch(name, dtype):
    values = UNARY_SPECIAL[name] if name not in ("i0",) else np.linspace(-8, 8, 9)
    f, t = both(values, dtype)
    tolerance = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 2e-2}[dtype]
    same(getattr(ft.special, name)(f), getattr(torch.special, name)(t), rtol=tolerance, atol=tolerance)


def test_special_integer_inputs_promote_like_torch():
    for name in ["i0", "i1", "ndtr", "sinc", "entr", "log_ndtr"]:
        f, t = both([0, 1, 2], "int64")
        same(getattr(ft.special, name)(f), getattr(torch.special, name)(t), rtol=1e-6)


def test_zeta_polygamma_multigammaln_equal_torch():
    s_f, s_t = both([2.0, 3.0, 1.0, 0.5, 4.5, 2.0])
    q_f, q_t = both([1.0, 0.25, 1.0, 1.0, 7.5, -1.5])
    same(ft.special.zeta(s_f, q_f), torch.special.zeta(s_t, q_t), rtol=1e-12)
    x_f, x_t = both([0.2, 1.0, 3.3, 25.0, 0.0])
    for n in [0, 1, 2, 3]:
        # PyTorch's polygamma(1, 1) is 5e-10 off pi**2 / 6; ours is exact to rounding.
        same(ft.special.polygamma(n, x_f), torch.special.polygamma(n, x_t), rtol=1e-9)
    y_f, y_t = both([2.5, 3.0, 10.0])
    same(ft.special.multigammaln(y_f, 3), torch.special.multigammaln(y_t, 3), rtol=1e-12)
    same(ft.mvlgamma(y_f, 2), torch.mvlgamma(y_t, 2), rtol=1e-12)


def test_xlog1py_equals_torch():
    x_f, x_t = both([0.0, 0.0, 2.0, -1.5])
    y_f, y_t = both([-1.0, np.nan, 1.0, 3.0])
    same(ft.special.xlog1py(x_f, y_f), torch.special.xlog1py(x_t, y_t))


@pytest.mark.parametrize("name,points", [("i0", [-3.0, 0.0, 25.0]), ("i1e", [-3.0, 0.0, 25.0]),
                                         ("ndtri", [0.01, 0.5, 0.9]), ("log_ndtr", [-30.0, -1.0, 0.0, 3.0]),
                                         ("sinc", [0.0, 0.3, -2.0])])
def test_special_gradients_equal_torch(name, points):
    f, t = both(points)
    f.requires_grad_()
    t.requires_grad_()
    (f_grad,) = ft.autograd.grad(getattr(ft.special, name)(f).sum(), f)
    (t_grad,) = torch.autograd.grad(getattr(torch.special, name)(t).sum(), t)
    same(f_grad, t_grad, rtol=1e-9, atol=1e-12)


# --- composites ------------------------------------------------------------------------------

def test_diff_cross_cdist_equal_torch():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    (fa, ta), (fb, tb) = both(a), both(b)
    same(ft.diff(fa, n=2, dim=0, append=fb[:1]), torch.diff(ta, n=2, dim=0, append=tb[:1]))
    same(ft.linalg.cross(fa, fb), torch.linalg.cross(ta, tb))
    for p in [0.0, 1.0, 2.0, 3.5, float("inf")]:
        same(ft.cdist(fa, fb, p=p), torch.cdist(ta, tb, p=p), rtol=1e-10)


def test_cov_corrcoef_vander_combinations_equal_torch():
    rng = np.random.default_rng(1)
    fa, ta = both(rng.standard_normal((3, 5)))
    fw, tw = both([1, 2, 0, 3, 1], "int64")
    aw_f, aw_t = both([0.5, 1.0, 2.0, 0.1, 1.0])
    same(ft.cov(fa, correction=2, fweights=fw, aweights=aw_f), torch.cov(ta, correction=2, fweights=tw, aweights=aw_t))
    same(ft.corrcoef(fa), torch.corrcoef(ta))
    fi, ti = both([1, 2, 3], "int32")
    same(ft.vander(fi, 4), torch.vander(ti, 4))
    same(ft.vander(fa[0], increasing=True), torch.vander(ta[0], increasing=True))
    for r, replace in [(0, False), (2, True), (4, False)]:
        same(ft.combinations(fa[0], r, replace), torch.combinations(ta[0], r, replace))


@pytest.mark.parametrize("f_call,t_call", [
    (lambda: ft.diff(ft.arange(3.0), n=-1), lambda: torch.diff(torch.arange(3.0), n=-1)),
    (lambda: ft.linalg.cross(ft.zeros(3, 2), ft.zeros(3, 2)), lambda: torch.linalg.cross(torch.zeros(3, 2), torch.zeros(3, 2))),
    (lambda: ft.cdist(ft.zeros(2, 3), ft.zeros(2, 4)), lambda: torch.cdist(torch.zeros(2, 3), torch.zeros(2, 4))),
    (lambda: ft.cov(ft.zeros(2, 3), fweights=ft.ones(3)), lambda: torch.cov(torch.zeros(2, 3), fweights=torch.ones(3))),
    (lambda: ft.combinations(ft.zeros(2, 2)), lambda: torch.combinations(torch.zeros(2, 2))),
    (lambda: ft.is_nonzero(ft.zeros(2)), lambda: torch.is_nonzero(torch.zeros(2))),
    (lambda: ft.dropout(ft.ones(2), 1.5, True), lambda: torch.dropout(torch.ones(2), 1.5, True)),
    (lambda: ft.vander(ft.zeros(2, 2)), lambda: torch.vander(torch.zeros(2, 2))),
])
def test_composite_errors_equal_torch(f_call, t_call):
    with pytest.raises(Exception) as f_error:
        f_call()
    with pytest.raises(Exception) as t_error:
        t_call()
    assert type(f_error.value) is type(t_error.value)
    assert str(t_error.value).startswith(str(f_error.value).split("\n")[0])


def test_top_level_norm_and_embedding_forms_equal_torch():
    rng = np.random.default_rng(2)
    fx, tx = both(rng.standard_normal((2, 4, 3)))
    fw, tw = both(rng.standard_normal(4))
    same(ft.group_norm(fx, 2, fw, fw), torch.group_norm(tx, 2, tw, tw))
    same(ft.instance_norm(fx, fw, fw, None, None, True, 0.1, 1e-5, False),
         torch.instance_norm(tx, tw, tw, None, None, True, 0.1, 1e-5, False))
    fm, tm = both(np.zeros(4))
    fv, tv = both(np.ones(4))
    same(ft.batch_norm(fx, fw, fw, fm, fv, True, 0.1, 1e-5, False), torch.batch_norm(tx, tw, tw, tm, tv, True, 0.1, 1e-5, False))
    same(fm, tm)
    fe, te = both(rng.standard_normal((5, 2)))
    same(ft.embedding(fe, ft.tensor([4, 0])), torch.embedding(te, torch.tensor([4, 0])))
