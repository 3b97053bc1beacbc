"""gradcheck for joining, splitting and reordering: cat/stack and their variants, the split
family (views), repeat/tile/repeat_interleave, flip/roll/rot90, triangles and diagonals,
broadcast_tensors/meshgrid/cartesian_prod; gradgradcheck for a subset and node names."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import leaf

LAYOUTS = ["contiguous", "transposed", "strided"]

# Functions of several inputs: the input shapes and the function.
MULTI = {
    "cat0": ([(2, 3), (4, 3)], lambda a, b: ft.cat([a, b], 0)),
    "cat1": ([(2, 3), (2, 1), (2, 2)], lambda a, b, c: ft.cat([a, b, c], dim=-1)),
    "cat_same_twice": ([(2, 3)], lambda a: ft.cat([a, a * 2, a], 1)),
    "cat_legacy_empty": ([(2, 3)], lambda a: ft.cat([ft.zeros(0, dtype=ft.float64), a, ft.zeros(0, dtype=ft.float64)], 1)),
    "cat_empty_piece": ([(0, 3), (2, 3)], lambda a, b: ft.cat([a, b, a], 0)),
    "concat": ([(2, 3), (2, 3)], lambda a, b: ft.concat([a, b], dim=1)),
    "stack0": ([(2, 3), (2, 3), (2, 3)], lambda a, b, c: ft.stack([a, b, c])),
    "stack_last": ([(2, 3), (2, 3)], lambda a, b: ft.stack([a, b], dim=-1)),
    "hstack": ([(2, 3), (2, 1)], lambda a, b: ft.hstack([a, b])),
    "hstack_1d": ([(3,), (2,)], lambda a, b: ft.hstack([a, b])),
    "vstack": ([(2, 3), (3,)], lambda a, b: ft.vstack([a, b])),
    "dstack": ([(2, 3), (2, 3)], lambda a, b: ft.dstack([a, b])),
    "column_stack": ([(3,), (3, 2), ()], lambda a, b, c: ft.column_stack([a, b, c.expand(3)])),
    "atleast_3d": ([(), (3,), (2, 3)], lambda a, b, c: ft.atleast_3d(a, b, c)),
    "block_diag": ([(2, 3), (), (3,), (1, 2)], lambda a, b, c, d: ft.block_diag(a, b, c, d)),
    "broadcast_tensors": ([(3, 1), (4,), ()], lambda a, b, c: ft.broadcast_tensors(a, b, c)),
    "meshgrid_ij": ([(3,), (2,), ()], lambda a, b, c: ft.meshgrid(a, b, c, indexing="ij")),
    "meshgrid_xy": ([(3,), (2,)], lambda a, b: ft.meshgrid(a, b, indexing="xy")),
    "cartesian_prod": ([(3,), (2,)], lambda a, b: ft.cartesian_prod(a, b)),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(MULTI))
def test_multi_input_gradcheck(name, layout):
    rng = np.random.default_rng(0)
    shapes, f = MULTI[name]
    xs = tuple(leaf(s, rng, layout) for s in shapes)
    assert gradcheck(f, xs)


@pytest.mark.parametrize("name", ["cat1", "stack0", "block_diag", "meshgrid_xy", "cartesian_prod"])
def test_multi_input_gradgradcheck(name):
    rng = np.random.default_rng(1)
    shapes, f = MULTI[name]
    xs = tuple(leaf(s, rng) for s in shapes)

    def squared(*args):
        out = f(*args)
        return tuple(o ** 2 for o in out) if isinstance(out, (tuple, list)) else out ** 2

    assert gradgradcheck(squared, xs)


# Functions of one (3, 4) input.
UNARY = {
    "split": lambda t: t.split(3, dim=1),
    "split_sizes": lambda t: t.split([1, 0, 3], dim=1),
    "split_with_sizes": lambda t: t.split_with_sizes([2, 1], 0),
    "chunk": lambda t: t.chunk(3, 1),
    "unbind": lambda t: t.unbind(1),
    "tensor_split_sections": lambda t: t.tensor_split(3, dim=1),
    "tensor_split_indices": lambda t: t.tensor_split([1, 1, 3], dim=1),
    "hsplit": lambda t: t.hsplit(2),
    "vsplit": lambda t: t.vsplit([1]),
    "repeat": lambda t: t.repeat(2, 1, 3),
    "repeat_zero": lambda t: t.repeat(2, 0),
    "tile": lambda t: t.tile((2,)),
    "repeat_interleave": lambda t: t.repeat_interleave(2, dim=0),
    "repeat_interleave_tensor": lambda t: t.repeat_interleave(ft.tensor([1, 0, 3, 2]), dim=1),
    "repeat_interleave_flat": lambda t: t.repeat_interleave(2),
    "flip": lambda t: t.flip(0, 1),
    "flip_last": lambda t: t.flip(-1),
    "fliplr": lambda t: t.fliplr(),
    "flipud": lambda t: t.flipud(),
    "roll": lambda t: t.roll(1, 0),
    "roll_many": lambda t: t.roll((2, -1), (1, 0)),
    "roll_flat": lambda t: t.roll(5),
    "rot90_0": lambda t: t.rot90(0, (0, 1)),
    "rot90_1": lambda t: t.rot90(1, (0, 1)),
    "rot90_2": lambda t: t.rot90(2, (0, 1)),
    "rot90_3": lambda t: t.rot90(-1, (0, 1)),
    "tril": lambda t: t.tril(),
    "tril_offset": lambda t: t.tril(-1),
    "triu": lambda t: t.triu(1),
    "triu_negative": lambda t: t.triu(-2),
    "diag": lambda t: t.diag(),
    "diag_offset": lambda t: t.diag(1),
    "diag_negative": lambda t: t.diag(-2),
    "diag_of_row": lambda t: t[0].diag(1),
    "diagflat": lambda t: t.diagflat(),
    "diagflat_offset": lambda t: t[:, :2].diagflat(-1),
    "diag_embed": lambda t: t.diag_embed(),
    "diag_embed_dims": lambda t: t.diag_embed(1, 0, 2),
    "atleast_1d": lambda t: ft.atleast_1d(t),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name, layout):
    x = leaf((3, 4), np.random.default_rng(2), layout)
    assert gradcheck(UNARY[name], (x,))


@pytest.mark.parametrize("name", ["split", "unbind", "repeat", "repeat_interleave_tensor", "flip", "roll_many", "rot90_1",
                                  "tril", "diag_offset", "diag_embed_dims"])
def test_unary_gradgradcheck(name):
    x = leaf((3, 4), np.random.default_rng(3))

    def squared(t):
        out = UNARY[name](t)
        return tuple(o ** 2 for o in out) if isinstance(out, (tuple, list)) else out ** 2

    assert gradgradcheck(squared, (x,))


@pytest.mark.parametrize("name", ["tril_", "triu_"])
def test_triangle_inplace(name):
    w = leaf((4, 3), np.random.default_rng(4))

    def f(a):
        t = a * 1
        getattr(t, name)(1)
        return t

    assert gradcheck(f, (w,))
    assert f(w).grad_fn.name() == name[:-1].capitalize() + "Backward0"


def test_empty_inputs():
    rng = np.random.default_rng(5)
    e = leaf((0, 3), rng)
    assert gradcheck(lambda t: t.flip(0), (e,))
    assert gradcheck(lambda t: t.roll(1, 1), (e,))
    assert gradcheck(lambda t: t.repeat(2, 2), (e,))
    assert gradcheck(lambda t: ft.stack([t, t]), (e,))
    assert gradcheck(lambda t: t.tril(), (e,))


def test_zero_dim_inputs():
    rng = np.random.default_rng(6)
    s = leaf((), rng)
    assert gradcheck(lambda t: t.repeat(3), (s,))
    assert gradcheck(lambda t: t.flip(0), (s,))
    assert gradcheck(lambda t: t.roll(2), (s,))
    assert gradcheck(lambda t: ft.stack([t, t * 2]), (s,))
    assert gradcheck(lambda t: t.repeat_interleave(3), (s,))


def test_cat_mixed_dtypes_and_int_inputs():
    a = ft.ones((2,), dtype=ft.float32).requires_grad_()
    b = ft.tensor([5, 6])
    out = ft.cat([a, b])
    assert out.dtype == ft.float32
    (out * ft.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 2.0])


def test_repeat_gradient_sums_copies():
    x = leaf((2,), np.random.default_rng(7))
    y = x.repeat(3, 2)
    (y * ft.arange(12, dtype=ft.float64).reshape(3, 4)).sum().backward()
    w = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(x.grad.numpy(), [w[:, 0::2].sum(), w[:, 1::2].sum()])


@pytest.mark.parametrize("expr, node", [
    (lambda t: ft.cat([t, t]), "CatBackward0"),
    (lambda t: ft.stack([t, t]), "StackBackward0"),
    (lambda t: ft.block_diag(t, t), "BlockDiagBackward0"),
    (lambda t: t.repeat(2, 2), "RepeatBackward0"),
    (lambda t: t.tile((2,)), "RepeatBackward0"),
    (lambda t: t.repeat_interleave(2), "IndexSelectBackward0"),
    (lambda t: t.flip(0), "FlipBackward0"),
    (lambda t: t.roll(1), "RollBackward0"),
    (lambda t: t.rot90(0), "CloneBackward0"),
    (lambda t: t.tril(), "TrilBackward0"),
    (lambda t: t.triu(), "TriuBackward0"),
    (lambda t: t[0].diag(), "DiagEmbedBackward0"),
    (lambda t: t.diag_embed(), "DiagEmbedBackward0"),
    (lambda t: t.split(1)[1], "SplitBackward0"),
    (lambda t: t.unbind()[1], "UnbindBackward0"),
    (lambda t: ft.broadcast_tensors(t, ft.zeros(2, 1, 3))[0], "ExpandBackward0"),
])
def test_node_names(expr, node):
    x = leaf((2, 3), np.random.default_rng(8))
    assert expr(x).grad_fn.name() == node


def test_split_pieces_are_views():
    x = leaf((4, 3), np.random.default_rng(9))
    pieces = x.split(2)
    assert pieces[1].data_ptr() == x.data_ptr() + 6 * 8
    (pieces[0].sum() + 2 * pieces[1].sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1] * 3, [1] * 3, [2] * 3, [2] * 3])
