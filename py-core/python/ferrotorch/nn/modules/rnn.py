"""Recurrent layers and cells: ``RNN``, ``LSTM``, ``GRU`` and their cells.

Per layer and direction the input of every time step is projected with one matmul. An LSTM
layer without projection and a GRU layer then run as one native op (``_C._lstm_layer``,
``_C._gru_layer``: the time loop and its backward in Rust, one graph node per layer, double
backward through recorded ops; on a GPU two launches a step). Elman RNNs and projected LSTMs
are composites over differentiable tensor ops: each step costs one matmul of the hidden state
with ``W_hh`` and one fused cell kernel. Every input, padded or packed, runs through the same packed-layout loop:
step t sees the ``batch_sizes[t]`` sequences still running (all B for a padded batch), so the
final states of packed sequences are taken at each sequence's own last step.
"""

import math
import numbers
import warnings

from ... import _C
from ...amp.autocast_mode import autocast_call
from .. import functional as F, init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# --- one time step; ``x_t`` is the step's projected input (its biases included, except
# GRU's b_hh, which must stay inside the reset gate). States are tuples: (h,) or (h, c).

def _tanh_step(x_t, state, w_hh_t, b_hh, w_hr_t):
    return (x_t.addmm(state[0], w_hh_t).tanh(),)


def _relu_step(x_t, state, w_hh_t, b_hh, w_hr_t):
    return (x_t.addmm(state[0], w_hh_t).clamp(min=0),)


def _lstm_step(x_t, state, w_hh_t, b_hh, w_hr_t):
    h, c = state
    # The gates' activations, the new cell and the new hidden state in one fused kernel (and
    # one fused backward), as PyTorch's _thnn_fused_lstm_cell.
    h, c = _C._lstm_cell(x_t.addmm(h, w_hh_t), c)
    return (h if w_hr_t is None else h.mm(w_hr_t)), c


def _gru_step(x_t, state, w_hh_t, b_hh, w_hr_t):
    h = state[0]
    gh = h.mm(w_hh_t) if b_hh is None else b_hh.addmm(h, w_hh_t)
    # r, z = sigmoid(x + gh), n = tanh(x_n + r * gh_n), h' = (1 - z) * n + z * h in one fused
    # kernel (and one fused backward), as PyTorch's _thnn_fused_gru_cell.
    return (_C._gru_cell(x_t, gh, h),)


_STEPS = {"RNN_TANH": _tanh_step, "RNN_RELU": _relu_step, "LSTM": _lstm_step, "GRU": _gru_step}


def _project_input(mode, data, w_ih, b_ih, b_hh):
    """Input contribution to the gates of every step at once: data @ W_ih^T + biases."""
    if b_ih is None:
        return data.mm(w_ih.t())
    bias = b_ih if mode == "GRU" else b_ih + b_hh
    return bias.addmm(data, w_ih.t())


def _run_forward(step, x_steps, batch_sizes, state, weights):
    """Runs steps 0..T-1; a sequence's final state is split off when the batch shrinks past it."""
    outputs, finished = [], []
    current = batch_sizes[0]
    for x_t, size in zip(x_steps, batch_sizes):
        if size < current:
            finished.append(tuple(s[size:current] for s in state))
            state = tuple(s[:size] for s in state)
            current = size
        state = step(x_t, state, *weights)
        outputs.append(state[0])
    if finished:
        finished.append(state)
        state = tuple(_C.cat(parts[::-1]) for parts in zip(*finished))
    return outputs, state


def _run_reverse(step, x_steps, batch_sizes, state0, weights):
    """Runs steps T-1..0; a sequence joins (from its initial state) at its own last step."""
    outputs = []
    current = batch_sizes[-1]
    state = tuple(s[:current] for s in state0) if current < batch_sizes[0] else state0
    for t in range(len(batch_sizes) - 1, -1, -1):
        size = batch_sizes[t]
        if size > current:
            state = tuple(_C.cat([s, s0[current:size]]) for s, s0 in zip(state, state0))
            current = size
        state = step(x_steps[t], state, *weights)
        outputs.append(state[0])
    outputs.reverse()
    return outputs, state


