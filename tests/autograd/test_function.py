"""Python-defined ops: ``autograd.Function`` running inside the Rust engine."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch.autograd import Function, gradcheck, gradgradcheck, once_differentiable

from conftest import leaf


class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x ** 3 * scale

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2 * ctx.scale, None


def test_function_forward_backward_and_node_name():
    x = leaf((4,), np.random.default_rng(0))
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward"
    assert not x.grad_fn
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy() ** 2)


def test_function_gradcheck_and_double_backward():
    x = leaf((3,), np.random.default_rng(1))
    assert gradcheck(lambda t: Cube.apply(t, 1.5), (x,))
    assert gradgradcheck(lambda t: Cube.apply(t, 1.5), (x,))


def test_needs_input_grad_and_no_recording_without_grad():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            seen.append(ctx.needs_input_grad)
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g

    a = ft.ones(2, dtype=ft.float64, requires_grad=True)
    b = ft.ones(2, dtype=ft.float64)
    out = Probe.apply(a, b)
    assert seen[-1] == (True, False) and out.requires_grad
    assert not Probe.apply(b, b).requires_grad


class Split(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.mark_non_differentiable
        idx = (x > 0).long()
        ctx.mark_non_differentiable(idx)
        return x * 2, idx

    @staticmethod
    def backward(ctx, g, g_idx):
        return g * 2


def test_mark_non_differentiable():
    x = leaf((3,), np.random.default_rng(2))
    y, idx = Split.apply(x)
    assert y.requires_grad and not idx.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])


class InplaceDouble(Function):
    @staticmethod
    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_mark_dirty_rebases_history():
    w = leaf((3,), np.random.default_rng(3))
    h = w * 1
    out = InplaceDouble.apply(h)
    assert out is h and h.grad_fn.name() == "InplaceDoubleBackward"
    h.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        InplaceDouble.apply(leaf((2,), np.random.default_rng(4)))


def test_materialize_grads_false_passes_none():
    got = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            got.append((g1 is None, g2 is None))
            return g1 if g1 is not None else g2 * 2

    x = leaf((2,), np.random.default_rng(5))
    a, b = Two.apply(x)
    b.sum().backward()
    assert got == [(True, False)]
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_saved_tensor_modified_in_place_raises():
    x = leaf((2,), np.random.default_rng(6))
    h = x * 1
    y = Cube.apply(h, 1.0)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_wrong_number_of_gradients_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = leaf((2,), np.random.default_rng(7))
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        Bad.apply(x).sum().backward()


def test_exception_in_backward_propagates():
    class Boom(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    x = leaf((2,), np.random.default_rng(8))
    with pytest.raises(ValueError, match="boom"):
        Boom.apply(x).sum().backward()


def test_once_differentiable_and_setup_context_style():
    class Sq(Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = leaf((3,), np.random.default_rng(9))
    assert gradcheck(Sq.apply, (x,))


def test_input_returned_unchanged_gets_new_history():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = leaf((2,), np.random.default_rng(10))
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and y.grad_fn.name() == "IdentityBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_function_saving_its_output_is_freed_without_backward():
    # The saved output's grad_fn is the node holding ctx: a strong reference to the original
    # output would form a cycle through the Rust graph that gc cannot break.
    import gc
    import weakref

    class Marker:
        pass

    markers = []

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            ctx.marker = Marker()
            markers.append(weakref.ref(ctx.marker))
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    x = leaf((3,), np.random.default_rng(11))
    y = Exp.apply(x)
    assert markers[0]() is not None
    del y
    gc.collect()
    assert markers[0]() is None


def test_function_saving_its_output_still_backpropagates_after_freeing_originals():
    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    x = leaf((3,), np.random.default_rng(12))
    Exp.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.detach().numpy()))
