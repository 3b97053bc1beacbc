"""Joining, splitting and reordering: cat/stack and variants, split/chunk, flip/roll/repeat,
triangles and diagonals, meshgrid and broadcasting helpers, compared with NumPy."""

import itertools

import numpy as np
import pytest

import ferrotorch as ft
from conftest import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, LAYOUTS, NUMPY_DTYPE, assert_close, make, to_numpy


def shares_storage(a, b):
    return a.untyped_storage_ptr() == b.untyped_storage_ptr()


# ---------------------------------------------------------------- cat


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_matches_numpy_concatenate(dtype, layout, dim, rng):
    a, na = make((3, 4), dtype, rng, layout)
    shape_b = (2, 4) if dim == 0 else (3, 2)
    b, nb = make(shape_b, dtype, rng, layout)
    assert_close(ft.cat([a, b], dim), np.concatenate([na, nb], dim), dtype=dtype)


def test_cat_accepts_tuple_and_aliases(rng):
    a, na = make((2, 3), ft.float32, rng)
    for f in (ft.cat, ft.concat):
        assert_close(f((a, a), dim=1), np.concatenate([na, na], 1))
    assert_close(ft.concatenate([a, a], axis=0), np.concatenate([na, na], 0))


@pytest.mark.parametrize("da,db", [(ft.int32, ft.float16), (ft.uint8, ft.int8), (ft.bool, ft.int16), (ft.float32, ft.float64), (ft.float16, ft.bfloat16)])
def test_cat_promotes_to_the_common_dtype(da, db):
    a = ft.ones(2, dtype=da)
    b = ft.zeros(3, dtype=db)
    r = ft.cat([a, b])
    assert r.dtype == ft.promote_types(da, db)
    assert r.tolist() == [1, 1, 0, 0, 0]


def test_cat_skips_legacy_empty_vectors_but_keeps_their_dtype():
    a = ft.ones(2, 3, dtype=ft.int32)
    e = ft.empty(0, dtype=ft.float64)
    r = ft.cat([e, a, e], dim=1)
    assert r.shape == (2, 3) and r.dtype == ft.float64


def test_cat_of_only_empty_vectors_is_empty():
    r = ft.cat([ft.empty(0), ft.empty(0, dtype=ft.int64)])
    assert r.shape == (0,) and r.dtype == ft.float32


def test_cat_of_empty_matrices_along_empty_dim(rng):
    r = ft.cat([ft.zeros(0, 3), ft.ones(2, 3)])
    assert_close(r, np.ones((2, 3), np.float32))


def test_cat_single_tensor_is_a_copy():
    a = ft.arange(4)
    r = ft.cat([a])
    assert not shares_storage(a, r)
    assert r.tolist() == [0, 1, 2, 3]


def test_cat_out_argument():
    out = ft.empty(0)
    ft.cat([ft.ones(2), ft.zeros(1)], out=out)
    assert out.tolist() == [1, 1, 0]


def test_cat_errors():
    with pytest.raises(RuntimeError, match=r"torch.cat\(\): expected a non-empty list of Tensors"):
        ft.cat([])
    with pytest.raises(RuntimeError, match=r"Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for tensor number 1 in the list."):
        ft.cat([ft.zeros(2, 4), ft.zeros(3, 4)], dim=1)
    with pytest.raises(RuntimeError, match="Tensors must have same number of dimensions: got 2 and 3"):
        ft.cat([ft.zeros(2, 4), ft.zeros(2, 4, 1)])
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 1\) cannot be concatenated"):
        ft.cat([ft.zeros(1), ft.tensor(1.0)])
    with pytest.raises(IndexError, match="Dimension out of range"):
        ft.cat([ft.zeros(2, 2)], dim=2)
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0, but got int"):
        ft.cat([ft.zeros(2), 3])


