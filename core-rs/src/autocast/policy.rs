//! Which ops autocast casts, and to what: PyTorch's CPU and CUDA lists
//! (aten/src/ATen/autocast_mode.cpp), restricted to the ops ferrotorch has. Names are PyTorch's op names; the Rust ops pass them
//! to `autocast::run`, the Python composites (losses, `linear`, ...) to `ferrotorch.amp`'s
//! `autocast_op` decorator.

use crate::dtype::DType;
use crate::error::Result;
use crate::bail;
use super::state::DeviceType;

/// What autocast does to an op's floating inputs (float64 inputs are never cast).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Cast to the fast dtype (`torch.get_autocast_dtype`): PyTorch's `lower_precision_fp`.
    LowerPrecision,
    /// Cast to float32: PyTorch's `fp32`.
    Fp32,
    /// Cast to the widest input type (float32 if any input is, else the fast dtype):
    /// PyTorch's `promote`.
    Promote,
    /// Refused under autocast (CUDA's `binary_cross_entropy`): an error naming the safe op.
    Banned,
}

use Policy::*;

/// Ops on both device types' lists with the same policy.
pub const COMMON_OPS: &[(&str, Policy)] = &[
    ("conv1d", LowerPrecision),
    ("conv2d", LowerPrecision),
    ("conv3d", LowerPrecision),
    ("conv_transpose1d", LowerPrecision),
    ("conv_transpose2d", LowerPrecision),
    ("conv_transpose3d", LowerPrecision),
    ("mm", LowerPrecision),
    ("bmm", LowerPrecision),
    ("matmul", LowerPrecision),
    ("addmm", LowerPrecision),
    ("addbmm", LowerPrecision),
    ("baddbmm", LowerPrecision),
    ("linalg_vecdot", LowerPrecision),
    ("linear", LowerPrecision),
    ("prelu", LowerPrecision),
    ("scaled_dot_product_attention", LowerPrecision),
    ("prod", Fp32),
    ("cdist", Fp32),
    ("binary_cross_entropy_with_logits", Fp32),
    ("mse_loss", Fp32),
    ("l1_loss", Fp32),
    ("smooth_l1_loss", Fp32),
    ("huber_loss", Fp32),
    ("kl_div", Fp32),
    ("poisson_nll_loss", Fp32),
    ("nll_loss", Fp32),
    ("nll_loss2d", Fp32),
    // PyTorch lists it for the CPU only: on CUDA it runs `log_softmax` and `nll_loss`, both
    // float32 there, which this entry reproduces.
    ("cross_entropy_loss", Fp32),
    ("margin_ranking_loss", Fp32),
    ("hinge_embedding_loss", Fp32),
    ("soft_margin_loss", Fp32),
    ("multilabel_margin_loss", Fp32),
    ("multi_margin_loss", Fp32),
    ("cosine_embedding_loss", Fp32),
    ("triplet_margin_loss", Fp32),
];

/// The CPU's own entries.
pub const CPU_OPS: &[(&str, Policy)] = &[
    // Not listed in PyTorch, but its tensordot always reaches a listed mm, so it ends the same.
    ("tensordot", LowerPrecision),
    ("trace", Fp32),
    ("quantile", Fp32),
    ("nanquantile", Fp32),
    ("linalg_inv", Fp32),
    ("linalg_cholesky", Fp32),
    ("linalg_pinv", Fp32),
    ("linalg_eigh", Fp32),
    ("linalg_eigvalsh", Fp32),
    ("linalg_svd", Fp32),
    ("linalg_svdvals", Fp32),
    ("linalg_qr", Fp32),
    ("linalg_solve", Fp32),
    ("linalg_lstsq", Fp32),
    ("avg_pool3d", Fp32),
    ("max_pool3d", Fp32),
    ("adaptive_avg_pool3d", Fp32),
    ("adaptive_max_pool3d", Fp32),
    // PyTorch's max_unpool1d runs max_unpool2d, which is listed.
    ("max_unpool1d", Fp32),
    ("max_unpool2d", Fp32),
    ("max_unpool3d", Fp32),
    ("reflection_pad1d", Fp32),
    ("reflection_pad2d", Fp32),
    ("replication_pad1d", Fp32),
    ("replication_pad2d", Fp32),
    ("replication_pad3d", Fp32),
    ("grid_sampler", Fp32),
    ("binary_cross_entropy", Fp32),
    ("ctc_loss", Fp32),
    ("cat", Promote),
    ("stack", Promote),
    ("index_copy", Promote),
];

