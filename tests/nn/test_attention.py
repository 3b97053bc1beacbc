"""scaled_dot_product_attention, multi_head_attention_forward and MultiheadAttention against
float64 NumPy references."""

import math

import numpy as np
import pytest

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.autograd import gradcheck, gradgradcheck
from ferrotorch.nn import functional as F

from conftest import assert_close, make


def np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_sdpa(q, k, v, mask=None, scale=None):
    """softmax(q k^T * scale + mask) v; ``mask`` is additive (-inf = excluded)."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        scores = scores + mask
    return np_softmax(scores) @ v


def additive(bool_mask):
    """A take-part bool mask (True = attend) as an additive float mask."""
    return np.where(bool_mask, 0.0, -np.inf)


# --- scaled_dot_product_attention -------------------------------------------------------

@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_sdpa_matches_numpy(layout, dtype, rng):
    q, qn = make((2, 3, 4, 5), dtype, rng, layout, -1, 1)
    k, kn = make((2, 3, 6, 5), dtype, rng, layout, -1, 1)
    v, vn = make((2, 3, 6, 2), dtype, rng, layout, -1, 1)
    expected = np_sdpa(*(a.astype(np.float64) for a in (qn, kn, vn)))
    assert_close(F.scaled_dot_product_attention(q, k, v), expected, dtype=dtype, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
def test_sdpa_half_precision_loosely(dtype, rng):
    q, qn = make((2, 3, 4), dtype, rng, low=-1, high=1)
    k, kn = make((2, 5, 4), dtype, rng, low=-1, high=1)
    v, vn = make((2, 5, 3), dtype, rng, low=-1, high=1)
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    keep = np.tril(np.ones((3, 5), dtype=bool))
    expected = np_sdpa(*(a.astype(np.float64) for a in (qn, kn, vn)), additive(keep))
    assert_close(out, expected, dtype=dtype, rtol=2e-2, atol=2e-2)


def test_sdpa_bool_mask_means_take_part_and_broadcasts(rng):
    q, qn = make((2, 3, 4), ft.float64, rng, low=-1, high=1)
    k, kn = make((2, 5, 4), ft.float64, rng, low=-1, high=1)
    v, vn = make((2, 5, 3), ft.float64, rng, low=-1, high=1)
    keep = rng.random((3, 5)) > 0.3
    keep[:, 0] = True  # every row keeps at least one key
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=ft.tensor(keep))
    assert_close(out, np_sdpa(qn, kn, vn, additive(keep)))


def test_sdpa_float_mask_is_added(rng):
    q, qn = make((3, 4), ft.float64, rng, low=-1, high=1)
    k, kn = make((5, 4), ft.float64, rng, low=-1, high=1)
    v, vn = make((5, 2), ft.float64, rng, low=-1, high=1)
    mask, maskn = make((3, 5), ft.float64, rng, "broadcast")
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.25)
    assert_close(out, np_sdpa(qn, kn, vn, maskn, scale=0.25))


@pytest.mark.parametrize("target,source", [(4, 4), (3, 5), (5, 3)])
def test_sdpa_causal_is_top_left(target, source, rng):
    q, qn = make((2, target, 4), ft.float64, rng, low=-1, high=1)
    k, kn = make((2, source, 4), ft.float64, rng, low=-1, high=1)
    v, vn = make((2, source, 3), ft.float64, rng, low=-1, high=1)
    keep = np.tril(np.ones((target, source), dtype=bool))
    assert_close(F.scaled_dot_product_attention(q, k, v, is_causal=True), np_sdpa(qn, kn, vn, additive(keep)))


def test_sdpa_row_with_no_key_gives_zeros(rng):
    q, qn = make((3, 4), ft.float64, rng, low=-1, high=1)
    k, kn = make((5, 4), ft.float64, rng, low=-1, high=1)
    v, vn = make((5, 2), ft.float64, rng, low=-1, high=1)
    keep = np.ones((3, 5), dtype=bool)
    keep[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=ft.tensor(keep)).numpy()
    np.testing.assert_array_equal(out[1], 0.0)
    np.testing.assert_allclose(out[[0, 2]], np_sdpa(qn, kn, vn)[[0, 2]], rtol=1e-12)


def test_sdpa_grouped_query_attention(rng):
    q, qn = make((1, 4, 3, 2), ft.float64, rng, low=-1, high=1)
    k, kn = make((1, 2, 5, 2), ft.float64, rng, low=-1, high=1)
    v, vn = make((1, 2, 5, 3), ft.float64, rng, low=-1, high=1)
    expected = np_sdpa(qn, np.repeat(kn, 2, axis=1), np.repeat(vn, 2, axis=1))
    assert_close(F.scaled_dot_product_attention(q, k, v, enable_gqa=True), expected)


def test_sdpa_dropout_one_zeroes_everything(rng):
    q, _ = make((2, 3, 4), ft.float64, rng)
    assert np.all(F.scaled_dot_product_attention(q, q, q, dropout_p=1.0).numpy() == 0)


def test_sdpa_empty_batch(rng):
    q = ft.zeros(0, 3, 4)
    assert F.scaled_dot_product_attention(q, q, q).shape == (0, 3, 4)


def test_sdpa_gradcheck(rng):
    q, k, v = (ft.tensor(rng.uniform(-1, 1, s)).requires_grad_() for s in ((2, 3, 2), (2, 4, 2), (2, 4, 2)))
    mask = ft.tensor(rng.random((3, 4)) > 0.3)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), (q, k, v))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v))


def test_sdpa_errors():
    q = ft.zeros(1, 4, 3, 2)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ft.ones(3, 3, dtype=ft.bool), is_causal=True)
    with pytest.raises(RuntimeError, match="Number of heads in key and value must divide the number of heads"):
        kv = ft.zeros(1, 3, 3, 2)
        F.scaled_dot_product_attention(q, kv, kv, enable_gqa=True)
    with pytest.raises(RuntimeError, match="Expected query, key, and value to have the same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)


# --- the one-op path (no mask, no dropout): one node, fused kernels on CUDA ----------------

def np_attention_grads(q, k, v, dout, causal=False, group=1, scale=None):
    """Output and (dq, dk, dv) of softmax(scale q k^T) v in float64, heads on axis -3 with key
    head h // group serving query head h."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    kk, vv = np.repeat(k, group, axis=-3), np.repeat(v, group, axis=-3)
    s = scale * q @ np.swapaxes(kk, -1, -2)
    if causal:
        s = np.where(np.tri(q.shape[-2], k.shape[-2], dtype=bool), s, -np.inf)
    p = np_softmax(s)
    out = p @ vv
    ds = p * (dout @ np.swapaxes(vv, -1, -2) - (dout * out).sum(-1, keepdims=True))
    fold = lambda a: a.reshape(*k.shape[:-3], k.shape[-3], group, *a.shape[-2:]).sum(-3)  # noqa: E731
    return out, (scale * ds @ kk, fold(scale * np.swapaxes(ds, -1, -2) @ q), fold(np.swapaxes(p, -1, -2) @ dout))


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("group", [1, 3])
def test_one_op_output_and_gradients_match_numpy(layout, causal, group, rng):
    q, qn = make((2, 6, 5, 4), ft.float64, rng, layout, -1, 1)
    k, kn = make((2, 6 // group, 7, 4), ft.float64, rng, layout, -1, 1)
    v, vn = make((2, 6 // group, 7, 3), ft.float64, rng, layout, -1, 1)
    dout = rng.normal(size=(2, 6, 5, 3))
    leaves = [t.detach().requires_grad_() for t in (q, k, v)]
    out = F.scaled_dot_product_attention(*leaves, is_causal=causal, enable_gqa=group > 1)
    assert out.grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"
    out.backward(ft.tensor(dout))
    want, grads = np_attention_grads(qn, kn, vn, dout, causal, group)
    assert_close(out, want, rtol=1e-12, atol=1e-12)
    for leaf, g in zip(leaves, grads):
        assert_close(leaf.grad, g, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16, ft.float32])
def test_one_op_reduced_precision_computes_in_float(dtype, rng):
    q, qn = make((3, 6, 8), dtype, rng, low=-1, high=1)
    k, kn = make((3, 9, 8), dtype, rng, low=-1, high=1)
    v, vn = make((3, 9, 5), dtype, rng, low=-1, high=1)
    leaves = [t.requires_grad_() for t in (q, k, v)]
    out = F.scaled_dot_product_attention(*leaves, is_causal=True, scale=0.7)
    assert out.dtype == dtype
    dout = rng.uniform(-1, 1, (3, 6, 5))
    out.backward(ft.tensor(dout).to(dtype))
    want, grads = np_attention_grads(*(a.astype(np.float64) for a in (qn, kn, vn)), dout, True, scale=0.7)
    tol = {ft.float16: 2e-3, ft.bfloat16: 2e-2, ft.float32: 1e-5}[dtype]
    assert_close(out, want, dtype=dtype, rtol=tol, atol=tol)
    for leaf, g in zip(leaves, grads):
        assert leaf.grad.dtype == dtype
        assert_close(leaf.grad, g, dtype=dtype, rtol=4 * tol, atol=4 * tol)


def test_one_op_gradcheck_and_gradgradcheck(rng):
    q, k, v = (ft.tensor(rng.uniform(-1, 1, s)).requires_grad_() for s in ((2, 2, 3, 2), (2, 1, 4, 2), (2, 1, 4, 3)))
    for causal in (False, True):
        fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True, scale=0.9)  # noqa: B023, E731
        assert gradcheck(fn, (q, k, v))
        assert gradgradcheck(fn, (q, k, v))


def test_one_op_edge_inputs(rng):
    # No keys: zeros, and zero gradients for the queries.
    q = ft.tensor(rng.normal(size=(2, 3, 4))).requires_grad_()
    kv = ft.zeros(2, 0, 4, dtype=ft.float64, requires_grad=True)
    out = F.scaled_dot_product_attention(q, kv, kv)
    assert out.shape == (2, 3, 4) and (out.detach().numpy() == 0).all()
    out.sum().backward()
    assert (q.grad.numpy() == 0).all() and kv.grad.shape == (2, 0, 4)
    # No queries, 2-d operands, an empty batch.
    assert F.scaled_dot_product_attention(ft.zeros(2, 0, 4), ft.ones(2, 3, 4), ft.ones(2, 3, 5)).shape == (2, 0, 5)
    q2, k2, v2 = (rng.normal(size=s) for s in ((3, 4), (5, 4), (5, 2)))
    assert_close(F.scaled_dot_product_attention(ft.tensor(q2), ft.tensor(k2), ft.tensor(v2)), np_sdpa(q2, k2, v2))
    assert F.scaled_dot_product_attention(ft.zeros(0, 2, 3, 4), ft.zeros(0, 2, 5, 4), ft.zeros(0, 2, 5, 4)).shape == (0, 2, 3, 4)
    # NaN and infinities stay in their rows, as in the composed softmax.
    qn = rng.normal(size=(1, 4, 3))
    qn[0, 1, 0] = np.nan
    qn[0, 2, 0] = np.inf
    kn, vn = rng.normal(size=(1, 5, 3)), rng.normal(size=(1, 5, 2))
    got = F.scaled_dot_product_attention(ft.tensor(qn), ft.tensor(kn), ft.tensor(vn)).numpy()
    with np.errstate(invalid="ignore"):
        want = np_sdpa(qn, kn, vn)
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
    assert np.isnan(got[0, 1]).all() and np.isnan(got[0, 2]).all() and not np.isnan(got[0, [0, 3]]).any()


def test_grouped_heads_with_no_query_heads_give_an_empty_result(rng):
    q, k = ft.zeros(1, 0, 3, 2, requires_grad=True), ft.ones(1, 2, 5, 2, requires_grad=True)
    out = F.scaled_dot_product_attention(q, k, k, enable_gqa=True)
    assert out.shape == (1, 0, 3, 2)
    out.sum().backward()
    assert (k.grad.numpy() == 0).all()


def test_one_op_broadcast_heads_take_the_composed_path(rng):
    # A single key/value head broadcast against several query heads without enable_gqa.
    q, qn = make((2, 4, 3, 2), ft.float64, rng, low=-1, high=1)
    k, kn = make((2, 1, 5, 2), ft.float64, rng, low=-1, high=1)
    v, vn = make((2, 1, 5, 3), ft.float64, rng, low=-1, high=1)
    assert_close(F.scaled_dot_product_attention(q, k, v), np_sdpa(qn, kn, vn))


def test_one_op_errors():
    q = ft.zeros(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"query \[2, 3, 4\], key \[2, 5, 3\]"):
        F.scaled_dot_product_attention(q, ft.zeros(2, 5, 3), ft.zeros(2, 5, 3))
    with pytest.raises(RuntimeError, match="floating-point"):
        ft._C._scaled_dot_product_attention(q.long(), q.long(), q.long())
    with pytest.raises(RuntimeError, match="rank >= 2"):
        ft._C._scaled_dot_product_attention(ft.zeros(3), ft.zeros(3), ft.zeros(3))
    with pytest.raises(RuntimeError, match="query.dtype: torch.float32 key.dtype: torch.float64"):
        ft._C._scaled_dot_product_attention(q, q.double(), q)


# --- multi-head attention ---------------------------------------------------------------

def np_heads(q, k, v, num_heads, mask=None):
    """Attention per batch item and head on projected (L, N, E) / (S, N, E) tensors with an
    additive (N*heads or 1, L, S) mask; returns (L, N, E) and the weights (N, heads, L, S)."""
    L, N, embed = q.shape
    head = embed // num_heads
    out = np.zeros((L, N, embed))
    weights = np.zeros((N, num_heads, L, k.shape[0]))
    for n in range(N):
        for h in range(num_heads):
            cols = slice(h * head, (h + 1) * head)
            scores = q[:, n, cols] @ k[:, n, cols].T / math.sqrt(head)
            if mask is not None:
                scores = scores + mask[(n * num_heads + h) % mask.shape[0]]
            weights[n, h] = np_softmax(scores)
            out[:, n, cols] = weights[n, h] @ v[:, n, cols]
    return out, weights


def np_mha(query, key, value, num_heads, w_q, w_k, w_v, b_in, w_out, b_out, mask=None):
    """Projections, per-head attention, output projection; returns the output (L, N, E) and
    the head-averaged weights (N, L, S)."""
    b_q, b_k, b_v = np.split(b_in, 3) if b_in is not None else (0, 0, 0)
    out, weights = np_heads(query @ w_q.T + b_q, key @ w_k.T + b_k, value @ w_v.T + b_v, num_heads, mask)
    return out @ w_out.T + (0 if b_out is None else b_out), weights.mean(1)


def mha_weights(mha):
    if mha._qkv_same_embed_dim:
        w_q, w_k, w_v = np.split(mha.in_proj_weight.detach().numpy(), 3)
    else:
        w_q, w_k, w_v = (getattr(mha, f"{c}_proj_weight").detach().numpy() for c in "qkv")
    b_in = None if mha.in_proj_bias is None else mha.in_proj_bias.detach().numpy()
    b_out = None if mha.out_proj.bias is None else mha.out_proj.bias.detach().numpy()
    return w_q, w_k, w_v, b_in, mha.out_proj.weight.detach().numpy(), b_out


def randomize(module, rng):
    with ft.no_grad():
        for p in module.parameters():
            p.copy_(ft.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape))))


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_self_attention_with_masks_matches_numpy(need_weights, rng):
    mha = nn.MultiheadAttention(6, 2, dtype=ft.float64)
    randomize(mha, rng)
    x, xn = make((4, 3, 6), ft.float64, rng, "transposed", -1, 1)
    padding = rng.random((3, 4)) > 0.7
    padding[:, 0] = False
    attn = rng.standard_normal((4, 4))
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        out, weights = mha(x, x, x, key_padding_mask=ft.tensor(padding), attn_mask=ft.tensor(attn),
                           need_weights=need_weights)
    mask = attn[None] + np.where(padding, -np.inf, 0.0).repeat(2, axis=0)[:, None, :]
    ref_out, ref_weights = np_mha(xn, xn, xn, 2, *mha_weights(mha), mask=mask)
    assert_close(out, ref_out)
    if need_weights:
        assert_close(weights, ref_weights)
    else:
        assert weights is None


