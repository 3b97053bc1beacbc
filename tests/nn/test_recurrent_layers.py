"""The native recurrent layers (`_C._lstm_layer`, `_C._gru_layer`: time loop and BPTT in Rust)
against float64 NumPy recurrences, through gradcheck (fused backward) and gradgradcheck
(recorded backward), on padded and packed batch sizes in both directions; GRU with and without
its hidden bias."""

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import _C, nn
from ferrotorch.autograd import gradcheck, gradgradcheck

from conftest import assert_close, make


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def packed_steps(batch_sizes, reverse):
    """(first row, rows) of every step, in the order the layer runs them."""
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(int)
    order = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
    return [(offsets[t], batch_sizes[t]) for t in order]


class Lstm:
    """`_C._lstm_layer(x (N, 4H), h0, c0, w_hh, batch_sizes, reverse) -> (out, h_n, c_n)`."""
    gates, states, node = 4, ("h0", "c0"), "LstmLayerBackward0"

    @staticmethod
    def shapes(rows, batch, hidden, bias):
        return [(rows, 4 * hidden), (batch, hidden), (batch, hidden), (4 * hidden, hidden)]

    @staticmethod
    def run(tensors, batch_sizes, reverse):
        return _C._lstm_layer(*tensors, batch_sizes, reverse)

    @staticmethod
    def reference(arrays, batch_sizes, reverse):
        x, h, c, w = (np.asarray(a, np.float64) for a in arrays)
        h, c, out = h.copy(), c.copy(), np.empty((x.shape[0], h.shape[1]))
        for off, n in packed_steps(batch_sizes, reverse):
            i, f, g, o = np.split(x[off:off + n] + h[:n] @ w.T, 4, axis=1)
            c[:n] = sigmoid(f) * c[:n] + sigmoid(i) * np.tanh(g)
            h[:n] = sigmoid(o) * np.tanh(c[:n])
            out[off:off + n] = h[:n]
        return out, h, c


class Gru:
    """`_C._gru_layer(x (N, 3H), h0, w_hh, b_hh or None, batch_sizes, reverse) -> (out, h_n)`."""
    gates, states, node = 3, ("h0",), "GruLayerBackward0"

    @staticmethod
    def shapes(rows, batch, hidden, bias):
        return [(rows, 3 * hidden), (batch, hidden), (3 * hidden, hidden)] + ([(3 * hidden,)] if bias else [])

    @staticmethod
    def run(tensors, batch_sizes, reverse):
        x, h0, w, *b = tensors
        return _C._gru_layer(x, h0, w, b[0] if b else None, batch_sizes, reverse)

    @staticmethod
    def reference(arrays, batch_sizes, reverse):
        x, h, w = (np.asarray(a, np.float64) for a in arrays[:3])
        b = np.asarray(arrays[3], np.float64) if len(arrays) > 3 else np.zeros(w.shape[0])
        h, out = h.copy(), np.empty((x.shape[0], h.shape[1]))
        for off, n in packed_steps(batch_sizes, reverse):
            xr, xz, xn = np.split(x[off:off + n], 3, axis=1)
            hr, hz, hn = np.split(h[:n] @ w.T + b, 3, axis=1)
            r, z = sigmoid(xr + hr), sigmoid(xz + hz)
            new = np.tanh(xn + r * hn)
            h[:n] = (1 - z) * new + z * h[:n]
            out[off:off + n] = h[:n]
        return out, h


# GRU runs with and without its hidden bias.
KINDS = [pytest.param(Lstm, False, id="lstm"), pytest.param(Gru, True, id="gru"), pytest.param(Gru, False, id="gru-nobias")]


def inputs(kind, bias, rng, batch_sizes, batch, hidden, dtype=ft.float64, layout="contiguous", requires_grad=False):
    arrays = [make(shape, dtype, rng, layout, -1, 1) for shape in kind.shapes(sum(batch_sizes), batch, hidden, bias)]
    tensors = [t.requires_grad_() if requires_grad else t for t, _ in arrays]
    return tensors, [a for _, a in arrays]


