"""Autocast's CUDA lists without a GPU: the core's table against PyTorch's lists
(aten/src/ATen/autocast_mode.h, transcribed here), and every listed op's hook reached under its
PyTorch name (recorded by `_C._autocast_trace` in a CPU region, where the same hooks run). With
both, a CUDA region casts what PyTorch's does; `tests/cuda/test_composed_ops.py` checks the
dtypes on a GPU. The CPU-list ops that gained hooks here (cdist, area interpolation) are checked
by value."""

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn.functional as F
from ferrotorch import _C
from ferrotorch.amp import autocast

# PyTorch's CUDA lists (AT_FORALL_LOWER_PRECISION_FP, AT_FORALL_FP32, AT_FORALL_FP32_SET_OPT_DTYPE,
# the norm of AT_FORALL_DIFFERENT_REDISPATCH_SIGNATURE, AT_FORALL_PROMOTE, the banned op), less
# ATen-internal ops (_convolution, conv_tbc, _thnn_fused_*, native_layer_norm, ...) and the two
# ferrotorch lacks (frobenius_norm, nuclear_norm).
LOWER_PRECISION = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "prelu", "addmm",
    "addmv", "addr", "matmul", "einsum", "mm", "mv", "linalg_vecdot", "linear", "addbmm", "baddbmm", "bmm",
    "chain_matmul", "linalg_multi_dot", "lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell",
    "scaled_dot_product_attention",
]
FP32 = [
    "acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p", "reciprocal", "rsqrt", "sinh",
    "tan", "pow", "softplus", "layer_norm", "group_norm", "cosine_similarity", "poisson_nll_loss",
    "cosine_embedding_loss", "nll_loss", "nll_loss2d", "hinge_embedding_loss", "kl_div", "l1_loss", "smooth_l1_loss",
    "huber_loss", "mse_loss", "margin_ranking_loss", "multilabel_margin_loss", "soft_margin_loss",
    "triplet_margin_loss", "multi_margin_loss", "binary_cross_entropy_with_logits", "dist", "pdist", "cdist",
    "renorm", "logsumexp", "upsample_nearest1d", "_upsample_nearest_exact1d", "upsample_nearest2d",
    "_upsample_nearest_exact2d", "upsample_nearest3d", "_upsample_nearest_exact3d", "upsample_linear1d",
    "upsample_bilinear2d", "_upsample_bilinear2d_aa", "upsample_trilinear3d", "upsample_bicubic2d",
    "_upsample_bicubic2d_aa",
    # fp32_set_opt_dtype and fp32_append_dtype
    "prod", "softmax", "log_softmax", "cumprod", "cumsum", "linalg_vector_norm", "linalg_matrix_norm", "sum", "norm",
]
PROMOTE = ["addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "vdot", "grid_sampler", "index_put",
           "tensordot", "scatter_add"]


@pytest.mark.parametrize("policy,names", [("lower_precision_fp", LOWER_PRECISION), ("fp32", FP32), ("promote", PROMOTE)])
def test_cuda_table_is_pytorchs(policy, names):
    wrong = {n: _C._autocast_policy("cuda", n) for n in names if _C._autocast_policy("cuda", n) != policy}
    assert not wrong, wrong
    assert _C._autocast_policy("cuda", "binary_cross_entropy") == "banned"


def test_ops_off_pytorchs_cuda_lists_are_off_the_table():
    # On the CPU's lists only, or on none.
    for name in ["trace", "linalg_inv", "cat", "stack", "index_copy", "max_pool3d", "ctc_loss", "add", "relu",
                 "sigmoid", "tanh", "mean", "gelu", "batch_norm"]:
        assert _C._autocast_policy("cuda", name) is None, name
    assert _C._autocast_policy("cpu", "cat") == "promote"
    assert _C._autocast_policy("cpu", "exp") is None


def _x(*shape, seed=0):
    return ft.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=ft.float32)


