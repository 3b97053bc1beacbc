"""Transformer layers, stacks and Transformer against a float64 NumPy composition (eval mode)."""

import math

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.autograd import gradcheck
from ferrotorch.nn import functional as F

from conftest import assert_close, make


def np_layer_norm(x, weight, bias, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def p(module, name):
    return module.get_parameter(name).detach().numpy()


def np_attention(mha, prefix, query, key, mask=None):
    """(L, N, E) attention of ``query`` over ``key`` (= value) with an additive (L, S) mask."""
    w_q, w_k, w_v = np.split(p(mha, prefix + "in_proj_weight"), 3)
    b_q, b_k, b_v = np.split(p(mha, prefix + "in_proj_bias"), 3)
    q, k, v = query @ w_q.T + b_q, key @ w_k.T + b_k, key @ w_v.T + b_v
    heads = mha.get_submodule(prefix.rstrip(".")).num_heads
    L, N, E = q.shape
    size = E // heads
    q = q.reshape(L, N, heads, size).transpose(1, 2, 0, 3)
    k = k.reshape(-1, N, heads, size).transpose(1, 2, 0, 3)
    v = v.reshape(-1, N, heads, size).transpose(1, 2, 0, 3)
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size)
    if mask is not None:
        scores = scores + mask
    out = (np_softmax(scores) @ v).transpose(2, 0, 1, 3).reshape(L, N, E)
    return out @ p(mha, prefix + "out_proj.weight").T + p(mha, prefix + "out_proj.bias")


def np_feedforward(layer, x, activation):
    hidden = activation(x @ p(layer, "linear1.weight").T + p(layer, "linear1.bias"))
    return hidden @ p(layer, "linear2.weight").T + p(layer, "linear2.bias")


def np_norm(layer, name, x):
    return np_layer_norm(x, p(layer, name + ".weight"), p(layer, name + ".bias"))


def np_encoder_layer(layer, x, activation, mask=None):
    sa = lambda y: np_attention(layer, "self_attn.", y, y, mask)  # noqa: E731
    ff = lambda y: np_feedforward(layer, y, activation)  # noqa: E731
    if layer.norm_first:
        x = x + sa(np_norm(layer, "norm1", x))
        return x + ff(np_norm(layer, "norm2", x))
    x = np_norm(layer, "norm1", x + sa(x))
    return np_norm(layer, "norm2", x + ff(x))


def np_decoder_layer(layer, x, memory, activation, mask=None):
    sa = lambda y: np_attention(layer, "self_attn.", y, y, mask)  # noqa: E731
    ca = lambda y: np_attention(layer, "multihead_attn.", y, memory)  # noqa: E731
    ff = lambda y: np_feedforward(layer, y, activation)  # noqa: E731
    if layer.norm_first:
        x = x + sa(np_norm(layer, "norm1", x))
        x = x + ca(np_norm(layer, "norm2", x))
        return x + ff(np_norm(layer, "norm3", x))
    x = np_norm(layer, "norm1", x + sa(x))
    x = np_norm(layer, "norm2", x + ca(x))
    return np_norm(layer, "norm3", x + ff(x))


def randomized(module, rng):
    """Random values in every parameter (LayerNorm's ones/zeros would hide mistakes)."""
    with ft.no_grad():
        for param in module.parameters():
            param.copy_(ft.tensor(rng.uniform(-0.5, 0.5, tuple(param.shape))))
    return module.eval()


ACTIVATIONS = [("relu", lambda x: np.maximum(x, 0)), ("gelu", np_gelu)]


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation,np_activation", ACTIVATIONS)
def test_encoder_layer_matches_numpy(norm_first, activation, np_activation, rng):
    layer = randomized(nn.TransformerEncoderLayer(6, 2, 8, activation=activation, norm_first=norm_first,
                                                  dtype=ft.float64), rng)
    x, xn = make((4, 2, 6), ft.float64, rng, "transposed", -1, 1)
    mask = np.triu(np.full((4, 4), -np.inf), 1)
    assert_close(layer(x), np_encoder_layer(layer, xn, np_activation))
    assert_close(layer(x, src_mask=ft.tensor(mask)), np_encoder_layer(layer, xn, np_activation, mask))


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_numpy(norm_first, rng):
    layer = randomized(nn.TransformerDecoderLayer(6, 3, 5, norm_first=norm_first, batch_first=True,
                                                  dtype=ft.float64), rng)
    tgt, tgtn = make((2, 3, 6), ft.float64, rng, low=-1, high=1)
    memory, memoryn = make((2, 4, 6), ft.float64, rng, low=-1, high=1)
    mask = np.triu(np.full((3, 3), -np.inf), 1)
    out = layer(tgt, memory, tgt_mask=ft.tensor(mask), tgt_is_causal=True)
    ref = np_decoder_layer(layer, tgtn.transpose(1, 0, 2), memoryn.transpose(1, 0, 2), lambda x: np.maximum(x, 0),
                           mask)
    assert_close(out, ref.transpose(1, 0, 2))


