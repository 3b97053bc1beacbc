"""gradcheck for the indexing ops: ``t[...]`` reads and writes, gather/scatter and their
reductions, index_*, masked_*, take/put, on contiguous, transposed and strided inputs, with
repeated indices where accumulation matters; gradgradcheck for a subset; node names; the
in-place and setitem semantics (history of the written tensor and of the written values)."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import leaf

LAYOUTS = ["contiguous", "transposed", "strided"]


def idx(v):
    return ft.tensor(np.array(v, dtype=np.int64))


def mask(v):
    return ft.tensor(np.array(v, dtype=bool))


MASK_NP = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, False]])
MASK = mask(MASK_NP)  # 6 true
ROW_MASK = mask([False, True, True, False])

# Ops of one (3, 4) input.
UNARY = {
    "getitem_list_repeated": lambda t: t[idx([0, 2, 0, 0])],
    "getitem_2d_index": lambda t: t[idx([[1, 1], [2, 0]])],
    "getitem_two_tensors": lambda t: t[idx([0, 2, 0]), idx([1, 3, 1])],
    "getitem_slice_then_tensor": lambda t: t[1:, idx([3, 0, 3])],
    "getitem_separated": lambda t: t[None, idx([2, 0]), 1:3],
    "getitem_ellipsis_tensor": lambda t: t[..., idx([1, 1, -1])],
    "getitem_full_mask": lambda t: t[MASK],
    "getitem_row_mask": lambda t: t[:, ROW_MASK],
    "getitem_bool": lambda t: t[True],
    "getitem_basic": lambda t: t[1, ::2],
    "getitem_0d_int_tensor": lambda t: t[idx(2)],
    "index_select": lambda t: t.index_select(1, idx([3, 0, 3])),
    "index_select_empty": lambda t: t.index_select(0, idx([])),
    "gather": lambda t: t.gather(1, idx([[0, 0], [3, 1], [2, 2]])),
    "gather_empty": lambda t: t.gather(0, ft.zeros((0, 4), dtype=ft.int64)),
    "take_along_dim": lambda t: t.take_along_dim(idx([[0], [3], [1]]), 1),
    "take_along_dim_broadcast": lambda t: t.take_along_dim(idx([[0, 3, 3]]), 1),
    "take_along_dim_flat": lambda t: t.take_along_dim(idx([0, 11, 5, 5])),
    "take": lambda t: t.take(idx([[0, 5], [11, -1]])),
    "masked_select": lambda t: t.masked_select(MASK),
    "masked_select_broadcast": lambda t: t.masked_select(ROW_MASK),
    "masked_select_none": lambda t: t.masked_select(ft.zeros((3, 4), dtype=ft.bool)),
    "masked_fill": lambda t: t.masked_fill(MASK, 0.5),
    "masked_fill_broadcast": lambda t: t.masked_fill(ROW_MASK, -1.0),
    "index_fill": lambda t: t.index_fill(1, idx([0, 2, 0]), -1.0),
    "scatter_value": lambda t: t.scatter(1, idx([[0], [2], [1]]), 3.0),
    "scatter_value_add": lambda t: t.scatter(1, idx([[0, 0], [2, 1], [1, 1]]), 3.0, reduce="add"),
    "scatter_value_multiply": lambda t: t.scatter(1, idx([[0, 0], [2, 1], [1, 1]]), 1.5, reduce="multiply"),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_index_gradcheck(name, layout):
    x = leaf((3, 4), np.random.default_rng(0), layout)
    assert gradcheck(UNARY[name], (x,))


@pytest.mark.parametrize("name", ["getitem_list_repeated", "getitem_two_tensors", "getitem_full_mask", "index_select",
                                  "gather", "take", "take_along_dim_broadcast", "masked_select", "masked_fill", "index_fill",
                                  "scatter_value", "scatter_value_multiply"])
def test_unary_index_gradgradcheck(name):
    x = leaf((3, 4), np.random.default_rng(1))
    assert gradgradcheck(lambda t: UNARY[name](t) ** 2, (x,))


# Ops of a (3, 4) input and a second differentiable tensor of the given shape.
BINARY = {
    "index_put": ((2, 4), lambda t, v: t.index_put((idx([2, 0]),), v)),
    "index_put_broadcast": ((4,), lambda t, v: t.index_put((idx([2, 0]),), v)),
    "index_put_two": ((3,), lambda t, v: t.index_put((idx([2, 0, 1]), idx([3, 3, 0])), v)),
    "index_put_accumulate": ((4, 4), lambda t, v: t.index_put((idx([0, 2, 0, 0]),), v, accumulate=True)),
    "index_put_accumulate_mask": ((6,), lambda t, v: t.index_put((MASK,), v, accumulate=True)),
    "index_add": ((3, 4), lambda t, s: t.index_add(0, idx([0, 2, 0]), s)),
    "index_add_alpha": ((3, 2), lambda t, s: t.index_add(1, idx([3, 3]), s, alpha=2.5)),
    "index_copy": ((3, 2), lambda t, s: t.index_copy(1, idx([3, 0]), s)),
    "index_fill_tensor": ((), lambda t, v: t.index_fill(1, idx([0, 2, 0]), v)),
    "masked_fill_tensor": ((), lambda t, v: t.masked_fill(MASK, v)),
    "masked_scatter": ((9,), lambda t, s: t.masked_scatter(MASK, s)),
    "masked_scatter_broadcast": ((7,), lambda t, s: t.masked_scatter(ROW_MASK, s)),
    "scatter": ((3, 2), lambda t, s: t.scatter(1, idx([[0, 1], [2, 3], [1, 0]]), s)),
    "scatter_src_larger": ((2, 5), lambda t, s: t.scatter(0, idx([[0, 1, 2]]), s)),
    "scatter_add": ((3, 2), lambda t, s: t.scatter_add(1, idx([[0, 0], [1, 1], [3, 3]]), s)),
    "scatter_add_src_larger": ((3, 5), lambda t, s: t.scatter_add(0, idx([[0, 0], [2, 0]]), s)),
    "scatter_legacy_add": ((3, 2), lambda t, s: t.scatter(1, idx([[0, 0], [1, 1], [3, 3]]), s, reduce="add")),
    "scatter_legacy_multiply": ((3, 2), lambda t, s: t.scatter(1, idx([[0, 0], [1, 2], [3, 3]]), s, reduce="multiply")),
    "put": ((3,), lambda t, s: t.put(idx([0, 5, -1]), s)),
    "put_accumulate": ((2, 2), lambda t, s: t.put(idx([[0, 5], [0, -12]]), s, accumulate=True)),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_index_gradcheck(name, layout):
    rng = np.random.default_rng(2)
    shape, f = BINARY[name]
    x = leaf((3, 4), rng, layout, 0.5, 2.0)
    s = leaf(shape, rng, layout if len(shape) > 1 else "contiguous", 0.5, 2.0)
    assert gradcheck(f, (x, s))


@pytest.mark.parametrize("name", ["index_put", "index_put_accumulate", "index_add_alpha", "index_copy", "masked_fill_tensor",
                                  "masked_scatter", "scatter", "scatter_add", "scatter_legacy_multiply", "put", "put_accumulate"])
def test_binary_index_gradgradcheck(name):
    rng = np.random.default_rng(3)
    shape, f = BINARY[name]
    x, s = leaf((3, 4), rng, low=0.5), leaf(shape, rng, low=0.5)
    assert gradgradcheck(lambda a, b: f(a, b) ** 2, (x, s))


REDUCE_INDEX = [[0, 0, 1], [2, 2, 2], [3, 1, 3]]


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "mean", "prod", "amax", "amin"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_scatter_reduce_gradcheck(reduce, include_self, layout):
    rng = np.random.default_rng(4)
    x, s = leaf((3, 4), rng, layout, 0.5, 2.0), leaf((3, 3), rng, layout, 0.5, 2.0)
    assert gradcheck(lambda a, b: a.scatter_reduce(1, idx(REDUCE_INDEX), b, reduce, include_self=include_self), (x, s))


@pytest.mark.parametrize("reduce", ["sum", "mean", "prod", "amax"])
def test_scatter_reduce_gradgradcheck(reduce):
    rng = np.random.default_rng(5)
    x, s = leaf((3, 4), rng, low=0.5), leaf((3, 3), rng, low=0.5)
    assert gradgradcheck(lambda a, b: a.scatter_reduce(1, idx(REDUCE_INDEX), b, reduce, include_self=False) ** 2, (x, s))


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_with_zeros(include_self):
    # Zeros in self and src: each factor's gradient is the product of the others.
    x = ft.tensor([[0.0, 2.0, 3.0], [1.5, 0.0, 2.0]], dtype=ft.float64).requires_grad_()
    s = ft.tensor([[0.0, 1.5, 2.0, 0.0], [3.0, 0.0, 0.5, 1.2]], dtype=ft.float64).requires_grad_()
    index = idx([[0, 0, 1, 2], [1, 1, 1, 2]])
    assert gradcheck(lambda a, b: a.scatter_reduce(1, index, b, "prod", include_self=include_self), (x, s))


def test_scatter_reduce_amax_ties_share_gradient():
    x = ft.tensor([1.0, 5.0], dtype=ft.float64).requires_grad_()
    s = ft.tensor([5.0, 5.0, 2.0], dtype=ft.float64).requires_grad_()
    x.scatter_reduce(0, idx([1, 1, 0]), s, "amax").sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1 / 3])
    np.testing.assert_allclose(s.grad.numpy(), [1 / 3, 1 / 3, 1.0])


def test_getitem_repeated_indices_accumulate():
    x = leaf((5,), np.random.default_rng(6))
    x[idx([1, 3, 1, 1, 4])].sum().backward()
    expected = np.zeros(5)
    np.add.at(expected, [1, 3, 1, 1, 4], 1.0)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_index_add_repeated_indices_accumulate():
    rng = np.random.default_rng(7)
    x, s = leaf((4,), rng), leaf((3,), rng)
    (x.index_add(0, idx([2, 2, 0]), s, alpha=3) * ft.tensor([1.0, 2.0, 3.0, 4.0], dtype=ft.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 3, 4])
    np.testing.assert_array_equal(s.grad.numpy(), [9, 9, 3])


def test_zero_dim_inputs():
    rng = np.random.default_rng(8)
    x = leaf((), rng)
    assert gradcheck(lambda t: t.take(idx([0, 0, -1])), (x,))
    assert gradcheck(lambda t: t.index_select(0, idx([0])), (x,))
    assert gradcheck(lambda t: t.gather(0, idx(0)), (x,))
    assert gradcheck(lambda t: t.masked_fill(mask(True), 2.0), (x,))
    assert gradcheck(lambda t: t[None], (x,))
    assert gradcheck(lambda t: t[mask(True)], (x,))
    assert gradcheck(lambda t: t.scatter_add(0, idx(0), t * 2), (x,))


def test_empty_index_tensor():
    x = leaf((3, 4), np.random.default_rng(9))
    assert gradcheck(lambda t: t[idx([])], (x,))
    assert gradcheck(lambda t: t.take(ft.zeros((0,), dtype=ft.int64)), (x,))


# ---- in-place ops and assignment ----------------------------------------------------------

def test_setitem_index_tensor():
    rng = np.random.default_rng(10)
    w, v = leaf((4, 3), rng), leaf((2, 3), rng)

    def f(a, b):
        t = a.clone()
        t[idx([3, 1])] = b * 2
        return t

    assert gradcheck(f, (w, v))
    out = f(w, v)
    assert out.grad_fn.name() == "IndexPutBackward0"


def test_setitem_mask_with_values_and_0d_tensor():
    rng = np.random.default_rng(11)
    w, v, c = leaf((3, 4), rng), leaf((6,), rng), leaf((), rng)

    def f(a, b, k):
        t = a * 1
        t[MASK] = b
        t[mask(~MASK_NP)] = k * 3
        return t

    assert gradcheck(f, (w, v, c))


def test_setitem_broadcast_value_and_cast():
    rng = np.random.default_rng(12)
    w, v = leaf((3, 4), rng), leaf((1, 4), rng)

    def f(a, b):
        t = a.clone()
        t[idx([0, 2])] = b
        return t

    assert gradcheck(f, (w, v))
    w32 = ft.ones((3, 4), dtype=ft.float32).requires_grad_()
    t = w32.clone()
    t[idx([1])] = v
    assert t.dtype == ft.float32
    t.sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), np.ones((1, 4)))
    np.testing.assert_array_equal(w32.grad.numpy(), [[1] * 4, [0] * 4, [1] * 4])


def test_setitem_augmented():
    rng = np.random.default_rng(13)
    w, v = leaf((5,), rng), leaf((3,), rng)

    def f(a, b):
        t = a.clone()
        t[idx([4, 0, 2])] += b
        t[idx([1, 4])] *= 2
        return t

    assert gradcheck(f, (w, v))


def test_setitem_through_view():
    rng = np.random.default_rng(14)
    w, v = leaf((3, 4), rng), leaf((2,), rng)

    def f(a, b):
        t = a * 1
        row = t[1]
        row[idx([3, 0])] = b.exp()
        return t * t

    assert gradcheck(f, (w, v))


def test_setitem_mixed_basic_and_advanced():
    rng = np.random.default_rng(15)
    w, v = leaf((3, 4), rng), leaf((2, 2), rng)

    def f(a, b):
        t = a.clone()
        t[1:, idx([3, 1])] = b
        return t

    assert gradcheck(f, (w, v))


def test_index_put_inplace_accumulate():
    rng = np.random.default_rng(16)
    w, v = leaf((4, 2), rng), leaf((4, 2), rng)

    def f(a, b):
        t = a * 1
        t.index_put_((idx([1, 1, 3, 1]),), b, accumulate=True)
        return t

    assert gradcheck(f, (w, v))
    assert gradgradcheck(lambda a, b: f(a, b) ** 2, (w, v))


INPLACE = {
    "index_add_": ((3, 4), lambda t, s: t.index_add_(0, idx([0, 2, 0]), s, alpha=-2)),
    "index_copy_": ((3, 2), lambda t, s: t.index_copy_(1, idx([3, 0]), s)),
    "index_fill_": ((), lambda t, v: t.index_fill_(1, idx([1, 3]), v)),
    "masked_fill_": ((), lambda t, v: t.masked_fill_(ROW_MASK, v)),
    "masked_scatter_": ((8,), lambda t, s: t.masked_scatter_(MASK, s)),
    "scatter_": ((3, 2), lambda t, s: t.scatter_(1, idx([[0, 1], [2, 3], [1, 0]]), s)),
    "scatter_add_": ((3, 2), lambda t, s: t.scatter_add_(1, idx([[0, 0], [1, 1], [3, 3]]), s)),
    "scatter_reduce_": ((3, 3), lambda t, s: t.scatter_reduce_(1, idx(REDUCE_INDEX), s, "prod", include_self=False)),
    "put_": ((3,), lambda t, s: t.put_(idx([0, 7, 7]), s, accumulate=True)),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_gradcheck(name):
    rng = np.random.default_rng(17)
    shape, op = INPLACE[name]
    w, s = leaf((3, 4), rng, "transposed", 0.5, 2.0), leaf(shape, rng, low=0.5)

    def f(a, b):
        t = a * 1
        r = op(t, b)
        assert r is t
        return t

    assert gradcheck(f, (w, s))


def test_inplace_without_grad_source_keeps_self_history():
    w = leaf((3, 4), np.random.default_rng(18))

    def f(a):
        t = a.sin()
        t.masked_fill_(MASK, 0.0)
        t.index_fill_(0, idx([1]), 2.0)
        t.scatter_(1, idx([[1], [0], [3]]), 7.0)
        return t

    assert gradcheck(f, (w,))


def test_inplace_on_leaf_raises():
    w = leaf((3, 4), np.random.default_rng(19))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[idx([0])] = 1.0
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.index_fill_(0, idx([0]), 1.0)


def test_inplace_after_save_raises():
    rng = np.random.default_rng(20)
    x, s = leaf((3, 4), rng, low=0.5), leaf((3, 3), rng, low=0.5)
    y = x * 1
    z = y.scatter_reduce(1, idx(REDUCE_INDEX), s, "prod")
    y[idx([0])] = 0.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_no_grad_index_ops_record_nothing():
    x = leaf((3, 4), np.random.default_rng(21))
    with ft.no_grad():
        assert not x[idx([0, 1])].requires_grad
        assert not x.gather(1, idx([[0], [1], [2]])).requires_grad
        t = x.clone()
        t[idx([0])] = 1.0
        assert not t.requires_grad


@pytest.mark.parametrize("expr, node", [
    (lambda t: t[idx([0, 2])], "IndexBackward0"),
    (lambda t: t[MASK], "IndexBackward0"),
    (lambda t: t[1], "SelectBackward0"),
    (lambda t: t[:, 1:], "SliceBackward0"),
    (lambda t: t[None], "UnsqueezeBackward0"),
    (lambda t: t.index_select(0, idx([1])), "IndexSelectBackward0"),
    (lambda t: t.gather(0, idx([[1, 0, 0, 2]])), "GatherBackward0"),
    (lambda t: t.take_along_dim(idx([[1, 0, 0, 2]]), 0), "TakeAlongDimBackward0"),
    (lambda t: t.scatter(0, idx([[1]]), 2.0), "ScatterBackward1"),
    (lambda t: t.scatter(0, idx([[1]]), t), "ScatterBackward0"),
    (lambda t: t.scatter_add(0, idx([[1]]), t), "ScatterAddBackward0"),
    (lambda t: t.scatter_reduce(0, idx([[1]]), t, "amax"), "ScatterReduceBackward0"),
    (lambda t: t.index_add(0, idx([1]), t[:1]), "IndexAddBackward0"),
    (lambda t: t.index_copy(0, idx([1]), t[:1]), "IndexCopyBackward0"),
    (lambda t: t.index_fill(0, idx([1]), 0.0), "IndexFillBackward0"),
    (lambda t: t.index_fill(0, idx([1]), t[0, 0]), "IndexFillBackward1"),
    (lambda t: t.masked_fill(MASK, 0.0), "MaskedFillBackward0"),
    (lambda t: t.masked_fill(MASK, t[0, 0]), "MaskedFillBackward1"),
    (lambda t: t.masked_select(MASK), "MaskedSelectBackward0"),
    (lambda t: t.masked_scatter(MASK, t), "MaskedScatterBackward0"),
    (lambda t: t.take(idx([1])), "TakeBackward0"),
    (lambda t: t.put(idx([1]), t[0, :1]), "PutBackward0"),
    (lambda t: t.index_put((idx([1]),), t[0]), "IndexPutBackward0"),
])
def test_node_names(expr, node):
    x = leaf((3, 4), np.random.default_rng(22))
    assert expr(x).grad_fn.name() == node


def test_getitem_basic_is_a_view():
    x = leaf((3, 4), np.random.default_rng(23))
    y = x[1, 1:]
    assert y.data_ptr() == x.data_ptr() + 5 * 8
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0, 0], [0, 1, 1, 1], [0, 0, 0, 0]])
