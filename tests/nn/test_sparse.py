"""embedding, embedding_bag, one_hot and the Embedding/EmbeddingBag modules, against NumPy."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.nn import functional as F

from conftest import assert_close, make

INDICES = np.array([[1, 4, 4, 0], [2, 4, 1, 1]])


def numpy_embedding_grad(weight_shape, indices, grad, padding_idx=None, scale_grad_by_freq=False):
    """PyTorch's dense embedding backward: scatter-add rows of grad, skipping padding_idx and
    dividing by each index's count when asked."""
    flat, grad = indices.reshape(-1), grad.reshape(-1, weight_shape[1])
    counts = np.bincount(flat, minlength=weight_shape[0])
    out = np.zeros(weight_shape)
    for position, index in enumerate(flat):
        if index != padding_idx:
            out[index] += grad[position] / (counts[index] if scale_grad_by_freq else 1)
    return out


def numpy_bags(inputs, offsets, include_last_offset):
    """Index lists of each bag."""
    ends = list(offsets[1:]) + ([] if include_last_offset else [len(inputs)])
    return [inputs[s:e] for s, e in zip(offsets, ends)]


def numpy_embedding_bag(weight, bags, mode, padding_idx=None, weights=None):
    out = np.zeros((len(bags), weight.shape[1]))
    for b, (bag, w) in enumerate(zip(bags, weights or [None] * len(bags))):
        keep = [i for i, index in enumerate(bag) if index != padding_idx]
        if not keep:
            continue
        rows = weight[[bag[i] for i in keep]]
        if w is not None:
            rows = rows * np.asarray([w[i] for i in keep])[:, None]
        out[b] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0)}[mode]
    return out


# embedding

@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_embedding_gathers_rows(layout, dtype, rng):
    weight, w = make((5, 3), dtype, rng, layout)
    indices = ft.tensor(INDICES.T.copy()).t()  # a non-contiguous index tensor
    assert_close(F.embedding(indices, weight), w[INDICES], dtype)


def test_embedding_accepts_int32_and_0d_indices(rng):
    weight, w = make((5, 3), ft.float64, rng)
    assert_close(F.embedding(ft.tensor([3, 0], dtype=ft.int32), weight), w[[3, 0]])
    assert_close(F.embedding(ft.tensor(2), weight), w[2])
    assert tuple(F.embedding(ft.zeros(0, 2, dtype=ft.int64), weight).shape) == (0, 2, 3)


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 4}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
                                    {"padding_idx": 1, "scale_grad_by_freq": True}])
def test_embedding_gradient(kwargs, rng):
    weight = ft.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    grad = rng.standard_normal(INDICES.shape + (3,))
    F.embedding(ft.tensor(INDICES), weight, **kwargs).backward(ft.tensor(grad))
    padding_idx = kwargs.get("padding_idx")
    padding_idx = None if padding_idx is None else padding_idx % 5
    expected = numpy_embedding_grad((5, 3), INDICES, grad, padding_idx, kwargs.get("scale_grad_by_freq", False))
    assert_close(weight.grad, expected)


def test_embedding_gradcheck(rng):
    # (padding_idx and scale_grad_by_freq change the gradient on purpose: checked above.)
    weight = ft.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    indices = ft.tensor(INDICES)
    assert ft.autograd.gradcheck(lambda w: F.embedding(indices, w), [weight])
    assert ft.autograd.gradgradcheck(lambda w: F.embedding(indices, w), [weight])


def test_embedding_padding_idx_survives_double_backward(rng):
    weight = ft.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    out = F.embedding(ft.tensor(INDICES), weight, padding_idx=4)
    (grad,) = ft.autograd.grad((out**2).sum(), weight, create_graph=True)
    grad.sum().backward()
    # grad[r] = 2 * count(r) * w[r] except for the padding row, so d sum(grad) / dw[r] = 2 count(r).
    counts = np.bincount(INDICES.reshape(-1), minlength=5).astype(float)
    counts[4] = 0
    assert_close(weight.grad, (2 * counts)[:, None].repeat(2, 1))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_embedding_max_norm_renormalizes_referenced_rows_in_place(norm_type, rng):
    w = rng.standard_normal((5, 3)) * 3
    weight = ft.tensor(w)
    out = F.embedding(ft.tensor([[0, 2], [2, 3]]), weight, max_norm=1.5, norm_type=norm_type)
    expected = w.copy()
    for row in (0, 2, 3):
        norm = np.linalg.norm(w[row], ord=norm_type)
        if norm > 1.5:
            expected[row] = w[row] * (1.5 / (norm + 1e-7))
    assert_close(weight, expected)  # rows 1 and 4 untouched
    assert_close(out, expected[[[0, 2], [2, 3]]])


