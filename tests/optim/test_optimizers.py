"""Every optimizer and option set against the float64 NumPy reference, over several steps."""

import numpy as np
import pytest

import ferrotorch as ft
from conftest import to_numpy
from optim_cases import cases

SHAPES = [(3, 4), (4, 3), (5,)]  # the (4, 3) one is registered as a transposed (non-contiguous) view
# Over 3 * 32768 elements in the dense parameters: the update splits them into spans run by
# several threads, one span ending inside the large parameter after covering the small first one
# and the empty one.
LARGE_SHAPES = [(3, 1001), (40, 211), (0, 7), (5, 20011), (13,)]
STEPS = 4


def make_params(rng, dtype, shapes):
    """Leaf parameters, the second a transposed (non-contiguous) view, with their float64 values."""
    params = []
    for i, shape in enumerate(shapes):
        if i == 1:
            t = ft.tensor(rng.uniform(-1, 1, size=shape[::-1]), dtype=dtype).t()
        else:
            t = ft.tensor(rng.uniform(-1, 1, size=shape), dtype=dtype)
        params.append(t.requires_grad_())
    assert not params[1].is_contiguous()
    return params, [to_numpy(p).astype(np.float64) for p in params]


def run(cls, options, reference, rng, dtype, groups, shapes=SHAPES):
    """Runs ``STEPS`` steps here and in the reference with the same gradients; returns both."""
    params, expected = make_params(rng, dtype, shapes)
    frozen = ft.nn.Parameter(ft.ones(2, dtype=dtype))  # never has a gradient: must not change
    if groups:
        opt = cls([{"params": params[:2]}, {"params": [params[2], frozen], "lr": 0.003}], **options)
        lrs = [options.get("lr")] * 2 + [0.003] * (len(params) - 2)
    else:
        opt = cls(params + [frozen], **options)
        lrs = [options.get("lr")] * len(params)
    states = [{} for _ in params]
    for _ in range(STEPS):
        for i, p in enumerate(params):
            g = rng.uniform(-1, 1, size=tuple(p.shape))
            p.grad = ft.tensor(g, dtype=dtype)
            g = to_numpy(p.grad).astype(np.float64)
            kw = dict(options, lr=lrs[i]) if lrs[i] is not None else options
            expected[i] = reference(expected[i], g, states[i], **kw)
        opt.step()
    assert to_numpy(frozen).tolist() == [1.0, 1.0]
    frozen_state = opt.state.get(frozen, {})  # Adagrad creates state up front; it must stay untouched
    assert "step" not in frozen_state or frozen_state["step"].item() == 0.0
    return params, expected


@pytest.mark.parametrize("cls,options,reference", cases())
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_matches_reference(cls, options, reference, dtype, rng):
    params, expected = run(cls, options, reference, rng, dtype, groups=False)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == ft.float64 else dict(rtol=2e-5, atol=2e-6)
    for p, e in zip(params, expected):
        np.testing.assert_allclose(to_numpy(p), e, **tol)


@pytest.mark.parametrize("cls,options,reference", cases())
def test_large_groups_split_across_threads_match_reference(cls, options, reference, rng):
    params, expected = run(cls, options, reference, rng, ft.float32, groups=False, shapes=LARGE_SHAPES)
    for p, e in zip(params, expected):
        np.testing.assert_allclose(to_numpy(p), e, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("cls,options,reference", cases("first"))
def test_param_groups_use_their_own_lr(cls, options, reference, rng):
    params, expected = run(cls, options, reference, rng, ft.float64, groups=True)
    for p, e in zip(params, expected):
        np.testing.assert_allclose(to_numpy(p), e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls,options,reference", cases("first"))
@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
def test_half_precision_params_compute_in_float32(cls, options, reference, dtype, rng):
    params, expected = run(cls, options, reference, rng, dtype, groups=False)
    for p, e in zip(params, expected):
        assert p.dtype == dtype
        np.testing.assert_allclose(to_numpy(p), e, rtol=2e-2, atol=2e-2)
