"""ferrotorch.nn.utils: gradient clipping, parameters <-> vector, parametrize, weight and spectral
norm (parametrizations and legacy hooks), conv/linear + batch norm fusion; ferrotorch.utils.hooks."""

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn.utils  # noqa: F401  (nn does not import its utils package itself)
from ferrotorch import nn
from ferrotorch.nn import utils
from ferrotorch.nn.utils import parametrizations, parametrize

from conftest import assert_close, leaf


def params_with_grads(rng, shapes, dtype=ft.float64, scale=1.0):
    params = []
    for shape in shapes:
        p = nn.Parameter(ft.tensor(rng.standard_normal(shape), dtype=dtype))
        p.grad = ft.tensor(rng.standard_normal(shape) * scale, dtype=dtype)
        params.append(p)
    return params


def np_total_norm(grads, norm_type):
    flat = np.concatenate([g.ravel() for g in grads]).astype(np.float64)
    if norm_type == math.inf:
        return np.abs(flat).max()
    return (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)


# ----- gradient clipping ----------------------------------------------------------------------

@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf])
def test_clip_grad_norm_scales_gradients_by_the_numpy_factor(rng, norm_type):
    params = params_with_grads(rng, [(3, 2), (4,), ()], scale=3.0)
    grads = [p.grad.numpy().copy() for p in params]
    total = np_total_norm(grads, norm_type)
    returned = utils.clip_grad_norm_(params, 0.5, norm_type=norm_type)
    assert_close(returned, np.array(total))
    factor = min(1.0, 0.5 / (total + 1e-6))
    for p, g in zip(params, grads):
        assert_close(p.grad, g * factor)


def test_clip_grad_norm_leaves_small_gradients(rng):
    params = params_with_grads(rng, [(2, 2)], scale=1e-3)
    before = params[0].grad.numpy().copy()
    utils.clip_grad_norm_(params, 10.0)
    assert_close(params[0].grad, before)


def test_clip_grad_norm_takes_a_tensor_and_mixed_dtypes(rng):
    a = params_with_grads(rng, [(3,)], ft.float32)[0]
    b = params_with_grads(rng, [(2, 2)], ft.float64)[0]
    total = np_total_norm([a.grad.numpy(), b.grad.numpy()], 2.0)
    assert_close(utils.clip_grad_norm_([a, b], 0.1), np.array(total), rtol=1e-6, check_dtype=False)
    single = params_with_grads(rng, [(5,)])[0]
    assert_close(utils.clip_grad_norm_(single, 1e9), np.array(np_total_norm([single.grad.numpy()], 2.0)))


def test_clip_grad_norm_skips_parameters_without_gradients(rng):
    params = params_with_grads(rng, [(3,)])
    params.append(nn.Parameter(ft.ones(2)))
    utils.clip_grad_norm_(params, 0.1)
    assert params[1].grad is None


def test_clip_grad_norm_on_nonfinite_norm(rng):
    params = params_with_grads(rng, [(3,)])
    params[0].grad[1] = float("inf")
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    params[0].grad[1] = float("nan")
    assert math.isnan(utils.clip_grad_norm_(params, 1.0).item())
    assert np.isnan(params[0].grad.numpy()).all()


def test_clip_grad_norm_empty_generator_warns_and_returns_zero():
    with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient clipping will occur."):
        total = utils.clip_grad_norm_((p for p in []), 1.0)
    assert total.item() == 0.0


@pytest.mark.parametrize("foreach", [True, False])
def test_clip_grad_norm_foreach_flag_gives_the_same_result(foreach):
    a, b = (params_with_grads(np.random.default_rng(3), [(2, 3), (4,)]) for _ in range(2))
    assert ft.equal(utils.clip_grad_norm_(a, 0.5, foreach=foreach), utils.clip_grad_norm_(b, 0.5))
    assert all(ft.equal(p.grad, q.grad) for p, q in zip(a, b))