def test_mha_separate_kdim_vdim_and_per_head_weights(rng):
    mha = nn.MultiheadAttention(4, 2, kdim=3, vdim=5, bias=False, dtype=ft.float64)
    q, qn = make((2, 2, 4), ft.float64, rng, low=-1, high=1)
    k, kn = make((3, 2, 3), ft.float64, rng, low=-1, high=1)
    v, vn = make((3, 2, 5), ft.float64, rng, low=-1, high=1)
    out, weights = mha(q, k, v, average_attn_weights=False)
    ref_out, _ = np_mha(qn, kn, vn, 2, *mha_weights(mha))
    assert_close(out, ref_out)
    assert weights.shape == (2, 2, 2, 3)
    np.testing.assert_allclose(weights.detach().numpy().sum(-1), 1.0, rtol=1e-12)


def test_mha_batch_first_and_unbatched_agree(rng):
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=ft.float64)
    randomize(mha, rng)
    x, xn = make((2, 3, 4), ft.float64, rng, low=-1, high=1)
    out, _ = mha(x, x, x)
    ref_out, _ = np_mha(xn.transpose(1, 0, 2), *(xn.transpose(1, 0, 2),) * 2, 2, *mha_weights(mha))
    assert_close(out, ref_out.transpose(1, 0, 2))
    single, _ = mha(x[0], x[0], x[0])
    assert_close(single, ref_out[:, 0])


