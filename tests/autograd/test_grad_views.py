"""gradcheck for view ops, slicing, and writes through views (the history-rebasing cases)."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import leaf

VIEWS = {
    "view": lambda t: t.view(4, 3),
    "reshape": lambda t: t.reshape(2, 6),
    "flatten": lambda t: t.flatten(),
    "unflatten": lambda t: t.unflatten(1, (2, 2)),
    "permute": lambda t: t.permute(1, 0),
    "transpose": lambda t: t.transpose(0, 1),
    "t": lambda t: t.t(),
    "mT": lambda t: t.mT,
    "expand": lambda t: t[:1].expand(5, 4),
    "unsqueeze": lambda t: t.unsqueeze(1),
    "squeeze": lambda t: t[:1].squeeze(0),
    "narrow": lambda t: t.narrow(1, 1, 2),
    "select": lambda t: t.select(1, 2),
    "slice_step": lambda t: t[::2, 1::2],
    "getitem_mixed": lambda t: t[None, 1, ..., -1],
    "unfold": lambda t: t.unfold(1, 2, 1),
    "as_strided": lambda t: t.as_strided((2, 2), (1, 2)),
    "movedim": lambda t: t.movedim(0, 1),
    "diagonal": lambda t: t.diagonal(),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_view_gradcheck(name, layout):
    if name == "view" and layout != "contiguous":
        pytest.skip("view needs compatible strides")
    if name == "as_strided" and layout != "contiguous":
        pytest.skip("as_strided addresses the storage directly")
    x = leaf((3, 4), np.random.default_rng(0), layout)
    assert gradcheck(lambda t: VIEWS[name](t) * 1, (x,))


@pytest.mark.parametrize("name", ["permute", "expand", "select", "unfold", "slice_step"])
def test_view_gradgradcheck(name):
    x = leaf((3, 4), np.random.default_rng(1))
    assert gradgradcheck(lambda t: VIEWS[name](t) ** 2, (x,))


def test_view_shares_memory_and_records_node():
    x = leaf((3, 4), np.random.default_rng(2))
    v = x.transpose(0, 1)
    assert v.grad_fn.name() == "TransposeBackward0"
    assert v.data_ptr() == x.data_ptr()


def test_writes_through_views_gradcheck():
    rng = np.random.default_rng(3)
    w, v = leaf((3, 4), rng), leaf((4,), rng)

    def f(a, b):
        t = a.clone()
        t[1] = b * 2
        t[:, 0] += b[:3]
        t.narrow(1, 2, 2).mul_(3)
        return t

    assert gradcheck(f, (w, v))


def test_write_through_view_of_view():
    rng = np.random.default_rng(4)
    w, v = leaf((4, 4), rng), leaf((2,), rng)

    def f(a, b):
        t = a * 1
        inner = t[1:3][:, 1]
        inner.copy_(b.exp())
        return t * t

    assert gradcheck(f, (w, v))


def test_fill_and_zero_keep_history():
    w = leaf((3,), np.random.default_rng(5))

    def f(a):
        t = a * 2
        t[0:1].zero_()
        t[2:].fill_(5.0)
        return t

    assert gradcheck(f, (w,))
