"""PyTorch as the reference for convolution, unfold and fold (skipped where PyTorch is not
installed): module reprs and state_dicts, forward values and gradients with the same weights,
and error messages."""

import numpy as np
import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")


def both(array):
    """The same float64 values as a ferrotorch and a torch leaf requiring grad."""
    array = np.ascontiguousarray(array)
    return ft.tensor(array).requires_grad_(), torch.tensor(array).requires_grad_()


MODULES = [
    ("Conv1d", (3, 4, 3), {}),
    ("Conv1d", (4, 4, 2), {"padding": "same", "dilation": 3, "groups": 4, "bias": False}),
    ("Conv2d", (3, 6, (3, 2)), {"stride": (2, 1), "padding": 1, "dilation": (1, 2), "groups": 3}),
    ("Conv2d", (2, 2, 3), {"padding": "valid"}),
    ("Conv2d", (2, 4, 3), {"padding": 2, "padding_mode": "circular"}),
    ("Conv3d", (2, 2, 2), {"stride": 2, "padding": (1, 0, 1)}),
    ("ConvTranspose1d", (4, 2, 3), {"stride": 2, "output_padding": 1}),
    ("ConvTranspose2d", (4, 6, 3), {"stride": (2, 3), "padding": 1, "output_padding": (1, 2), "groups": 2}),
    ("ConvTranspose2d", (2, 2, 2), {"dilation": 2, "bias": False}),
    ("ConvTranspose3d", (2, 3, 2), {"stride": 2}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=lambda v: str(v))
def test_module_repr_and_state_dict_match(name, args, kwargs):
    ours, theirs = getattr(ft.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]


@pytest.mark.parametrize("name,args,kwargs", [m for m in MODULES if m[2].get("padding_mode", "zeros") == "zeros"], ids=lambda v: str(v))
def test_module_forward_and_gradients_match(name, args, kwargs):
    rng = np.random.default_rng(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(ft.nn, name)(*args, **kwargs, dtype=ft.float64)
    ours.load_state_dict({k: ft.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    dims = int(name[-2])
    x_ours, x_theirs = both(rng.standard_normal((2, args[0]) + (5,) * dims))
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(y_ours.detach().numpy(), y_theirs.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(tuple(y_theirs.shape))
    y_ours.backward(ft.tensor(g))
    y_theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-10, atol=1e-10)
    for (k, p_ours), (_, p_theirs) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p_ours.grad.numpy(), p_theirs.grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=k)


def test_double_backward_matches():
    rng = np.random.default_rng(1)
    xo, xt = both(rng.standard_normal((2, 4, 5, 5)))
    wo, wt = both(rng.standard_normal((4, 2, 3, 3)))
    results = []
    for L, x, w in ((ft, xo, wo), (torch, xt, wt)):
        y = L.nn.functional.conv2d(x, w, None, 2, 1, 1, 2)
        gx, gw = L.autograd.grad((y ** 2).sum(), (x, w), create_graph=True)
        (gx.sin().sum() + (gw ** 2).sum()).backward()
        results.append((x.grad.detach().numpy(), w.grad.detach().numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kwargs", [{}, {"dilation": 2, "padding": 1, "stride": (2, 1)}, {"kernel_size": (3, 1), "padding": (0, 2)}])
def test_unfold_fold_match(kwargs):
    kwargs = {"kernel_size": 2, **kwargs}
    rng = np.random.default_rng(2)
    xo, xt = both(rng.standard_normal((2, 3, 7, 6)))
    co, ct = ft.nn.functional.unfold(xo, **kwargs), torch.nn.functional.unfold(xt, **kwargs)
    np.testing.assert_allclose(co.detach().numpy(), ct.detach().numpy())
    fo, ft_ = ft.nn.functional.fold(co, (7, 6), **kwargs), torch.nn.functional.fold(ct, (7, 6), **kwargs)
    np.testing.assert_allclose(fo.detach().numpy(), ft_.detach().numpy(), rtol=1e-12)
    fo.sum().backward()
    ft_.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("case", [
    lambda L: L.nn.functional.conv2d(L.zeros(1, 4, 8, 8), L.zeros(64, 3, 3, 3)),
    lambda L: L.nn.functional.conv2d(L.zeros(1, 3, 2, 2), L.zeros(4, 3, 3, 3)),
    lambda L: L.nn.functional.conv3d(L.zeros(1, 3, 2, 2), L.zeros(4, 3, 3, 3, 3)),
    lambda L: L.nn.functional.conv2d(L.zeros(1, 3, 8, 8), L.zeros(4, 3, 3, 3), L.zeros(5)),
    lambda L: L.nn.functional.conv_transpose2d(L.zeros(1, 4, 8, 8), L.zeros(4, 3, 3, 3), output_padding=(1, 2), stride=2),
    lambda L: L.nn.functional.conv_transpose3d(L.zeros(1, 4, 2, 2, 2), L.zeros(4, 3, 1, 1, 1), output_padding=1),
    lambda L: L.nn.functional.conv_transpose1d(L.zeros(1, 4, 8), L.zeros(4, 3, 3), padding=9),
    lambda L: L.nn.functional.unfold(L.zeros(1, 3, 2, 2), 3, padding=(0, 1)),
    lambda L: L.nn.functional.fold(L.zeros(1, 12, 10), (4, 4), 2),
    lambda L: L.nn.functional.conv1d(L.zeros(1, 3, 0), L.zeros(4, 3, 1), padding=1),
    lambda L: L.nn.functional.conv2d(L.zeros(1, 3, 8, 8), L.zeros(4, 3, 0, 3)),
    lambda L: L.nn.functional.conv2d(L.zeros(1, 3, 0, 8), L.zeros(4, 3, 3, 3), padding="same"),
], ids=range(12))
def test_error_messages_match(case):
    with pytest.raises(RuntimeError) as theirs:
        case(torch)
    with pytest.raises(RuntimeError) as ours:
        case(ft)
    assert str(ours.value) == str(theirs.value).split("\n")[0]
