"""PyTorch as the reference for the normalization layers and nn.utils (skipped without PyTorch):
same reprs, state_dict keys, values, running statistics, error messages; checkpoints with weight
and spectral norm load both ways."""

import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn.utils  # noqa: F401
from ferrotorch.nn import functional as F

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402


def ours(t):
    return None if t is None else ft.tensor(t.detach().numpy())


def theirs(t):
    return None if t is None else torch.tensor(t.detach().numpy())


def to_ours(state_dict):
    """A PyTorch state dict as ours, metadata included (it carries the layout versions)."""
    converted = OrderedDict((k, ours(v)) for k, v in state_dict.items())
    converted._metadata = getattr(state_dict, "_metadata", None)
    return converted


def close(a, b, rtol=1e-6, atol=1e-7):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


MODULES = [
    ("BatchNorm1d", (3,), {}), ("BatchNorm2d", (4,), {"momentum": None, "affine": False}),
    ("BatchNorm3d", (2,), {"track_running_stats": False, "eps": 1e-3}), ("BatchNorm2d", (3,), {"bias": False}),
    ("InstanceNorm1d", (3,), {}), ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm3d", (2,), {"momentum": 0.3}), ("GroupNorm", (2, 4), {}), ("GroupNorm", (1, 3), {"affine": False}),
    ("GroupNorm", (2, 4), {"bias": False}), ("LayerNorm", ([3, 4],), {"bias": False}),
    ("LayerNorm", (5,), {"elementwise_affine": False}), ("RMSNorm", (4,), {}), ("RMSNorm", ([2, 3],), {"eps": 1e-3}),
    ("LocalResponseNorm", (3,), {"alpha": 0.1}), ("CrossMapLRN2d", (5,), {"k": 2}),
]


@pytest.mark.parametrize("name, args, kwargs", MODULES)
def test_repr_and_state_dict_match(name, args, kwargs):
    a, b = getattr(ft.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(a) == repr(b)
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert tuple(sa[k].shape) == tuple(sb[k].shape) and str(sa[k].dtype) == str(sb[k].dtype), k
        np.testing.assert_array_equal(sa[k].numpy(), sb[k].numpy())


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5, 2)])
def test_batchnorm_training_steps_match(momentum, shape):
    rng = np.random.default_rng(0)
    cls = "BatchNorm1d" if len(shape) == 2 else "BatchNorm2d"
    a, b = getattr(ft.nn, cls)(3, momentum=momentum), getattr(torch.nn, cls)(3, momentum=momentum)
    for _ in range(3):
        x = rng.standard_normal(shape).astype(np.float32)
        close(a(ft.tensor(x)), b(torch.tensor(x)), rtol=1e-5, atol=1e-5)
    for k, v in b.state_dict().items():
        close(a.state_dict()[k], v, rtol=1e-5)
    a.eval(), b.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    close(a(ft.tensor(x)), b(torch.tensor(x)), rtol=1e-5, atol=1e-5)


def test_batchnorm_loads_a_trained_torch_state_dict():
    b = torch.nn.BatchNorm2d(3)
    b(torch.randn(4, 3, 2, 2) * 3 + 1)
    a = ft.nn.BatchNorm2d(3)
    a.load_state_dict(to_ours(b.state_dict()))
    a.eval(), b.eval()
    x = torch.randn(2, 3, 2, 2)
    close(a(ours(x)), b(x), rtol=1e-5, atol=1e-6)
    assert a.num_batches_tracked.item() == 1


