"""RNN, LSTM, GRU and their cells against a float64 NumPy recurrence, and the sequence
packing utilities of nn.utils.rnn."""

import math

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.autograd import gradcheck
from ferrotorch.nn.utils import rnn as rnn_utils

from conftest import assert_close, make


# --- NumPy reference -------------------------------------------------------------------

def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr):
    """One step for one sequence: x (I,), h (H_out,), c (H,) -> (h, c)."""
    gi = w_ih @ x + (0 if b_ih is None else b_ih)
    gh = w_hh @ h + (0 if b_hh is None else b_hh)
    if mode == "RNN_TANH":
        return np.tanh(gi + gh), c
    if mode == "RNN_RELU":
        return np.maximum(gi + gh, 0), c
    if mode == "LSTM":
        i, f, g, o = np.split(gi + gh, 4)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        return (h if w_hr is None else w_hr @ h), c
    r_i, z_i, n_i = np.split(gi, 3)
    r_h, z_h, n_h = np.split(gh, 3)
    r, z = sigmoid(r_i + r_h), sigmoid(z_i + z_h)
    n = np.tanh(n_i + r * n_h)
    return (1 - z) * n + z * h, c


def np_params(module):
    """Per layer and direction: (w_ih, w_hh, b_ih, b_hh, w_hr) as float64 arrays (None if absent)."""
    out = []
    for names in module._all_weights:
        p = {n.split("_l")[0]: getattr(module, n).detach().double().numpy() for n in names}
        out.append(tuple(p.get(k) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")))
    return out


def np_recurrence(mode, seq, h0, c0, params, num_layers, num_directions):
    """One sequence (L, I) through the stack: output (L, D * H_out), h_n (L*D, H_out), c_n."""
    h_n, c_n = np.zeros_like(h0), np.zeros_like(c0)
    x = seq
    for layer in range(num_layers):
        outs = []
        for d in range(num_directions):
            k = layer * num_directions + d
            h, c = h0[k], c0[k]
            order = range(len(x) - 1, -1, -1) if d == 1 else range(len(x))
            out = [None] * len(x)
            for t in order:
                h, c = np_step(mode, x[t], h, c, *params[k])
                out[t] = h
            outs.append(np.stack(out))
            h_n[k], c_n[k] = h, c
        x = np.concatenate(outs, axis=1)
    return x, h_n, c_n


def state_shapes(module, batch):
    layers = module.num_layers * (2 if module.bidirectional else 1)
    h_out = module.proj_size or module.hidden_size
    return (layers, batch, h_out), (layers, batch, module.hidden_size)


CONFIGS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 2, "bidirectional": True, "batch_first": True}),
    ("GRU", {"batch_first": True, "bias": False}),
    ("GRU", {"num_layers": 2, "bidirectional": True}),
]
MODES = {"RNN": lambda kw: "RNN_RELU" if kw.get("nonlinearity") == "relu" else "RNN_TANH", "LSTM": lambda kw: "LSTM",
         "GRU": lambda kw: "GRU"}


def build(name, kwargs, input_size=3, hidden_size=4):
    ft.manual_seed(0)
    return getattr(nn, name)(input_size, hidden_size, dtype=ft.float64, **kwargs)


