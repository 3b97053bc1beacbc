"""Parameter and Buffer, and the tensor pickling/deepcopy they rely on."""

import copy
import pickle

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn


def test_parameter_shares_storage_and_requires_grad():
    data = ft.randn(2, 3)
    p = nn.Parameter(data)
    assert isinstance(p, ft.Tensor) and p.requires_grad and p.is_leaf
    assert p.data_ptr() == data.data_ptr() and not data.requires_grad
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)


def test_parameter_ops_return_plain_tensors():
    assert type(nn.Parameter(ft.ones(2)) * 2) is ft.Tensor


def test_parameter_repr():
    p = nn.Parameter(ft.tensor([1.0, 2.0]))
    assert repr(p) == str(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"


def test_buffer_is_a_flagged_tensor():
    b = nn.Buffer(ft.ones(2), persistent=False)
    assert isinstance(b, nn.Buffer) and not b.persistent
    assert not isinstance(ft.ones(2), nn.Buffer)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.bfloat16, ft.int64, ft.bool])
def test_tensor_pickle_round_trip_keeps_values_and_dtype(dtype):
    t = ft.tensor(np.arange(6).reshape(2, 3) % 2 == 0 if dtype == ft.bool else np.arange(6.0).reshape(2, 3), dtype=dtype)
    back = pickle.loads(pickle.dumps(t[:, 1:]))
    assert back.dtype == dtype and back.shape == (2, 2)
    assert (back == t[:, 1:]).all()


def test_pickle_keeps_requires_grad_and_parameter_type():
    p = pickle.loads(pickle.dumps(nn.Parameter(ft.ones(3), requires_grad=False)))
    assert type(p) is nn.Parameter and not p.requires_grad
    assert pickle.loads(pickle.dumps(ft.ones(1, requires_grad=True))).requires_grad


def test_deepcopy_copies_storage_and_grad():
    t = ft.ones(3, requires_grad=True)
    t.sum().backward()
    c = copy.deepcopy(t)
    assert c.data_ptr() != t.data_ptr() and c.requires_grad and (c.grad == 1).all()
    assert c.grad.data_ptr() != t.grad.data_ptr()


def test_deepcopy_of_non_leaf_raises():
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(ft.ones(2, requires_grad=True) * 2)
