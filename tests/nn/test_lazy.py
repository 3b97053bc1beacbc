"""Lazy modules: shapes inferred from the first input, then a plain layer."""

import copy
import math

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn as nn


def test_lazy_linear_takes_in_features_from_the_first_input_and_becomes_linear():
    m = nn.LazyLinear(5)
    assert isinstance(m.weight, nn.UninitializedParameter)
    out = m(ft.randn(3, 7))
    assert type(m) is nn.Linear
    assert type(m.weight) is nn.Parameter and m.weight.requires_grad
    assert m.in_features == 7 and tuple(m.weight.shape) == (5, 7) and tuple(m.bias.shape) == (5,)
    assert tuple(out.shape) == (3, 5)
    assert repr(m) == "Linear(in_features=7, out_features=5, bias=True)"


def test_lazy_linear_initializes_like_linear_once_materialized():
    ft.manual_seed(0)
    m = nn.LazyLinear(400)
    m(ft.zeros(2, 100))
    bound = 1 / math.sqrt(100)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    # U(-b, b) has variance b^2 / 3.
    assert abs(w.var() - bound**2 / 3) < 0.05 * bound**2 / 3
    assert np.abs(m.bias.detach().numpy()).max() <= bound


def test_uninitialized_parameter_has_no_shape():
    p = nn.LazyLinear(3).weight
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        p.shape
    assert repr(p) == "<UninitializedParameter>"


def test_lazy_linear_without_bias():
    m = nn.LazyLinear(2, bias=False)
    m(ft.ones(4, 3))
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]


def test_load_state_dict_materializes_the_checkpoint_shapes():
    src = nn.Linear(6, 4)
    m = nn.LazyLinear(4)
    result = m.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(m.weight.detach().numpy(), src.weight.detach().numpy())
    x = ft.randn(2, 6)
    np.testing.assert_allclose(m(x).detach().numpy(), src(x).detach().numpy(), rtol=1e-6)


def test_deepcopy_of_an_uninitialized_module_stays_lazy():
    m = copy.deepcopy(nn.LazyLinear(3))
    assert isinstance(m.weight, nn.UninitializedParameter)
    m(ft.ones(1, 2))
    assert tuple(m.weight.shape) == (3, 2)


def test_materialized_layer_checks_later_inputs():
    m = nn.LazyLinear(3)
    m(ft.ones(1, 2))
    with pytest.raises(RuntimeError, match="2"):
        m(ft.ones(1, 5))


@pytest.mark.parametrize("lazy, plain, shape", [
    (nn.LazyBatchNorm1d, nn.BatchNorm1d, (4, 3)),
    (nn.LazyBatchNorm2d, nn.BatchNorm2d, (4, 3, 2, 2)),
    (nn.LazyBatchNorm3d, nn.BatchNorm3d, (2, 3, 2, 2, 2)),
    (nn.LazyInstanceNorm1d, nn.InstanceNorm1d, (2, 3, 5)),
    (nn.LazyInstanceNorm2d, nn.InstanceNorm2d, (2, 3, 4, 4)),
    (nn.LazyInstanceNorm3d, nn.InstanceNorm3d, (2, 3, 2, 2, 2)),
])
def test_lazy_norms_infer_num_features_and_match_the_plain_layer(lazy, plain, shape):
    rng = np.random.default_rng(0)
    x = ft.tensor(rng.standard_normal(shape).astype(np.float32))
    m, ref = lazy(), plain(3, affine=True, track_running_stats=True)
    np.testing.assert_allclose(m(x).detach().numpy(), ref(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert type(m) is plain and m.num_features == 3
    assert repr(m) == repr(ref)
    for key, value in ref.state_dict().items():
        np.testing.assert_allclose(m.state_dict()[key].numpy(), value.numpy(), rtol=1e-6)


def test_lazy_batch_norm_without_bias_or_running_stats():
    m = nn.LazyBatchNorm1d(bias=False, track_running_stats=False)
    m(ft.randn(4, 2))
    assert list(m.state_dict()) == ["weight"]


def test_uninitialized_buffer_materializes_as_a_plain_tensor():
    m = nn.LazyBatchNorm2d()
    assert isinstance(m.running_mean, nn.UninitializedBuffer)
    m.load_state_dict(nn.BatchNorm2d(5).state_dict())
    assert type(m.running_mean) is ft.Tensor and tuple(m.running_mean.shape) == (5,)


@pytest.mark.parametrize("lazy, plain, shape, weight_shape", [
    (lambda: nn.LazyConv1d(6, 3), nn.Conv1d, (2, 4, 9), (6, 4, 3)),
    (lambda: nn.LazyConv2d(6, 3, groups=2, bias=False), nn.Conv2d, (2, 4, 7, 7), (6, 2, 3, 3)),
    (lambda: nn.LazyConv3d(2, 2), nn.Conv3d, (4, 3, 3, 3), (2, 4, 2, 2, 2)),  # unbatched
    (lambda: nn.LazyConvTranspose1d(5, 3, stride=2), nn.ConvTranspose1d, (2, 4, 6), (4, 5, 3)),
    (lambda: nn.LazyConvTranspose2d(6, 2, groups=3), nn.ConvTranspose2d, (1, 3, 4, 4), (3, 2, 2, 2)),
    (lambda: nn.LazyConvTranspose3d(2, 2), nn.ConvTranspose3d, (1, 2, 3, 3, 3), (2, 2, 2, 2, 2)),
])
def test_lazy_convs_infer_in_channels(lazy, plain, shape, weight_shape):
    m = lazy()
    x = ft.randn(*shape)
    out = m(x)
    assert type(m) is plain and tuple(m.weight.shape) == weight_shape
    expected = plain.forward(m, x)  # the plain layer's computation with the materialized weights
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    fan_in = weight_shape[1] * int(np.prod(weight_shape[2:]))
    assert np.abs(m.weight.detach().numpy()).max() <= 1 / math.sqrt(fan_in)


def test_lazy_conv_rejects_a_wrong_rank_and_indivisible_channels():
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d"):
        nn.LazyConv2d(4, 3)(ft.randn(5, 3))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(ft.randn(1, 3, 5, 5))
