"""PyTorch as the reference (skipped where it is not installed) for padding, dropout, embeddings
and distances: same values, gradients, errors and reprs."""

import math

import numpy as np
import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")


def both(builder):
    """``builder(lib)`` for ferrotorch and for torch."""
    return builder(ft), builder(torch)


def outcome(call):
    """The result of ``call()``, or (exception type name, first line of its message)."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - comparing whatever both libraries raise
        return type(error).__name__, str(error).splitlines()[0]


def to_numpy(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def check_values_and_grads(function, arrays, grad_seed=0, atol=1e-12):
    """function(lib, *tensors) on float64 leaves in both libraries: same output and input grads."""
    results = []
    for lib in (ft, torch):
        leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = function(lib, *leaves)
        g = np.random.default_rng(grad_seed).standard_normal(tuple(out.shape))
        out.backward(lib.tensor(g))
        results.append((to_numpy(out), [to_numpy(leaf.grad) for leaf in leaves]))
    (ours, our_grads), (theirs, their_grads) = results
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=atol)
    for a, b in zip(our_grads, their_grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=atol)


MODULES = [
    lambda nn: nn.Dropout1d(0.2), lambda nn: nn.Dropout2d(), lambda nn: nn.Dropout3d(inplace=True),
    lambda nn: nn.AlphaDropout(0.1), lambda nn: nn.FeatureAlphaDropout(0.3),
    lambda nn: nn.ZeroPad1d(2), lambda nn: nn.ZeroPad2d((1, 2, 3, 4)), lambda nn: nn.ZeroPad3d(1),
    lambda nn: nn.ConstantPad1d(2, 3.5), lambda nn: nn.ConstantPad2d((1, 2, 3, 4), 0),
    lambda nn: nn.ConstantPad3d(1, -1.0), lambda nn: nn.ReflectionPad1d(2),
    lambda nn: nn.ReflectionPad2d((1, 2, 3, 4)), lambda nn: nn.ReflectionPad3d(1),
    lambda nn: nn.ReplicationPad1d((1, 2)), lambda nn: nn.ReplicationPad2d(1), lambda nn: nn.ReplicationPad3d(1),
    lambda nn: nn.CircularPad1d(1), lambda nn: nn.CircularPad2d(1), lambda nn: nn.CircularPad3d((1, 2, 3, 4, 5, 6)),
    lambda nn: nn.PairwiseDistance(p=1.0), lambda nn: nn.CosineSimilarity(dim=0),
    lambda nn: nn.Embedding(5, 3), lambda nn: nn.Embedding(5, 3, padding_idx=-1, max_norm=1.0, norm_type=1.0,
                                                            scale_grad_by_freq=True, sparse=True),
    lambda nn: nn.EmbeddingBag(5, 3), lambda nn: nn.EmbeddingBag(5, 3, max_norm=2, norm_type=3, mode="max",
                                                                   padding_idx=-2, include_last_offset=True),
]


@pytest.mark.parametrize("build", MODULES)
def test_module_repr_and_state_dict_match(build):
    ours, theirs = both(lambda lib: build(lib.nn))
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_values_grads_and_errors_match(mode):
    rng = np.random.default_rng(0)
    for dims in (1, 2, 3):
        for ndim in (dims + 1, dims + 2):
            arr = rng.standard_normal(tuple(rng.integers(1, 5, size=ndim)))
            for _ in range(6):
                pad = tuple(int(v) for v in rng.integers(-3, 4, size=2 * dims))
                ours, theirs = both(lambda lib: outcome(lambda: lib.nn.functional.pad(lib.tensor(arr), pad, mode=mode)))
                if isinstance(theirs, tuple) or isinstance(ours, tuple):
                    # Circular padding wider than what is left after cropping reads uninitialised
                    # memory in PyTorch: we refuse it.
                    if not (mode == "circular" and ours == ("RuntimeError", "Padding value causes wrapping around more than once.")):
                        assert ours == theirs, (arr.shape, pad)
                    continue
                check_values_and_grads(lambda lib, x: lib.nn.functional.pad(x, pad, mode=mode), [arr])


@pytest.mark.parametrize("p", [0.2, 0.7])
def test_torch_alpha_dropout_uses_our_constants(p):
    # RNG streams differ, so compare what the mask does rather than the mask.
    x = torch.randn(5000, dtype=torch.float64)
    out = torch.nn.functional.alpha_dropout(x, p, training=True).numpy()
    a = 1.0 / math.sqrt((1.7580993408473766**2 * p + 1) * (1 - p))
    shift = 1.7580993408473766 * a * p
    dropped = np.isclose(out, -1.7580993408473766 * a + shift, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out[~dropped], x.numpy()[~dropped] * a + shift, rtol=1e-12)
    ours = ft.nn.functional.alpha_dropout(ft.tensor(x.numpy()), p, training=True).numpy()
    our_dropped = np.isclose(ours, -1.7580993408473766 * a + shift, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours[~our_dropped], x.numpy()[~our_dropped] * a + shift, rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda F, lib: F.dropout1d(lib.zeros(1, 2, 3, 4)),
    lambda F, lib: F.dropout(lib.zeros(2), 1.5),
    lambda F, lib: F.feature_alpha_dropout(lib.zeros(3), 0.5, True),
    lambda F, lib: F.dropout(lib.tensor([float("nan"), 2.0]), 1.0),
    lambda F, lib: F.alpha_dropout(lib.ones(3), 1.0, True),
])
def test_dropout_edges_match(call):
    ours, theirs = both(lambda lib: outcome(lambda: call(lib.nn.functional, lib)))
    if isinstance(theirs, tuple):
        assert ours == theirs
    else:
        np.testing.assert_array_equal(to_numpy(ours), to_numpy(theirs))


INDICES = [[1, 4, 4, 0], [2, 4, 1, 1]]


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 4}, {"padding_idx": -2, "scale_grad_by_freq": True},
                                    {"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0}])
def test_embedding_matches(kwargs):
    weight = np.random.default_rng(1).standard_normal((5, 3))
    check_values_and_grads(lambda lib, w: lib.nn.functional.embedding(lib.tensor(INDICES), w, **kwargs), [weight])
    # max_norm rewrites the referenced rows in place, the same way.
    ours, theirs = both(lambda lib: lib.tensor(weight))
    ft.nn.functional.embedding(ft.tensor(INDICES), ours, **kwargs)
    torch.nn.functional.embedding(torch.tensor(INDICES), theirs, **kwargs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


BAG_INPUT = [1, 2, 4, 2, 0, 4, 4, 1, 3]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets, include_last_offset", [([0, 3, 3, 5], False), ([0, 2, 4, 9], True), ([0, 0, 9], True)])
@pytest.mark.parametrize("padding_idx", [None, 4])
def test_embedding_bag_matches(mode, offsets, include_last_offset, padding_idx):
    weight = np.random.default_rng(2).standard_normal((5, 3))
    check_values_and_grads(
        lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor(BAG_INPUT), w, lib.tensor(offsets), mode=mode,
                                                       include_last_offset=include_last_offset, padding_idx=padding_idx),
        [weight])


def test_embedding_bag_per_sample_weights_and_frequency_match():
    rng = np.random.default_rng(3)
    weight, psw = rng.standard_normal((5, 3)), rng.standard_normal(len(BAG_INPUT))
    check_values_and_grads(
        lambda lib, w, s: lib.nn.functional.embedding_bag(lib.tensor(BAG_INPUT), w, lib.tensor([0, 4]), mode="sum",
                                                          per_sample_weights=s, scale_grad_by_freq=True, padding_idx=1),
        [weight, psw])
    check_values_and_grads(
        lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([INDICES[0]] * 2), w, mode="mean", scale_grad_by_freq=True),
        [weight])


@pytest.mark.parametrize("call", [
    lambda F, lib, w: F.embedding(lib.tensor([5]), w),
    lambda F, lib, w: F.embedding(lib.tensor([1.0]), w),
    lambda F, lib, w: F.embedding(lib.tensor([1]), w, padding_idx=7),
    lambda F, lib, w: F.embedding_bag(lib.tensor([1, 2]), w, lib.tensor([0, 3])),
    lambda F, lib, w: F.embedding_bag(lib.tensor([1]), w, lib.tensor([0]), mode="max", scale_grad_by_freq=True),
    lambda F, lib, w: F.embedding_bag(lib.tensor([1]), w, lib.tensor([0]), padding_idx=-6),
    lambda F, lib, w: F.embedding_bag(lib.tensor([1]), w, lib.tensor([0]), per_sample_weights=lib.ones(1)),
    lambda F, lib, w: F.one_hot(lib.tensor([0, 3]), 3),
    lambda F, lib, w: F.one_hot(lib.tensor([-1])),
    lambda F, lib, w: F.one_hot(lib.tensor([1], dtype=lib.int32)),
    lambda F, lib, w: F.pdist(lib.zeros(3)),
    lambda F, lib, w: F.cosine_similarity(lib.tensor([1, 2]), lib.tensor([3, 4])),
])
def test_errors_match(call):
    ours, theirs = both(lambda lib: outcome(lambda: call(lib.nn.functional, lib, lib.zeros(5, 3))))
    assert ours == theirs


def test_one_hot_matches():
    ours, theirs = both(lambda lib: lib.nn.functional.one_hot(lib.tensor([[0, 3], [2, 1]])))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert str(ours.dtype) == str(theirs.dtype)


@pytest.mark.parametrize("function, shapes", [
    (lambda lib, x: lib.nn.functional.normalize(x, 3.0, 0), [(3, 2)]),
    (lambda lib, x: lib.nn.functional.normalize(x), [(2, 3)]),
    (lambda lib, x, y: lib.nn.functional.cosine_similarity(x, y, dim=-1), [(2, 1, 3), (2, 3)]),
    (lambda lib, x, y: lib.nn.functional.cosine_similarity(x * 1e-9, y, eps=1e-8), [(2, 3), (2, 3)]),
    (lambda lib, x, y: lib.nn.functional.pairwise_distance(x, y, 3.0, keepdim=True), [(4, 3), (3,)]),
    (lambda lib, x, y: lib.nn.functional.pairwise_distance(x, y, float("inf")), [(4, 3), (4, 3)]),
    (lambda lib, x: lib.nn.functional.pdist(x, 2.0), [(4, 2)]),
    (lambda lib, x: lib.nn.functional.pdist(x, 0.5), [(4, 2)]),
])
def test_distances_match(function, shapes):
    rng = np.random.default_rng(4)
    check_values_and_grads(function, [rng.standard_normal(s) for s in shapes])