def test_embedding_sparse_gradients_are_refused(rng):
    weight = ft.randn(5, 3, requires_grad=True)
    with pytest.raises(NotImplementedError, match="sparse=True"):
        F.embedding(ft.tensor([1]), weight, sparse=True)
    # Without a gradient to compute, the lookup is the same.
    assert_close(F.embedding(ft.tensor([1]), weight.detach(), sparse=True), weight.detach().numpy()[[1]])


@pytest.mark.parametrize("call, error, match", [
    (lambda w: F.embedding(ft.tensor([5]), w), IndexError, "index out of range in self"),
    (lambda w: F.embedding(ft.tensor([-1]), w), IndexError, "index out of range in self"),
    (lambda w: F.embedding(ft.tensor([1.0]), w), RuntimeError, "'indices' to have one of the following scalar types: Long, Int; but got torch.FloatTensor"),
    (lambda w: F.embedding(ft.tensor([1]), w[0]), RuntimeError, "'weight' must be 2-D"),
    (lambda w: F.embedding(ft.tensor([1]), w, padding_idx=5), AssertionError, "Padding_idx must be within num_embeddings"),
    (lambda w: F.embedding(ft.tensor([1]), w, padding_idx=-6), AssertionError, "Padding_idx must be within num_embeddings"),
])
def test_embedding_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(ft.zeros(5, 3))


# embedding_bag

BAG_INPUT = [1, 2, 4, 2, 0, 4, 4, 1, 3]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets, include_last_offset", [
    ([0, 3, 3, 5], False), ([0, 2, 4, 9], True), ([0], False), ([0, 0, 9], True),
])
@pytest.mark.parametrize("padding_idx", [None, 4])
def test_embedding_bag_matches_numpy(mode, offsets, include_last_offset, padding_idx, rng):
    weight, w = make((5, 3), ft.float64, rng, "transposed")
    out = F.embedding_bag(ft.tensor(BAG_INPUT), weight, ft.tensor(offsets), mode=mode,
                          include_last_offset=include_last_offset, padding_idx=padding_idx)
    bags = numpy_bags(BAG_INPUT, offsets, include_last_offset)
    assert_close(out, numpy_embedding_bag(w, bags, mode, padding_idx))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_embedding_bag_2d_input_is_fixed_length_bags(mode, dtype, rng):
    weight, w = make((5, 3), dtype, rng)
    assert_close(F.embedding_bag(ft.tensor(INDICES), weight, mode=mode), numpy_embedding_bag(w, list(INDICES), mode), dtype)


def test_embedding_bag_per_sample_weights(rng):
    weight, w = make((5, 3), ft.float64, rng)
    psw = rng.standard_normal(len(BAG_INPUT))
    out = F.embedding_bag(ft.tensor(BAG_INPUT), weight, ft.tensor([0, 4]), mode="sum",
                          per_sample_weights=ft.tensor(psw), padding_idx=4)
    bags, weights = numpy_bags(BAG_INPUT, [0, 4], False), [psw[:4], psw[4:]]
    assert_close(out, numpy_embedding_bag(w, bags, "sum", 4, weights))


