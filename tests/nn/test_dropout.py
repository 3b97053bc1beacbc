"""The dropout family: statistics under a fixed seed, exact scaling, channel masks, alpha
dropout's moments, gradients, edge probabilities and the modules."""

import math
import warnings

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.nn import functional as F

from conftest import assert_close, make

SELU_SATURATION = 1.7580993408473766  # -SELU(-inf) = lambda * alpha


def binomial_bounds(n, p, sigmas=5):
    """A range holding Binomial(n, p) draws except with negligible probability."""
    spread = sigmas * math.sqrt(n * p * (1 - p))
    return n * p - spread, n * p + spread


def alpha_constants(p):
    """(scale of kept values, value of dropped ones, shift) of alpha dropout, from the paper."""
    a = 1.0 / math.sqrt((SELU_SATURATION**2 * p + 1) * (1 - p))
    shift = SELU_SATURATION * a * p
    return a, -SELU_SATURATION * a + shift, shift


@pytest.mark.parametrize("p", [0.2, 0.5, 0.75])
def test_dropout_zeroes_a_binomial_fraction(p):
    ft.manual_seed(0)
    out = F.dropout(ft.ones(20000), p).numpy()
    low, high = binomial_bounds(out.size, p)
    assert low <= (out == 0).sum() <= high


@pytest.mark.parametrize("p, scale", [(0.5, 2.0), (0.75, 4.0)])
def test_dropout_scales_kept_elements_exactly(p, scale, rng):
    x, arr = make((50, 40), ft.float32, rng, "transposed")
    out = F.dropout(x, p).numpy()
    kept = out != 0
    np.testing.assert_array_equal(out[kept], arr[kept] * np.float32(scale))


def test_dropout_gradient_is_mask_times_scale():
    ft.manual_seed(1)
    x = ft.ones(100, 10, dtype=ft.float64, requires_grad=True)
    out = F.dropout(x, 0.3)
    out.backward(ft.ones_like(out))
    # With x == 1, the output is the mask times the scale.
    assert_close(x.grad, out.detach().numpy())
    assert set(np.unique(out.detach().numpy())) == {0.0, 1 / 0.7}


@pytest.mark.parametrize("function, shape", [
    (F.dropout, (2, 3)), (F.alpha_dropout, (2, 3)), (F.feature_alpha_dropout, (2, 3, 4)),
    (F.dropout1d, (2, 3, 4)), (F.dropout2d, (2, 3, 4, 5)), (F.dropout3d, (2, 3, 4, 5, 6)),
])
def test_not_training_is_identity(function, shape):
    x = ft.randn(*shape)
    assert function(x, 0.5, training=False) is x


def test_not_training_unbatched_gives_the_values_back():
    x = ft.randn(3, 4)
    assert_close(F.dropout1d(x, 0.5, training=False), x.numpy())


@pytest.mark.parametrize("function", [F.dropout, F.alpha_dropout, F.feature_alpha_dropout, F.dropout2d])
def test_p_zero_is_identity_and_p_one_zeroes(function):
    x = ft.randn(2, 3, 4, 5)
    assert function(x, 0.0, training=True) is x
    assert_close(function(x, 1.0, training=True), np.zeros((2, 3, 4, 5), np.float32))


def test_p_one_keeps_nan_like_multiplying_by_zero():
    out = F.dropout(ft.tensor([float("nan"), 1.0]), 1.0)
    assert np.isnan(out[0].item()) and out[1].item() == 0.0


@pytest.mark.parametrize("function", [F.dropout, F.dropout1d, F.alpha_dropout, F.feature_alpha_dropout])
@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_probability_out_of_range_raises(function, p):
    with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
        function(ft.zeros(2, 3), p)


def test_empty_input_is_returned():
    x = ft.zeros(0, 3)
    assert F.dropout(x, 0.5) is x and F.alpha_dropout(x, 0.5, True) is x


def channel_masks(out, batched):
    """Per (sample, channel): whether the channel was zeroed entirely, asserting that every
    channel is either all zero or all non-zero."""
    arr = out.numpy()
    arr = arr.reshape(arr.shape[0] * arr.shape[1] if batched else arr.shape[0], -1)
    zero = (arr == 0).all(1)
    assert ((arr != 0).all(1) | zero).all()
    return zero