def test_mha_causal_hint_with_mask(rng):
    mha = nn.MultiheadAttention(4, 1, dtype=ft.float64)
    x, xn = make((3, 1, 4), ft.float64, rng, low=-1, high=1)
    causal = nn.Transformer.generate_square_subsequent_mask(3, dtype=ft.float64)
    out, _ = mha(x, x, x, attn_mask=causal, is_causal=True, need_weights=False)
    ref_out, _ = np_mha(xn, xn, xn, 1, *mha_weights(mha), mask=causal.numpy()[None])
    assert_close(out, ref_out)


def test_mha_bias_kv_and_zero_attn_add_two_keys(rng):
    mha = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, dtype=ft.float64)
    x, xn = make((3, 2, 4), ft.float64, rng, low=-1, high=1)
    out, weights = mha(x, x, x)
    assert weights.shape == (2, 3, 5)
    w_q, w_k, w_v, b_in, w_out, b_out = mha_weights(mha)
    # bias_k/bias_v join the projected keys/values, then one zero key/value.
    extra = lambda bias: np.concatenate([np.broadcast_to(bias, (1, 2, 4)), np.zeros((1, 2, 4))])  # noqa: E731
    k = np.concatenate([xn @ w_k.T + b_in[4:8], extra(mha.bias_k.detach().numpy())])
    v = np.concatenate([xn @ w_v.T + b_in[8:], extra(mha.bias_v.detach().numpy())])
    ref_out, ref_weights = np_heads(xn @ w_q.T + b_in[:4], k, v, 2)
    assert_close(out, ref_out @ w_out.T + b_out)
    assert_close(weights, ref_weights.mean(1))