def test_embedding_bag_empty_bags_and_no_bags(rng):
    weight, _ = make((5, 3), ft.float64, rng)
    for mode in ("sum", "mean", "max"):
        out = F.embedding_bag(ft.tensor([1, 2]), weight, ft.tensor([0, 0, 2]), mode=mode)
        assert_close(out[0], np.zeros(3)) and assert_close(out[2], np.zeros(3))
        assert tuple(F.embedding_bag(ft.tensor([1]), weight, ft.tensor([], dtype=ft.int64), mode=mode).shape) == (0, 3)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(mode, rng):
    weight = ft.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    inputs, offsets = ft.tensor(BAG_INPUT), ft.tensor([0, 3, 3, 5])
    assert ft.autograd.gradcheck(lambda w: F.embedding_bag(inputs, w, offsets, mode=mode, padding_idx=2), [weight])


def test_embedding_bag_gradcheck_per_sample_weights(rng):
    weight = ft.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    psw = ft.tensor(rng.standard_normal(len(BAG_INPUT)), requires_grad=True)
    inputs, offsets = ft.tensor(BAG_INPUT), ft.tensor([0, 3, 3, 5])
    assert ft.autograd.gradcheck(
        lambda w, s: F.embedding_bag(inputs, w, offsets, mode="sum", per_sample_weights=s),
        [weight, psw])


def test_embedding_bag_mean_gradient_with_frequency_scaling(rng):
    weight = ft.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    grad = rng.standard_normal((2, 3))
    F.embedding_bag(ft.tensor(BAG_INPUT), weight, ft.tensor([0, 4]), mode="mean",
                    scale_grad_by_freq=True).backward(ft.tensor(grad))
    # Each entry of bag b receives grad[b] / len(bag), then / count(index).
    per_entry = np.concatenate([np.repeat(grad[:1] / 4, 4, 0), np.repeat(grad[1:] / 5, 5, 0)])
    assert_close(weight.grad, numpy_embedding_grad((5, 3), np.array(BAG_INPUT), per_entry, None, True))


@pytest.mark.parametrize("call, error, match", [
    (lambda w: F.embedding_bag(ft.tensor([[1]]), w, ft.tensor([0])), ValueError, "if input is 2D, then offsets has to be None"),
    (lambda w: F.embedding_bag(ft.tensor([1]), w), ValueError, "offsets has to be a 1D Tensor but got None"),
    (lambda w: F.embedding_bag(ft.tensor([[[1]]]), w), ValueError, "input has to be 1D or 2D Tensor, but got Tensor of dimension 3"),
    (lambda w: F.embedding_bag(ft.tensor([1]), w, ft.tensor([0]), mode="min"), ValueError, "mode has to be one of sum, mean or max"),
    (lambda w: F.embedding_bag(ft.tensor([1]), w, ft.tensor([0]), mode="max", scale_grad_by_freq=True), ValueError, "max mode does not support scaling"),
    (lambda w: F.embedding_bag(ft.tensor([1]), w, ft.tensor([0]), per_sample_weights=ft.ones(1)), NotImplementedError, "only supported for mode='sum'"),
    (lambda w: F.embedding_bag(ft.tensor([1]), w, ft.tensor([0]), per_sample_weights=ft.ones(2)), ValueError, "must have the same shape as the input"),
    (lambda w: F.embedding_bag(ft.tensor([1, 2]), w, ft.tensor([1])), RuntimeError, "offsets\\[0\\] has to be 0"),
    (lambda w: F.embedding_bag(ft.tensor([1, 2]), w, ft.tensor([0, 3])), RuntimeError, "offsets\\[-1\\] can not be greater than input's length 2 but got offsets\\[-1\\] of 3"),
    (lambda w: F.embedding_bag(ft.tensor([1, 7]), w, ft.tensor([0])), RuntimeError, "Index 1 of input takes value 7 which is not in the valid range \\[0, 5\\)"),
    (lambda w: F.embedding_bag(ft.tensor([1]), w, ft.tensor([0]), padding_idx=5), RuntimeError, "padding_idx must be within the number of embeddings, -5 through 4, but got 5"),
    (lambda w: F.embedding_bag(ft.tensor([1]), w, ft.tensor([], dtype=ft.int64), include_last_offset=True), RuntimeError, "number of offset should be at least 1"),
])
def test_embedding_bag_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(ft.zeros(5, 3))


# one_hot

