"""``ferrotorch.utils.checkpoint``: gradients equal to the plain computation's, RNG replay,
keyword arguments, several outputs, memory (activations inside are not kept), both variants."""

import contextlib
import gc
import weakref

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn.functional as F
from ferrotorch import nn
from ferrotorch.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

VARIANTS = [pytest.param(True, id="reentrant"), pytest.param(False, id="non_reentrant")]


def leaves(rng, *shapes):
    return [ft.from_numpy(rng.normal(size=s)).requires_grad_() for s in shapes]


def grads_of(tensors):
    return [t.grad.numpy().copy() for t in tensors]


def assert_same(actual, expected):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-14)


def block(x, w1, w2):
    return (x @ w1).tanh() @ w2


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_gradients_equal_the_plain_computation(rng, use_reentrant):
    x, w1, w2 = leaves(rng, (4, 3), (3, 5), (5, 2))
    block(x, w1, w2).sin().sum().backward()
    expected = grads_of([x, w1, w2])
    for t in (x, w1, w2):
        t.grad = None
    out = checkpoint(block, x, w1, w2, use_reentrant=use_reentrant)
    np.testing.assert_array_equal(out.detach().numpy(), block(x, w1, w2).detach().numpy())
    out.sin().sum().backward()
    assert_same(grads_of([x, w1, w2]), expected)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_parameters_of_a_checkpointed_module_get_gradients(rng, use_reentrant):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    x = ft.from_numpy(rng.normal(size=(5, 3))).requires_grad_()
    model(x).pow(2).sum().backward()
    expected = grads_of([x, *model.parameters()])
    model.zero_grad()
    x.grad = None
    checkpoint(model, x, use_reentrant=use_reentrant).pow(2).sum().backward()
    assert_same(grads_of([x, *model.parameters()]), expected)


def test_autograd_grad_works_through_the_non_reentrant_variant(rng):
    linear = nn.Linear(3, 2).double()
    x = ft.from_numpy(rng.normal(size=(4, 3))).requires_grad_()
    expected = ft.autograd.grad(linear(x).exp().sum(), [x, linear.weight])
    got = ft.autograd.grad(checkpoint(linear, x, use_reentrant=False).exp().sum(), [x, linear.weight])
    assert_same([g.numpy() for g in got], [g.numpy() for g in expected])
    assert linear.weight.grad is None


def test_double_backward_through_the_non_reentrant_variant(rng):
    x, = leaves(rng, (3,))
    expected, = ft.autograd.grad(ft.autograd.grad(x.sin().pow(3).sum(), x, create_graph=True)[0].sum(), x)
    first, = ft.autograd.grad(checkpoint(lambda t: t.sin().pow(3), x, use_reentrant=False).sum(), x,
                              create_graph=True)
    second, = ft.autograd.grad(first.sum(), x)
    assert_same([second.numpy()], [expected.numpy()])


def dropout_block(x, w):
    return F.dropout((x @ w).relu(), p=0.5, training=True) @ w.t()


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_dropout_is_recomputed_with_the_same_mask(rng, use_reentrant):
    x, w = leaves(rng, (6, 4), (4, 4))
    ft.manual_seed(0)
    dropout_block(x, w).sum().backward()
    expected, after_plain = grads_of([x, w]), ft.rand(3).numpy()
    x.grad = w.grad = None
    ft.manual_seed(0)
    checkpoint(dropout_block, x, w, use_reentrant=use_reentrant).sum().backward()
    assert_same(grads_of([x, w]), expected)
    # The recomputation in backward leaves the random stream where the plain run left it.
    np.testing.assert_array_equal(ft.rand(3).numpy(), after_plain)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_without_preserve_rng_state_the_mask_is_drawn_again(rng, use_reentrant):
    x, w = leaves(rng, (8, 4), (4, 4))
    ft.manual_seed(0)
    dropout_block(x, w).sum().backward()
    expected = grads_of([x, w])
    x.grad = w.grad = None
    ft.manual_seed(0)
    checkpoint(dropout_block, x, w, use_reentrant=use_reentrant, preserve_rng_state=False).sum().backward()
    assert not np.allclose(grads_of([x, w])[1], expected[1])


