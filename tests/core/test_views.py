"""View ops: results share storage with their input and match NumPy's reshapes."""

import numpy as np
import pytest

import ferrotorch as ft
from conftest import NUMPY_DTYPE, assert_close, make, to_numpy


def shares(a, b):
    return a.untyped_storage_ptr() == b.untyped_storage_ptr()


def test_view_shares_storage_and_sees_writes():
    base = ft.arange(6.0)
    v = base.view(2, 3)
    assert shares(base, v) and v.stride() == (3, 1)
    v.add_(1)
    assert base.tolist() == [1, 2, 3, 4, 5, 6]


def test_view_infers_one_dim():
    assert ft.arange(12).view(3, -1).shape == (3, 4)
    assert ft.arange(12).view(-1).shape == (12,)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        ft.arange(12).view(-1, -1)
    with pytest.raises(RuntimeError, match=r"shape '\[5, -1\]' is invalid for input of size 12"):
        ft.arange(12).view(5, -1)


def test_view_of_non_contiguous_raises_but_reshape_copies():
    t = ft.arange(6).view(2, 3).t()
    with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's size and stride"):
        t.view(6)
    r = t.reshape(6)
    assert r.tolist() == [0, 3, 1, 4, 2, 5] and not shares(r, t)
    r2 = t.reshape(3, 2)
    assert shares(r2, t)


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided", "broadcast"])
def test_reshape_matches_numpy(layout, rng):
    t, a = make((2, 3, 4), ft.float32, rng, layout)
    for shape in [(24,), (4, 6), (2, 12), (4, 3, 2), (1, 24, 1)]:
        assert_close(t.reshape(*shape), a.reshape(shape))


def test_permute_transpose_t():
    t, a = make((2, 3, 4), ft.int32, np.random.default_rng(1), "contiguous")
    np.testing.assert_array_equal(to_numpy(t.permute(2, 0, 1)), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(to_numpy(t.permute((1, -1, 0))), a.transpose(1, 2, 0))
    np.testing.assert_array_equal(to_numpy(t.transpose(0, 2)), a.swapaxes(0, 2))
    np.testing.assert_array_equal(to_numpy(t.mT), a.swapaxes(-1, -2))
    np.testing.assert_array_equal(to_numpy(t.T), a.T)
    m = ft.ones(2, 3)
    assert m.t().shape == (3, 2) and ft.ones(3).t().shape == (3,)
    with pytest.raises(RuntimeError, match=r"t\(\) expects a tensor with <= 2 dimensions, but self is 3D"):
        t.t()
    with pytest.raises(RuntimeError, match="duplicate dims are not allowed"):
        t.permute(0, 0, 1)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)"):
        t.transpose(0, 3)


def test_expand_and_broadcast_views():
    t = ft.tensor([[1], [2]])
    e = t.expand(2, 3)
    assert e.stride() == (1, 0) and e.tolist() == [[1, 1, 1], [2, 2, 2]] and shares(e, t)
    assert t.expand(4, -1, 3).shape == (4, 2, 3)
    assert t.expand_as(ft.ones(2, 5)).shape == (2, 5)
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(3\) must match the existing size \(2\) at non-singleton dimension 0"):
        t.expand(3, 3)


def test_squeeze_unsqueeze():
    t = ft.ones(1, 3, 1, 2)
    assert t.squeeze().shape == (3, 2)
    assert t.squeeze(0).shape == (3, 1, 2)
    assert t.squeeze(1).shape == (1, 3, 1, 2)
    assert t.squeeze((0, 2)).shape == (3, 2)
    assert t.unsqueeze(-1).shape == (1, 3, 1, 2, 1)
    assert ft.tensor(5).unsqueeze(0).shape == (1,)
    with pytest.raises(IndexError):
        t.unsqueeze(6)


