"""Page-locked host memory: pin_memory() copies into it, copies from it reach the device
(waited for, or queued with non_blocking=True), and DataLoader(pin_memory=True) pins every
tensor of a batch. Marked `cuda`: skipped without a GPU."""

import collections

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.utils.data import DataLoader, TensorDataset

pytestmark = pytest.mark.cuda


def test_pin_memory_copies_into_page_locked_memory():
    x = ft.arange(12.0).reshape(3, 4).t()
    p = x.pin_memory()
    assert p.is_pinned() and not x.is_pinned() and p.is_contiguous()
    assert ft.equal(p, x) and p.pin_memory() is p
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        x.cuda().pin_memory()


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.float16, ft.int64, ft.uint8, ft.bool])
@pytest.mark.parametrize("non_blocking", [False, True])
def test_copies_from_pinned_memory_reach_the_device(dtype, non_blocking):
    x = (ft.arange(1 << 16) % 7).to(dtype).pin_memory()
    y = x.to("cuda", non_blocking=non_blocking)
    z = ft.empty(1 << 16, dtype=dtype, device="cuda").copy_(x, non_blocking=non_blocking)
    ft.cuda.synchronize()
    assert ft.equal(y.cpu(), x) and ft.equal(z.cpu(), x)
    # A cast or a strided destination takes the staged path and is still right.
    w = ft.zeros(2, 1 << 16, dtype=ft.float64, device="cuda")
    w[1].copy_(x)
    assert ft.equal(w[1].cpu(), x.double()) and ft.equal(w[0].cpu(), ft.zeros(1 << 16, dtype=ft.float64))


def test_a_pinned_source_may_be_dropped_while_its_copy_is_queued():
    outs = []
    for i in range(20):
        outs.append(ft.full((1 << 18,), float(i)).pin_memory().cuda(non_blocking=True))
    for i, o in enumerate(outs):
        assert o.sum().item() == i * (1 << 18)


def test_dataloader_pins_every_tensor_of_a_batch():
    Pair = collections.namedtuple("Pair", "x y")

    class Data(ft.utils.data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return {"x": ft.full((3,), float(i)), "pair": Pair(ft.tensor(i), [ft.ones(2)]), "name": f"s{i}"}

    batch = next(iter(DataLoader(Data(), batch_size=4, pin_memory=True)))
    assert batch["x"].is_pinned() and batch["pair"].x.is_pinned() and batch["pair"].y[0].is_pinned()
    assert batch["name"] == ["s0", "s1", "s2", "s3"]
    np.testing.assert_array_equal(batch["x"].numpy()[:, 0], [0, 1, 2, 3])
    x = ft.arange(10.0)
    batch = next(iter(DataLoader(TensorDataset(x), batch_size=5, pin_memory=True, num_workers=1)))
    assert batch[0].is_pinned() and ft.equal(batch[0].cuda(non_blocking=True).cpu(), x[:5])
