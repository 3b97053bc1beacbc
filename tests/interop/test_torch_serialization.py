"""Checkpoints move both ways between PyTorch and ferrotorch: every dtype, views that share
storage, parameters, ``weights_only`` and ``mmap`` loads."""

import io

import numpy as np
import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]


def values(t):
    t = t.detach()
    if str(t.dtype) == "torch.bfloat16":
        t = t.float()
    return np.array(t.numpy(), copy=True)


def sample(lib, dtype_name):
    dtype = getattr(lib, dtype_name)
    base = (lib.arange(12) % 5 - 2).to(dtype).reshape(3, 4)
    return {
        "base": base,
        "view": base[1:, ::2],  # strided view sharing base's storage
        "transposed": base.t(),
        "scalar": base[0, 1].clone(),
        "empty": base[:0],
        "parameter": lib.nn.Parameter(lib.ones(2, 2)) if dtype_name.startswith("float") else lib.ones(2, dtype=dtype),
    }


def check_same(ours, theirs):
    assert sorted(ours) == sorted(theirs)
    for k in ours:
        assert str(ours[k].dtype) == str(theirs[k].dtype), k
        assert tuple(ours[k].shape) == tuple(theirs[k].shape), k
        assert tuple(ours[k].stride()) == tuple(theirs[k].stride()), k
        assert ours[k].storage_offset() == theirs[k].storage_offset(), k
        np.testing.assert_array_equal(values(ours[k]), values(theirs[k]), err_msg=k)
        assert ours[k].requires_grad == theirs[k].requires_grad, k
        assert isinstance(ours[k], ft.nn.Parameter) == isinstance(theirs[k], torch.nn.Parameter), k


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("mmap", [False, True])
def test_ferrotorch_file_loads_in_torch(dtype_name, mmap, tmp_path):
    ours = sample(ft, dtype_name)
    ft.save(ours, tmp_path / "ours.pt")
    theirs = torch.load(tmp_path / "ours.pt", weights_only=True, mmap=mmap)
    check_same(ours, theirs)
    ptr = theirs["base"].untyped_storage().data_ptr()
    assert theirs["view"].untyped_storage().data_ptr() == ptr
    assert theirs["transposed"].untyped_storage().data_ptr() == ptr


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("mmap", [False, True])
def test_torch_file_loads_in_ferrotorch(dtype_name, mmap, tmp_path):
    theirs = sample(torch, dtype_name)
    torch.save(theirs, tmp_path / "theirs.pt")
    ours = ft.load(tmp_path / "theirs.pt", mmap=mmap)
    check_same(ours, theirs)
    ptr = ours["base"].untyped_storage_ptr()
    assert ours["view"].untyped_storage_ptr() == ptr and ours["transposed"].untyped_storage_ptr() == ptr


def test_state_dict_round_trip_through_both(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    torch.save(model.state_dict(), tmp_path / "a.pt")
    ft.save(ft.load(tmp_path / "a.pt"), tmp_path / "b.pt")
    back = torch.load(tmp_path / "b.pt", weights_only=True)
    for k, v in model.state_dict().items():
        assert torch.equal(back[k], v), k
    assert back._metadata == model.state_dict()._metadata


def test_torch_reads_our_python_values():
    buffer = io.BytesIO()
    ft.save({"size": ft.Size([2, 3]), "dtype": ft.bfloat16, "device": ft.device("cpu"), "n": [1, 2.5, "s", None]}, buffer)
    got = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    assert got == {"size": torch.Size([2, 3]), "dtype": torch.bfloat16, "device": torch.device("cpu"), "n": [1, 2.5, "s", None]}


def test_safetensors_package_reads_ours_and_we_read_its(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    from ferrotorch.utils import safetensors as st

    ours = {name: sample(ft, name)["base"].contiguous() for name in DTYPES}
    st.save_file(ours, tmp_path / "ours.safetensors", metadata={"by": "ferrotorch"})
    theirs = safetensors_torch.load_file(tmp_path / "ours.safetensors")
    for k in ours:
        np.testing.assert_array_equal(values(ours[k]), values(theirs[k]))
    safetensors_torch.save_file(theirs, tmp_path / "theirs.safetensors", metadata={"by": "ferrotorch"})
    assert (tmp_path / "theirs.safetensors").read_bytes() == (tmp_path / "ours.safetensors").read_bytes()