def test_instance_norm_running_stats_match():
    x = torch.randn(3, 2, 5, dtype=torch.float64)
    rm, rv = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    ra, va = ours(rm), ours(rv)
    w, bias = torch.randn(2, dtype=torch.float64), torch.randn(2, dtype=torch.float64)
    close(F.instance_norm(ours(x), ra, va, ours(w), ours(bias), momentum=0.2),
          TF.instance_norm(x, rm, rv, w, bias, momentum=0.2), rtol=1e-12)
    close(ra, rm, rtol=1e-12)
    close(va, rv, rtol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda L, NF, x: NF.group_norm(x, 2, L.ones(4, dtype=L.float64) * 2, L.ones(4, dtype=L.float64), eps=1e-3),
    lambda L, NF, x: NF.rms_norm(x, (3,)),
    lambda L, NF, x: NF.rms_norm(x, (4, 3), eps=0.1),
    lambda L, NF, x: NF.layer_norm(x, (3,)),
    lambda L, NF, x: NF.local_response_norm(x, 3, alpha=0.5, beta=0.7, k=1.5),
    lambda L, NF, x: NF.local_response_norm(x, 2),
    lambda L, NF, x: NF.batch_norm(x, None, None, training=True),
])
def test_functional_values_match(fn):
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    close(fn(ft, F, ours(x)), fn(torch, TF, x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_cross_map_lrn2d_matches(size):
    x = torch.randn(2, 6, 3, 2, dtype=torch.float64)
    close(ft.nn.CrossMapLRN2d(size, alpha=0.3, k=1.5)(ours(x)), torch.nn.CrossMapLRN2d(size, alpha=0.3, k=1.5)(x),
          rtol=1e-12)


@pytest.mark.parametrize("bad", [
    lambda L, NF: NF.batch_norm(L.randn(4, 3, 5), L.zeros(4), L.ones(3)),
    lambda L, NF: NF.batch_norm(L.randn(4, 3, 5), L.zeros(3), L.ones(3), weight=L.ones(4)),
    lambda L, NF: NF.batch_norm(L.randn(4, 3), None, None),
    lambda L, NF: NF.batch_norm(L.randn(1, 3), None, None, training=True),
    lambda L, NF: NF.instance_norm(L.randn(4, 3, 5), L.zeros(4), L.ones(4)),
    lambda L, NF: NF.instance_norm(L.randn(2, 3, 1)),
    lambda L, NF: NF.group_norm(L.randn(4, 3, 5), 2),
    lambda L, NF: NF.group_norm(L.randn(2, 6, 3), 3, bias=L.ones(4)),
    lambda L, NF: NF.group_norm(L.randn(3), 3),
    lambda L, NF: NF.layer_norm(L.randn(4, 3, 5), (4, 5)),
    lambda L, NF: NF.rms_norm(L.randn(4, 5), (5,), weight=L.ones(4)),
    lambda L, NF: L.nn.GroupNorm(2, 5),
    lambda L, NF: L.nn.BatchNorm1d(3)(L.randn(3)),
    lambda L, NF: L.nn.BatchNorm3d(3)(L.randn(3, 3)),
    lambda L, NF: L.nn.InstanceNorm3d(3)(L.randn(3, 3)),
    lambda L, NF: L.nn.InstanceNorm1d(3, affine=True)(L.randn(2, 4, 5)),
    lambda L, NF: L.nn.CrossMapLRN2d(3)(L.randn(3, 4, 5)),
    lambda L, NF: L.nn.utils.vector_to_parameters(3.0, []),
])
def test_error_messages_match(bad):
    with pytest.raises(Exception) as expected:
        bad(torch, TF)
    with pytest.raises(type(expected.value)) as got:
        bad(ft, F)
    assert " ".join(str(got.value).split()) == " ".join(str(expected.value).split())


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 0.5])
def test_clip_grad_norm_matches(norm_type):
    grads = [torch.randn(3, 4) * 3, torch.randn(5), torch.randn(())]
    tp = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    fp = [ft.nn.Parameter(ours(p)) for p in tp]
    for p, q, g in zip(tp, fp, grads):
        p.grad, q.grad = g.clone(), ours(g)
    close(ft.nn.utils.clip_grad_norm_(fp, 1.5, norm_type), torch.nn.utils.clip_grad_norm_(tp, 1.5, norm_type), rtol=1e-6)
    for p, q in zip(tp, fp):
        close(q.grad, p.grad, rtol=1e-6)