# A call reaching the hook of each op PyTorch lists for CUDA (beyond those `run` hooks at their
# entry, which tests/amp/test_autocast_ops.py checks by value on the CPU's list).
CALLS = {
    "acos": lambda: _x(3).clamp(-0.5, 0.5).acos(),
    "asin": lambda: ft.asin(_x(3).clamp(-0.5, 0.5)),
    "cosh": lambda: _x(3).cosh(),
    "erfinv": lambda: (_x(3).clamp(-0.5, 0.5)).erfinv(),
    "exp": lambda: ft.exp(_x(3)),
    "expm1": lambda: _x(3).expm1(),
    "log": lambda: _x(3).abs().log(),
    "log10": lambda: _x(3).abs().log10(),
    "log2": lambda: _x(3).abs().log2(),
    "log1p": lambda: _x(3).abs().log1p(),
    "reciprocal": lambda: _x(3).reciprocal(),
    "rsqrt": lambda: _x(3).abs().rsqrt(),
    "sinh": lambda: _x(3).sinh(),
    "tan": lambda: _x(3).tan(),
    "pow": lambda: _x(3) ** 2,
    "softplus": lambda: F.softplus(_x(3)),
    "layer_norm": lambda: F.layer_norm(_x(2, 4), (4,)),
    "group_norm": lambda: F.group_norm(_x(2, 4, 3), 2),
    "cosine_similarity": lambda: F.cosine_similarity(_x(2, 4), _x(2, 4, seed=1)),
    "dist": lambda: ft.dist(_x(3), _x(3, seed=1)),
    "pdist": lambda: F.pdist(_x(3, 4)),
    "cdist": lambda: ft.cdist(_x(3, 4), _x(2, 4, seed=1)),
    "renorm": lambda: _x(3, 4).renorm(2, 0, 1.0),
    "logsumexp": lambda: _x(3, 4).logsumexp(1),
    "upsample_nearest1d": lambda: F.interpolate(_x(1, 1, 4), scale_factor=2),
    "_upsample_nearest_exact1d": lambda: F.interpolate(_x(1, 1, 4), scale_factor=2, mode="nearest-exact"),
    "upsample_nearest2d": lambda: F.interpolate(_x(1, 1, 4, 4), size=(3, 5)),
    "_upsample_nearest_exact3d": lambda: F.interpolate(_x(1, 1, 2, 2, 2), size=3, mode="nearest-exact"),
    "_upsample_nearest_exact2d": lambda: F.interpolate(_x(1, 1, 4, 4), scale_factor=2, mode="nearest-exact"),
    "upsample_nearest3d": lambda: F.interpolate(_x(1, 1, 2, 2, 2), scale_factor=2),
    "upsample_linear1d": lambda: F.interpolate(_x(1, 1, 4), scale_factor=2, mode="linear"),
    "upsample_bilinear2d": lambda: F.interpolate(_x(1, 1, 4, 4), scale_factor=2, mode="bilinear"),
    "upsample_bicubic2d": lambda: F.interpolate(_x(1, 1, 4, 4), scale_factor=2, mode="bicubic"),
    "upsample_trilinear3d": lambda: F.interpolate(_x(1, 1, 2, 2, 2), scale_factor=2, mode="trilinear"),
    "softmax": lambda: F.softmax(_x(2, 3), -1),
    "log_softmax": lambda: _x(2, 3).log_softmax(-1),
    "cumprod": lambda: _x(3).cumprod(0),
    "cumsum": lambda: ft.cumsum(_x(3), 0),
    "linalg_vector_norm": lambda: ft.linalg.vector_norm(_x(3)),
    "linalg_matrix_norm": lambda: ft.linalg.norm(_x(3, 3), "fro"),
    "sum": lambda: ft.sum(_x(3)),
    "norm": lambda: _x(3).norm(),
    "addcdiv": lambda: _x(3).addcdiv(_x(3, seed=1), _x(3, seed=2).abs() + 1),
    "addcmul": lambda: ft.addcmul(_x(3), _x(3, seed=1), _x(3, seed=2)),
    "atan2": lambda: ft.atan2(_x(3), _x(3, seed=1)),
    "bilinear": lambda: F.bilinear(_x(2, 3), _x(2, 4, seed=1), _x(5, 3, 4, seed=2)),
    "cross": lambda: ft.cross(_x(2, 3), _x(2, 3, seed=1), dim=1),
    "dot": lambda: ft.dot(_x(3), _x(3, seed=1)),
    "vdot": lambda: _x(3).vdot(_x(3, seed=1)),
    "index_put": lambda: _x(3).index_put((ft.tensor([0, 2]),), _x(2, seed=1)),
    "scatter_add": lambda: _x(3).scatter_add(0, ft.tensor([0, 0]), _x(2, seed=1)),
    "addmv": lambda: _x(2).addmv(_x(2, 3, seed=1), _x(3, seed=2)),
    "addr": lambda: _x(2, 3).addr(_x(2, seed=1), _x(3, seed=2)),
    "einsum": lambda: ft.einsum("ij,jk->ik", _x(2, 3), _x(3, 2, seed=1)),
    "mv": lambda: _x(2, 3).mv(_x(3, seed=1)),
    "chain_matmul": lambda: ft.chain_matmul(_x(2, 3), _x(3, 3, seed=1), _x(3, 2, seed=2)),
    "linalg_multi_dot": lambda: ft.linalg.multi_dot([_x(2, 3), _x(3, 2, seed=1)]),
    "lstm_cell": lambda: ft.nn.LSTMCell(3, 2)(_x(4, 3), (_x(4, 2, seed=1), _x(4, 2, seed=2))),
    "gru_cell": lambda: ft.nn.GRUCell(3, 2)(_x(4, 3)),
    "rnn_tanh_cell": lambda: ft.nn.RNNCell(3, 2)(_x(4, 3)),
    "rnn_relu_cell": lambda: ft.nn.RNNCell(3, 2, nonlinearity="relu")(_x(4, 3)),
}