@pytest.mark.parametrize("name,kwargs", CONFIGS)
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_padded_batch_matches_numpy(name, kwargs, layout, rng):
    module = build(name, kwargs)
    steps, batch = 5, 3
    shape = (batch, steps, 3) if kwargs.get("batch_first") else (steps, batch, 3)
    x, xn = make(shape, ft.float64, rng, layout, -1, 1)
    h_shape, c_shape = state_shapes(module, batch)
    h0, h0n = make(h_shape, ft.float64, rng, "contiguous", -1, 1)
    c0, c0n = make(c_shape, ft.float64, rng, "contiguous", -1, 1)
    out, state = module(x, (h0, c0) if name == "LSTM" else h0)
    seqs = xn if kwargs.get("batch_first") else xn.transpose(1, 0, 2)
    ref = [np_recurrence(MODES[name](kwargs), seqs[b], h0n[:, b], c0n[:, b], np_params(module), module.num_layers,
                         2 if module.bidirectional else 1) for b in range(batch)]
    ref_out = np.stack([r[0] for r in ref], axis=0 if kwargs.get("batch_first") else 1)
    assert_close(out, ref_out)
    if name == "LSTM":
        assert_close(state[0], np.stack([r[1] for r in ref], 1))
        assert_close(state[1], np.stack([r[2] for r in ref], 1))
    else:
        assert_close(state, np.stack([r[1] for r in ref], 1))


@pytest.mark.parametrize("name,kwargs", [c for c in CONFIGS if c[1].get("bidirectional") or c[0] == "RNN"])
def test_packed_unsorted_batch_matches_numpy_per_sequence(name, kwargs, rng):
    module = build(name, kwargs)
    lengths = [3, 5, 1, 5]
    seqs = [rng.uniform(-1, 1, (n, 3)) for n in lengths]
    packed = rnn_utils.pack_sequence([ft.tensor(s) for s in seqs], enforce_sorted=False)
    h_shape, c_shape = state_shapes(module, len(lengths))
    h0n, c0n = rng.uniform(-1, 1, h_shape), rng.uniform(-1, 1, c_shape)
    out, state = module(packed, (ft.tensor(h0n), ft.tensor(c0n)) if name == "LSTM" else ft.tensor(h0n))
    assert isinstance(out, rnn_utils.PackedSequence)
    padded, out_lengths = rnn_utils.pad_packed_sequence(out, batch_first=True)
    assert out_lengths.tolist() == lengths
    h_n = state[0] if name == "LSTM" else state
    for b, seq in enumerate(seqs):
        ref_out, ref_h, ref_c = np_recurrence(MODES[name](kwargs), seq, h0n[:, b], c0n[:, b], np_params(module),
                                              module.num_layers, 2 if module.bidirectional else 1)
        assert_close(padded[b, : lengths[b]], ref_out)
        assert_close(h_n[:, b], ref_h)
        if name == "LSTM":
            assert_close(state[1][:, b], ref_c)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_matches_batch_of_one(name, rng):
    module = build(name, {"num_layers": 2})
    x, _ = make((4, 3), ft.float64, rng, "contiguous", -1, 1)
    out, state = module(x)
    batched_out, batched_state = module(x.unsqueeze(1))
    assert out.shape == (4, 4)
    assert_close(out, batched_out.squeeze(1).numpy())
    states = state if name == "LSTM" else (state,)
    batched = batched_state if name == "LSTM" else (batched_state,)
    for s, bs in zip(states, batched):
        assert s.shape == (2, 4)
        assert_close(s, bs.squeeze(1).numpy())


