"""PyTorch itself as the reference, where it is installed (skipped otherwise): promotion over
every dtype pair, printing, seeded random streams and DLPack exchange in both directions."""

import itertools

import numpy as np
import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]


def tt(name):
    return getattr(torch, name)


def ff(name):
    return getattr(ft, name)


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
def test_promote_types_equals_pytorch(a, b):
    assert repr(ft.promote_types(ff(a), ff(b))) == repr(torch.promote_types(tt(a), tt(b)))


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
@pytest.mark.parametrize("b_dim", [0, 1])
def test_binary_result_dtype_equals_pytorch(a, b, b_dim):
    shape = (2,) if b_dim else ()
    x_t, y_t = torch.ones(3, dtype=tt(a)), torch.ones(shape, dtype=tt(b)).reshape(shape)
    x_f, y_f = ft.ones(3, dtype=ff(a)), ft.ones(shape, dtype=ff(b)).reshape(shape) if b_dim else ft.ones((), dtype=ff(b))
    if b_dim:
        x_t, x_f = torch.ones(2, dtype=tt(a)), ft.ones(2, dtype=ff(a))
    for scalar in (2, 2.5, True):
        assert repr((x_f * scalar).dtype) == repr((x_t * scalar).dtype)
    if a == "bool" and b == "bool":
        return
    assert repr((x_f * y_f).dtype) == repr((x_t * y_t).dtype)


REPR_CASES = [
    lambda m: m.tensor([1.0, 2.5, -3.25]),
    lambda m: m.tensor([[1, 2], [30, 400]]),
    lambda m: m.tensor([1e-5, 1.0, 1e5]),
    lambda m: m.tensor([[0.0, 1.0], [float("nan"), float("-inf")]], dtype=m.float64),
    lambda m: m.arange(3000).reshape(30, 100),
    lambda m: m.tensor([True, False, True]),
    lambda m: m.zeros(0, 3, dtype=m.int32),
    lambda m: m.tensor(7.0, dtype=m.float16),
    # (bfloat16 linspace itself changed between PyTorch releases, so it is not compared here.)
    lambda m: m.tensor([0.1, 0.2, 0.3, 1.7, -2.5], dtype=m.bfloat16),
    lambda m: m.tensor([[0.1] * 9] * 2, dtype=m.float64),
    lambda m: m.tensor([123456789.0, 1.0]),
]


@pytest.mark.parametrize("case", range(len(REPR_CASES)))
def test_repr_equals_pytorch(case):
    assert repr(REPR_CASES[case](ft)) == repr(REPR_CASES[case](torch))


def test_seeded_streams_equal_pytorch():
    for fn in ("rand", "randn"):
        ft.manual_seed(0)
        torch.manual_seed(0)
        for n in (3, 20):
            ours, ref = getattr(ft, fn)(n).numpy(), getattr(torch, fn)(n).numpy()
            if fn == "randn" and n >= 16:
                # PyTorch's vectorized Box-Muller (Sleef) rounds differently in the last bits.
                np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
            else:
                np.testing.assert_array_equal(ours, ref)
    ft.manual_seed(0)
    torch.manual_seed(0)
    np.testing.assert_array_equal(ft.randint(0, 10, (8,)).numpy(), torch.randint(0, 10, (8,)).numpy())
    np.testing.assert_array_equal(ft.randperm(10).numpy(), torch.randperm(10).numpy())


@pytest.mark.parametrize("name", ["bool", "uint8", "int16", "int64", "float16", "bfloat16", "float32", "float64"])
def test_dlpack_both_ways_share_memory(name):
    t = torch.zeros(2, 3, dtype=tt(name)).t()
    f = ft.from_dlpack(t)
    assert f.shape == (3, 2) and f.stride() == t.stride()
    f.fill_(1)
    assert bool(t.to(torch.float32).eq(1).all())
    g = ft.zeros(3, 4, dtype=ff(name))[:, 1:3]
    u = torch.from_dlpack(g)
    assert tuple(u.shape) == (3, 2) and u.stride() == g.stride()
    u.fill_(1)
    assert g.float().eq(1).all().item()


def test_op_results_equal_pytorch():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 7)).astype(np.float32)
    b = rng.standard_normal((7,)).astype(np.float32)
    fa, fb, ta, tb = ft.from_numpy(a), ft.from_numpy(b), torch.from_numpy(a), torch.from_numpy(b)
    pairs = [
        (fa.exp(), ta.exp()), (fa.sigmoid(), ta.sigmoid()), (fa.erfinv().nan_to_num(), ta.erfinv().nan_to_num()),
        (fa.digamma(), ta.digamma()), (fa.lgamma(), ta.lgamma()), (fa @ fb, ta @ tb),
        (fa.softmax(1), ta.softmax(1)), (fa.log_softmax(0), ta.log_softmax(0)), (fa.var(1), ta.var(1)),
        (fa.logsumexp(1), ta.logsumexp(1)), (fa.cumsum(1), ta.cumsum(1)), (fa.norm(), ta.norm()),
        (fa.floor_divide(fb), ta.floor_divide(tb)), (fa.remainder(fb), ta.remainder(tb)),
        (fa.round(decimals=2), ta.round(decimals=2)), (fa.sort(1).values, ta.sort(1).values),
        (fa.sort(dim=1, stable=True).indices, ta.sort(dim=1, stable=True).indices),
        (fa.median(1).values, ta.median(1).values), (fa.quantile(0.3), ta.quantile(0.3)),
        (fa[fa > 0], ta[ta > 0]), (fa[[0, 2], 1:4], ta[[0, 2], 1:4]),
    ]
    for ours, ref in pairs:
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=2e-6, atol=2e-6)
