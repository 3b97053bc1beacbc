"""The engine's behaviour: attributes, backward/grad, accumulation, retain_graph, hooks,
grad modes, in-place checks and history rebasing. References are hand-derived derivatives
checked with NumPy."""

import gc
import threading

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import autograd


def t64(values, requires_grad=True):
    return ft.tensor(values, dtype=ft.float64, requires_grad=requires_grad)


def test_attributes_of_leaves_and_results():
    x = t64([1.0, 2.0, 3.0])
    assert x.requires_grad and x.is_leaf and x.grad_fn is None and x.grad is None
    y = x * 2
    assert y.requires_grad and not y.is_leaf
    assert y.grad_fn.name() == "MulBackward0"
    (node, nr), = [f for f in y.grad_fn.next_functions if f[0] is not None]
    assert node.name() == "AccumulateGrad" and nr == 0
    assert node.variable.data_ptr() == x.data_ptr()
    z = ft.tensor([1.0, 2.0])
    assert not z.requires_grad and z.grad_fn is None and z.is_leaf


def test_requires_grad_keyword_attribute_and_method():
    assert ft.zeros(2, requires_grad=True).requires_grad
    assert ft.randn(2, requires_grad=True).requires_grad
    x = ft.ones(2)
    x.requires_grad = True
    assert x.requires_grad
    assert x.requires_grad_(False) is x and not x.requires_grad
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        ft.tensor([1, 2]).requires_grad_()
    y = t64([1.0]) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad = False


def test_backward_accumulates_into_leaves():
    x = t64([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0, 9.0])


def test_non_scalar_backward_needs_gradient():
    x = t64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(t64([1.0, 10.0], requires_grad=False))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_backward_gradient_shape_is_checked():
    x = t64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(t64([1.0, 2.0, 3.0], requires_grad=False))


def test_backward_on_tensor_without_history_raises():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        ft.tensor([1.0]).sum().backward()


def test_freed_graph_raises_and_retain_graph_keeps_it():
    x = t64([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_graph_without_saved_tensors_can_run_twice():
    x = t64([1.0, 2.0])
    y = (x + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_autograd_grad_returns_without_accumulating():
    x = t64([1.0, 2.0, 3.0])
    y = t64([4.0, 5.0, 6.0])
    gx, gy = autograd.grad((x * y).sum(), (x, y))
    np.testing.assert_allclose(gx.numpy(), [4.0, 5.0, 6.0])
    np.testing.assert_allclose(gy.numpy(), [1.0, 2.0, 3.0])
    assert x.grad is None and y.grad is None


def test_autograd_grad_allow_unused():
    x, y = t64([1.0]), t64([2.0])
    out = (x * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        autograd.grad(out, (x, y), retain_graph=True)
    gx, gy = autograd.grad(out, (x, y), allow_unused=True)
    assert gy is None and gx.item() == 2.0


def test_autograd_grad_with_respect_to_intermediate():
    x = t64([1.0, 2.0])
    h = x * 3
    out = (h * h).sum()
    (gh,) = autograd.grad(out, h)
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])


def test_backward_inputs_limits_accumulation():
    x, y = t64([1.0]), t64([2.0])
    (x * y).sum().backward(inputs=[x])
    assert x.grad.item() == 2.0 and y.grad is None


def test_create_graph_gives_second_derivatives():
    x = t64([0.5, 1.5])
    y = (x ** 3).sum()
    (g,) = autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([0.5, 1.5]) ** 2)
    (g2,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), 6 * np.array([0.5, 1.5]))


def test_third_derivative_through_saved_outputs():
    x = t64([0.3])
    y = x.exp()
    (g1,) = autograd.grad(y.sum(), x, create_graph=True)
    (g2,) = autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), np.exp([0.3]))


def test_broadcasting_is_reduced_in_gradients():
    a = t64(np.arange(3.0).reshape(3, 1))
    b = t64(np.arange(4.0).reshape(1, 4))
    (a * b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 1), 6.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full((1, 4), 3.0))


def test_dtype_casts_carry_gradients():
    x = ft.tensor([1.0, 2.0], dtype=ft.float32, requires_grad=True)
    y = x.double() * ft.tensor([3.0, 4.0], dtype=ft.float64)
    assert y.dtype == ft.float64
    y.sum().backward()
    assert x.grad.dtype == ft.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    z = ft.tensor([1.5], dtype=ft.float32, requires_grad=True)
    (z + ft.tensor([2.0], dtype=ft.float64)).sum().backward()
    assert z.grad.dtype == ft.float32


def test_integer_and_bool_results_are_not_differentiable():
    x = t64([1.0, -2.0])
    assert not (x > 0).requires_grad
    assert not x.argmax().requires_grad


