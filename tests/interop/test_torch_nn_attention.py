"""PyTorch as the reference for attention and the Transformer family (skipped without
PyTorch): same state_dict keys and shapes, reprs, and outputs from the same weights."""

import numpy as np
import pytest

import ferrotorch as ft

torch = pytest.importorskip("torch")


def shapes(module):
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


def load_from_torch(theirs, ours):
    ours.load_state_dict({k: ft.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def build(lib, name):
    nn = lib.nn
    return {
        "mha": lambda: nn.MultiheadAttention(8, 2),
        "mha_kv": lambda: nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True, bias=False),
        "encoder_layer": lambda: nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True),
        "decoder_layer": lambda: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.2, batch_first=True,
                                                            layer_norm_eps=1e-6, bias=False),
        "encoder": lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, enable_nested_tensor=False),
        "transformer": lambda: nn.Transformer(8, 2, 2, 1, 16),
    }[name]()


NAMES = ["mha", "mha_kv", "encoder_layer", "decoder_layer", "encoder", "transformer"]


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_and_repr_match_torch(name):
    theirs, ours = build(torch, name), build(ft, name)
    assert shapes(ours) == shapes(theirs)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"scale": 0.7}])
def test_sdpa_matches_torch(kwargs, rng):
    q, k, v = (rng.standard_normal((2, 3, 4, 5)) for _ in range(3))
    expected = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)), **kwargs)
    got = ft.nn.functional.scaled_dot_product_attention(*map(ft.tensor, (q, k, v)), **kwargs)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"enable_gqa": True, "scale": 0.3}])
def test_sdpa_gradients_and_node_match_torch(kwargs, rng):
    # Equal head dims: PyTorch's CPU flash kernel (one node) takes them, as our one op does.
    q, k, v = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((2, 2, 7, 5)), rng.standard_normal((2, 2, 7, 5))
    if "enable_gqa" not in kwargs:
        k, v = np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1)
    dout = rng.standard_normal((2, 4, 6, 5))
    results = []
    for lib in (torch, ft):
        leaves = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = lib.nn.functional.scaled_dot_product_attention(*leaves, **kwargs)
        out.backward(lib.tensor(dout))
        results.append((out.grad_fn.name(), [out.detach().numpy()] + [t.grad.numpy() for t in leaves]))
    assert results[1][0] == results[0][0]
    for got, want in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_sdpa_fully_masked_row_matches_torch(rng):
    q, k, v = (rng.standard_normal((3, 4)) for _ in range(3))
    keep = rng.random((3, 3)) > 0.3
    keep[1] = False
    expected = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v, keep)))
    got = ft.nn.functional.scaled_dot_product_attention(*map(ft.tensor, (q, k, v, keep)))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_outputs_match_torch(need_weights, rng):
    theirs = torch.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True, add_zero_attn=True).double()
    ours = ft.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True, add_zero_attn=True).double()
    load_from_torch(theirs, ours)
    q, k, v = rng.standard_normal((4, 2, 8)), rng.standard_normal((5, 2, 3)), rng.standard_normal((5, 2, 5))
    padding = rng.random((2, 5)) > 0.7
    mask = rng.standard_normal((4, 5))
    t_out, t_w = theirs(*map(torch.tensor, (q, k, v)), key_padding_mask=torch.tensor(padding).double() * -1e9,
                        attn_mask=torch.tensor(mask), need_weights=need_weights)
    f_out, f_w = ours(*map(ft.tensor, (q, k, v)), key_padding_mask=ft.tensor(padding).double() * -1e9,
                      attn_mask=ft.tensor(mask), need_weights=need_weights)
    np.testing.assert_allclose(f_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    if need_weights:
        np.testing.assert_allclose(f_w.detach().numpy(), t_w.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_transformer_outputs_match_torch(rng):
    theirs = torch.nn.Transformer(8, 2, 2, 2, 16, batch_first=True, norm_first=True).double().eval()
    ours = ft.nn.Transformer(8, 2, 2, 2, 16, batch_first=True, norm_first=True).double().eval()
    load_from_torch(theirs, ours)
    src, tgt = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 3, 8))
    padding = np.array([[False] * 5, [False] * 3 + [True] * 2])
    with torch.no_grad():
        expected = theirs(torch.tensor(src), torch.tensor(tgt), tgt_mask=theirs.generate_square_subsequent_mask(3),
                          src_key_padding_mask=torch.tensor(padding), memory_key_padding_mask=torch.tensor(padding))
    got = ours(ft.tensor(src), ft.tensor(tgt), tgt_mask=ours.generate_square_subsequent_mask(3),
               src_key_padding_mask=ft.tensor(padding), memory_key_padding_mask=ft.tensor(padding))
    np.testing.assert_allclose(got.detach().numpy(), expected.numpy(), rtol=1e-9, atol=1e-10)