def test_one_hot_matches_numpy():
    labels = np.array([[0, 3], [2, 2]])
    out = F.one_hot(ft.tensor(labels), 5)
    assert_close(out, np.eye(5, dtype=np.int64)[labels], ft.int64)
    assert_close(F.one_hot(ft.tensor(labels)), np.eye(4, dtype=np.int64)[labels], ft.int64)
    assert tuple(F.one_hot(ft.zeros(0, dtype=ft.int64), 3).shape) == (0, 3)


@pytest.mark.parametrize("labels, num_classes, match", [
    ([0, -1], 3, "Class values must be non-negative."),
    ([0, 3], 3, "Class values must be smaller than num_classes."),
    ([], -1, "Can not infer total number of classes from empty tensor."),
])
def test_one_hot_errors(labels, num_classes, match):
    with pytest.raises(RuntimeError, match=match):
        F.one_hot(ft.tensor(labels, dtype=ft.int64), num_classes)


def test_one_hot_needs_int64():
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor of type LongTensor."):
        F.one_hot(ft.tensor([1], dtype=ft.int32))


# modules

def test_embedding_module_init_and_padding_row():
    ft.manual_seed(0)
    emb = nn.Embedding(2000, 16, padding_idx=-2)
    w = emb.weight.detach().numpy()
    assert emb.padding_idx == 1998 and np.all(w[1998] == 0)
    # N(0, 1): 32000 draws, standard errors ~0.006 for the mean and ~0.004 for the std.
    assert abs(w.mean()) < 0.03 and abs(w.std() - 1) < 0.03
    assert list(emb.state_dict()) == ["weight"] and emb.weight.shape == (2000, 16)


def test_embedding_module_forward_and_gradient(rng):
    emb = nn.Embedding(5, 3, padding_idx=0, dtype=ft.float64)
    assert emb.weight.dtype == ft.float64
    out = emb(ft.tensor(INDICES))
    assert_close(out, emb.weight.detach().numpy()[INDICES])
    out.sum().backward()
    assert_close(emb.weight.grad, numpy_embedding_grad((5, 3), INDICES, np.ones(INDICES.shape + (3,)), 0))


@pytest.mark.parametrize("module, expected", [
    (nn.Embedding(5, 3), "Embedding(5, 3)"),
    (nn.Embedding(5, 3, padding_idx=-1, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True, sparse=True),
     "Embedding(5, 3, padding_idx=4, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True, sparse=True)"),
    (nn.EmbeddingBag(5, 3), "EmbeddingBag(5, 3, mode='mean')"),
    (nn.EmbeddingBag(5, 3, max_norm=2, norm_type=3, scale_grad_by_freq=True, mode="max", padding_idx=-2),
     "EmbeddingBag(5, 3, max_norm=2, norm_type=3, scale_grad_by_freq=True, mode='max', padding_idx=3)"),
])
def test_module_reprs(module, expected):
    assert repr(module) == expected


def test_from_pretrained_shares_and_freezes():
    table = ft.arange(6.0).view(3, 2)
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad and np.all(emb.weight.detach().numpy() == table.numpy())
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    bag = nn.EmbeddingBag.from_pretrained(table, mode="sum")
    assert not bag.weight.requires_grad
    assert_close(bag(ft.tensor([[0, 2]])), [[4.0, 6.0]])
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(ft.zeros(3))


def test_weight_argument_shape_is_checked():
    with pytest.raises(AssertionError, match="Shape of weight does not match num_embeddings and embedding_dim"):
        nn.Embedding(3, 2, _weight=ft.zeros(2, 3))
    assert not nn.Embedding(3, 2, _weight=ft.zeros(3, 2), _freeze=True).weight.requires_grad


def test_embedding_bag_module_forward(rng):
    bag = nn.EmbeddingBag(5, 3, mode="max", padding_idx=4)
    w = bag.weight.detach().numpy()
    assert np.all(w[4] == 0)
    out = bag(ft.tensor(BAG_INPUT), ft.tensor([0, 3, 3, 5]))
    assert_close(out, numpy_embedding_bag(w, numpy_bags(BAG_INPUT, [0, 3, 3, 5], False), "max", 4))