def _rnn_layers(mode, data, batch_sizes, hx, layer_weights, dropout, training, num_directions):
    """The stacked recurrence on packed-layout ``data`` (sum(batch_sizes), F).

    ``hx``: tuple of initial states, each (num_layers * num_directions, B, *).
    ``layer_weights``: per layer and direction (w_ih, w_hh, b_ih, b_hh, w_hr).
    Returns the last layer's output (sum(batch_sizes), num_directions * H_out) and the tuple
    of final states stacked like ``hx``.
    """
    step = _STEPS[mode]
    num_layers = len(layer_weights) // num_directions
    finals = []
    for layer in range(num_layers):
        outputs = []
        for direction in range(num_directions):
            index = layer * num_directions + direction
            w_ih, w_hh, b_ih, b_hh, w_hr = layer_weights[index]
            projected = _project_input(mode, data, w_ih, b_ih, b_hh)
            state0 = tuple(h[index] for h in hx)
            native = batch_sizes and batch_sizes[0] > 0
            if native and (mode == "GRU" or (mode == "LSTM" and w_hr is None)):
                # The whole layer in one native op (time loop and BPTT in Rust, on the CPU or
                # the GPU).
                if mode == "LSTM":
                    out, *final = _C._lstm_layer(projected, *state0, w_hh, batch_sizes, direction == 1)
                else:
                    out, *final = _C._gru_layer(projected, *state0, w_hh, b_hh, batch_sizes, direction == 1)
                outputs.append(out)
                finals.append(tuple(final))
                continue
            weights = (w_hh.t(), b_hh, None if w_hr is None else w_hr.t())
            run = _run_reverse if direction == 1 else _run_forward
            steps_out, final = run(step, projected.split(batch_sizes), batch_sizes, state0, weights)
            outputs.append(_C.cat(steps_out))
            finals.append(final)
        data = outputs[0] if num_directions == 1 else _C.cat(outputs, 1)
        if dropout > 0 and training and layer < num_layers - 1:
            data = F.dropout(data, dropout, True)
    return data, tuple(_C.stack(parts) for parts in zip(*finals))