# ---------------------------------------------------------------- stack family


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack_matches_numpy(dtype, layout, dim, rng):
    (a, na), (b, nb) = make((2, 3), dtype, rng, layout), make((2, 3), dtype, rng, layout)
    assert_close(ft.stack([a, b], dim), np.stack([na, nb], dim), dtype=dtype)


def test_stack_of_scalars_and_empties():
    assert ft.stack([ft.tensor(1), ft.tensor(2)]).tolist() == [1, 2]
    assert ft.stack([ft.empty(0), ft.empty(0)]).shape == (2, 0)


def test_stack_errors():
    with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
        ft.stack([])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2, 3\] at entry 0 and \[2, 4\] at entry 1"):
        ft.stack([ft.zeros(2, 3), ft.zeros(2, 4)])
    with pytest.raises(IndexError):
        ft.stack([ft.zeros(2)], dim=2)


SHAPE_SETS = [[(), ()], [(3,), (3,)], [(2, 3), (2, 3)], [(2, 3, 4), (2, 3, 4)]]


@pytest.mark.parametrize("shapes", SHAPE_SETS)
@pytest.mark.parametrize("name", ["hstack", "vstack", "dstack", "column_stack", "row_stack"])
def test_directional_stacks_match_numpy(name, shapes, rng):
    if name == "column_stack" and len(shapes[0]) == 3:
        shapes = [(2, 3), (2, 3)]
    pairs = [make(s, ft.int32, rng) for s in shapes]
    ref = getattr(np, name if name != "row_stack" else "vstack")([p[1] for p in pairs])
    assert_close(getattr(ft, name)([p[0] for p in pairs]), ref)


@pytest.mark.parametrize("name", ["hstack", "vstack", "dstack", "column_stack"])
def test_directional_stacks_reject_empty_lists(name):
    with pytest.raises(RuntimeError, match=f"{name} expects a non-empty TensorList"):
        getattr(ft, name)([])


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 3, 4, 5)])
def test_atleast_nd_matches_numpy(n, shape, rng):
    t, a = make(shape, ft.float32, rng)
    r = getattr(ft, f"atleast_{n}d")(t)
    assert_close(r, getattr(np, f"atleast_{n}d")(a))
    assert shares_storage(r, t)


def test_atleast_with_several_tensors_returns_a_tuple():
    r = ft.atleast_2d(ft.tensor(1.0), ft.ones(3))
    assert isinstance(r, tuple) and [x.shape for x in r] == [(1, 1), (1, 3)]
    r = ft.atleast_1d([ft.tensor(1.0), ft.ones(3)])
    assert isinstance(r, tuple) and [x.shape for x in r] == [(1,), (3,)]


def test_block_diag_places_blocks_on_the_diagonal():
    r = ft.block_diag(ft.tensor([[1, 2], [3, 4]]), ft.tensor(5), ft.tensor([6.0, 7.0]))
    expected = np.zeros((4, 5))
    expected[:2, :2] = [[1, 2], [3, 4]]
    expected[2, 2] = 5
    expected[3, 3:] = [6, 7]
    assert_close(r, expected, dtype=ft.float32)


def test_block_diag_edge_cases():
    assert ft.block_diag().shape == (1, 0)
    with pytest.raises(RuntimeError, match="Input tensors must have 2 or fewer dimensions. Input 1 has 3 dimensions"):
        ft.block_diag(ft.ones(2), ft.ones(1, 1, 1))


def test_cartesian_prod_matches_itertools():
    a, b, c = ft.tensor([1, 2]), ft.tensor([3, 4, 5]), ft.tensor([6])
    assert ft.cartesian_prod(a, b, c).tolist() == [list(p) for p in itertools.product([1, 2], [3, 4, 5], [6])]
    assert ft.cartesian_prod(a).tolist() == [1, 2]
    with pytest.raises(RuntimeError, match=r"Expect a 1D vector, but got shape \[2, 1\]"):
        ft.cartesian_prod(ft.ones(2, 1), a)


# ---------------------------------------------------------------- meshgrid and broadcasting


