"""``t[key]`` and ``t[key] = value`` against NumPy's indexing, with PyTorch's view/copy rules
and error messages."""

import numpy as np
import pytest

import ferrotorch as ft
from conftest import ALL_DTYPES, LAYOUTS, NUMPY_DTYPE, assert_close, make, random_array, to_numpy

SHAPE = (4, 5, 6)

BASIC_KEYS = [
    0, -1, (1, 2), (-1, -2, 3), slice(1, None, 2), (slice(None), slice(-4, -1, 2)),
    slice(10, 20), slice(-100, 100), (Ellipsis, 1), (None, Ellipsis), (Ellipsis, None),
    (1, Ellipsis, None, 2), (slice(None, None, 3), None, 0), (), Ellipsis, None,
]


def long(values):
    return ft.tensor(np.asarray(values, dtype=np.int64))


# --- basic indexing -------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_basic_indexing_matches_numpy(dtype, layout, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    for key in BASIC_KEYS:
        assert_close(t[key], a[key], dtype=dtype)


@pytest.mark.parametrize("key", BASIC_KEYS, ids=repr)
def test_basic_indexing_returns_a_view_of_the_same_storage(key, rng):
    t, _ = make(SHAPE, ft.float32, rng)
    v = t[key]
    assert v.untyped_storage_ptr() == t.untyped_storage_ptr()


def test_writing_through_a_basic_view_changes_the_base():
    t = ft.zeros(3, 4)
    v = t[1:, ::2]
    v.fill_(7)
    expected = np.zeros((3, 4), np.float32)
    expected[1:, ::2] = 7
    assert_close(t, expected)


def test_int_index_out_of_range_names_dim_and_size():
    t = ft.zeros(3)
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for dimension 0 with size 3"):
        t[5]
    with pytest.raises(IndexError, match=r"index -4 is out of bounds for dimension 0 with size 3"):
        t[-4]
    with pytest.raises(IndexError, match=r"index 4 is out of bounds for dimension 1 with size 3"):
        ft.zeros(2, 3)[0, 4]


def test_negative_slice_step_raises_value_error():
    with pytest.raises(ValueError, match="step must be greater than zero"):
        ft.zeros(4)[::-1]


def test_zero_slice_step_raises_value_error():
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        ft.zeros(4)[::0]


def test_too_many_indices_raise_index_error():
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        ft.zeros(2, 3)[0, 0, 0]


def test_int_index_of_a_zero_dim_tensor_raises():
    with pytest.raises(IndexError, match="invalid index of a 0-dim tensor"):
        ft.tensor(5.0)[0]


def test_only_one_ellipsis_is_allowed():
    with pytest.raises(IndexError, match=r"an index can only have a single ellipsis \('...'\)"):
        ft.zeros(2, 3)[..., 0, ...]


def test_float_index_raises_index_error():
    with pytest.raises(IndexError, match="only integers, slices"):
        ft.zeros(3)[1.5]


def test_zero_dim_tensor_supports_ellipsis_none_and_empty_tuple():
    t = ft.tensor(3.5)
    assert_close(t[...], np.float32(3.5))
    assert_close(t[None], np.array([3.5], np.float32))
    assert_close(t[()], np.float32(3.5))
    assert t[...].untyped_storage_ptr() == t.untyped_storage_ptr()


@pytest.mark.parametrize("key", [True, False, (None, True), (0, False), (True, 1)], ids=repr)
def test_bool_scalar_index_adds_a_dim_of_size_one_or_zero(key, rng):
    t, a = make((3, 4), ft.int64, rng)
    assert_close(t[key], a[key])


def test_python_integers_beyond_int64_are_clamped_in_slices():
    t = ft.arange(5)
    assert_close(t[-(10**30):10**30], np.arange(5))


def test_numpy_integer_scalars_are_int_indices():
    t = ft.arange(5)
    assert_close(t[np.int64(3)], np.int64(3))


# --- advanced indexing ----------------------------------------------------------------