SIZES = [([3, 3, 3], 3), ([4, 3, 3, 1], 4), ([2, 1], 3)]


@pytest.mark.parametrize("kind,bias", KINDS)
@pytest.mark.parametrize("batch_sizes,batch", SIZES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_forward_matches_numpy(kind, bias, batch_sizes, batch, reverse, layout, rng):
    tensors, arrays = inputs(kind, bias, rng, batch_sizes, batch, 5, layout=layout)
    got = kind.run(tensors, batch_sizes, reverse)
    for g, want in zip(got, kind.reference(arrays, batch_sizes, reverse)):
        assert_close(g, want)


@pytest.mark.parametrize("kind,bias", KINDS)
@pytest.mark.parametrize("dtype", [ft.float32, ft.float16, ft.bfloat16])
def test_reduced_precision_matches_float64_reference(kind, bias, dtype, rng):
    tensors, arrays = inputs(kind, bias, rng, [3, 2], 3, 4, dtype=dtype)
    got = kind.run(tensors, [3, 2], False)
    assert all(t.dtype == dtype for t in got)
    for g, want in zip(got, kind.reference(arrays, [3, 2], False)):
        assert_close(g, want, dtype=dtype)


def test_broadcast_gru_bias_view_matches_numpy(rng):
    # A bias that is a stride-0 view (an expanded scalar) reads like a dense one.
    (x, h0, w, _), arrays = inputs(Gru, True, rng, [2, 2], 2, 3)
    b = ft.tensor(0.25, dtype=ft.float64).expand(9)
    got = Gru.run([x, h0, w, b], [2, 2], False)
    for g, want in zip(got, Gru.reference(arrays[:3] + [np.full(9, 0.25)], [2, 2], False)):
        assert_close(g, want)


@pytest.mark.parametrize("kind,bias", KINDS)
def test_state_rows_not_run_keep_their_values(kind, bias, rng):
    # Sequence 2 of 3 is never run: its final states are its initial states, in both directions.
    tensors, _ = inputs(kind, bias, rng, [2, 2], 3, 2)
    for reverse in (False, True):
        finals = kind.run(tensors, [2, 2], reverse)[1:]
        for k, final in enumerate(finals):
            assert_close(final[2], tensors[1 + k][2].numpy())


@pytest.mark.parametrize("kind,bias", KINDS)
def test_no_steps_returns_initial_states(kind, bias, rng):
    tensors, _ = inputs(kind, bias, rng, [1], 2, 3)
    tensors[0] = ft.zeros(0, 3 * kind.gates, dtype=ft.float64)
    out, *finals = kind.run(tensors, [], False)
    assert out.shape == (0, 3)
    for k, final in enumerate(finals):
        assert_close(final, tensors[1 + k].numpy())


@pytest.mark.parametrize("kind,bias", KINDS)
def test_nan_stays_in_its_sequence(kind, bias, rng):
    tensors, _ = inputs(kind, bias, rng, [2, 2], 2, 3)
    tensors[0] = tensors[0].clone()
    tensors[0][1, 0] = float("nan")  # step 0, sequence 1
    out, h = kind.run(tensors, [2, 2], False)[:2]
    # Sequence 1's unit 0 turns NaN, then through W_hh all its later values; sequence 0 never mixes with it.
    got = out.numpy()
    assert np.isnan(got[1, 0]) and np.isfinite(got[1, 1:]).all() and np.isnan(got[3]).all()
    assert np.isfinite(got[[0, 2]]).all()
    assert np.isnan(h.numpy()[1]).all() and np.isfinite(h.numpy()[0]).all()


def test_infinite_gru_input_saturates_like_the_reference(rng):
    tensors, arrays = inputs(Gru, True, rng, [2, 2], 2, 3)
    tensors[0] = tensors[0].clone()
    tensors[0][1, 6] = arrays[0][1, 6] = float("inf")  # the new gate of unit 0: tanh(inf) = 1
    for g, want in zip(Gru.run(tensors, [2, 2], False), Gru.reference(arrays, [2, 2], False)):
        assert np.isfinite(g.numpy()).all()
        assert_close(g, want)


@pytest.mark.parametrize("kind,bias", KINDS)
@pytest.mark.parametrize("batch_sizes,batch", SIZES)
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_fused_backward(kind, bias, batch_sizes, batch, reverse, rng):
    tensors, _ = inputs(kind, bias, rng, batch_sizes, batch, 2, requires_grad=True)
    assert gradcheck(lambda *t: kind.run(t, batch_sizes, reverse), tensors)


@pytest.mark.parametrize("kind,bias", KINDS)
def test_gradcheck_of_final_state_alone(kind, bias, rng):
    # The output's gradient never arrives: the backward must treat it as zeros.
    tensors, _ = inputs(kind, bias, rng, [3, 2], 3, 2, requires_grad=True)
    assert gradcheck(lambda *t: kind.run(t, [3, 2], True)[1], tensors)


@pytest.mark.parametrize("kind,bias", KINDS)
@pytest.mark.parametrize("reverse", [False, True])
def test_gradgradcheck_recorded_backward(kind, bias, reverse, rng):
    tensors, _ = inputs(kind, bias, rng, [2, 1], 2, 2, requires_grad=True)
    assert gradgradcheck(lambda *t: kind.run(t, [2, 1], reverse), tensors)


def loss_of(outs):
    """A loss that weighs every output differently."""
    return sum((o * o).sum() if k == 0 else (o * (k + 1)).sum() for k, o in enumerate(outs))


@pytest.mark.parametrize("kind,bias", KINDS)
def test_fused_and_recorded_backward_agree(kind, bias, rng):
    tensors, _ = inputs(kind, bias, rng, [3, 3, 2], 3, 4, requires_grad=True)
    loss = loss_of(kind.run(tensors, [3, 3, 2], False))
    fused = ft.autograd.grad(loss, tensors, retain_graph=True)
    recorded = ft.autograd.grad(loss, tensors, create_graph=True)
    for a, b in zip(fused, recorded):
        assert_close(a, b.detach().numpy())


@pytest.mark.parametrize("kind,bias", KINDS)
def test_graph_is_one_node_per_layer(kind, bias, rng):
    tensors, _ = inputs(kind, bias, rng, [2, 2], 2, 2, requires_grad=True)
    out = kind.run(tensors, [2, 2], False)[0]
    assert out.grad_fn.name() == kind.node
    out.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        out.sum().backward()


def test_only_the_state_requires_grad(rng):
    # Weights frozen: the node still records and gives h0 its gradient alone (finite differences
    # of the float64 reference).
    tensors, arrays = inputs(Gru, True, rng, [2, 2], 2, 3)
    tensors[1].requires_grad_()
    (grad,) = ft.autograd.grad(loss_of(Gru.run(tensors, [2, 2], False)), [tensors[1]])
    eps, total = 1e-6, lambda a: float(loss_of(Gru.reference(a, [2, 2], False)))  # noqa: E731
    numeric = np.zeros_like(arrays[1])
    for i in np.ndindex(*arrays[1].shape):
        bumped = [a.copy() for a in arrays]
        bumped[1][i] += eps
        numeric[i] = (total(bumped) - total(arrays)) / eps
    assert_close(grad, numeric, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_module_gradcheck_through_native_layers(mode, bidirectional, rng):
    ft.manual_seed(0)
    module = getattr(nn, mode)(2, 2, num_layers=2, bidirectional=bidirectional, bias=not bidirectional, dtype=ft.float64)
    layers = 4 if bidirectional else 2
    x = ft.tensor(rng.uniform(-1, 1, (3, 2, 2))).requires_grad_()
    states = [ft.tensor(rng.uniform(-1, 1, (layers, 2, 2))).requires_grad_() for _ in range(2 if mode == "LSTM" else 1)]

    def run(x, *rest):
        out, finals = module(x, tuple(rest[:len(states)]) if mode == "LSTM" else rest[0])
        return (out, *finals) if mode == "LSTM" else (out, finals)

    assert gradcheck(run, (x, *states, *module.parameters()))


def test_gru_module_matches_cell_steps(rng):
    # The native layer and GRUCell (the fused cell, one Python step each) agree.
    ft.manual_seed(0)
    module = nn.GRU(3, 4, dtype=ft.float64)
    cell = nn.GRUCell(3, 4, dtype=ft.float64)
    cell.load_state_dict({k[:-3]: v for k, v in module.state_dict().items()})
    x = ft.tensor(rng.uniform(-1, 1, (5, 2, 3)))
    out, h = module(x)
    state = ft.zeros(2, 4, dtype=ft.float64)
    for t in range(5):
        state = cell(x[t], state)
        assert_close(out[t], state.numpy())
    assert_close(h[0], state.numpy())


@pytest.mark.parametrize("kind,args,match", [
    (Lstm, ((5, 8), (2, 2), (2, 2), (8, 2), [3, 2]), r"sum to the input's 5 rows"),
    (Lstm, ((5, 8), (2, 2), (2, 2), (8, 2), [2, 3]), r"non-increasing"),
    (Lstm, ((4, 8), (2, 2), (2, 2), (8, 2), [4]), r"at most the batch size 2"),
    (Lstm, ((4, 6), (2, 2), (2, 2), (8, 2), [2, 2]), r"input \[4, 6\].*weight_hh \[8, 2\]"),
    (Lstm, ((4, 8), (2, 2), (2, 3), (8, 2), [2, 2]), r"c0 \[2, 3\]"),
    (Gru, ((5, 6), (2, 2), (6, 2), (6,), [3, 2]), r"sum to the input's 5 rows"),
    (Gru, ((4, 8), (2, 2), (6, 2), (6,), [2, 2]), r"gru_layer: expected input \[N, 3 \* H\].*input \[4, 8\].*weight_hh \[6, 2\]"),
    (Gru, ((4, 6), (2, 2), (6, 2), (5,), [2, 2]), r"bias_hh \[5\]"),
])
def test_bad_shapes_raise_with_shapes(kind, args, match):
    *shapes, sizes = args
    with pytest.raises(RuntimeError, match=match):
        kind.run([ft.zeros(*s, dtype=ft.float64) for s in shapes], sizes, False)


@pytest.mark.parametrize("kind,bias", KINDS)
def test_integer_inputs_raise(kind, bias):
    tensors = [ft.zeros(*s, dtype=ft.int64) for s in kind.shapes(2, 1, 2, bias)]
    with pytest.raises(RuntimeError, match="floating-point"):
        kind.run(tensors, [1, 1], False)


@pytest.mark.parametrize("kind,bias", KINDS)
@pytest.mark.parametrize("reverse", [False, True])
def test_batch_split_across_threads_matches_numpy_and_recorded_backward(kind, bias, reverse, rng):
    # Large enough that the batch's sequences split into parts run on separate threads.
    sizes, previous = [24, 24, 24, 20, 17, 9, 9, 3, 1], ft.get_num_threads()
    ft.set_num_threads(2)
    try:
        tensors, arrays = inputs(kind, bias, rng, sizes, 24, 48, requires_grad=True)
        got = kind.run(tensors, sizes, reverse)
        for g, want in zip(got, kind.reference(arrays, sizes, reverse)):
            assert_close(g, want)
        loss = loss_of(got)
        fused = ft.autograd.grad(loss, tensors, retain_graph=True)
        recorded = ft.autograd.grad(loss, tensors, create_graph=True)
        for a, b in zip(fused, recorded):
            assert_close(a, b.detach().numpy())
    finally:
        ft.set_num_threads(previous)
