"""PyTorch as the reference for the recurrent layers and packing utilities (skipped without
PyTorch): same state_dict keys and shapes, reprs, and outputs from the same weights."""

import numpy as np
import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")

CONSTRUCTORS = [
    ("RNN", (3, 4), {}),
    ("RNN", (3, 4, 2), {"nonlinearity": "relu", "bias": False, "batch_first": True}),
    ("LSTM", (3, 5), {"num_layers": 2, "bidirectional": True, "proj_size": 2, "dropout": 0.25}),
    ("GRU", (3, 4), {"num_layers": 3, "bidirectional": True}),
    ("RNNCell", (3, 4), {"nonlinearity": "relu"}),
    ("LSTMCell", (3, 4), {"bias": False}),
    ("GRUCell", (3, 4), {}),
]


def shapes(module):
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


def load_from_torch(theirs, ours):
    ours.load_state_dict({k: ft.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


@pytest.mark.parametrize("name,args,kwargs", CONSTRUCTORS)
def test_state_dict_and_repr_match_torch(name, args, kwargs):
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(ft.nn, name)(*args, **kwargs)
    assert shapes(ours) == shapes(theirs)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name,args,kwargs", [c for c in CONSTRUCTORS if not c[0].endswith("Cell")])
@pytest.mark.parametrize("packed", [False, True])
def test_outputs_match_torch(name, args, kwargs, packed, rng):
    theirs = getattr(torch.nn, name)(*args, **kwargs).double().eval()
    ours = getattr(ft.nn, name)(*args, **kwargs).double().eval()
    load_from_torch(theirs, ours)
    lengths = [4, 2, 5]
    padded = rng.standard_normal((3, 5, 3) if kwargs.get("batch_first") else (5, 3, 3))
    t_in, f_in = torch.tensor(padded), ft.tensor(padded)
    if packed:
        batch_first = kwargs.get("batch_first", False)
        t_in = torch.nn.utils.rnn.pack_padded_sequence(t_in, lengths, batch_first, enforce_sorted=False)
        f_in = ft.nn.utils.rnn.pack_padded_sequence(f_in, lengths, batch_first, enforce_sorted=False)
    t_out, t_state = theirs(t_in)
    f_out, f_state = ours(f_in)
    if packed:
        assert f_out.batch_sizes.tolist() == t_out.batch_sizes.tolist()
        t_out, f_out = t_out.data, f_out.data
    np.testing.assert_allclose(f_out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for f, t in zip(f_state if name == "LSTM" else (f_state,), t_state if name == "LSTM" else (t_state,)):
        np.testing.assert_allclose(f.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_lstm_gradients_match_torch(rng):
    theirs = torch.nn.LSTM(3, 4, bidirectional=True).double()
    ours = ft.nn.LSTM(3, 4, bidirectional=True).double()
    load_from_torch(theirs, ours)
    x = rng.standard_normal((5, 2, 3))
    t_x, f_x = torch.tensor(x, requires_grad=True), ft.tensor(x).requires_grad_()
    (theirs(t_x)[0] ** 2).sum().backward()
    (ours(f_x)[0] ** 2).sum().backward()
    np.testing.assert_allclose(f_x.grad.numpy(), t_x.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, t_p), f_p in zip(theirs.named_parameters(), ours.parameters()):
        np.testing.assert_allclose(f_p.grad.numpy(), t_p.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_packing_utilities_match_torch(rng):
    seqs = [rng.standard_normal((n, 2)) for n in (3, 5, 1)]
    t_packed = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    f_packed = ft.nn.utils.rnn.pack_sequence([ft.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(f_packed.data.numpy(), t_packed.data.numpy())
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        assert getattr(f_packed, field).tolist() == getattr(t_packed, field).tolist()
    t_pad, t_len = torch.nn.utils.rnn.pad_packed_sequence(t_packed, True, -1.0, 6)
    f_pad, f_len = ft.nn.utils.rnn.pad_packed_sequence(f_packed, True, -1.0, 6)
    np.testing.assert_array_equal(f_pad.numpy(), t_pad.numpy())
    assert f_len.tolist() == t_len.tolist()
    for side in ("left", "right"):
        t = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], padding_side=side)
        f = ft.nn.utils.rnn.pad_sequence([ft.tensor(s) for s in seqs], padding_side=side)
        np.testing.assert_array_equal(f.numpy(), t.numpy())