def scaled(x, w, *, scale, shift=0.0):
    return (x * w).sin() * scale + shift


def test_keyword_arguments_non_reentrant(rng):
    x, w = leaves(rng, (3,), (3,))
    scaled(x, w, scale=2.5, shift=1.0).sum().backward()
    expected = grads_of([x, w])
    x.grad = w.grad = None
    checkpoint(scaled, x, w, scale=2.5, shift=1.0, use_reentrant=False).sum().backward()
    assert_same(grads_of([x, w]), expected)


def test_keyword_arguments_are_refused_by_the_reentrant_variant(rng):
    x, w = leaves(rng, (3,), (3,))
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(scaled, x, w, scale=2.0, use_reentrant=True)


def two_outputs(x, w):
    h = x @ w
    return h.tanh(), h.exp().sum(dim=1), h.argmax(dim=1)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
@pytest.mark.parametrize("used", [(0, 1), (1,)], ids=["both", "second_only"])
def test_multiple_outputs(rng, use_reentrant, used):
    x, w = leaves(rng, (4, 3), (3, 3))

    def loss(outputs):
        return sum(outputs[i].pow(2).sum() for i in used)

    loss(two_outputs(x, w)).backward()
    expected = grads_of([x, w])
    x.grad = w.grad = None
    outputs = checkpoint(two_outputs, x, w, use_reentrant=use_reentrant)
    assert outputs[2].dtype == ft.int64 and not outputs[2].requires_grad
    loss(outputs).backward()
    assert_same(grads_of([x, w]), expected)


def test_input_not_requiring_grad_non_reentrant_still_trains_parameters(rng):
    linear = nn.Linear(3, 2).double()
    x = ft.from_numpy(rng.normal(size=(4, 3)))
    linear(x).sum().backward()
    expected = grads_of(list(linear.parameters()))
    linear.zero_grad()
    out = checkpoint(linear, x, use_reentrant=False)
    assert out.requires_grad
    out.sum().backward()
    assert_same(grads_of(list(linear.parameters())), expected)


def test_input_not_requiring_grad_reentrant_warns_and_records_nothing(rng):
    linear = nn.Linear(3, 2).double()
    x = ft.from_numpy(rng.normal(size=(4, 3)))
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
        out = checkpoint(linear, x, use_reentrant=True)
    assert not out.requires_grad


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_non_tensor_arguments_pass_through(rng, use_reentrant):
    x, = leaves(rng, (3,))

    def fn(t, power, mode):
        return t.pow(power).sum() if mode == "sum" else t

    checkpoint(fn, x, 3, "sum", use_reentrant=use_reentrant).backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.detach().numpy() ** 2, rtol=1e-12)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_under_no_grad_it_just_runs(rng, use_reentrant):
    x, w1, w2 = leaves(rng, (2, 3), (3, 3), (3, 1))
    with ft.no_grad():
        out = checkpoint(block, x, w1, w2, use_reentrant=use_reentrant)
    assert not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), block(x, w1, w2).detach().numpy())


class Saving(ft.autograd.Function):
    """exp that saves its input for backward: each live context holds one saved activation.
    (It saves its input, not its output: a context holding its own node's output forms a cycle
    through the Rust graph that outlives a graph dropped without backward.)"""

    live = weakref.WeakSet()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        Saving.live.add(ctx)
        return x.exp()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x.exp()


def saving_chain(x):
    return Saving.apply(Saving.apply(x * 0.5) * 0.5)


def live_saved_activations():
    gc.collect()
    return len(Saving.live)