def test_flatten_unflatten_ravel():
    t = ft.ones(2, 3, 4)
    assert t.flatten().shape == (24,)
    assert t.flatten(1).shape == (2, 12)
    assert t.flatten(0, 1).shape == (6, 4)
    assert ft.tensor(3).flatten().shape == (1,)
    assert t.unflatten(2, (2, 2)).shape == (2, 3, 2, 2)
    assert t.unflatten(-1, (-1, 2)).shape == (2, 3, 2, 2)
    assert t.transpose(0, 2).ravel().shape == (24,)
    with pytest.raises(RuntimeError, match="don't multiply up to the size of dim"):
        t.unflatten(2, (3, 3))


def test_narrow_select_unfold(rng):
    t, a = make((4, 5), ft.float64, rng, "transposed")
    assert_close(t.narrow(1, 1, 2), a[:, 1:3])
    assert_close(t.narrow(0, -2, 2), a[-2:])
    assert_close(t.select(1, -1), a[:, -1])
    assert_close(t.unfold(1, 2, 2), np.stack([a[:, 0:2], a[:, 2:4]], axis=1))
    assert_close(ft.arange(7.0).unfold(0, 3, 2), np.array([[0, 1, 2], [2, 3, 4], [4, 5, 6]], dtype=np.float32))
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 1 with size 5"):
        t.select(1, 5)
    with pytest.raises(RuntimeError, match=r"start \(3\) \+ length \(3\) exceeds dimension size \(5\)"):
        t.narrow(1, 3, 3)
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 7 but size is 8"):
        ft.arange(7.0).unfold(0, 8, 1)


def test_as_strided_and_bounds():
    base = ft.arange(9.0)
    w = base.as_strided((3, 3), (3, 1))
    assert w.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    d = base.as_strided((3,), (4,))
    assert d.tolist() == [0, 4, 8]
    assert base.as_strided((2,), (1,), 7).tolist() == [7, 8]
    with pytest.raises(RuntimeError, match="out of bounds for storage"):
        base.as_strided((3,), (5,))


def test_movedim(rng):
    t, a = make((2, 3, 4), ft.float32, rng)
    assert_close(t.movedim(0, -1), np.moveaxis(a, 0, -1))
    assert_close(ft.movedim(t, (0, 1), (2, 0)), np.moveaxis(a, (0, 1), (2, 0)))
    assert_close(t.moveaxis(1, 0), np.moveaxis(a, 1, 0))


def test_contiguous_copies_only_when_needed():
    t = ft.ones(2, 3)
    assert shares(t.contiguous(), t)
    tt = t.t()
    c = tt.contiguous()
    assert c.is_contiguous() and not shares(c, tt) and c.stride() == (2, 1)


def test_size_object():
    s = ft.ones(2, 3).shape
    assert isinstance(s, ft.Size) and isinstance(s, tuple) and s == (2, 3)
    assert repr(s) == "torch.Size([2, 3])" and s.numel() == 6 and isinstance(s[1:], ft.Size)
    assert ft.ones(2, 3).size(1) == 3 and ft.ones(2, 3).size(-2) == 2


@pytest.mark.parametrize("shape,perm", [
    ((3, 40, 50), (1, 2, 0)),   # CHW -> HWC: 3 columns
    ((40, 50, 3), (2, 0, 1)),   # HWC -> CHW: 3 rows, 2000 columns
    ((2, 3000), (1, 0)),        # a wide transpose split into column chunks
    ((3000, 2), (1, 0)),
    ((70, 33), (1, 0)),         # partial tiles on both sides
    ((4, 33, 65), (0, 2, 1)),   # a batch of transposes
])
@pytest.mark.parametrize("dtype", [ft.float32, ft.uint8, ft.float64])
def test_tiled_transpose_copy_matches_numpy(shape, perm, dtype):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 200, size=shape).astype(NUMPY_DTYPE[dtype])
    t = ft.tensor(a).permute(*perm)
    assert_close(t.contiguous(), np.ascontiguousarray(a.transpose(perm)), dtype=dtype)
    # The same path casting on the way.
    assert_close(t.to(ft.float64), a.transpose(perm).astype(np.float64), dtype=ft.float64)