/// CUDA's own entries (PyTorch's `AT_FORALL_*` lists of autocast_mode.h, less the two ops
/// ferrotorch does not have, `frobenius_norm` and `nuclear_norm`, and ATen-internal variants).
pub const CUDA_OPS: &[(&str, Policy)] = &[
    ("addmv", LowerPrecision),
    ("addr", LowerPrecision),
    ("einsum", LowerPrecision),
    ("mv", LowerPrecision),
    ("chain_matmul", LowerPrecision),
    ("linalg_multi_dot", LowerPrecision),
    ("lstm_cell", LowerPrecision),
    ("gru_cell", LowerPrecision),
    ("rnn_tanh_cell", LowerPrecision),
    ("rnn_relu_cell", LowerPrecision),
    ("acos", Fp32),
    ("asin", Fp32),
    ("cosh", Fp32),
    ("erfinv", Fp32),
    ("exp", Fp32),
    ("expm1", Fp32),
    ("log", Fp32),
    ("log10", Fp32),
    ("log2", Fp32),
    ("log1p", Fp32),
    ("reciprocal", Fp32),
    ("rsqrt", Fp32),
    ("sinh", Fp32),
    ("tan", Fp32),
    ("pow", Fp32),
    ("softplus", Fp32),
    ("layer_norm", Fp32),
    ("group_norm", Fp32),
    ("cosine_similarity", Fp32),
    ("dist", Fp32),
    ("pdist", Fp32),
    ("renorm", Fp32),
    ("logsumexp", Fp32),
    ("upsample_nearest1d", Fp32),
    ("_upsample_nearest_exact1d", Fp32),
    ("upsample_nearest2d", Fp32),
    ("_upsample_nearest_exact2d", Fp32),
    ("upsample_nearest3d", Fp32),
    ("_upsample_nearest_exact3d", Fp32),
    ("upsample_linear1d", Fp32),
    ("upsample_bilinear2d", Fp32),
    ("_upsample_bilinear2d_aa", Fp32),
    ("upsample_trilinear3d", Fp32),
    ("upsample_bicubic2d", Fp32),
    ("_upsample_bicubic2d_aa", Fp32),
    // PyTorch's `fp32_set_opt_dtype` ops: run in float32 unless a dtype is given (the bindings
    // consult the table only without one).
    ("softmax", Fp32),
    ("log_softmax", Fp32),
    ("cumprod", Fp32),
    ("cumsum", Fp32),
    ("linalg_vector_norm", Fp32),
    ("linalg_matrix_norm", Fp32),
    ("sum", Fp32),
    // `fp32_append_dtype`: `norm` computed in float32.
    ("norm", Fp32),
    ("addcdiv", Promote),
    ("addcmul", Promote),
    ("atan2", Promote),
    ("bilinear", Promote),
    ("cross", Promote),
    ("dot", Promote),
    ("vdot", Promote),
    ("grid_sampler", Promote),
    ("index_put", Promote),
    ("tensordot", Promote),
    ("scatter_add", Promote),
    ("binary_cross_entropy", Banned),
];

/// The policy of op `name` under autocast on `device`, if it is listed there.
pub fn policy(device: DeviceType, name: &str) -> Option<Policy> {
    let own = match device {
        DeviceType::Cpu => CPU_OPS,
        DeviceType::Cuda => CUDA_OPS,
    };
    own.iter().chain(COMMON_OPS).find(|(n, _)| *n == name).map(|&(_, p)| p)
}

/// The dtype `policy` casts eligible inputs (floating, not float64) to, given the fast dtype
/// and the eligible inputs' dtypes.
pub fn target_dtype(policy: Policy, fast: DType, eligible: impl Iterator<Item = DType>) -> Result<DType> {
    match policy {
        LowerPrecision => Ok(fast),
        Banned => bail!(
            Runtime,
            "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n\
             Many models use a sigmoid layer right before the binary cross entropy layer.\n\
             In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n\
             or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n\
             safe to autocast."
        ),
        Fp32 => Ok(DType::F32),
        Promote => {
            let mut current = fast;
            for next in eligible {
                current = if current == DType::F32 || next == DType::F32 {
                    DType::F32
                } else if current == fast && next == fast {
                    fast
                } else {
                    // PyTorch's wording: mixing the two half types has no defined winner.
                    bail!(Runtime, "Unexpected floating ScalarType in at::autocast::prioritize");
                };
            }
            Ok(current)
        }
    }
}