class RNNBase(Module):
    """Base class of ``RNN``, ``LSTM`` and ``GRU``: parameters, checks and the shared forward.

    Parameters per layer k and direction (suffix ``_reverse`` for the backward one), as
    PyTorch names and orders them: ``weight_ih_lk`` (gates * hidden, input), ``weight_hh_lk``
    (gates * hidden, H_out), ``bias_ih_lk``, ``bias_hh_lk`` (gates * hidden), and with
    ``proj_size`` ``weight_hr_lk`` (proj_size, hidden). All start as U(-1/sqrt(hidden),
    1/sqrt(hidden)).
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=2,
            )
        for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                                  ("input_size", input_size, int), ("hidden_size", hidden_size, int)):
            if not isinstance(value, kind):
                raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        factory = {"device": device, "dtype": dtype}

        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                shapes = [("weight_ih", (gate_size, layer_input_size)), ("weight_hh", (gate_size, real_hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for stem, shape in shapes:
                    name = f"{stem}_l{layer}{suffix}"
                    setattr(self, name, Parameter(_C.empty(shape, **factory)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters grouped per layer and direction, in PyTorch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """No-op: weights are always used in place (PyTorch packs them for cuDNN here)."""

    def reset_parameters(self):
        """Re-draws every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _layer_weights(self):
        """Per layer and direction: (w_ih, w_hh, b_ih, b_hh, w_hr), absent ones None."""
        result = []
        for names in self._all_weights:
            params = [getattr(self, name) for name in names]
            w_ih, w_hh = params[0], params[1]
            b_ih, b_hh = (params[2], params[3]) if self.bias else (None, None)
            w_hr = params[-1] if self.proj_size > 0 else None
            result.append((w_ih, w_hh, b_ih, b_hh, w_hr))
        return result

    # --- checks (PyTorch's messages) -------------------------------------------------

    def check_input(self, input, batch_sizes):
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})"
            )
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )

    def _state_sizes(self, mini_batch):
        """Expected shapes of the initial states: (h,) or, for LSTM, (h, c)."""
        layers = self.num_layers * (2 if self.bidirectional else 1)
        h = (layers, mini_batch, self.proj_size if self.proj_size > 0 else self.hidden_size)
        return (h, (layers, mini_batch, self.hidden_size)) if self.mode == "LSTM" else (h,)

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.shape[0] if self.batch_first else input.shape[1]
        return self._state_sizes(mini_batch)[0]

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(tuple(expected_hidden_size), list(hx.shape)))

    def _check_states(self, hx, mini_batch):
        expected = self._state_sizes(mini_batch)
        if self.mode == "LSTM":
            self.check_hidden_size(hx[0], expected[0], "Expected hidden[0] size {}, got {}")
            self.check_hidden_size(hx[1], expected[1], "Expected hidden[1] size {}, got {}")
        else:
            self.check_hidden_size(hx[0], expected[0])

    def _check_state_dims(self, hx, dims):
        """PyTorch's message when a given state's rank does not match the input's."""
        kind = "batched 3-D" if dims == 3 else "unbatched 2-D"
        if self.mode == "LSTM":
            if hx[0].dim() != dims or hx[1].dim() != dims:
                raise RuntimeError(
                    f"For {kind} input, hx and cx should also be {dims}-D but got "
                    f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors"
                )
        elif hx[0].dim() != dims:
            raise RuntimeError(f"For {kind} input, hx should also be {dims}-D but got {hx[0].dim()}-D tensor")

    # --- forward ---------------------------------------------------------------------

    def forward(self, input, hx=None):
        """Runs the recurrence. ``input``: (T, B, input_size) ((B, T, ...) with
        ``batch_first``), (T, input_size) unbatched, or a ``PackedSequence``. ``hx``: the
        initial state (num_layers * num_directions, B, H_out), a pair (h0, c0) for LSTM;
        zeros when omitted. Returns (output, h_n) / (output, (h_n, c_n)); the output is a
        ``PackedSequence`` when the input is one."""
        is_lstm = self.mode == "LSTM"
        states = None if hx is None else (tuple(hx) if is_lstm else (hx,))
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes_tensor, sorted_indices, unsorted_indices = input
            batch_sizes = batch_sizes_tensor.tolist()
            self.check_input(data, batch_sizes)
            mini_batch = batch_sizes[0]
            if states is not None:
                self._check_states(states, mini_batch)
                if sorted_indices is not None:
                    states = tuple(s.index_select(1, sorted_indices) for s in states)
        else:
            if input.dim() not in (2, 3):
                suffix = " tensor" if self.mode.startswith("RNN") else ""
                name = self.mode[:3] if self.mode.startswith("RNN") else self.mode
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D{suffix} instead")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if states is not None:
                self._check_state_dims(states, 3 if is_batched else 2)
            if not is_batched:
                input = input.unsqueeze(batch_dim)
                states = None if states is None else tuple(s.unsqueeze(1) for s in states)
            self.check_input(input, None)
            if self.batch_first:
                input = input.transpose(0, 1)
            steps, mini_batch = input.shape[0], input.shape[1]
            if states is not None:
                self._check_states(states, mini_batch)
            data = input.reshape(steps * mini_batch, input.shape[2])
            batch_sizes = [mini_batch] * steps
        if states is None:
            states = tuple(_C.zeros(size, dtype=data.dtype, device=data.device)
                           for size in self._state_sizes(mini_batch))

        output, finals = _rnn_layers(
            self.mode, data, batch_sizes, states, self._layer_weights(), self.dropout, self.training,
            2 if self.bidirectional else 1,
        )

        if packed:
            output = PackedSequence(output, batch_sizes_tensor, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                finals = tuple(s.index_select(1, unsorted_indices) for s in finals)
        else:
            output = output.view(steps, mini_batch, output.shape[1])
            if self.batch_first:
                output = output.transpose(0, 1)
            if not is_batched:
                output = output.squeeze(batch_dim)
                finals = tuple(s.squeeze(1) for s in finals)
        return output, (finals if is_lstm else finals[0])

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    Args: input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0 (between layers, training only), bidirectional=False.
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if self.nonlinearity not in modes:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(modes[self.nonlinearity], *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, gates in PyTorch's order (input, forget, cell, output):
    c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t), and with ``proj_size`` h_t = h_t W_hr^T.

    Args: input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0.
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit, gates in PyTorch's order (reset, update, new):
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h_t = (1 - z) * n + z * h_{t-1}.

    Args: input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False.
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    """Base class of the single-step cells: ``weight_ih`` (chunks * hidden, input),
    ``weight_hh`` (chunks * hidden, hidden), ``bias_ih``, ``bias_hh``, all U(-1/sqrt(hidden),
    1/sqrt(hidden))."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_C.empty((num_chunks * hidden_size, input_size), **factory))
        self.weight_hh = Parameter(_C.empty((num_chunks * hidden_size, hidden_size), **factory))
        if bias:
            self.bias_ih = Parameter(_C.empty(num_chunks * hidden_size, **factory))
            self.bias_hh = Parameter(_C.empty(num_chunks * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        """Re-draws every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _step(self, mode, input, hx, state_names):
        """Shared forward: rank checks, unbatched inputs, zero states, then one step."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        states = None if hx is None else (tuple(hx) if mode == "LSTM" else (hx,))
        if states is not None:
            for state_name, state in zip(state_names, states):
                if state.dim() not in (1, 2):
                    raise ValueError(f"{name}: Expected {state_name} to be 1D or 2D, got {state.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
            states = None if states is None else tuple(s.unsqueeze(0) for s in states)
        if states is None:
            zeros = _C.zeros((input.shape[0], self.hidden_size), dtype=input.dtype, device=input.device)
            states = (zeros,) * len(state_names)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        for k, state in enumerate(states):
            if state.shape[0] != input.shape[0]:
                raise RuntimeError(
                    f"Input batch size {input.shape[0]} doesn't match hidden{k} batch size {state.shape[0]}"
                )
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{k} has inconsistent hidden_size: got {state.shape[1]}, expected {self.hidden_size}"
                )
        weights = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        out = autocast_call(_CELL_OPS[mode], _cell, mode, len(states), input, *states, *weights)
        if not is_batched:
            out = tuple(s.squeeze(0) for s in out)
        return out if mode == "LSTM" else out[0]


# PyTorch's op for one step of each cell (the names autocast's CUDA list uses).
_CELL_OPS = {"RNN_TANH": "rnn_tanh_cell", "RNN_RELU": "rnn_relu_cell", "LSTM": "lstm_cell", "GRU": "gru_cell"}


def _cell(mode, n_states, input, *tensors):
    """One step of a cell: ``tensors`` are its ``n_states`` states, then w_ih, w_hh, b_ih, b_hh."""
    states, (w_ih, w_hh, b_ih, b_hh) = tensors[:n_states], tensors[n_states:]
    x = _project_input(mode, input, w_ih, b_ih, b_hh)
    return _STEPS[mode](x, states, w_hh.t(), b_hh, None)


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """input (B, input_size) or (input_size); hx like it with hidden_size (zeros if None)."""
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if self.nonlinearity not in modes:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._step(modes[self.nonlinearity], input, hx, ("hidden",))


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """input (B, input_size) or (input_size); hx a pair (h, c) (zeros if None)."""
        return self._step("LSTM", input, hx, ("hx[0]", "hx[1]"))


class GRUCell(RNNCellBase):
    """One GRU step; returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """input (B, input_size) or (input_size); hx (B, hidden_size) (zeros if None)."""
        return self._step("GRU", input, hx, ("hidden",))
