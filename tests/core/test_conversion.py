"""Conversion and Python protocols: NumPy sharing, tolist/item, repr, numbers."""

import math

import numpy as np
import pytest

import ferrotorch as ft
from conftest import ALL_DTYPES, NUMPY_DTYPE


@pytest.mark.parametrize("dtype", [d for d in ALL_DTYPES if d != ft.bfloat16])
def test_numpy_shares_memory_both_ways(dtype):
    t = ft.zeros(2, 3, dtype=dtype)
    a = t.numpy()
    assert a.dtype == NUMPY_DTYPE[dtype] and a.shape == (2, 3)
    a[1, 2] = 1
    assert t.tolist()[1][2] == 1
    src = np.zeros((2, 2), dtype=NUMPY_DTYPE[dtype])
    u = ft.from_numpy(src)
    u.fill_(1)
    assert src.all()


def test_numpy_of_views_keeps_strides():
    t = ft.arange(12).view(3, 4).t()
    a = t.numpy()
    assert a.strides == (8, 32)
    np.testing.assert_array_equal(a, np.arange(12).reshape(3, 4).T)


def test_from_numpy_keeps_array_alive_and_views():
    a = np.arange(6.0).reshape(2, 3)[:, ::2]
    t = ft.from_numpy(a)
    del a
    assert t.tolist() == [[0.0, 2.0], [3.0, 5.0]] and t.stride() == (3, 2)


def test_from_numpy_rejects_negative_strides_and_bad_types():
    with pytest.raises(ValueError, match="negative"):
        ft.from_numpy(np.arange(3)[::-1])
    with pytest.raises(TypeError, match="can't convert np.ndarray of type"):
        ft.from_numpy(np.array([1 + 2j]))
    with pytest.raises(TypeError, match="expected np.ndarray"):
        ft.from_numpy([1, 2])


def test_bfloat16_has_no_numpy_type():
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        ft.ones(2, dtype=ft.bfloat16).numpy()


def test_as_tensor_shares_when_possible():
    a = np.ones(3, dtype=np.float32)
    t = ft.as_tensor(a)
    a[0] = 5
    assert t[0].item() == 5 if hasattr(t, "__getitem__") else t.tolist()[0] == 5
    assert ft.as_tensor(a, dtype=ft.float64).dtype == ft.float64
    x = ft.ones(2)
    assert ft.as_tensor(x) is not None and ft.as_tensor(x).untyped_storage_ptr() == x.untyped_storage_ptr()


def test_array_protocol_and_numpy_functions():
    t = ft.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(np.asarray(t), [[1, 2], [3, 4]])
    assert np.asarray(t, dtype=np.int32).dtype == np.int32


def test_item_tolist_and_numbers():
    assert ft.tensor([2.5]).item() == 2.5 and isinstance(ft.tensor(3).item(), int)
    assert ft.tensor(True).item() is True
    assert ft.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert ft.tensor(1.5).tolist() == 1.5
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        ft.tensor([1, 2]).item()
    assert float(ft.tensor(2)) == 2.0 and int(ft.tensor(2.9)) == 2 and bool(ft.tensor([0.0])) is False
    assert [10, 20, 30][ft.tensor(1)] == 20
    with pytest.raises(TypeError):
        [1, 2][ft.tensor(1.0)]
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(ft.tensor([1, 2]))
    with pytest.raises(ValueError, match="cannot convert float NaN to integer"):
        int(ft.tensor(math.nan))


def test_len_and_iteration():
    t = ft.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3 and [row.tolist() for row in t] == [[1, 2], [3, 4], [5, 6]]
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ft.tensor(1))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(ft.tensor(1))


def test_to_and_type_conversions():
    t = ft.tensor([1.5, -2.5])
    assert t.to(ft.int32).dtype == ft.int32 and t.to(dtype=ft.float64).dtype == ft.float64
    assert t.to(ft.ones(1, dtype=ft.int16)).dtype == ft.int16
    # As PyTorch: a conversion that changes nothing returns the tensor itself.
    assert t.to("cpu") is t and t.float() is t and t.contiguous() is t and t.cpu() is t
    assert t.to(ft.float32, copy=True).untyped_storage_ptr() != t.untyped_storage_ptr()
    assert t.type() == "torch.FloatTensor" and t.type(ft.float64).dtype == ft.float64
    assert t.half().dtype == ft.float16 and t.bfloat16().dtype == ft.bfloat16 and t.long().tolist() == [1, -2]