@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("sizes", [(3,), (3, 4), (2, 3, 4), (0, 2)])
def test_meshgrid_matches_numpy(indexing, sizes):
    ts = [ft.arange(n) * (i + 1) for i, n in enumerate(sizes)]
    grids = ft.meshgrid(*ts, indexing=indexing)
    ref = np.meshgrid(*[to_numpy(t) for t in ts], indexing=indexing)
    assert isinstance(grids, tuple) and len(grids) == len(ref)
    for g, r in zip(grids, ref):
        assert_close(g, r)


def test_meshgrid_accepts_a_list_and_scalars():
    g = ft.meshgrid([ft.tensor(5), ft.arange(2)], indexing="ij")
    assert [x.tolist() for x in g] == [[[5, 5]], [[0, 1]]]


def test_meshgrid_errors():
    with pytest.raises(RuntimeError, match="meshgrid expects a non-empty TensorList"):
        ft.meshgrid()
    with pytest.raises(RuntimeError, match="meshgrid expects all tensors to have the same dtype"):
        ft.meshgrid(ft.ones(2), ft.ones(2, dtype=ft.int64))
    with pytest.raises(RuntimeError, match="indexing must be one of"):
        ft.meshgrid(ft.ones(2), indexing="ab")
    with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor"):
        ft.meshgrid(ft.ones(2, 2))


def test_broadcast_to_is_a_view_matching_numpy(rng):
    t, a = make((3, 1), ft.int16, rng)
    r = t.broadcast_to((2, 3, 4))
    assert_close(r, np.broadcast_to(a, (2, 3, 4)))
    assert shares_storage(r, t)
    assert_close(ft.broadcast_to(t, (3, -1)), a)
    with pytest.raises(RuntimeError, match="must match the existing size"):
        t.broadcast_to((2, 2))


def test_broadcast_tensors_matches_numpy(rng):
    (a, na), (b, nb), (c, nc) = make((3, 1), ft.float32, rng), make((4,), ft.float32, rng), make((), ft.float32, rng)
    got = ft.broadcast_tensors(a, b, c)
    for g, r in zip(got, np.broadcast_arrays(na, nb, nc)):
        assert_close(g, r)
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        ft.broadcast_tensors(ft.ones(3), ft.ones(4))


def test_broadcast_shapes():
    assert ft.broadcast_shapes((2, 1), (3,), 1) == ft.Size([2, 3])
    assert ft.broadcast_shapes() == ft.Size([])
    assert isinstance(ft.broadcast_shapes([1, 0], (5, 1)), ft.Size)
    with pytest.raises(RuntimeError, match="Shape mismatch: objects cannot be broadcast to a single shape"):
        ft.broadcast_shapes((2,), (3,))
    with pytest.raises(RuntimeError, match="negative dimension"):
        ft.broadcast_shapes((-1,))


# ---------------------------------------------------------------- split family


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_split_by_size_matches_numpy(layout, size, rng):
    t, a = make((7, 3), ft.float64, rng, layout)
    pieces = t.split(size)
    ref = np.split(a, range(size, 7, size))
    assert len(pieces) == len(ref)
    for p, r in zip(pieces, ref):
        assert_close(p, r)
        assert shares_storage(p, t)


def test_split_by_sizes_along_negative_dim(rng):
    t, a = make((2, 6), ft.int64, rng)
    pieces = ft.split(t, [1, 0, 5], dim=-1)
    for p, r in zip(pieces, np.split(a, [1, 1], axis=-1)):
        assert_close(p, r)
    assert [p.shape for p in t.split_with_sizes([2, 4], 1)] == [(2, 2), (2, 4)]


def test_split_edge_cases():
    assert [p.shape for p in ft.zeros(0, 2).split(0)] == [(0, 2)]
    assert [p.shape for p in ft.zeros(0, 2).split(3)] == [(0, 2)]
    assert [p.shape for p in ft.zeros(2).split(5)] == [(2,)]