def test_get_total_norm_then_clip_grads_with_norm(rng):
    params = params_with_grads(rng, [(2, 3), (4,)], scale=2.0)
    grads = [p.grad.numpy().copy() for p in params]
    total = utils.get_total_norm([p.grad for p in params], norm_type=1)
    assert_close(total, np.array(np_total_norm(grads, 1)))
    utils.clip_grads_with_norm_(params, 2.0, total)
    for p, g in zip(params, grads):
        assert_close(p.grad, g * min(1.0, 2.0 / (np_total_norm(grads, 1) + 1e-6)))


def test_clip_grad_norm_deprecated_alias_warns(rng):
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        utils.clip_grad_norm(params_with_grads(rng, [(2,)]), 1.0)


def test_clip_grad_value_clamps_in_place(rng):
    params = params_with_grads(rng, [(3, 3), (2,)], scale=2.0)
    grads = [p.grad.numpy().copy() for p in params]
    utils.clip_grad_value_(params, 0.5)
    for p, g in zip(params, grads):
        assert_close(p.grad, np.clip(g, -0.5, 0.5))


# ----- parameters <-> vector ------------------------------------------------------------------

def test_parameters_to_vector_and_back(rng):
    lin = nn.Linear(3, 2, dtype=ft.float64)
    vec = utils.parameters_to_vector(lin.parameters())
    expected = np.concatenate([lin.weight.detach().numpy().ravel(), lin.bias.detach().numpy()])
    assert_close(vec, expected)
    new = ft.tensor(rng.standard_normal(8))
    weight_object = lin.weight
    utils.vector_to_parameters(new, lin.parameters())
    assert lin.weight is weight_object
    assert_close(lin.weight, new.numpy()[:6].reshape(2, 3))
    assert_close(lin.bias, new.numpy()[6:])


def test_parameters_to_vector_is_differentiable(rng):
    params = [leaf((2, 2), rng), leaf((3,), rng)]
    (utils.parameters_to_vector(params) * ft.arange(7, dtype=ft.float64)).sum().backward()
    assert_close(params[0].grad, np.arange(4.0).reshape(2, 2))
    assert_close(params[1].grad, np.arange(4.0, 7.0))


def test_vector_to_parameters_wants_a_tensor():
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        utils.vector_to_parameters([1.0], [nn.Parameter(ft.ones(1))])


# ----- parametrize ----------------------------------------------------------------------------

class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(0, 1)

    def right_inverse(self, a):
        return a.triu()


class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x * self.factor

    def right_inverse(self, y):
        return y / self.factor


class SumOfTwo(nn.Module):
    def forward(self, a, b):
        return a + b

    def right_inverse(self, w):
        return w * 0.25, w * 0.75


class NoInverse(nn.Module):
    def forward(self, x):
        return x * 2


def test_parametrization_computes_the_tensor_and_renames_state(rng):
    lin = nn.Linear(3, 3, dtype=ft.float64)
    w = lin.weight.detach().numpy().copy()
    parametrize.register_parametrization(lin, "weight", Symmetric())
    assert type(lin).__name__ == "ParametrizedLinear" and isinstance(lin, nn.Linear)
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original"]
    # right_inverse at registration: the original holds triu(W), the weight is its symmetrization.
    assert_close(lin.parametrizations.weight.original, np.triu(w))
    assert_close(lin.weight, np.triu(w) + np.triu(w, 1).T)
    lin(ft.ones(1, 3, dtype=ft.float64)).sum().backward()
    assert lin.parametrizations.weight.original.grad is not None