@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
@pytest.mark.parametrize("name", list(CALLS))
def test_each_listed_op_reaches_its_hook(name):
    assert _C._autocast_policy("cuda", name) is not None, name
    call = CALLS[name]
    _C._autocast_trace(True)
    call()  # outside a region the hooks consult no list
    assert _C._autocast_trace(True) == []
    try:
        with autocast("cpu"):
            call()
    finally:
        traced = _C._autocast_trace(False)
    assert name in traced, traced


def test_every_cuda_entry_is_reached_here_or_by_a_hook_at_its_entry():
    # Hooked at their entry (`autocast::run`: products, convolutions, prod, grid_sampler,
    # tensordot) or as Python composites (the losses): test_autocast_ops.py checks those by value
    # through the CPU's lists.
    at_entry = set(LOWER_PRECISION) - set(CALLS) | {"prod", "grid_sampler", "tensordot"}
    losses = {n for n in FP32 if n.endswith("loss") or n in {"nll_loss2d", "kl_div", "binary_cross_entropy_with_logits"}}
    missing = {n for n in LOWER_PRECISION + FP32 + PROMOTE if n not in CALLS} - at_entry - losses
    # ATen's antialiasing variants: interpolate(antialias=True) is not supported.
    assert missing == {"_upsample_bilinear2d_aa", "_upsample_bicubic2d_aa"}, missing


def test_no_hook_for_an_explicit_dtype_out_or_in_place_form():
    x = _x(3)
    _C._autocast_trace(True)
    try:
        with autocast("cpu"):
            x.sum(dtype=ft.float64)
            x.softmax(0, dtype=ft.float32)
            x.clone().exp_()
            ft.exp(x, out=ft.empty(3))
    finally:
        traced = _C._autocast_trace(False)
    assert not {"sum", "softmax", "exp"} & set(traced), traced


def test_inside_a_listed_composite_no_inner_op_is_looked_up():
    # cdist is on both lists: its body (differences, vector_norm) runs with autocast excluded.
    _C._autocast_trace(True)
    try:
        with autocast("cpu"):
            ft.cdist(_x(3, 4), _x(2, 4, seed=1))
    finally:
        traced = _C._autocast_trace(False)
    assert traced == ["cdist"], traced


def test_cdist_runs_in_float32_on_the_cpu_list():
    a, b = _x(3, 4).bfloat16(), _x(2, 4, seed=1).bfloat16()
    with autocast("cpu"):
        got = ft.cdist(a, b)
    assert got.dtype == ft.float32
    diff = a.double().numpy()[:, None, :] - b.double().numpy()[None, :, :]
    np.testing.assert_allclose(got.numpy(), np.sqrt((diff ** 2).sum(-1)), rtol=1e-6)


def test_area_interpolation_of_a_volume_runs_in_float32_as_adaptive_avg_pool3d():
    x = _x(1, 2, 4, 4, 4).bfloat16()
    with autocast("cpu"):
        got = F.interpolate(x, size=(2, 2, 2), mode="area")
    assert got.dtype == ft.float32
    want = x.double().numpy().reshape(1, 2, 2, 2, 2, 2, 2, 2).mean(axis=(3, 5, 7))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
