"""Pooling against PyTorch: values, indices, gradients, errors and module reprs."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ferrotorch as ft
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F


def pair(shape, seed=0, distinct=True):
    """The same float64 values as a ferrotorch and a torch tensor (both requiring grad)."""
    n = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    arr = (rng.permutation(n) * 0.37 - n / 5).reshape(shape) if distinct else rng.uniform(-3, 3, shape)
    return ft.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)


def check(ours, theirs, xs):
    """Same outputs (all of a tuple) and the same input gradient for a random output gradient."""
    o = ours if isinstance(ours, tuple) else (ours,)
    t = theirs if isinstance(theirs, tuple) else (theirs,)
    for a, b in zip(o, t):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(1).uniform(-1, 1, tuple(t[0].shape))
    o[0].backward(ft.tensor(g))
    t[0].backward(torch.tensor(g))
    np.testing.assert_allclose(xs[0].grad.numpy(), xs[1].grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=2, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=2, stride=1, padding=1, dilation=2),
    dict(kernel_size=3, stride=3, ceil_mode=True),
])
def test_max_pool_matches_torch(nd, kwargs):
    x, tx = pair((2, 2) + (5,) * nd)
    ours = getattr(F, f"max_pool{nd}d")(x, return_indices=True, **kwargs)
    theirs = getattr(torch.nn.functional, f"max_pool{nd}d")(tx, return_indices=True, **kwargs)
    check(ours, theirs, (x, tx))


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, stride=2, padding=1, ceil_mode=True, count_include_pad=True),
    dict(kernel_size=3, stride=1, padding=1, divisor_override=4),
])
def test_avg_pool_matches_torch(nd, kwargs):
    if nd == 1 and "divisor_override" in kwargs:
        pytest.skip("avg_pool1d has no divisor_override")
    x, tx = pair((2, 2) + (5,) * nd, distinct=False)
    ours = getattr(F, f"avg_pool{nd}d")(x, **kwargs)
    theirs = getattr(torch.nn.functional, f"avg_pool{nd}d")(tx, **kwargs)
    check(ours, theirs, (x, tx))


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("size", [1, 3, 7])
def test_adaptive_pools_match_torch(nd, size):
    x, tx = pair((2, 2) + (5,) * nd)
    check(getattr(F, f"adaptive_avg_pool{nd}d")(x, size), getattr(torch.nn.functional, f"adaptive_avg_pool{nd}d")(tx, size), (x, tx))
    x, tx = pair((2, 2) + (5,) * nd)
    ours = getattr(F, f"adaptive_max_pool{nd}d")(x, size, return_indices=True)
    theirs = getattr(torch.nn.functional, f"adaptive_max_pool{nd}d")(tx, size, return_indices=True)
    check(ours, theirs, (x, tx))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_matches_torch(nd):
    x, tx = pair((2, 2) + (5,) * nd)
    _, idx = getattr(F, f"max_pool{nd}d")(x.detach(), 2, return_indices=True)
    _, tidx = getattr(torch.nn.functional, f"max_pool{nd}d")(tx.detach(), 2, return_indices=True)
    v, tv = pair(tuple(tidx.shape), seed=3)
    ours = getattr(F, f"max_unpool{nd}d")(v, idx, 2, output_size=(5,) * nd)
    theirs = getattr(torch.nn.functional, f"max_unpool{nd}d")(tv, tidx, 2, output_size=(5,) * nd)
    check(ours, theirs, (v, tv))


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("p", [1.5, 2, float("inf")])
def test_lp_pool_matches_torch(nd, p):
    x, tx = pair((1, 2) + (4,) * nd, distinct=False)
    ours = getattr(F, f"lp_pool{nd}d")(x, p, 2, ceil_mode=True, stride=3 if nd == 1 else None)
    theirs = getattr(torch.nn.functional, f"lp_pool{nd}d")(tx, p, 2, ceil_mode=True, stride=3 if nd == 1 else None)
    check(ours, theirs, (x, tx))


def test_nan_propagation_matches_torch():
    arr = np.arange(32.0).reshape(1, 2, 4, 4)
    arr[0, 0, 1, 1] = np.nan
    arr[0, 1, 2, 3] = np.nan
    ours = F.max_pool2d(ft.tensor(arr), 2, return_indices=True)
    theirs = torch.nn.functional.max_pool2d(torch.tensor(arr), 2, return_indices=True)
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


@pytest.mark.parametrize("args", [
    ("max_pool2d", (1, 3, 4, 4), dict(kernel_size=3, padding=2)),
    ("max_pool2d", (1, 3, 2, 2), dict(kernel_size=3)),
    ("max_pool3d", (1, 3, 2, 2, 2), dict(kernel_size=3)),
    ("avg_pool2d", (1, 3, 2, 2), dict(kernel_size=3)),
    ("max_pool2d", (1, 3, 4, 4), dict(kernel_size=2, stride=0)),
    ("max_pool2d", (1, 3, 4, 4), dict(kernel_size=2, padding=-1)),
    ("max_pool3d", (1, 3, 4, 4, 4), dict(kernel_size=2, dilation=0)),
    ("avg_pool2d", (1, 3, 4, 4), dict(kernel_size=2, divisor_override=0)),
    ("max_pool2d", (1, 3, 8, 8), dict(kernel_size=(2, 3), padding=(2, 1), dilation=3, return_indices=True)),
    ("max_pool3d", (1, 3, 8, 8, 8), dict(kernel_size=(4, 2, 3), padding=(1, 0, 2), dilation=3)),
    ("avg_pool3d", (1, 3, 2, 4, 4), dict(kernel_size=3, padding=1)),
])
def test_errors_match_torch(args):
    name, shape, kwargs = args
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch.nn.functional, name)(torch.ones(shape), **kwargs)
    with pytest.raises(RuntimeError) as ours:
        getattr(F, name)(ft.ones(shape), **kwargs)
    assert str(ours.value) == str(theirs.value).split("\n")[0]


@pytest.mark.parametrize("name,args,kwargs", [
    ("MaxPool2d", (3,), dict(stride=2, padding=1, dilation=2, ceil_mode=True)),
    ("MaxPool1d", ((2,),), {}),
    ("AvgPool1d", (3,), dict(stride=1)),
    ("AvgPool3d", (2,), dict(divisor_override=3)),
    ("MaxUnpool3d", (2,), dict(padding=1)),
    ("LPPool2d", (2, 3), dict(stride=(1, 2))),
    ("AdaptiveMaxPool3d", ((None, 2, 3),), {}),
    ("AdaptiveAvgPool1d", (4,), {}),
])
def test_module_reprs_match_torch(name, args, kwargs):
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_random_configurations_match_torch(nd):
    """Random kernel/stride/padding/dilation/ceil_mode/count_include_pad over small inputs:
    the same outputs, indices and gradients, or the same error."""
    rng = np.random.default_rng(nd)
    for _ in range(40):
        length = [int(rng.integers(1, 7)) for _ in range(nd)]
        k = [int(rng.integers(1, 4)) for _ in range(nd)]
        s = [int(rng.integers(1, 4)) for _ in range(nd)]
        d = [int(rng.integers(1, 3)) for _ in range(nd)]
        p = [int(rng.integers(0, kk // 2 + 1)) for kk in k]
        ceil_mode, include = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
        for name, args in [(f"max_pool{nd}d", dict(dilation=d, return_indices=True)),
                           (f"avg_pool{nd}d", dict(count_include_pad=include))]:
            x, tx = pair([2, 2] + length, seed=int(rng.integers(1 << 30)))
            kwargs = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil_mode, **args)
            try:
                theirs = getattr(torch.nn.functional, name)(tx, **kwargs)
            except RuntimeError:
                with pytest.raises(RuntimeError, match="size|kernel"):
                    getattr(F, name)(x, **kwargs)
                continue
            if torch.isinf(theirs[0] if isinstance(theirs, tuple) else theirs).any():
                continue  # an empty dilated window: PyTorch's gradient writes outside its plane
            check(getattr(F, name)(x, **kwargs), theirs, (x, tx))