def test_the_plain_computation_keeps_its_activations(rng):
    x, = leaves(rng, (4,))
    out = saving_chain(x)
    assert live_saved_activations() == 2
    out.sum().backward()
    del out
    assert live_saved_activations() == 0


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_checkpointed_activations_are_not_kept(rng, use_reentrant):
    x, = leaves(rng, (4,))
    saving_chain(x).sum().backward()
    expected = grads_of([x])
    x.grad = None
    out = checkpoint(saving_chain, x, use_reentrant=use_reentrant)
    assert live_saved_activations() == 0
    out.sum().backward()
    assert_same(grads_of([x]), expected)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential_equals_the_plain_model(rng, use_reentrant, segments):
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 5), nn.GELU(), nn.Linear(5, 2), nn.Sigmoid())
    model = model.double()
    x = ft.from_numpy(rng.normal(size=(4, 3))).requires_grad_()
    expected_out = model(x)
    expected_out.sum().backward()
    expected = grads_of([x, *model.parameters()])
    model.zero_grad()
    x.grad = None
    out = checkpoint_sequential(model, segments, x, use_reentrant=use_reentrant)
    np.testing.assert_allclose(out.detach().numpy(), expected_out.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    assert_same(grads_of([x, *model.parameters()]), expected)


def test_checkpoint_sequential_takes_a_list_of_functions(rng):
    x, = leaves(rng, (3,))
    out = checkpoint_sequential([ft.sin, ft.exp, ft.tanh, ft.cos], 2, x, use_reentrant=False)
    out.sum().backward()
    y = x.detach().numpy()
    t = np.tanh(np.exp(np.sin(y)))
    expected = -np.sin(t) * (1 - t ** 2) * np.exp(np.sin(y)) * np.cos(y)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_checkpoint_sequential_rejects_unknown_keywords(rng):
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential([ft.sin], 1, leaves(rng, (2,))[0], use_reentrant=False, foo=1)


def test_missing_use_reentrant_warns_and_means_reentrant(rng):
    x, = leaves(rng, (2,))
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        out = checkpoint(ft.sin, x)
    assert out.grad_fn.name() == "CheckpointFunctionBackward"
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter"):
        checkpoint_sequential([ft.sin], 1, x)


def test_context_fn_is_only_for_the_non_reentrant_variant(rng):
    x, = leaves(rng, (2,))

    def context_fn():
        return contextlib.nullcontext(), contextlib.nullcontext()

    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(ft.sin, x, use_reentrant=True, context_fn=context_fn)


def test_context_fn_wraps_the_forward_and_the_recomputation(rng):
    x, = leaves(rng, (2,))
    entered = []

    @contextlib.contextmanager
    def note(phase):
        entered.append(phase)
        yield

    out = checkpoint(ft.sin, x, use_reentrant=False, context_fn=lambda: (note("forward"), note("recompute")))
    assert entered == ["forward"]
    out.sum().backward()
    assert entered == ["forward", "recompute"]


def test_unknown_determinism_check_is_refused(rng):
    with pytest.raises(ValueError, match=r"determinism_check should be one of \['default', 'none'\], but got maybe"):
        checkpoint(ft.sin, leaves(rng, (2,))[0], use_reentrant=False, determinism_check="maybe")


def test_recomputation_with_other_shapes_is_detected(rng):
    x, = leaves(rng, (4,))
    calls = []

    def shrinking(t):
        calls.append(1)
        return t[: 5 - len(calls)].sin()

    out = checkpoint(shrinking, x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="Recomputed values for the following tensors have different metadata"):
        out.sum().backward()


def test_decorator_form(rng):
    x, w1, w2 = leaves(rng, (2, 3), (3, 3), (3, 1))

    @checkpoint(use_reentrant=False)
    def checkpointed(a, b, c):
        return block(a, b, c)

    checkpointed(x, w1, w2).sum().backward()
    expected_x = x.grad.numpy().copy()
    x.grad = None
    block(x, w1, w2).sum().backward()
    np.testing.assert_allclose(expected_x, x.grad.numpy(), rtol=1e-12)


def test_a_list_result_stays_a_list(rng):
    x, w = leaves(rng, (3,), (3,))
    (x * w).sin().sum().backward()
    expected = grads_of([x, w])
    x.grad = w.grad = None
    outputs = checkpoint(lambda a, b: [(a * b).sin(), a.sum()], x, w, use_reentrant=False)
    assert isinstance(outputs, list) and len(outputs) == 2
    outputs[0].sum().backward()
    assert_same(grads_of([x, w]), expected)