def _linear_pair(seed=0):
    torch.manual_seed(seed)
    b = torch.nn.Linear(3, 4, dtype=torch.float64)
    a = ft.nn.Linear(3, 4, dtype=ft.float64)
    a.load_state_dict(to_ours(b.state_dict()))
    return a, b


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization_keys_values_and_checkpoints(dim):
    a, b = _linear_pair()
    ft.nn.utils.parametrizations.weight_norm(a, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(b, dim=dim)
    assert list(a.state_dict()) == list(b.state_dict())
    for k, v in b.state_dict().items():
        close(a.state_dict()[k], v, rtol=1e-12)
    with torch.no_grad():
        b.parametrizations.weight.original0.mul_(1.5)
    a.load_state_dict(to_ours(b.state_dict()))
    x = torch.randn(2, 3, dtype=torch.float64)
    close(a(ours(x)), b(x), rtol=1e-12)
    assert repr(a) == repr(b)


def test_weight_norm_parametrization_loads_a_torch_legacy_checkpoint():
    _, legacy = _linear_pair(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(legacy)
    with torch.no_grad():
        legacy.weight_g.mul_(2.0)
    a, _ = _linear_pair(2)
    ft.nn.utils.parametrizations.weight_norm(a)
    a.load_state_dict(to_ours(legacy.state_dict()))
    x = torch.randn(2, 3, dtype=torch.float64)
    close(a(ours(x)), legacy(x), rtol=1e-12)


def test_legacy_weight_norm_matches():
    a, b = _linear_pair()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ft.nn.utils.weight_norm(a, dim=1)
        torch.nn.utils.weight_norm(b, dim=1)
    assert list(a.state_dict()) == list(b.state_dict())
    for k, v in b.state_dict().items():
        close(a.state_dict()[k], v, rtol=1e-12)
    ft.nn.utils.remove_weight_norm(a), torch.nn.utils.remove_weight_norm(b)
    assert list(a.state_dict()) == list(b.state_dict())
    close(a.weight, b.weight, rtol=1e-12)


def test_spectral_norm_parametrization_loads_torch_state():
    a, b = _linear_pair()
    ft.nn.utils.parametrizations.spectral_norm(a)
    torch.nn.utils.parametrizations.spectral_norm(b)
    assert list(a.state_dict()) == list(b.state_dict())
    x = torch.randn(2, 3, dtype=torch.float64)
    b(x)
    a.load_state_dict(to_ours(b.state_dict()))
    close(a(ours(x)), b(x), rtol=1e-10)  # one more power iteration on each side, from the same u, v
    close(a.parametrizations.weight[0]._u, b.parametrizations.weight[0]._u, rtol=1e-10)
    a.eval(), b.eval()
    close(a(ours(x)), b(x), rtol=1e-10)


def test_legacy_spectral_norm_loads_torch_state():
    a, b = _linear_pair()
    ft.nn.utils.spectral_norm(a, n_power_iterations=2)
    torch.nn.utils.spectral_norm(b, n_power_iterations=2)
    assert list(a.state_dict()) == list(b.state_dict())
    x = torch.randn(2, 3, dtype=torch.float64)
    b(x)
    state = b.state_dict()
    assert state._metadata[""]["spectral_norm"] == a.state_dict()._metadata[""]["spectral_norm"]
    a.load_state_dict(to_ours(state))
    close(a(ours(x)), b(x), rtol=1e-10)
    a.eval(), b.eval()
    close(a(ours(x)), b(x), rtol=1e-10)


def test_fuse_linear_bn_eval_matches():
    a, b = _linear_pair()
    tb = torch.nn.BatchNorm1d(4, dtype=torch.float64)
    tb(torch.randn(5, 4, dtype=torch.float64) * 2)
    fb = ft.nn.BatchNorm1d(4, dtype=ft.float64)
    fb.load_state_dict(to_ours(tb.state_dict()))
    for m in (a, b, tb, fb):
        m.eval()
    fused_a, fused_b = ft.nn.utils.fuse_linear_bn_eval(a, fb), torch.nn.utils.fuse_linear_bn_eval(b, tb)
    close(fused_a.weight, fused_b.weight, rtol=1e-12)
    close(fused_a.bias, fused_b.bias, rtol=1e-12)
