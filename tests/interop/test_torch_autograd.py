"""PyTorch's autograd as the reference, where PyTorch is installed (skipped otherwise): the same
program run in both libraries gives the same gradients, node names and error messages."""

import re

import numpy as np
import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")

# Programs written once and run on either library (`L` is the module).
PROGRAMS = {
    "elementwise": lambda L, x, y: ((x * y).sin() + x.exp() / (y * y + 1)).sum(),
    "broadcast": lambda L, x, y: (x[:, :1] * y - x.tanh()).pow(2).mean(),
    "views": lambda L, x, y: (x.t() @ y).diagonal().sum(),
    "inplace": lambda L, x, y: _inplace(x, y),
    "setitem": lambda L, x, y: _setitem(x, y),
    "where": lambda L, x, y: L.where(x > 0, x * y, y.sigmoid()).sum(),
    "maximum": lambda L, x, y: L.maximum(x, y).logsumexp(0).sum(),
    "casts": lambda L, x, y: (x.float() * y.float()).double().sum(),
}


def _inplace(x, y):
    h = x * 1
    h.mul_(y)
    h.add_(1.5)
    h.exp_()
    return h.sum()


def _setitem(x, y):
    t = x.clone()
    t[1] = y[0] * 2
    t[:, 2] = y[:, 1].exp()
    return (t * t).sum()


def run(L, name, xa, ya):
    x = L.tensor(xa, dtype=L.float64, requires_grad=True)
    y = L.tensor(ya, dtype=L.float64, requires_grad=True)
    out = PROGRAMS[name](L, x, y)
    out.backward()
    return out.detach().numpy(), x.grad.numpy(), y.grad.numpy()


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_gradients_equal_pytorch(name):
    rng = np.random.default_rng(0)
    xa, ya = rng.uniform(0.2, 1.0, (3, 3)), rng.uniform(0.2, 1.0, (3, 3))
    for a, b in zip(run(ft, name, xa, ya), run(torch, name, xa, ya)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


EXPRESSIONS = [
    "x * y", "x + y", "x - 2", "x / y", "x ** 2", "x.exp()", "x.sin()", "x.sigmoid()", "x.tanh()",
    "x.sum()", "x.sum(0)", "x.mean()", "x.t()", "x.transpose(0, 1)", "x.view(9)", "x.reshape(9)",
    "x.unsqueeze(0)", "x[0]", "x[1:]", "x.expand(2, 3, 3)", "x.permute(1, 0)", "x.abs()", "x.neg()",
    "x.double()", "x.clone()", "torch.where(x > 0, x, y)",
]


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_node_names_equal_pytorch(expr):
    def name(L):
        x = L.ones(3, 3, dtype=L.float32, requires_grad=True)
        y = L.ones(3, 3, dtype=L.float32, requires_grad=True)
        return eval(expr, {"torch": L, "x": x, "y": y}).grad_fn.name()

    assert name(ft) == name(torch)


@pytest.mark.parametrize("program", [
    "x.add_(1)",
    "(x * 2).backward()",
    "y = (x * x).sum(); y.backward(); y.backward()",
    "h = x * 1; y = (h * h).sum(); h.add_(1); y.backward()",
    "x.requires_grad_(True); (x * 1).requires_grad_(False)",
])
def test_error_messages_equal_pytorch(program):
    def message(L):
        x = L.ones(3, dtype=L.float64, requires_grad=True)
        try:
            exec(program, {"torch": L, "x": x})
        except RuntimeError as e:
            # PyTorch 2.11 names the producer "AddBackward0" here, later releases "Add".
            return re.sub(r"of (\w+?)Backward\d+,", r"of \1,", str(e).split(" Hint:")[0])
        return None

    theirs, ours = message(torch), message(ft)
    assert theirs is not None and ours == theirs