def test_split_errors():
    with pytest.raises(RuntimeError, match="split expects at least a 1-dimensional tensor"):
        ft.tensor(1.0).split(1)
    with pytest.raises(RuntimeError, match="split_size can only be 0 if dimension size is 0, but got dimension size of 3"):
        ft.zeros(3).split(0)
    with pytest.raises(RuntimeError, match="split expects split_size be non-negative, but got split_size=-1"):
        ft.zeros(3).split(-1)
    with pytest.raises(RuntimeError, match=r"split_with_sizes expects split_sizes to sum exactly to 3 \(input tensor's size at dimension 0\), but got split_sizes=\[1, 1\]"):
        ft.zeros(3).split([1, 1])
    with pytest.raises(RuntimeError, match="non-negative entries"):
        ft.zeros(3).split([-1, 4])


@pytest.mark.parametrize("n,chunks", [(6, 3), (7, 3), (5, 4), (2, 5), (0, 3)])
def test_chunk_lengths_match_pytorch(n, chunks):
    got = [p.shape[0] for p in ft.arange(n).chunk(chunks)]
    size = -(-n // chunks)
    if n == 0:
        expected = [0] * chunks
    else:
        expected = [min(size, n - i) for i in range(0, n, size)]
    assert got == expected


def test_chunk_errors():
    with pytest.raises(RuntimeError, match="chunk expects `chunks` to be greater than 0, got: 0"):
        ft.zeros(3).chunk(0)
    with pytest.raises(RuntimeError, match="chunk expects at least a 1-dimensional tensor"):
        ft.tensor(1).chunk(1)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind_removes_the_dim(dim, rng):
    t, a = make((2, 3), ft.int8, rng, "transposed")
    parts = t.unbind(dim)
    assert len(parts) == a.shape[dim]
    for i, p in enumerate(parts):
        assert_close(p, np.take(a, i, axis=dim))
    with pytest.raises(IndexError, match="but tensor has no dimensions"):
        ft.tensor(1).unbind()


@pytest.mark.parametrize("arg", [1, 2, 3, 5, 9, [2], [1, 4], [-2, 8], [4, 1], [0, 0, 6]])
def test_tensor_split_matches_array_split(arg, rng):
    t, a = make((7, 2), ft.float32, rng, "strided")
    got = t.tensor_split(arg)
    ref = np.array_split(a, arg)
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert_close(g, r)


def test_tensor_split_with_tensor_argument_and_keywords():
    t = ft.arange(6)
    assert [p.tolist() for p in t.tensor_split(ft.tensor(2))] == [[0, 1, 2], [3, 4, 5]]
    assert [p.tolist() for p in t.tensor_split(ft.tensor([1, 3]))] == [[0], [1, 2], [3, 4, 5]]
    assert len(ft.tensor_split(t, sections=3)) == 3
    assert len(ft.tensor_split(t, indices=[1])) == 2


def test_tensor_split_errors():
    with pytest.raises(RuntimeError, match="number of sections must be larger than 0, got 0"):
        ft.arange(3).tensor_split(0)
    with pytest.raises(RuntimeError, match="expected at least a 1-dimensional tensor"):
        ft.tensor(1).tensor_split(1)
    with pytest.raises(RuntimeError, match="to have dtype of long, but got Float"):
        ft.arange(3).tensor_split(ft.tensor([1.0]))


@pytest.mark.parametrize("name,shape,arg", [("hsplit", (4,), 2), ("hsplit", (3, 4), 2), ("hsplit", (3, 4), [1, 3]), ("vsplit", (4, 3), 2), ("vsplit", (4, 3), [3]), ("dsplit", (2, 3, 4), 4), ("dsplit", (2, 3, 4), [1])])
def test_directional_splits_match_numpy(name, shape, arg, rng):
    t, a = make(shape, ft.float32, rng)
    got = getattr(t, name)(arg)
    ref = getattr(np, name)(a, arg)
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert_close(g, r)


def test_directional_split_errors():
    with pytest.raises(RuntimeError, match="torch.hsplit requires a tensor with at least 1 dimension, but got a tensor with 0 dimensions!"):
        ft.tensor(1).hsplit(1)
    with pytest.raises(RuntimeError, match="torch.vsplit requires a tensor with at least 2 dimension"):
        ft.zeros(4).vsplit(2)
    with pytest.raises(RuntimeError, match="torch.dsplit requires a tensor with at least 3 dimension"):
        ft.zeros(4, 4).dsplit(2)
    with pytest.raises(RuntimeError, match="torch.hsplit attempted to split along dimension 1, but the size of the dimension 4 is not divisible by the split_size 3!"):
        ft.zeros(2, 4).hsplit(3)


# ---------------------------------------------------------------- repeat, tile, repeat_interleave


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("reps", [(1, 1), (2, 3), (2, 1, 2), (0, 2)])
def test_repeat_matches_numpy_tile(dtype, layout, reps, rng):
    t, a = make((2, 3), dtype, rng, layout)
    assert_close(t.repeat(*reps), np.tile(a, reps), dtype=dtype)


def test_repeat_of_scalar_and_empty():
    assert ft.tensor(3).repeat(2, 2).tolist() == [[3, 3], [3, 3]]
    assert ft.tensor(3).repeat().shape == ()
    assert ft.zeros(0, 2).repeat(3, 2).shape == (0, 4)


def test_repeat_errors():
    with pytest.raises(RuntimeError, match="Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"):
        ft.zeros(2, 2).repeat(2)
    with pytest.raises(RuntimeError, match="negative dimension"):
        ft.zeros(2).repeat(-1)


@pytest.mark.parametrize("reps", [(2,), (2, 2), (1, 2, 3), ()])
def test_tile_matches_numpy(reps, rng):
    t, a = make((2, 3), ft.float32, rng, "transposed")
    assert_close(t.tile(reps), np.tile(a, reps))
    assert_close(ft.tile(t, reps), np.tile(a, reps))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_repeat_interleave_int_matches_numpy_repeat(dtype, dim, rng):
    t, a = make((2, 3), dtype, rng, "strided")
    assert_close(t.repeat_interleave(2, dim=dim), np.repeat(a, 2, axis=dim), dtype=dtype)


@pytest.mark.parametrize("dim", [0, 1])
def test_repeat_interleave_tensor_matches_numpy_repeat(dim, rng):
    t, a = make((3, 3), ft.float32, rng)
    reps = [2, 0, 1]
    assert_close(ft.repeat_interleave(t, ft.tensor(reps), dim=dim), np.repeat(a, reps, axis=dim))
    assert_close(t.repeat_interleave(ft.tensor([2]), dim=dim), np.repeat(a, 2, axis=dim))
    assert_close(t.repeat_interleave(ft.tensor(3, dtype=ft.int32), dim=dim, output_size=9), np.repeat(a, 3, axis=dim))


def test_repeat_interleave_of_repeats_alone():
    r = ft.repeat_interleave(ft.tensor([1, 0, 3], dtype=ft.int32))
    assert r.tolist() == [0, 2, 2, 2] and r.dtype == ft.int32
    assert ft.repeat_interleave(ft.tensor(5), 2).tolist() == [5, 5]


def test_repeat_interleave_errors():
    t = ft.zeros(3)
    with pytest.raises(RuntimeError, match=r"repeats must have the same size as input along dim, but got repeats.size\(0\) = 2 and input.size\(0\) = 3"):
        t.repeat_interleave(ft.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        t.repeat_interleave(ft.tensor([1, -1, 1]))
    with pytest.raises(RuntimeError, match="repeats has to be Long or Int tensor"):
        t.repeat_interleave(ft.tensor([1.0, 1.0, 1.0]))
    with pytest.raises(RuntimeError, match="repeats must be 0-dim or 1-dim tensor"):
        t.repeat_interleave(ft.ones(1, 3, dtype=ft.int64))
    with pytest.raises(RuntimeError, match="Repeats must be non-negative"):
        t.repeat_interleave(-1)
    with pytest.raises(RuntimeError, match="allocated size does not match required size"):
        t.repeat_interleave(2, output_size=5)


# ---------------------------------------------------------------- flip, roll, rot90


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dims", [(0,), (1,), (2,), (0, 2), (-1, -2), (0, 1, 2)])
def test_flip_matches_numpy(dtype, layout, dims, rng):
    t, a = make((2, 3, 4), dtype, rng, layout)
    assert_close(t.flip(dims), np.flip(a, dims), dtype=dtype)


def test_flip_call_forms_scalars_and_empties():
    t = ft.arange(6).reshape(2, 3)
    assert t.flip(0, 1).tolist() == [[5, 4, 3], [2, 1, 0]]
    assert ft.flip(t, dims=[1]).tolist() == [[2, 1, 0], [5, 4, 3]]
    assert ft.flip(t, (0,)).tolist() == [[3, 4, 5], [0, 1, 2]]
    assert ft.tensor(7).flip(0).tolist() == 7
    assert ft.zeros(0, 3).flip(0).shape == (0, 3)
    r = t.flip(())
    assert r.tolist() == t.tolist() and not shares_storage(r, t)


def test_flip_large_tensor_matches_numpy(rng):
    t, a = make((300, 257), ft.float32, rng, "transposed")
    assert_close(t.flip(0), np.flip(a, 0))
    assert_close(t.flip(1), np.flip(a, 1))


def test_flip_errors():
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        ft.zeros(2, 2).flip(0, -2)
    with pytest.raises(IndexError):
        ft.zeros(2).flip(1)
    with pytest.raises(RuntimeError, match=r"Input must be >= 2-d."):
        ft.zeros(2).fliplr()
    with pytest.raises(RuntimeError, match=r"Input must be >= 1-d."):
        ft.tensor(1.0).flipud()


def test_fliplr_flipud_match_numpy(rng):
    t, a = make((3, 4, 2), ft.int32, rng, "strided")
    assert_close(t.fliplr(), np.fliplr(a))
    assert_close(t.flipud(), np.flipud(a))


@pytest.mark.parametrize("dtype", [ft.bool, ft.int64, ft.float16, ft.float32])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shifts,dims", [(1, None), (-7, None), (2, 0), (-1, 1), ((1, 2), (0, 1)), ((5, -3), (-1, 0)), (0, 1)])
def test_roll_matches_numpy(dtype, layout, shifts, dims, rng):
    t, a = make((3, 4), dtype, rng, layout)
    assert_close(t.roll(shifts, dims), np.roll(a, shifts, dims), dtype=dtype)


def test_roll_edge_cases_and_errors():
    assert ft.tensor(3).roll(1).tolist() == 3
    assert ft.zeros(0, 2).roll(1, 0).shape == (0, 2)
    with pytest.raises(RuntimeError, match="shifts and dimensions must align. shifts: 2, dims:1"):
        ft.zeros(2, 2).roll((1, 1), (0,))


@pytest.mark.parametrize("k", [-3, -1, 0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (0, 2), (-1, -2)])
def test_rot90_matches_numpy(k, dims, rng):
    t, a = make((2, 3, 4), ft.float64, rng, "transposed")
    assert_close(t.rot90(k, dims), np.rot90(a, k, dims))


def test_rot90_errors():
    with pytest.raises(RuntimeError, match="expected total rotation dims == 2, but got dims = 1"):
        ft.zeros(2, 2).rot90(1, [0])
    with pytest.raises(RuntimeError, match="expected total dims >= 2, but got total dims = 1"):
        ft.zeros(2).rot90()
    with pytest.raises(RuntimeError, match="expected rotation dims to be different, but got dim0 = 0 and dim1 = 0"):
        ft.zeros(2, 2).rot90(1, [0, 0])
    with pytest.raises(RuntimeError, match="Rotation dim1 out of range, dim1 = 3"):
        ft.zeros(2, 2).rot90(1, [0, 3])


# ---------------------------------------------------------------- triangles and diagonals


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("k", [-5, -1, 0, 2, 6])
def test_tril_triu_match_numpy(dtype, layout, k, rng):
    t, a = make((2, 4, 5), dtype, rng, layout)
    assert_close(t.tril(k), np.tril(a, k), dtype=dtype)
    assert_close(ft.triu(t, diagonal=k), np.triu(a, k), dtype=dtype)


def test_tril_triu_keep_nan_and_inf_inside_the_triangle():
    t = ft.tensor([[float("nan"), float("inf")], [float("-inf"), float("nan")]])
    a = to_numpy(t)
    assert_close(t.tril(), np.tril(a))
    assert_close(t.triu(), np.triu(a))


def test_tril_triu_in_place(rng):
    t, a = make((3, 3), ft.float32, rng)
    assert t.tril_(-1) is t
    assert_close(t, np.tril(a, -1))
    t, a = make((3, 3), ft.int32, rng)
    t.triu_(1)
    assert_close(t, np.triu(a, 1))


def test_tril_empty_and_errors():
    assert ft.zeros(0, 3).tril().shape == (0, 3)
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        ft.zeros(3).tril()
    with pytest.raises(RuntimeError, match="triu: input tensor must have at least 2 dimensions"):
        ft.zeros(3).triu()


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("k", [-2, 0, 1, 5])
def test_diag_matches_numpy(dtype, k, rng):
    v, av = make((4,), dtype, rng, "strided")
    assert_close(v.diag(k), np.diag(av, k), dtype=dtype)
    m, am = make((3, 5), dtype, rng, "transposed")
    assert_close(ft.diag(m, k), np.diag(am, k), dtype=dtype)
    assert_close(m.diagflat(k), np.diagflat(am, k), dtype=dtype)


def test_diag_errors():
    with pytest.raises(RuntimeError, match=r"diag\(\): Supports 1D or 2D tensors. Got 3D"):
        ft.zeros(2, 2, 2).diag()
    with pytest.raises(RuntimeError, match=r"diag\(\): Supports 1D or 2D tensors. Got 0D"):
        ft.tensor(1).diag()


def test_diagflat_of_scalar():
    assert ft.tensor(3).diagflat(1).tolist() == [[0, 3], [0, 0]]


@pytest.mark.parametrize("offset", [-1, 0, 2])
@pytest.mark.parametrize("dims", [(-2, -1), (0, 2), (2, 0), (1, 0)])
def test_diag_embed_matches_reference(offset, dims, rng):
    t, a = make((2, 3), ft.float32, rng, "transposed")
    got = t.diag_embed(offset, *dims)
    n = 3 + abs(offset)
    ref = np.zeros((2, n, n), np.float32)
    for b in range(2):
        ref[b] = np.diag(a[b], offset)
    ref = np.moveaxis(ref, (1, 2), tuple(d % 3 for d in dims))
    assert_close(got, ref)


def test_diag_embed_errors():
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical 0, -3"):
        ft.zeros(2, 2).diag_embed(0, 0, -3)


def test_huge_arguments_clamp_or_raise_instead_of_crashing():
    assert [p.shape for p in ft.zeros(3).split(2**62)] == [(3,)]
    assert len(ft.zeros(3).chunk(2**62)) == 3
    assert ft.ones(2, 2).diag(2**62).shape == (0,)
    assert ft.ones(2, 2).diag(-(2**62)).shape == (0,)
    assert ft.ones(2, 2).tril(-(2**62)).tolist() == [[0, 0], [0, 0]]
    assert ft.ones(2, 2).triu(2**62).tolist() == [[0, 0], [0, 0]]
    with pytest.raises(RuntimeError, match="Rotation dim0 out of range"):
        ft.ones(2, 2).rot90(1, [-(2**62), 1])
    with pytest.raises(RuntimeError):
        ft.ones(2).repeat_interleave(2**62)