def test_assigning_a_parametrized_tensor_calls_right_inverse(rng):
    lin = nn.Linear(2, 2, dtype=ft.float64)
    original = lin.weight
    parametrize.register_parametrization(lin, "weight", Scale(2.0))
    assert lin.parametrizations.weight.original is original
    lin.weight = ft.tensor([[2.0, 4.0], [6.0, 8.0]], dtype=ft.float64)
    assert_close(original, np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert_close(lin.weight, np.array([[2.0, 4.0], [6.0, 8.0]]))


def test_assignment_needs_right_inverse():
    lin = nn.Linear(2, 2)
    parametrize.register_parametrization(lin, "weight", NoInverse())
    with pytest.raises(RuntimeError, match="parametrization NoInverse does not implement right_inverse."):
        lin.weight = ft.zeros(2, 2)


def test_chained_parametrizations_apply_in_order():
    lin = nn.Linear(2, 2, dtype=ft.float64)
    w = lin.weight.detach().numpy().copy()
    parametrize.register_parametrization(lin, "weight", Scale(2.0))  # original = w / 2: weight stays w
    parametrize.register_parametrization(lin, "weight", Scale(3.0))  # chained without a right_inverse call
    assert_close(lin.weight, w * 3)
    assert len(lin.parametrizations.weight) == 2


def test_sequence_right_inverse_gives_numbered_originals():
    lin = nn.Linear(2, 3, dtype=ft.float64)
    w = lin.weight.detach().numpy().copy()
    parametrize.register_parametrization(lin, "weight", SumOfTwo())
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    assert_close(lin.parametrizations.weight.original0, 0.25 * w)
    assert_close(lin.weight, w)
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        parametrize.remove_parametrizations(lin, "weight", leave_parametrized=False)


def test_shape_changing_parametrization_needs_unsafe():
    class Flatten(nn.Module):
        def forward(self, x):
            return x.reshape(-1)

    with pytest.raises(ValueError, match="may not change the shape of the tensor, unless `unsafe` flag is enabled"):
        parametrize.register_parametrization(nn.Linear(2, 3), "weight", Flatten())
    lin = nn.Linear(2, 3)
    parametrize.register_parametrization(lin, "weight", Flatten(), unsafe=True)
    assert lin.weight.shape == (6,)


def test_cached_computes_each_parametrization_once():
    lin = nn.Linear(2, 2)
    scale = Scale(2.0)
    parametrize.register_parametrization(lin, "weight", scale)
    scale.calls = 0
    with parametrize.cached():
        a, b = lin.weight, lin.weight
    assert a is b and scale.calls == 1
    lin.weight
    assert scale.calls == 2


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_remove_parametrizations_restores_the_class_and_parameter(leave_parametrized):
    lin = nn.Linear(2, 2, dtype=ft.float64)
    w = lin.weight.detach().numpy().copy()
    original = lin.weight
    parametrize.register_parametrization(lin, "weight", Scale(2.0))
    assert parametrize.is_parametrized(lin) and parametrize.is_parametrized(lin, "weight")
    assert not parametrize.is_parametrized(lin, "bias")
    assert parametrize.type_before_parametrizations(lin) is nn.Linear
    parametrize.remove_parametrizations(lin, "weight", leave_parametrized=leave_parametrized)
    assert type(lin) is nn.Linear and not hasattr(lin, "parametrizations")
    assert lin.weight is original and isinstance(lin.weight, nn.Parameter)
    # The original holds w / 2 (right_inverse at registration); the parametrized weight is w.
    assert_close(lin.weight, w if leave_parametrized else w / 2)
    assert list(lin.state_dict()) == ["bias", "weight"]


def test_parametrizing_a_buffer():
    bn = nn.BatchNorm1d(2)
    parametrize.register_parametrization(bn, "running_var", Scale(3.0))
    assert "parametrizations.running_var.original" in bn.state_dict()
    assert_close(bn.parametrizations.running_var.original, np.full(2, 1 / 3, dtype=np.float32))
    assert_close(bn.running_var, np.ones(2, dtype=np.float32))
    assert not isinstance(bn.parametrizations.running_var.original, nn.Parameter)


def test_parametrize_errors():
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element with name 'nope'"):
        parametrize.register_parametrization(nn.Linear(2, 2), "nope", Scale(2.0))
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(nn.Linear(2, 2), "weight")


def test_parametrized_modules_deepcopy_but_refuse_pickle():
    lin = nn.Linear(2, 2)
    parametrize.register_parametrization(lin, "weight", Scale(2.0))
    twin = copy.deepcopy(lin)
    assert ft.equal(twin.weight, lin.weight) and twin.parametrizations.weight.original is not lin.parametrizations.weight.original
    with pytest.raises(RuntimeError, match="Serialization of parametrized modules is only supported through state_dict()"):
        pickle.dumps(lin)


def test_parametrization_follows_train_and_eval():
    lin = nn.Linear(2, 2).eval()
    scale = Scale(2.0)
    parametrize.register_parametrization(lin, "weight", scale)
    assert not scale.training
    lin.train()
    assert scale.training


# ----- weight norm ----------------------------------------------------------------------------

def np_weight_norm(g, v, dim):
    if dim is None:
        return g * v / np.sqrt((v ** 2).sum())
    axes = tuple(d for d in range(v.ndim) if d != dim)
    return g * v / np.sqrt((v ** 2).sum(axes, keepdims=True))


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization(rng, dim):
    lin = nn.Linear(3, 4, dtype=ft.float64)
    w = lin.weight.detach().numpy().copy()
    parametrizations.weight_norm(lin, dim=dim)
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    g = lin.parametrizations.weight.original0
    assert g.shape == {0: (4, 1), 1: (1, 3), None: ()}[dim]
    assert_close(lin.weight, w)
    with ft.no_grad():
        g.mul_(2.0)
    assert_close(lin.weight, np_weight_norm(g.numpy(), w, dim))


def test_weight_norm_passes_gradcheck(rng):
    g, v = leaf((3, 1), rng), leaf((3, 2), rng)
    from ferrotorch.nn.utils.weight_norm import _weight_norm
    assert ft.autograd.gradcheck(lambda g, v: _weight_norm(v, g, 0), (g, v))


def test_weight_norm_loads_a_legacy_checkpoint(rng):
    legacy = nn.Linear(3, 2, dtype=ft.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        utils.weight_norm(legacy)
    with ft.no_grad():
        legacy.weight_g.mul_(3.0)
    x = ft.tensor(rng.standard_normal((2, 3)))
    expected = legacy(x).detach().numpy()
    lin = parametrizations.weight_norm(nn.Linear(3, 2, dtype=ft.float64))
    assert not lin.load_state_dict(legacy.state_dict()).missing_keys
    assert_close(lin(x), expected)


def test_legacy_weight_norm_hook_and_removal(rng):
    lin = nn.Linear(3, 2, dtype=ft.float64)
    w = lin.weight.detach().numpy().copy()
    with pytest.warns(FutureWarning, match="`torch.nn.utils.weight_norm` is deprecated"):
        utils.weight_norm(lin, dim=1)
    assert list(lin.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert lin.weight_g.shape == (1, 3)
    with ft.no_grad():
        lin.weight_g.mul_(0.5)
    x = ft.tensor(rng.standard_normal((1, 3)))
    assert_close(lin(x), x.numpy() @ (0.5 * w).T + lin.bias.detach().numpy())
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same parameter weight"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        utils.weight_norm(lin)
    utils.remove_weight_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight"] and isinstance(lin.weight, nn.Parameter)
    assert_close(lin.weight, 0.5 * w)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        utils.remove_weight_norm(lin)


# ----- spectral norm --------------------------------------------------------------------------

def top_singular_value(w, dim=0):
    m = np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1)
    return np.linalg.svd(m, compute_uv=False)[0]


@pytest.mark.parametrize("dim", [0, 1])
def test_spectral_norm_parametrization_divides_by_the_top_singular_value(rng, dim):
    conv_like = nn.Linear(4, 5, dtype=ft.float64)
    with ft.no_grad():
        conv_like.weight.copy_(ft.tensor(rng.standard_normal((5, 4))))
    w = conv_like.weight.detach().numpy().copy()
    parametrizations.spectral_norm(conv_like, dim=dim)
    assert list(conv_like.state_dict()) == [
        "bias", "parametrizations.weight.original", "parametrizations.weight.0._u", "parametrizations.weight.0._v"]
    for _ in range(30):
        weight = conv_like.weight
    assert_close(weight, w / top_singular_value(w, dim), rtol=1e-6, atol=1e-8)
    u = conv_like.parametrizations.weight[0]._u.clone()
    conv_like.eval()
    conv_like.weight
    assert ft.equal(conv_like.parametrizations.weight[0]._u, u)


def test_spectral_norm_parametrization_gradient_flows():
    lin = parametrizations.spectral_norm(nn.Linear(3, 3, dtype=ft.float64))
    lin(ft.ones(2, 3, dtype=ft.float64)).sum().backward()
    assert lin.parametrizations.weight.original.grad.shape == (3, 3)


def test_spectral_norm_parametrization_passes_gradcheck(rng):
    lin = parametrizations.spectral_norm(nn.Linear(3, 2, dtype=ft.float64)).eval()
    sn = lin.parametrizations.weight[0]
    assert ft.autograd.gradcheck(sn, (leaf((2, 3), rng),))


def test_spectral_norm_of_a_vector_normalizes_it():
    m = nn.Module()
    m.weight = nn.Parameter(ft.tensor([3.0, 4.0], dtype=ft.float64))
    parametrizations.spectral_norm(m)
    assert_close(m.weight, np.array([0.6, 0.8]))


def test_spectral_norm_parametrization_errors():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\] but got 2\)"):
        parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive, but got n_power_iterations=0"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'kernel'"):
        parametrizations.spectral_norm(nn.Linear(2, 2), name="kernel")