def test_mha_gradcheck(rng):
    mha = nn.MultiheadAttention(2, 1, dtype=ft.float64)
    x = ft.tensor(rng.uniform(-1, 1, (2, 1, 2))).requires_grad_()
    assert gradcheck(lambda x, *w: mha(x, x, x)[0], (x, *mha.parameters()))


def test_mha_structure_and_init():
    mha = nn.MultiheadAttention(8, 2)
    assert [(n, tuple(p.shape)) for n, p in mha.named_parameters()] == [
        ("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)), ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,))]
    assert np.all(mha.in_proj_bias.detach().numpy() == 0) and np.all(mha.out_proj.bias.detach().numpy() == 0)
    bound = math.sqrt(6 / (24 + 8))  # xavier_uniform_ fan rules on the packed (3E, E) weight
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() <= bound
    separate = nn.MultiheadAttention(4, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert list(separate.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias",
                                           "bias_k", "bias_v", "out_proj.weight", "out_proj.bias"]
    assert repr(mha) == ("MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, "
                         "out_features=8, bias=True)\n)")


def test_mha_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 2)
    mha = nn.MultiheadAttention(4, 2)
    x = ft.zeros(3, 2, 4)
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is .*\[2, 2\].*, but should be \(3, 3\)"):
        mha(x, x, x, attn_mask=ft.zeros(2, 2))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        mha(x, x[0], x[0])
    with pytest.raises(AssertionError, match="Expected key_padded_mask.shape\\[1\\] to be 3, but got 2"):
        mha(x, x, x, key_padding_mask=ft.zeros(2, 2, dtype=ft.bool))


# --- backend switches: backends.cuda.enable_*_sdp, nn.attention.sdpa_kernel ---------------------

from ferrotorch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402


def switches():
    cuda = ft.backends.cuda
    return (cuda.flash_sdp_enabled(), cuda.mem_efficient_sdp_enabled(), cuda.math_sdp_enabled(), cuda.cudnn_sdp_enabled())


def test_sdpa_kernel_allows_only_the_named_backends_and_restores(rng):
    q, qn = make((2, 3, 4), ft.float64, rng, low=-1, high=1)
    assert switches() == (True, True, True, True)
    with sdpa_kernel([SDPBackend.MATH]):
        assert switches() == (False, False, True, False)
        assert _C_choice(q) == "math"
        assert_close(F.scaled_dot_product_attention(q, q, q), np_sdpa(qn, qn, qn))
    assert switches() == (True, True, True, True)
    # On the CPU the tensor ops stand for PyTorch's CPU flash kernel too.
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        assert_close(F.scaled_dot_product_attention(q, q, q, is_causal=True), np_sdpa(qn, qn, qn, additive(np.tri(3, dtype=bool))))
    # A switch restored even when the block raises.
    with pytest.raises(ZeroDivisionError), sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
        1 / 0
    assert switches() == (True, True, True, True)


@pytest.mark.parametrize("mask", [False, True])
def test_no_backend_left_raises_pytorchs_error(mask, rng):
    q, _ = make((2, 3, 4), ft.float32, rng)
    kwargs = {"attn_mask": ft.ones(3, 3, dtype=ft.bool)} if mask else {}
    with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION]) if not mask else sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        with pytest.raises(RuntimeError, match="No available kernel. Aborting execution."):
            F.scaled_dot_product_attention(q, q, q, **kwargs)
    assert F.scaled_dot_product_attention(q, q, q, **kwargs).shape == (2, 3, 4)


def test_sdpa_kernel_priority_and_the_older_context():
    with sdpa_kernel([SDPBackend.MATH, SDPBackend.FLASH_ATTENTION], set_priority=True):
        assert ft._C._sdp_priority() == "math" and switches() == (True, False, True, False)
        with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH], set_priority=True):
            assert ft._C._sdp_priority() == "fused"
        assert ft._C._sdp_priority() == "math"
    assert ft._C._sdp_priority() is None
    with ft.backends.cuda.sdp_kernel(enable_flash=False, enable_math=False):
        assert switches() == (False, True, False, True)
    assert switches() == (True, True, True, True)
    with pytest.raises(AssertionError, match="instance of SDPBackend"), sdpa_kernel(["math"]):
        pass
    with pytest.raises(ValueError, match="unknown scaled-dot-product attention backend"):
        ft._C._sdp_set_enabled("fast", True)
    assert [int(b) for b in SDPBackend] == [-1, 0, 1, 2, 3, 4]


def _C_choice(q):
    return ft._C._sdp_choice(q, q, q)