def test_float32_lstm_matches_float64_reference(rng):
    module = build("LSTM", {}).float()
    x, xn = make((6, 2, 3), ft.float32, rng, "strided", -1, 1)
    out, (h, c) = module(x)
    ref = [np_recurrence("LSTM", xn[:, b].astype(np.float64), np.zeros((1, 4)), np.zeros((1, 4)), np_params(module),
                         1, 1) for b in range(2)]
    assert out.dtype == ft.float32
    assert_close(out, np.stack([r[0] for r in ref], 1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
def test_half_precision_gru_loosely(dtype, rng):
    module = build("GRU", {}).to(dtype)
    x, xn = make((4, 2, 3), dtype, rng, "contiguous", -1, 1)
    out, _ = module(x)
    ref = [np_recurrence("GRU", xn[:, b].astype(np.float64), np.zeros((1, 4)), np.zeros((1, 4)), np_params(module),
                         1, 1) for b in range(2)]
    assert_close(out, np.stack([r[0] for r in ref], 1), dtype=dtype, rtol=3e-2, atol=3e-2)


def test_dropout_applies_between_layers_only_in_training(rng):
    module = build("GRU", {"num_layers": 2, "dropout": 0.5})
    x, _ = make((4, 2, 3), ft.float64, rng)
    module.eval()
    assert np.array_equal(module(x)[0].numpy(), module(x)[0].numpy())
    ft.manual_seed(1)
    module.train()
    train_out = module(x)[0]
    module.eval()
    assert not np.allclose(train_out.detach().numpy(), module(x)[0].detach().numpy())


@pytest.mark.parametrize("name,kwargs", [("LSTM", {"proj_size": 1}), ("GRU", {"bidirectional": True}),
                                         ("RNN", {"num_layers": 2})])
def test_gradcheck_wrt_input_state_and_weights(name, kwargs, rng):
    ft.manual_seed(0)
    module = getattr(nn, name)(2, 2, dtype=ft.float64, **kwargs)
    for p in module.parameters():
        p.requires_grad_()
    x = ft.tensor(rng.uniform(-1, 1, (3, 2, 2))).requires_grad_()
    h_shape, c_shape = state_shapes(module, 2)
    h0 = ft.tensor(rng.uniform(-1, 1, h_shape)).requires_grad_()
    c0 = ft.tensor(rng.uniform(-1, 1, c_shape)).requires_grad_()

    def run(x, h0, c0, *weights):
        out, state = module(x, (h0, c0) if name == "LSTM" else h0)
        return out, *(state if name == "LSTM" else (state,))

    assert gradcheck(run, (x, h0, c0, *module.parameters()))


def test_gradcheck_through_packed_sequence(rng):
    ft.manual_seed(0)
    module = nn.LSTM(2, 2, bidirectional=True, dtype=ft.float64)
    padded = ft.tensor(rng.uniform(-1, 1, (3, 3, 2))).requires_grad_()

    def run(padded):
        packed = rnn_utils.pack_padded_sequence(padded, [2, 3, 1], enforce_sorted=False)
        out, (h, c) = module(packed)
        return rnn_utils.pad_packed_sequence(out)[0], h, c

    assert gradcheck(run, (padded,))


# --- cells ------------------------------------------------------------------------------

@pytest.mark.parametrize("name,mode", [("RNNCell", "RNN_TANH"), ("LSTMCell", "LSTM"), ("GRUCell", "GRU")])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_matches_numpy_step(name, mode, bias, rng):
    cell = getattr(nn, name)(3, 4, bias=bias, dtype=ft.float64)
    x, xn = make((2, 3), ft.float64, rng, "transposed", -1, 1)
    h, hn = make((2, 4), ft.float64, rng, "contiguous", -1, 1)
    c, cn = make((2, 4), ft.float64, rng, "contiguous", -1, 1)
    out = cell(x, (h, c) if mode == "LSTM" else h)
    w = [getattr(cell, n).detach().numpy() if getattr(cell, n) is not None else None
         for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    ref = [np_step(mode, xn[b], hn[b], cn[b], *w, None) for b in range(2)]
    if mode == "LSTM":
        assert_close(out[0], np.stack([r[0] for r in ref]))
        assert_close(out[1], np.stack([r[1] for r in ref]))
    else:
        assert_close(out, np.stack([r[0] for r in ref]))


def test_rnn_cell_relu_and_unbatched_zero_state(rng):
    cell = nn.RNNCell(3, 2, nonlinearity="relu", dtype=ft.float64)
    x, xn = make((3,), ft.float64, rng, "contiguous", -1, 1)
    w_ih, b_ih, b_hh = (getattr(cell, n).detach().numpy() for n in ("weight_ih", "bias_ih", "bias_hh"))
    assert_close(cell(x), np.maximum(w_ih @ xn + b_ih + b_hh, 0))


def test_cell_gradcheck(rng):
    cell = nn.GRUCell(2, 2, dtype=ft.float64)
    x = ft.tensor(rng.uniform(-1, 1, (2, 2))).requires_grad_()
    h = ft.tensor(rng.uniform(-1, 1, (2, 2))).requires_grad_()
    assert gradcheck(lambda x, h, *w: cell(x, h), (x, h, *cell.parameters()))


def test_cell_errors():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match="Expected input to be 1D or 2D, got 3D"):
        cell(ft.zeros(1, 2, 3))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 3"):
        cell(ft.zeros(2, 5))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        cell(ft.zeros(2, 3), (ft.zeros(3, 4), ft.zeros(3, 4)))


# --- module structure -------------------------------------------------------------------

def test_parameter_names_shapes_and_order():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    shapes = [(n, tuple(p.shape)) for n, p in lstm.named_parameters()]
    assert shapes[:5] == [("weight_ih_l0", (20, 3)), ("weight_hh_l0", (20, 2)), ("bias_ih_l0", (20,)),
                          ("bias_hh_l0", (20,)), ("weight_hr_l0", (2, 5))]
    assert shapes[5][0] == "weight_ih_l0_reverse" and shapes[10] == ("weight_ih_l1", (20, 4))
    assert len(shapes) == 20
    assert [len(group) for group in lstm.all_weights] == [5, 5, 5, 5]
    gru = nn.GRU(3, 5, bias=False)
    assert [n for n, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]


def test_default_init_is_uniform_in_inverse_sqrt_hidden():
    lstm = nn.LSTM(50, 100)
    bound = 1 / math.sqrt(100)
    values = np.concatenate([p.detach().numpy().ravel() for p in lstm.parameters()])
    assert np.abs(values).max() <= bound
    assert abs(values.var() - bound**2 / 3) < 0.05 * bound**2 / 3


def test_reprs():
    assert repr(nn.LSTM(2, 3, 2, proj_size=1, bidirectional=True, dropout=0.5, batch_first=True, bias=False)) == (
        "LSTM(2, 3, proj_size=1, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)")
    assert repr(nn.RNNCell(2, 3, nonlinearity="relu")) == "RNNCell(2, 3, nonlinearity=relu)"
    assert repr(nn.GRU(2, 3)) == "GRU(2, 3)"


def test_constructor_errors():
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(2, 3, proj_size=1)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(2, 3, proj_size=3)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(2, 3, nonlinearity="gelu")
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(2, 3, dropout=1.5)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(2, 3, dropout=0.2)


def test_forward_errors():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D instead"):
        lstm(ft.zeros(1, 2, 3, 4))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        lstm(ft.zeros(2, 2, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 2, 4\), got \[1, 3, 4\]"):
        lstm(ft.zeros(2, 2, 3), (ft.zeros(1, 3, 4), ft.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match="hx and cx should also be 3-D but got \\(2-D, 3-D\\)"):
        lstm(ft.zeros(2, 2, 3), (ft.zeros(2, 4), ft.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="RNN input dtype"):
        lstm(ft.zeros(2, 2, 3, dtype=ft.float64))
    with pytest.raises(RuntimeError, match="Expected hidden size \\(1, 2, 4\\), got \\[1, 2, 5\\]"):
        nn.GRU(3, 4)(ft.zeros(2, 2, 3), ft.zeros(1, 2, 5))


# --- packing utilities -----------------------------------------------------------------

def test_pack_padded_sequence_layout(rng):
    x, xn = make((4, 3, 2), ft.float64, rng)
    packed = rnn_utils.pack_padded_sequence(x, [4, 2, 1])
    assert packed.batch_sizes.tolist() == [3, 2, 1, 1] and packed.batch_sizes.dtype == ft.int64
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    expected = np.concatenate([xn[0, :3], xn[1, :2], xn[2, :1], xn[3, :1]])
    assert_close(packed.data, expected)


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_pad_round_trip_unsorted(batch_first, rng):
    x, xn = make((3, 5, 2) if batch_first else (5, 3, 2), ft.float64, rng, "transposed")
    lengths = ft.tensor([2, 5, 3])
    packed = rnn_utils.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    assert packed.sorted_indices.tolist() == [1, 2, 0] and packed.unsorted_indices.tolist() == [2, 0, 1]
    padded, out_lengths = rnn_utils.pad_packed_sequence(packed, batch_first=batch_first, padding_value=-7.0,
                                                        total_length=6)
    assert out_lengths.tolist() == [2, 5, 3]
    expected = np.full((6, 3, 2), -7.0)
    seq_major = xn.transpose(1, 0, 2) if batch_first else xn
    for b, n in enumerate([2, 5, 3]):
        expected[:n, b] = seq_major[:n, b]
    assert_close(padded, expected.transpose(1, 0, 2) if batch_first else expected)


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence(padding_side, batch_first, rng):
    seqs = [rng.standard_normal((n, 2)) for n in (2, 4, 1)]
    out = rnn_utils.pad_sequence([ft.tensor(s) for s in seqs], batch_first, 9.0, padding_side)
    expected = np.full((3, 4, 2), 9.0)
    for b, s in enumerate(seqs):
        if padding_side == "right":
            expected[b, : len(s)] = s
        else:
            expected[b, 4 - len(s):] = s
    assert_close(out, expected if batch_first else expected.transpose(1, 0, 2))


def test_pack_and_unpack_sequence_round_trip(rng):
    seqs = [ft.tensor(rng.standard_normal((n, 3))) for n in (2, 5, 3)]
    packed = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
    for got, want in zip(rnn_utils.unpack_sequence(packed), seqs):
        assert_close(got, want.numpy())
    padded = rnn_utils.pad_sequence(seqs)
    for got, want in zip(rnn_utils.unpad_sequence(padded, ft.tensor([2, 5, 3])), seqs):
        assert_close(got, want.numpy())


def test_packed_sequence_casts_and_fields(rng):
    packed = rnn_utils.pack_sequence([ft.ones(3), ft.ones(2)])
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert packed.double().data.dtype == ft.float64 and packed.double().batch_sizes is batch_sizes
    assert packed.to(ft.float32) is packed


def test_gradcheck_pack_and_pad(rng):
    x = ft.tensor(rng.standard_normal((3, 2, 2))).requires_grad_()
    assert gradcheck(lambda x: rnn_utils.pack_padded_sequence(x, [3, 1]).data, (x,))
    seqs = [ft.tensor(rng.standard_normal((n, 2))).requires_grad_() for n in (1, 3)]
    assert gradcheck(lambda a, b: rnn_utils.pad_sequence([a, b], padding_side="left"), tuple(seqs))


def test_packing_errors():
    x = ft.zeros(4, 3, 2)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order when `enforce_sorted` is True"):
        rnn_utils.pack_padded_sequence(x, [4, 2, 3])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        rnn_utils.pack_padded_sequence(x, [4, 0, 2], enforce_sorted=False)
    with pytest.raises(RuntimeError, match=r"Expected `len\(lengths\)` to be equal to batch_size, but got 2"):
        rnn_utils.pack_padded_sequence(x, [4, 2])
    with pytest.raises(RuntimeError, match="'lengths' argument should be a 1D CPU int64 tensor"):
        rnn_utils.pack_padded_sequence(x, [[4, 2, 1]])
    with pytest.raises(RuntimeError, match="received an empty list of sequences"):
        rnn_utils.pad_sequence([])
    with pytest.raises(RuntimeError, match="Expected padding_side to be one of left or right, but got mid"):
        rnn_utils.pad_sequence([ft.ones(2)], padding_side="mid")
    packed = rnn_utils.pack_sequence([ft.ones(3), ft.ones(2)])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        rnn_utils.pad_packed_sequence(packed, total_length=2)