def test_legacy_spectral_norm_hooks_buffers_and_removal(rng):
    lin = nn.Linear(4, 3, dtype=ft.float64)
    w = lin.weight.detach().numpy().copy()
    utils.spectral_norm(lin, n_power_iterations=3)
    sd = lin.state_dict()
    assert list(sd) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert sd._metadata[""]["spectral_norm"] == {"weight.version": 1}
    x = ft.tensor(rng.standard_normal((2, 4)))
    for _ in range(20):
        lin(x)
    assert_close(lin.weight, w / top_singular_value(w), rtol=1e-6, atol=1e-8)
    lin.eval()
    u = lin.weight_u.clone()
    lin(x)
    assert ft.equal(lin.weight_u, u)
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks on the same parameter weight"):
        utils.spectral_norm(lin)
    utils.remove_spectral_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight"] and not lin._state_dict_hooks and not lin._load_state_dict_pre_hooks
    assert_close(lin.weight, w / top_singular_value(w), rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in"):
        utils.remove_spectral_norm(lin)


def test_legacy_spectral_norm_round_trips_its_state_dict(rng):
    a = utils.spectral_norm(nn.Linear(3, 2, dtype=ft.float64))
    x = ft.tensor(rng.standard_normal((2, 3)))
    a(x)
    b = utils.spectral_norm(nn.Linear(3, 2, dtype=ft.float64))
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    assert_close(b(x), a(x).detach().numpy())


# ----- fusion ---------------------------------------------------------------------------------

def np_bn_eval(y, rm, rv, eps, w, b):
    shape = (1, -1) + (1,) * (y.ndim - 2)
    return (y - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + eps) * w.reshape(shape) + b.reshape(shape)


@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_weights_matches_conv_then_bn(rng, transpose):
    # 1x1 kernels: the convolution is an einsum, so NumPy can check the fused layer end to end.
    cin, cout = 3, 4
    conv_w = ft.tensor(rng.standard_normal((cin, cout, 1, 1) if transpose else (cout, cin, 1, 1)))
    conv_b = ft.tensor(rng.standard_normal(cout))
    rm, rv = rng.standard_normal(cout), rng.uniform(0.5, 2.0, cout)
    bw, bb = rng.standard_normal(cout), rng.standard_normal(cout)
    fw, fb = utils.fuse_conv_bn_weights(conv_w, conv_b, ft.tensor(rm), ft.tensor(rv), 1e-3, ft.tensor(bw), ft.tensor(bb),
                                        transpose=transpose)
    assert isinstance(fw, nn.Parameter) and fw.shape == conv_w.shape and fb.shape == (cout,)
    x = rng.standard_normal((2, cin, 3, 2))
    spec = "iohw,nixy->noxy" if transpose else "oihw,nixy->noxy"
    conv = lambda w, b: np.einsum(spec, w, x) + b.reshape(1, -1, 1, 1)  # noqa: E731
    expected = np_bn_eval(conv(conv_w.numpy(), conv_b.numpy()), rm, rv, 1e-3, bw, bb)
    np.testing.assert_allclose(conv(fw.detach().numpy(), fb.detach().numpy()), expected, rtol=1e-12, atol=1e-12)


def test_fuse_conv_bn_weights_without_bias_or_affine(rng):
    conv_w = ft.tensor(rng.standard_normal((2, 1, 3)))
    rm, rv = ft.tensor([0.5, -1.0], dtype=ft.float64), ft.tensor([1.0, 4.0], dtype=ft.float64)
    fw, fb = utils.fuse_conv_bn_weights(conv_w, None, rm, rv, 0.0, None, None)
    assert_close(fw, conv_w.numpy() / np.array([1.0, 2.0]).reshape(2, 1, 1))
    assert_close(fb, np.array([-0.5, 0.5]))


def test_fuse_linear_bn_eval_end_to_end(rng):
    lin = nn.Linear(3, 4, dtype=ft.float64)
    bn = nn.BatchNorm1d(4, dtype=ft.float64)
    for _ in range(3):
        bn(lin(ft.tensor(rng.standard_normal((6, 3)))))
    with ft.no_grad():
        bn.weight.copy_(ft.tensor(rng.standard_normal(4)))
        bn.bias.copy_(ft.tensor(rng.standard_normal(4)))
    lin.eval(), bn.eval()
    fused = utils.fuse_linear_bn_eval(lin, bn)
    assert fused is not lin and type(fused) is nn.Linear
    x = ft.tensor(rng.standard_normal((5, 3)))
    assert_close(fused(x), bn(lin(x)).detach().numpy())


def test_fuse_linear_bn_eval_broadcasts_one_feature_and_checks(rng):
    lin, bn = nn.Linear(2, 3, dtype=ft.float64).eval(), nn.BatchNorm1d(1, dtype=ft.float64).eval()
    with ft.no_grad():
        bn.running_var.fill_(4.0)
    x = ft.tensor(rng.standard_normal((2, 2)))
    assert_close(utils.fuse_linear_bn_eval(lin, bn)(x), lin(x).detach().numpy() / math.sqrt(4.0 + 1e-5))
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        utils.fuse_linear_bn_eval(nn.Linear(2, 3), nn.BatchNorm1d(3).eval())
    with pytest.raises(AssertionError, match="linear.out_features=3 and bn.num_features=2"):
        utils.fuse_linear_bn_eval(nn.Linear(2, 3).eval(), nn.BatchNorm1d(2).eval())
    with pytest.raises(AssertionError, match="bn.running_mean and bn.running_var must not be None"):
        utils.fuse_linear_bn_eval(nn.Linear(2, 3).eval(), nn.BatchNorm1d(3, track_running_stats=False).eval())


# ----- ferrotorch.utils.hooks -----------------------------------------------------------------

def test_module_hooks_return_utils_hooks_removable_handle():
    from ferrotorch.utils.hooks import RemovableHandle
    from ferrotorch.nn.modules import hooks

    lin = nn.Linear(2, 2)
    handle = lin.register_forward_hook(lambda m, i, o: None)
    assert isinstance(handle, RemovableHandle) and hooks.RemovableHandle is RemovableHandle
    with handle:
        assert len(lin._forward_hooks) == 1
    assert len(lin._forward_hooks) == 0