@pytest.mark.skipif(ft.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_device_is_rejected_without_a_gpu():
    with pytest.raises(RuntimeError, match="Found no NVIDIA driver|No CUDA GPUs are available"):
        ft.zeros(2, device="cuda")
    assert str(ft.device("cuda:1")) == "cuda:1" and repr(ft.device("cpu")) == "device(type='cpu')"
    assert ft.ones(2).device == ft.device("cpu") and ft.ones(1).is_cpu


def test_properties():
    t = ft.ones(2, 3, dtype=ft.float64)
    assert t.ndim == 2 and t.dim() == 2 and t.numel() == 6 and t.element_size() == 8 and t.nbytes == 48
    assert t.is_floating_point() and ft.is_tensor(t) and not ft.is_tensor([1])
    assert t.storage_offset() == 0 and t.narrow(1, 1, 2).storage_offset() == 1


# Reference strings printed by PyTorch for the same tensors.
REPRS = [
    (lambda: ft.tensor([1.0, 2.5]), "tensor([1.0000, 2.5000])"),
    (lambda: ft.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda: ft.tensor([1, 2, 3]), "tensor([1, 2, 3])"),
    (lambda: ft.tensor([1, 2], dtype=ft.int32), "tensor([1, 2], dtype=torch.int32)"),
    (lambda: ft.tensor([True, False]), "tensor([ True, False])"),
    (lambda: ft.tensor(3.5), "tensor(3.5000)"),
    (lambda: ft.tensor([1.5], dtype=ft.float64), "tensor([1.5000], dtype=torch.float64)"),
    (lambda: ft.tensor([]), "tensor([])"),
    (lambda: ft.zeros(2, 0), "tensor([], size=(2, 0))"),
    (lambda: ft.tensor([1e10, 1.0]), "tensor([1.0000e+10, 1.0000e+00])"),
    (lambda: ft.tensor([float("nan"), float("inf"), 1.0]), "tensor([nan, inf, 1.])"),
    (lambda: ft.tensor([[1.0, -2.0], [3.0, 4.0]]), "tensor([[ 1., -2.],\n        [ 3.,  4.]])"),
    (lambda: ft.arange(2000), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (lambda: ft.tensor([0.1, 0.25], dtype=ft.float16), "tensor([0.1000, 0.2500], dtype=torch.float16)"),
    (lambda: ft.tensor([1.0, 2000.0]), "tensor([1.0000e+00, 2.0000e+03])"),
    (lambda: ft.tensor([0.0, 10.0]), "tensor([ 0., 10.])"),
    (lambda: ft.tensor([0.0, 0.0]), "tensor([0., 0.])"),
    (lambda: ft.linspace(0, 1, 7, dtype=ft.bfloat16),
     "tensor([0.0000, 0.1670, 0.3340, 0.5000, 0.6680, 0.8320, 1.0000],\n       dtype=torch.bfloat16)"),
]


@pytest.mark.parametrize("make_tensor,expected", REPRS)
def test_repr_matches_pytorch(make_tensor, expected):
    assert repr(make_tensor()) == expected


def test_format_of_0d_tensors():
    assert f"{ft.tensor(3.14159):.2f}" == "3.14" and f"{ft.tensor(7)}" == "7"


@pytest.mark.parametrize("dtype", [ft.bool, ft.uint8, ft.int16, ft.int64, ft.float16, ft.float32, ft.float64])
def test_dlpack_round_trip_with_numpy_shares_memory(dtype):
    t = ft.zeros(2, 3, dtype=dtype).t()
    a = np.from_dlpack(t)
    assert a.shape == (3, 2) and a.dtype == NUMPY_DTYPE[dtype]
    a[0, 1] = 1
    assert t.tolist()[0][1] == 1
    src = np.zeros((3, 4), dtype=NUMPY_DTYPE[dtype])[:, 1:3]
    u = ft.from_dlpack(src)
    assert u.shape == (3, 2) and u.stride() == (4, 1)
    u.fill_(1)
    assert src.all()
    assert t.__dlpack_device__() == (1, 0)


def test_dlpack_keeps_the_producer_alive():
    u = ft.from_dlpack(np.arange(5.0))
    assert u.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    v = ft.from_dlpack(ft.arange(3.0).__dlpack__())
    assert v.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_dtypes_pickle_as_module_attributes(dtype):
    import copy
    import pickle

    # torch pickles a dtype as the name of its module attribute, so it comes back as the same object.
    assert pickle.loads(pickle.dumps(dtype)) is dtype
    assert pickle.loads(pickle.dumps({"dtype": dtype}, protocol=2))["dtype"] is dtype
    assert copy.deepcopy(dtype) is dtype
