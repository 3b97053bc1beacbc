"""PyTorch's nn as the reference, where PyTorch is installed (skipped otherwise): the same
constructors give the same reprs, state_dict keys and shapes, load errors and init statistics."""

import math
from collections import OrderedDict

import numpy as np
import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")


def build_nested(L):
    """A model touching every container, written once for either library (`L` is the module)."""
    nn = L.nn
    return nn.Sequential(OrderedDict([
        ("embed", nn.Linear(8, 16)),
        ("flat", nn.Flatten(0, -1)),
        ("blocks", nn.ModuleList([nn.Linear(16, 16) for _ in range(3)] + [nn.Identity()])),
        ("heads", nn.ModuleDict({"a": nn.Linear(16, 2, bias=False), "b": nn.Bilinear(16, 16, 4)})),
        ("tail", nn.Sequential(nn.Unflatten(1, (2, 8)), nn.Sequential(nn.Identity()))),
        ("plist", nn.ParameterList([L.zeros(2, 3), L.zeros(4, dtype=L.float64)])),
        ("pdict", nn.ParameterDict(OrderedDict([("w", L.zeros(5)), ("v", L.zeros(1, 2, dtype=L.float64))]))),
    ]))


class Custom:
    """A user module with parameters, buffers and children assigned as attributes."""

    @staticmethod
    def build(L):
        nn = L.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = nn.Parameter(L.ones(3))
                self.register_buffer("steps", L.zeros((), dtype=L.int64))
                self.register_buffer("cache", L.zeros(2), persistent=False)
                self.body = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
                self.empty = nn.Sequential()

            def forward(self, x):
                return self.body(x * self.scale)

        return Net()


def test_nested_repr_matches():
    assert repr(build_nested(ft)) == repr(build_nested(torch))


def test_custom_module_repr_matches():
    assert repr(Custom.build(ft)) == repr(Custom.build(torch))


@pytest.mark.parametrize("builder", [build_nested, Custom.build])
def test_state_dict_keys_and_shapes_match(builder):
    ours = {k: tuple(v.shape) for k, v in builder(ft).state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in builder(torch).state_dict().items()}
    assert list(ours.items()) == list(theirs.items())


@pytest.mark.parametrize("builder", [build_nested, Custom.build])
def test_named_modules_and_parameters_match(builder):
    a, b = builder(ft), builder(torch)
    assert [n for n, _ in a.named_modules()] == [n for n, _ in b.named_modules()]
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]
    assert [n for n, _ in a.named_buffers()] == [n for n, _ in b.named_buffers()]


def test_parameter_repr_matches():
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert repr(ft.nn.Parameter(ft.tensor(data))) == repr(torch.nn.Parameter(torch.tensor(data)))


def test_weights_load_from_torch_state_dict():
    theirs = Custom.build(torch)
    ours = Custom.build(ft)
    ours.load_state_dict({k: ft.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(ft.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5)


def _load_error(L, edit, strict=True):
    model = Custom.build(L)
    sd = model.state_dict()
    edit(L, sd)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(sd, strict=strict)
    return str(info.value)


def _missing_and_unexpected(L, sd):
    del sd["body.0.bias"], sd["scale"]
    sd["body.2.weight"] = L.zeros(1)
    sd["other"] = L.zeros(1)


def _size_mismatch(L, sd):
    sd["body.1.weight"] = L.zeros(2, 3)
    del sd["steps"]


def _not_a_tensor(L, sd):
    sd["scale"] = [1.0, 2.0, 3.0]


@pytest.mark.parametrize("edit, strict", [
    (_missing_and_unexpected, True), (_size_mismatch, True), (_size_mismatch, False),
    (_not_a_tensor, True), (_not_a_tensor, False),
])
def test_load_state_dict_error_messages_match(edit, strict):
    assert _load_error(ft, edit, strict) == _load_error(torch, edit, strict)


def test_non_strict_incompatible_keys_match():
    results = []
    for L in (ft, torch):
        model = Custom.build(L)
        sd = model.state_dict()
        _missing_and_unexpected(L, sd)
        results.append(tuple(model.load_state_dict(sd, strict=False)))
    assert results[0] == results[1]


INITS = [
    ("uniform_", {"a": -0.5, "b": 1.5}),
    ("normal_", {"mean": 0.3, "std": 2.0}),
    ("trunc_normal_", {"std": 1.0, "a": -0.5, "b": 1.0}),
    ("trunc_normal_", {"mean": 0.0, "std": 1.0, "a": 1.5, "b": 2.5}),
    ("xavier_uniform_", {"gain": 1.5}),
    ("xavier_normal_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("orthogonal_", {"gain": 0.5}),
    ("sparse_", {"sparsity": 0.25}),
]


@pytest.mark.parametrize("name, kwargs", INITS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(INITS)])
def test_init_statistics_match(name, kwargs):
    shape = (300, 400)
    ours = getattr(ft.nn.init, name)(ft.empty(*shape), **kwargs).numpy().astype(np.float64)
    theirs = getattr(torch.nn.init, name)(torch.empty(*shape), **kwargs).numpy().astype(np.float64)
    scale = theirs.std()
    assert abs(ours.mean() - theirs.mean()) < 0.02 * scale
    assert abs(ours.std() / scale - 1) < 0.02
    # Quantiles, not extremes: the extremes of unbounded samples vary too much between draws.
    q = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]
    np.testing.assert_allclose(np.quantile(ours, q), np.quantile(theirs, q), atol=0.1 * scale)
    assert abs((ours == 0).mean() - (theirs == 0).mean()) < 0.01


def test_linear_default_init_statistics_match():
    ours, theirs = ft.nn.Linear(500, 400), torch.nn.Linear(500, 400)
    for a, b in [(ours.weight, theirs.weight), (ours.bias, theirs.bias)]:
        a, b = a.detach().numpy(), b.detach().numpy()
        assert abs(a.std() / b.std() - 1) < 0.1
        assert abs(np.abs(a).max() - np.abs(b).max()) < 0.05 * np.abs(b).max()


def test_full_backward_hook_arguments_match():
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((4, 2)), rng.standard_normal((4, 3))
    seen = {}
    for L in (ft, torch):
        L.manual_seed(0)
        layer = L.nn.Bilinear(2, 3, 1, dtype=L.float64)
        with L.no_grad():
            layer.weight.copy_(L.tensor(np.arange(6.0).reshape(1, 2, 3)))
        layer.register_full_backward_hook(lambda m, gin, gout, L=L: seen.__setitem__(L, (gin, gout)))
        layer(L.tensor(x1, requires_grad=True), L.tensor(x2)).sum().backward()
    (ours_in, ours_out), (theirs_in, theirs_out) = seen[ft], seen[torch]
    for a, b in zip(ours_in + ours_out, theirs_in + theirs_out):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    assert len(ours_in) == len(theirs_in) == 2
