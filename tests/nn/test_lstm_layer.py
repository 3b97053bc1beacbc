"""The native LSTM layer (`_C._lstm_layer`: time loop and BPTT in Rust) against a float64 NumPy
recurrence, through gradcheck (fused backward) and gradgradcheck (recorded backward), on
padded and packed batch sizes in both directions."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import _C, nn
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import assert_close, make


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_layer(x, h0, c0, w_hh, batch_sizes, reverse):
    """Packed-layout reference: x (N, 4H) projected input, states (B, H)."""
    x, h, c, w = (np.asarray(a, np.float64) for a in (x, h0, c0, w_hh))
    h, c = h.copy(), c.copy()
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(int)
    out = np.empty((x.shape[0], h.shape[1]))
    order = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
    for t in order:
        n, off = batch_sizes[t], offsets[t]
        i, f, g, o = np.split(x[off:off + n] + h[:n] @ w.T, 4, axis=1)
        c[:n] = sigmoid(f) * c[:n] + sigmoid(i) * np.tanh(g)
        h[:n] = sigmoid(o) * np.tanh(c[:n])
        out[off:off + n] = h[:n]
    return out, h, c


def inputs(rng, batch_sizes, batch, hidden, dtype=ft.float64, layout="contiguous", requires_grad=False):
    rows = sum(batch_sizes)
    arrays = [make(shape, dtype, rng, layout, -1, 1)
              for shape in ((rows, 4 * hidden), (batch, hidden), (batch, hidden), (4 * hidden, hidden))]
    tensors = [t.requires_grad_() if requires_grad else t for t, _ in arrays]
    return tensors, [a for _, a in arrays]


SIZES = [([3, 3, 3], 3), ([4, 3, 3, 1], 4), ([2, 1], 3)]


@pytest.mark.parametrize("batch_sizes,batch", SIZES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_forward_matches_numpy(batch_sizes, batch, reverse, layout, rng):
    tensors, arrays = inputs(rng, batch_sizes, batch, 5, layout=layout)
    out, h, c = _C._lstm_layer(*tensors, batch_sizes, reverse)
    ref = np_layer(*arrays, batch_sizes, reverse)
    for got, want in zip((out, h, c), ref):
        assert_close(got, want)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float16, ft.bfloat16])
def test_reduced_precision_matches_float64_reference(dtype, rng):
    tensors, arrays = inputs(rng, [3, 2], 3, 4, dtype=dtype)
    got = _C._lstm_layer(*tensors, [3, 2], False)
    assert all(t.dtype == dtype for t in got)
    for g, want in zip(got, np_layer(*arrays, [3, 2], False)):
        assert_close(g, want, dtype=dtype)


def test_state_rows_not_run_keep_their_values(rng):
    # Sequence 2 of 3 is never run: its final states are its initial states, in both directions.
    tensors, _ = inputs(rng, [2, 2], 3, 2)
    for reverse in (False, True):
        _, h, c = _C._lstm_layer(*tensors, [2, 2], reverse)
        assert_close(h[2], tensors[1][2].numpy())
        assert_close(c[2], tensors[2][2].numpy())


def test_no_steps_returns_initial_states(rng):
    (_, h0, c0, w), _ = inputs(rng, [1], 2, 3)
    out, h, c = _C._lstm_layer(ft.zeros(0, 12, dtype=ft.float64), h0, c0, w, [], False)
    assert out.shape == (0, 3)
    assert_close(h, h0.numpy())
    assert_close(c, c0.numpy())


def test_nan_stays_in_its_sequence(rng):
    (x, h0, c0, w), _ = inputs(rng, [2, 2], 2, 3)
    x = x.clone()
    x[1, 0] = float("nan")  # step 0, sequence 1
    out, h, c = _C._lstm_layer(x, h0, c0, w, [2, 2], False)
    # Sequence 1's unit 0 turns NaN, then through W_hh all its later values; sequence 0 never mixes with it.
    got = out.numpy()
    assert np.isnan(got[1, 0]) and np.isfinite(got[1, 1:]).all() and np.isnan(got[3]).all()
    assert np.isfinite(got[[0, 2]]).all()
    assert np.isnan(h.numpy()[1]).all() and np.isfinite(h.numpy()[0]).all()


@pytest.mark.parametrize("batch_sizes,batch", SIZES)
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_fused_backward(batch_sizes, batch, reverse, rng):
    tensors, _ = inputs(rng, batch_sizes, batch, 2, requires_grad=True)
    assert gradcheck(lambda *t: _C._lstm_layer(*t, batch_sizes, reverse), tensors)


def test_gradcheck_of_final_state_alone(rng):
    # The output's gradient never arrives: the backward must treat it as zeros.
    tensors, _ = inputs(rng, [3, 2], 3, 2, requires_grad=True)
    assert gradcheck(lambda *t: _C._lstm_layer(*t, [3, 2], True)[1], tensors)


@pytest.mark.parametrize("reverse", [False, True])
def test_gradgradcheck_recorded_backward(reverse, rng):
    tensors, _ = inputs(rng, [2, 1], 2, 2, requires_grad=True)
    assert gradgradcheck(lambda *t: _C._lstm_layer(*t, [2, 1], reverse), tensors)


def test_fused_and_recorded_backward_agree(rng):
    tensors, _ = inputs(rng, [3, 3, 2], 3, 4, requires_grad=True)
    out, h, c = _C._lstm_layer(*tensors, [3, 3, 2], False)
    loss = (out * out).sum() + h.sum() + (c * 2).sum()
    fused = ft.autograd.grad(loss, tensors, retain_graph=True)
    recorded = ft.autograd.grad(loss, tensors, create_graph=True)
    for a, b in zip(fused, recorded):
        assert_close(a, b.detach().numpy())


def test_graph_is_one_node_per_layer(rng):
    tensors, _ = inputs(rng, [2, 2], 2, 2, requires_grad=True)
    out, _, _ = _C._lstm_layer(*tensors, [2, 2], False)
    assert out.grad_fn.name() == "LstmLayerBackward0"
    out.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        out.sum().backward()


def test_lstm_module_gradcheck_through_native_layers(rng):
    ft.manual_seed(0)
    module = nn.LSTM(2, 2, num_layers=2, bidirectional=True, dtype=ft.float64)
    x = ft.tensor(rng.uniform(-1, 1, (3, 2, 2))).requires_grad_()
    h0 = ft.tensor(rng.uniform(-1, 1, (4, 2, 2))).requires_grad_()
    c0 = ft.tensor(rng.uniform(-1, 1, (4, 2, 2))).requires_grad_()

    def run(x, h0, c0, *weights):
        out, (h, c) = module(x, (h0, c0))
        return out, h, c

    assert gradcheck(run, (x, h0, c0, *module.parameters()))


@pytest.mark.parametrize("args,match", [
    (((5, 8), (2, 2), (2, 2), (8, 2), [3, 2]), r"sum to the input's 5 rows"),
    (((5, 8), (2, 2), (2, 2), (8, 2), [2, 3]), r"non-increasing"),
    (((4, 8), (2, 2), (2, 2), (8, 2), [4]), r"at most the batch size 2"),
    (((4, 6), (2, 2), (2, 2), (8, 2), [2, 2]), r"input \[4, 6\].*weight_hh \[8, 2\]"),
    (((4, 8), (2, 2), (2, 3), (8, 2), [2, 2]), r"c0 \[2, 3\]"),
])
def test_bad_shapes_raise_with_shapes(args, match):
    *shapes, sizes = args
    tensors = [ft.zeros(*s, dtype=ft.float64) for s in shapes]
    with pytest.raises(RuntimeError, match=match):
        _C._lstm_layer(*tensors, sizes, False)


def test_integer_inputs_raise():
    tensors = [ft.zeros(*s, dtype=ft.int64) for s in ((2, 8), (1, 2), (1, 2), (8, 2))]
    with pytest.raises(RuntimeError, match="floating-point"):
        _C._lstm_layer(*tensors, [1, 1], False)


@pytest.mark.parametrize("reverse", [False, True])
def test_batch_split_across_threads_matches_numpy_and_recorded_backward(reverse, rng):
    # Large enough that the batch's sequences split into parts run on separate threads.
    sizes, previous = [24, 24, 24, 20, 17, 9, 9, 3, 1], ft.get_num_threads()
    ft.set_num_threads(2)
    try:
        tensors, arrays = inputs(rng, sizes, 24, 48, requires_grad=True)
        out, h, c = _C._lstm_layer(*tensors, sizes, reverse)
        for got, want in zip((out, h, c), np_layer(*[a for a in arrays], sizes, reverse)):
            assert_close(got, want)
        loss = (out * out).sum() + h.sum() + c.sum()
        fused = ft.autograd.grad(loss, tensors, retain_graph=True)
        recorded = ft.autograd.grad(loss, tensors, create_graph=True)
        for a, b in zip(fused, recorded):
            assert_close(a, b.detach().numpy())
    finally:
        ft.set_num_threads(previous)