ADVANCED_KEYS = [
    [0, 2, -1],
    ([0, 2], [1, 3]),
    ([[0], [3]], [1, 3, -1]),
    (slice(None), [4, 0, 0]),
    (slice(1, 3), [0, 1], [2, 5]),
    ([1, 2], slice(None), [0, 5]),
    ([[1, 2]], slice(None, None, 2), [[0], [5]]),
    (Ellipsis, [1, 1]),
    (None, [0, 1], None),
    ([], slice(None)),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_integer_array_indexing_matches_numpy(dtype, layout, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    for key in ADVANCED_KEYS:
        tkey = tuple(long(k) if isinstance(k, list) else k for k in (key if isinstance(key, tuple) else (key,)))
        nkey = tuple(np.asarray(k, dtype=np.int64) if isinstance(k, list) else k for k in (key if isinstance(key, tuple) else (key,)))
        assert_close(t[tkey], a[nkey], dtype=dtype)


@pytest.mark.parametrize("key", ADVANCED_KEYS[:-1], ids=repr)
def test_python_lists_index_like_tensors(key, rng):
    t, a = make(SHAPE, ft.float64, rng)
    nkey = tuple(np.asarray(k) if isinstance(k, list) else k for k in (key if isinstance(key, tuple) else (key,)))
    assert_close(t[key], a[nkey])


def test_advanced_indices_separated_by_a_slice_put_their_dims_first(rng):
    t, a = make((2, 3, 4, 5), ft.float32, rng)
    i, j = [0, 1, 1], [2, 0, 3]
    assert tuple(t[long(i), :, long(j)].shape) == (3, 3, 5)
    assert_close(t[long(i), :, long(j)], a[np.array(i), :, np.array(j)])


def test_adjacent_advanced_indices_keep_their_place(rng):
    t, a = make((2, 3, 4, 5), ft.float32, rng)
    i, j = [0, 1, 1], [2, 0, 3]
    assert tuple(t[:, long(i), long(j)].shape) == (2, 3, 5)
    assert_close(t[:, long(i), long(j)], a[:, np.array(i), np.array(j)])


def test_int_indices_select_before_advanced_indexing_as_in_pytorch(rng):
    # NumPy counts the int as an advanced index (moving the index dims first); PyTorch
    # selects it first, so the list index stays in place.
    t, a = make((2, 3, 4, 5), ft.float32, rng)
    assert_close(t[:, [0, 2], :, 1], a[:, :, :, 1][:, [0, 2], :])


def test_nested_list_key_is_read_as_a_tuple_as_in_pytorch(rng):
    t, a = make((3, 4), ft.int64, rng)
    assert_close(t[[[0, 1], [1, 2]]], a[[0, 1], [1, 2]])


def test_int32_index_tensors_are_accepted(rng):
    t, a = make((5, 3), ft.float32, rng)
    assert_close(t[ft.tensor([4, 0], dtype=ft.int32)], a[[4, 0]])


def test_numpy_array_index(rng):
    t, a = make((5, 3), ft.float32, rng)
    assert_close(t[np.array([4, 0, 4])], a[np.array([4, 0, 4])])


def test_zero_dim_integer_tensor_index_is_a_view(rng):
    t, a = make((5, 3), ft.float32, rng)
    v = t[ft.tensor(2)]
    assert_close(v, a[2])
    assert v.untyped_storage_ptr() == t.untyped_storage_ptr()


@pytest.mark.parametrize("value", [True, False])
def test_zero_dim_bool_tensor_index_acts_like_a_bool(value, rng):
    t, a = make((2, 3), ft.float32, rng)
    assert_close(t[ft.tensor(value)], a[value])


def test_advanced_indexing_returns_a_copy(rng):
    t, a = make((4, 3), ft.float32, rng)
    r = t[long([0, 1])]
    r.fill_(100)
    assert_close(t, a)


def test_empty_index_tensor_gives_an_empty_result(rng):
    t, a = make((4, 3), ft.float32, rng)
    assert_close(t[ft.tensor([], dtype=ft.int64)], a[np.array([], dtype=np.int64)])
    assert_close(t[:, ft.zeros(0, 2, dtype=ft.int64)], a[:, np.zeros((0, 2), np.int64)])


def test_index_tensor_out_of_range_raises_index_error():
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for dimension 0 with size 3"):
        ft.zeros(3)[long([0, 5])]
    with pytest.raises(IndexError, match=r"index -4 is out of bounds for dimension 1 with size 3"):
        ft.zeros(2, 3)[:, long([-4])]


def test_index_tensors_that_do_not_broadcast_raise():
    with pytest.raises(IndexError, match=r"shape mismatch: indexing tensors could not be broadcast together with shapes \[2\], \[3\]"):
        ft.zeros(4, 4)[long([0, 1]), long([0, 1, 2])]


@pytest.mark.parametrize("dtype", [ft.float32, ft.int16])
def test_index_tensors_of_other_dtypes_raise(dtype):
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        ft.zeros(3)[ft.tensor([0, 1], dtype=dtype)]


# --- boolean masks --------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_full_mask_selects_like_numpy(dtype, layout, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    m = rng.random(SHAPE) > 0.5
    assert_close(t[ft.tensor(m)], a[m], dtype=dtype)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_partial_masks_cover_as_many_dims_as_they_have(layout, rng):
    t, a = make(SHAPE, ft.float32, rng, layout)
    m1 = rng.random(4) > 0.5
    m2 = rng.random((5, 6)) > 0.5
    m3 = rng.random((4, 5)) > 0.5
    assert_close(t[ft.tensor(m1)], a[m1])
    assert_close(t[:, ft.tensor(m2)], a[:, m2])
    assert_close(t[ft.tensor(m3), 1:], a[m3, 1:])
    assert_close(t[ft.tensor(m3), long([0])], a[m3, np.array([0])])
    m4 = rng.random(6) > 0.5
    assert_close(t[..., ft.tensor(m4)], a[..., m4])


def test_mask_and_list_of_bools_agree(rng):
    t, a = make((5, 2), ft.float32, rng)
    m = [True, False, True, True, False]
    assert_close(t[m], a[np.array(m)])
    assert_close(t[ft.tensor(m)], a[np.array(m)])


def test_all_false_mask_gives_empty_result(rng):
    t, a = make((3, 4), ft.float32, rng)
    m = np.zeros((3, 4), bool)
    assert_close(t[ft.tensor(m)], a[m])


def test_uint8_mask_is_a_mask(rng):
    t, a = make((4,), ft.float32, rng)
    m = np.array([1, 0, 1, 1], np.uint8)
    assert_close(t[ft.tensor(m)], a[m.astype(bool)])


def test_mask_of_wrong_shape_raises_index_error():
    with pytest.raises(IndexError, match=r"The shape of the mask \[2\] at index 0 does not match the shape of the indexed tensor \[3\] at index 0"):
        ft.zeros(3)[ft.tensor([True, False])]
    with pytest.raises(IndexError, match=r"The shape of the mask \[3, 2\] at index 1 does not match the shape of the indexed tensor \[3, 4\] at index 1"):
        ft.zeros(3, 4)[ft.ones(3, 2, dtype=ft.bool)]


def test_zero_dim_tensor_with_a_zero_dim_mask(rng):
    t = ft.tensor(2.5)
    assert_close(t[ft.tensor(True)], np.array([2.5], np.float32))
    assert_close(t[ft.tensor(False)], np.zeros(0, np.float32))


# --- assignment -----------------------------------------------------------------------


SET_KEYS = [
    0, -1, (1, 2), slice(1, None, 2), (Ellipsis, slice(1, 3)), (slice(None), 0, slice(None, None, 2)),
    (None, 1), True, Ellipsis,
]


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_setitem_with_a_number_matches_numpy(dtype, layout, rng):
    for key in SET_KEYS:
        t, a = make(SHAPE, dtype, rng, layout)
        a = a.copy()
        t[key] = 1
        a[key] = 1
        assert_close(t, a, dtype=dtype)


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_setitem_with_a_broadcast_tensor_matches_numpy(dtype, layout, rng):
    t, a = make(SHAPE, dtype, rng, layout)
    a = a.copy()
    other, o = make((5, 2), dtype, rng, "transposed" if layout == "transposed" else "contiguous")
    t[..., 1:3] = other
    a[..., 1:3] = o
    assert_close(t, a, dtype=dtype)


def test_setitem_ignores_leading_size_one_dims_of_the_value():
    t = ft.zeros(3)
    t[:] = ft.tensor([[1.0, 2.0, 3.0]])
    assert_close(t, np.array([1, 2, 3], np.float32))
    t[long([0, 2])] = ft.tensor([[[7.0, 8.0]]])
    assert_close(t, np.array([7, 2, 8], np.float32))


def test_setitem_casts_the_value_to_the_tensor_dtype():
    t = ft.zeros(4, dtype=ft.int32)
    t[1:3] = ft.tensor([1.7, -2.9], dtype=ft.float64)
    t[long([3])] = ft.tensor([5.5])
    t[0] = 9.9
    assert_close(t, np.array([9, 1, -2, 5], np.int32), dtype=ft.int32)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_setitem_with_a_mask_matches_numpy(dtype, rng):
    t, a = make((4, 5), dtype, rng)
    a = a.copy()
    m = rng.random((4, 5)) > 0.5
    t[ft.tensor(m)] = 0
    a[m] = 0
    assert_close(t, a, dtype=dtype)
    vals = random_array((int(m.sum()),), dtype, rng)
    t[ft.tensor(m)] = ft.tensor(vals, dtype=dtype)
    a[m] = vals
    assert_close(t, a, dtype=dtype)
    rows = np.array([True, False, True, False])
    t[ft.tensor(rows)] = ft.tensor(random_array((5,), dtype, rng), dtype=dtype)[None]
    a[rows] = to_numpy(t)[rows]
    assert_close(t, a, dtype=dtype)


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_setitem_with_index_tensors_matches_numpy(dtype, layout, rng):
    keys = [[0, 3, -1], ([0, 2], [1, 4]), (slice(None), [4, 0]), ([1, 2], slice(None), [0, 5])]
    for key in keys:
        t, a = make(SHAPE, dtype, rng, layout)
        a = a.copy()
        key = key if isinstance(key, tuple) else (key,)
        tkey = tuple(long(k) if isinstance(k, list) else k for k in key)
        nkey = tuple(np.asarray(k) if isinstance(k, list) else k for k in key)
        shape = a[nkey].shape
        vals = random_array(shape[-1:], dtype, rng)
        t[tkey] = ft.tensor(vals, dtype=dtype)
        a[nkey] = vals
        assert_close(t, a, dtype=dtype)


def test_setitem_with_duplicate_indices_keeps_the_last_value():
    t = ft.zeros(3)
    t[long([0, 0, 0])] = ft.tensor([1.0, 2.0, 3.0])
    assert_close(t, np.array([3, 0, 0], np.float32))


def test_setitem_bumps_the_version_of_shared_views():
    t = ft.zeros(3, 3)
    v = t[1]
    before = (t._version, v._version)
    t[0] = 1
    t[long([2])] = 2
    t[t > 1] = 3
    assert t._version >= before[0] + 3
    assert v._version == t._version


def test_setitem_on_a_view_writes_the_base():
    t = ft.zeros(4, 4)
    v = t[1:3]
    v[:, long([0, 3])] = 5
    expected = np.zeros((4, 4), np.float32)
    expected[1:3, [0, 3]] = 5
    assert_close(t, expected)


def test_setitem_with_an_overlapping_source_reads_before_writing():
    t = ft.arange(6)
    a = np.arange(6)
    t[1:] = t[:-1]
    a[1:] = a[:-1].copy()
    assert_close(t, a)


def test_iadd_through_a_basic_index(rng):
    t, a = make((4, 3), ft.float64, rng)
    a = a.copy()
    other = a[:2].copy()
    t[1] += 5
    t[1:3] += ft.tensor(other)
    a[1] += 5
    a[1:3] += other
    assert_close(t, a)


def test_iadd_through_advanced_indices_behaves_like_numpy(rng):
    t, a = make((5, 3), ft.float64, rng)
    a = a.copy()
    idx = np.array([0, 3, 0])
    t[long(idx)] += 1
    a[idx] += 1
    m = a > 0
    t[ft.tensor(m)] *= 2
    a[m] *= 2
    assert_close(t, a)


def test_setitem_value_of_wrong_shape_raises():
    with pytest.raises(RuntimeError, match=r"shape mismatch: value tensor of shape \[3\] cannot be broadcast to indexing result of shape \[2\]"):
        ft.zeros(4)[long([0, 1])] = ft.ones(3)
    with pytest.raises(RuntimeError, match="The expanded size of the tensor"):
        ft.zeros(4)[:2] = ft.ones(3)


def test_setitem_with_a_list_value_raises_type_error():
    with pytest.raises(TypeError, match="can't assign a list to a torch.FloatTensor"):
        ft.zeros(3)[0:2] = [1, 2]


def test_setitem_out_of_range_raises_index_error():
    with pytest.raises(IndexError, match=r"index 3 is out of bounds for dimension 0 with size 3"):
        ft.zeros(3)[long([3])] = 1.0


def test_setitem_into_an_expanded_tensor_raises():
    t = ft.zeros(1, 3).expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single memory location"):
        t[:, long([0])] = 1.0


def test_setitem_on_a_zero_dim_tensor():
    t = ft.tensor(1.0)
    t[...] = 4
    assert_close(t, np.float32(4))
    t[ft.tensor(True)] = 5
    assert_close(t, np.float32(5))


def test_make_strided_layout_is_a_slicing_view(rng):
    t, a = make((3, 4), ft.float32, rng, "strided")
    assert t.stride() == (16, 2)
    assert_close(t, a)
    assert NUMPY_DTYPE[ft.float32] == np.float32