@pytest.mark.parametrize("function, shape, batched", [
    (F.dropout1d, (40, 50, 3), True), (F.dropout1d, (400, 3), False),
    (F.dropout2d, (40, 50, 2, 2), True),
    (F.dropout3d, (40, 50, 2, 1, 2), True), (F.dropout3d, (400, 2, 1, 2), False),
])
def test_channel_dropout_drops_whole_channels(function, shape, batched):
    ft.manual_seed(2)
    out = function(ft.ones(*shape) + 1.0, 0.4)
    zero = channel_masks(out, batched)
    low, high = binomial_bounds(zero.size, 0.4)
    assert low <= zero.sum() <= high
    assert tuple(out.shape) == shape and np.all(out.numpy()[out.numpy() != 0] == np.float32(2 / 0.6))


def test_dropout1d_rejects_other_ranks():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(ft.zeros(1, 2, 3, 4))


def test_dropout2d_warns_on_3d_input_and_drops_dim_1():
    with pytest.warns(UserWarning, match="assuming that channel-wise 1D dropout behavior is desired"):
        out = F.dropout2d(ft.ones(30, 40, 3), 0.5)
    channel_masks(out, batched=True)


def test_dropout3d_warns_on_other_ranks():
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        F.dropout3d(ft.ones(2, 3, 4), 0.5)


def test_batched_ranks_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout1d(ft.ones(2, 3)), F.dropout2d(ft.ones(2, 3, 4, 5)), F.dropout3d(ft.ones(2, 3, 4, 5))


def test_feature_dropout_needs_two_dims():
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions in the input"):
        F.feature_alpha_dropout(ft.ones(5), 0.5, training=True)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_maps_to_two_affine_values(p, rng):
    x, arr = make((100, 50), ft.float64, rng)
    out = F.alpha_dropout(x, p, training=True).numpy()
    a, dropped_value, shift = alpha_constants(p)
    dropped = np.isclose(out, dropped_value, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out[~dropped], arr[~dropped] * a + shift, rtol=1e-12)
    low, high = binomial_bounds(out.size, p)
    assert low <= dropped.sum() <= high


def test_alpha_dropout_preserves_zero_mean_unit_variance():
    ft.manual_seed(3)
    x = ft.randn(200000, dtype=ft.float64)
    out = F.alpha_dropout(x, 0.3, training=True).numpy()
    # Sample moments of 2e5 draws: standard errors about 0.0022 (mean) and 0.002 (std).
    assert abs(out.mean()) < 0.015 and abs(out.std() - 1.0) < 0.015


def test_alpha_dropout_gradient_is_mask_times_scale():
    x = ft.zeros(400, dtype=ft.float64, requires_grad=True)
    out = F.alpha_dropout(x, 0.4, training=True)
    out.backward(ft.ones_like(out))
    a, dropped_value, shift = alpha_constants(0.4)
    kept = ~np.isclose(out.detach().numpy(), dropped_value, rtol=0, atol=1e-12)
    assert_close(x.grad, np.where(kept, a, 0.0))


def test_feature_alpha_dropout_drops_whole_channels():
    ft.manual_seed(4)
    out = F.feature_alpha_dropout(ft.zeros(50, 40, 3, dtype=ft.float64), 0.5, training=True).numpy()
    _, dropped_value, _ = alpha_constants(0.5)
    dropped = np.isclose(out, dropped_value, rtol=0, atol=1e-12)
    assert (dropped.all(2) | ~dropped.any(2)).all()


@pytest.mark.parametrize("function", [F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout])
def test_inplace_writes_into_the_input(function):
    x = ft.ones(4, 5, 2, 3) if function is not F.dropout1d else ft.ones(5, 3)
    ft.manual_seed(5)
    out = function(x, 0.5, True, True)
    assert out is x
    ft.manual_seed(5)
    assert_close(x, function(ft.ones(*x.shape), 0.5, True).numpy())


@pytest.mark.parametrize("cls, function", [
    (nn.Dropout, F.dropout), (nn.Dropout1d, F.dropout1d), (nn.Dropout2d, F.dropout2d),
    (nn.Dropout3d, F.dropout3d), (nn.AlphaDropout, F.alpha_dropout), (nn.FeatureAlphaDropout, F.feature_alpha_dropout),
])
def test_modules(cls, function):
    module = cls(0.25, inplace=False)
    assert repr(module) == f"{cls.__name__}(p=0.25, inplace=False)"
    assert repr(cls()) == f"{cls.__name__}(p=0.5, inplace=False)"
    x = ft.ones(2, 3, 4) if cls is nn.Dropout1d else ft.ones(2, 3, 4, 5)
    ft.manual_seed(6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trained = module(x)
        ft.manual_seed(6)
        assert_close(trained, function(x, 0.25, True).numpy())
    module.eval()
    assert_close(module(x), x.numpy())
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 2"):
        cls(2)
