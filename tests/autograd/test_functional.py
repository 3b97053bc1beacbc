"""``autograd.functional`` and ``gradcheck`` itself, against closed-form derivatives."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.autograd import functional as F
from ferrotorch.autograd import gradcheck, GradcheckError


def f64(a):
    return ft.tensor(np.asarray(a, dtype=np.float64))


def test_jacobian_of_elementwise_and_matrix_functions():
    x = f64([0.5, 1.0, 2.0])
    j = F.jacobian(lambda t: t.exp() * t, x)
    np.testing.assert_allclose(j.numpy(), np.diag(np.exp([0.5, 1.0, 2.0]) * (1 + np.array([0.5, 1.0, 2.0]))))
    a, b = f64([1.0, 2.0]), f64([3.0, 4.0])
    ja, jb = F.jacobian(lambda u, v: u * v, (a, b))
    np.testing.assert_allclose(ja.numpy(), np.diag([3.0, 4.0]))
    np.testing.assert_allclose(jb.numpy(), np.diag([1.0, 2.0]))


def test_hessian_of_quadratic_form():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    At = f64(A)
    x = f64([0.3, -0.7])
    h = F.hessian(lambda t: (t * (At * t).sum(1)).sum(), x)
    np.testing.assert_allclose(h.numpy(), A + A.T)


def test_vjp_jvp_hvp_vhp():
    x = f64([0.5, 1.5])
    v = f64([1.0, -2.0])
    out, g = F.vjp(lambda t: t ** 3, x, v)
    np.testing.assert_allclose(out.numpy(), np.array([0.5, 1.5]) ** 3)
    np.testing.assert_allclose(g.numpy(), 3 * np.array([0.5, 1.5]) ** 2 * np.array([1.0, -2.0]))
    out, jv = F.jvp(lambda t: t ** 3, x, v)
    np.testing.assert_allclose(jv.numpy(), 3 * np.array([0.5, 1.5]) ** 2 * np.array([1.0, -2.0]))
    out, hv = F.hvp(lambda t: (t ** 3).sum(), x, v)
    np.testing.assert_allclose(hv.numpy(), 6 * np.array([0.5, 1.5]) * np.array([1.0, -2.0]))
    out, vh = F.vhp(lambda t: (t ** 3).sum(), x, v)
    np.testing.assert_allclose(vh.numpy(), hv.numpy())
    assert not out.requires_grad and not vh.requires_grad


def test_gradcheck_detects_a_wrong_backward():
    class Wrong(ft.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 x g

    x = f64([1.0, 2.0]).requires_grad_()
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(Wrong.apply, (x,))
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False