def test_callable_activation(rng):
    layer = randomized(nn.TransformerEncoderLayer(4, 2, 6, activation=F.silu, dtype=ft.float64), rng)
    x, xn = make((3, 1, 4), ft.float64, rng, low=-1, high=1)
    assert_close(layer(x), np_encoder_layer(layer, xn, lambda y: y / (1 + np.exp(-y))))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")


def test_encoder_stack_with_final_norm_and_padding_mask(rng):
    layer = nn.TransformerEncoderLayer(4, 2, 6, dtype=ft.float64)
    encoder = randomized(nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(4, dtype=ft.float64)), rng)
    x, xn = make((3, 2, 4), ft.float64, rng, low=-1, high=1)
    padding = np.array([[False, False, True], [False, False, False]])
    out = encoder(x, src_key_padding_mask=ft.tensor(padding))
    ref = xn
    for n in range(2):
        key_mask = np.where(padding, -np.inf, 0.0)[:, None, None, :]  # (N, 1, 1, S)
        ref = np_encoder_layer(encoder.layers[n], ref, lambda y: np.maximum(y, 0), key_mask)
    assert_close(out, np_norm(encoder, "norm", ref))


def test_transformer_matches_its_stacks(rng):
    model = randomized(nn.Transformer(4, 2, 1, 2, 6, dtype=ft.float64), rng)
    src, srcn = make((5, 2, 4), ft.float64, rng, low=-1, high=1)
    tgt, tgtn = make((3, 2, 4), ft.float64, rng, low=-1, high=1)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=ft.float64)
    out = model(src, tgt, tgt_mask=mask)
    relu = lambda y: np.maximum(y, 0)  # noqa: E731
    memory = np_norm(model, "encoder.norm", np_encoder_layer(model.encoder.layers[0], srcn, relu))
    ref = tgtn
    for layer in model.decoder.layers:
        ref = np_decoder_layer(layer, ref, memory, relu, mask.numpy())
    assert_close(out, np_norm(model, "decoder.norm", ref))


def test_generate_square_subsequent_mask():
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    np.testing.assert_array_equal(mask.numpy(), np.triu(np.full((3, 3), -np.inf), 1))
    assert mask.dtype == ft.float32


def test_transformer_state_dict_and_init():
    model = nn.Transformer(8, 2, 1, 1, 16)
    keys = list(model.state_dict())
    assert keys[:4] == ["encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.0.self_attn.in_proj_bias",
                        "encoder.layers.0.self_attn.out_proj.weight", "encoder.layers.0.self_attn.out_proj.bias"]
    assert "decoder.layers.0.multihead_attn.in_proj_weight" in keys and keys[-1] == "decoder.norm.bias"
    weight = model.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(weight).max() <= math.sqrt(6 / (8 + 16))  # xavier_uniform_


def test_custom_encoder_and_decoder_are_used(rng):
    encoder = nn.Linear(4, 4)
    decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 6), 1)
    model = nn.Transformer(4, 2, custom_encoder=encoder, custom_decoder=decoder)
    assert model.encoder is encoder and model.decoder is decoder


def test_transformer_errors():
    model = nn.Transformer(4, 2, 1, 1, 6)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(ft.zeros(3, 2, 4), ft.zeros(3, 1, 4))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        model(ft.zeros(3, 2, 5), ft.zeros(3, 2, 5))


def test_training_mode_applies_dropout(rng):
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.5, dtype=ft.float64)
    x, _ = make((3, 2, 4), ft.float64, rng)
    ft.manual_seed(0)
    train_out = layer(x)
    layer.eval()
    assert not np.allclose(train_out.detach().numpy(), layer(x).detach().numpy())


def test_encoder_layer_gradcheck(rng):
    layer = nn.TransformerEncoderLayer(2, 1, 3, dropout=0.0, norm_first=True, dtype=ft.float64)
    x = ft.tensor(rng.uniform(-1, 1, (2, 1, 2))).requires_grad_()
    assert gradcheck(lambda x, *w: layer(x), (x, *layer.parameters()))