def test_detach_and_detach_():
    x = t64([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.data_ptr() == y.data_ptr()
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None


def test_retain_grad_on_non_leaf():
    x = t64([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [4.0, 8.0])


def test_grad_modes():
    x = t64([1.0])
    with ft.no_grad():
        assert not ft.is_grad_enabled()
        assert not (x * 2).requires_grad
        with ft.enable_grad():
            assert (x * 2).requires_grad
    assert ft.is_grad_enabled()
    with ft.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    with ft.inference_mode():
        assert ft.is_inference_mode_enabled()
        assert not (x * 2).requires_grad
    assert not ft.is_inference_mode_enabled()

    @ft.no_grad()
    def f():
        return x * 2

    assert not f().requires_grad and ft.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = []
    with ft.no_grad():
        t = threading.Thread(target=lambda: seen.append(ft.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_modified_saved_tensor_raises():
    x = t64([1.0, 2.0])
    h = x * 1
    y = (h * h).sum()
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_on_leaf_requiring_grad_raises():
    x = t64([1.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0].mul_(2)
    with ft.no_grad():
        x.add_(1)
    assert x.item() == 2.0


def test_inplace_ops_record_history():
    x = t64([1.0, 2.0])
    h = x * 1
    h.mul_(x)
    assert h.grad_fn.name() == "MulBackward0"
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    # As in PyTorch, an operand saved for backward and then overwritten is an error.
    g = x * 1
    g.mul_(g)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        g.sum().backward()


def test_inplace_into_tensor_without_grad_takes_history_of_value():
    w = t64([3.0])
    x = ft.zeros(1, dtype=ft.float64)
    x.add_(w * 2)
    assert x.requires_grad
    x.sum().backward()
    assert w.grad.item() == 2.0


def test_setitem_through_view_rebases_history():
    w = t64([1.0, 2.0, 3.0])
    v = t64([5.0])
    t = w.clone()
    t[1] = v * 2
    assert t.grad_fn.name() == "CopySlices"
    (t * ft.tensor([1.0, 10.0, 100.0], dtype=ft.float64)).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 0.0, 100.0])
    np.testing.assert_allclose(v.grad.numpy(), [20.0])


def test_inplace_on_view_updates_base_and_other_views():
    w = t64([1.0, 2.0, 3.0, 4.0])
    t = w * 1
    first, second = t[:2], t[2:]
    first.mul_(3)
    (t.sum() + second.sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 3.0, 2.0, 2.0])


def test_setitem_into_plain_tensor_with_value_requiring_grad():
    v = t64([2.0, 3.0])
    x = ft.zeros(4, dtype=ft.float64)
    x[1:3] = v * v
    assert x.requires_grad
    x.sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [4.0, 6.0])


def test_copy_carries_gradient_to_source():
    src = t64([1.0, 2.0])
    dst = ft.zeros(2, dtype=ft.float32)
    dst.copy_(src)
    assert dst.grad_fn is not None
    (dst * 2).sum().backward()
    np.testing.assert_allclose(src.grad.numpy(), [2.0, 2.0])


def test_register_hook_sees_and_replaces_gradient():
    x = t64([1.0, 2.0])
    seen = []
    h = x * 2
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = x.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        ft.ones(1).register_hook(lambda g: g)


def test_exception_in_hook_propagates():
    x = t64([1.0])
    x.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        (x * 2).sum().backward()


def test_post_accumulate_grad_hook():
    x = t64([1.0, 2.0])
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])


def test_assigning_grad_checks_shape_and_dtype():
    x = t64([1.0, 2.0])
    x.grad = ft.ones(2, dtype=ft.float64)
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = ft.ones(3, dtype=ft.float64)
    with pytest.raises(RuntimeError, match="different type"):
        x.grad = ft.ones(2, dtype=ft.float32)


def test_anomaly_detection_names_the_forward_op():
    x = t64([0.0])
    with autograd.detect_anomaly():
        y = x.sqrt() * 0
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values"):
            y.sum().backward()


def _rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_long_loop_does_not_grow_memory():
    # Each step saves ~24 MiB of intermediates; kept past backward they would add up to GiBs.
    x = t64(np.ones(1_000_000))
    for _ in range(5):
        (x.exp() * x).sum().backward()
    start = _rss_mib()
    for _ in range(100):
        y = (x.exp() * x).sum()
        y.backward()
        del y
    assert _rss_mib() - start < 300


def test_two_threads_run_backward_on_independent_graphs():
    results = {}

    def work(k):
        x = t64(np.full(1000, float(k)))
        for _ in range(20):
            x.grad = None
            (x * x * k).sum().backward()
        results[k] = x.grad.numpy().copy()

    threads = [threading.Thread(target=work, args=(k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in (1, 2):
        np.testing.assert_allclose(results[k], np.full(1000, 2.0 * k * k))


def test_repr_shows_requires_grad_and_grad_fn_like_pytorch():
    x = t64([1.0, 2.0])
    assert repr(x) == "tensor([1., 2.], dtype=torch.float64, requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], dtype=torch.float64, grad_fn=<MulBackward0>)"
    assert repr(ft.ones(2, requires_grad=True).sum()) == "tensor(2., grad_fn=<SumBackward0>)"


def test_out_argument_refuses_autograd():
    x = t64([1.0, 2.0])
    out = ft.zeros(2, dtype=ft.float64)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
        ft.exp(x, out=out)
    with ft.no_grad():
        ft.exp(x, out=out)
    np.testing.assert_allclose(out.numpy(), np.exp([1.0, 2.0]))
