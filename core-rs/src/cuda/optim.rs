//! Fused optimizer updates on CUDA tensors: one launch of an optim.cu kernel per parameter,
//! over its dense operands (parameter, gradient, state buffers), with the rule's scalars.

use super::dispatch::{address, index_of, launch, threads_for};
use super::kernels::suffix;
use crate::error::Result;
use crate::tensor::Tensor;

/// optim.cu's `OptScalars`.
#[repr(C)]
struct OptScalars {
    v: [f64; 12],
}

/// optim.cu's `OptOperands`: device addresses, 0 for an absent operand.
#[repr(C)]
struct OptOperands {
    p: [u64; 5],
}

// SAFETY: plain `#[repr(C)]` data matching the CUDA structs.
unsafe impl cudarc::driver::DeviceRepr for OptScalars {}
// SAFETY: as above.
unsafe impl cudarc::driver::DeviceRepr for OptOperands {}

/// Runs kernel `<kernel>_<dtype>` (`optim_adam4`, ...) over the contiguous operands `ts` of one
/// parameter (`ts[0]`, on a GPU; absent state buffers `None`) with `scalars`.
pub fn step(kernel: &str, ts: &[Option<&Tensor>], scalars: &[f64]) -> Result<()> {
    let Some(param) = ts[0] else { return Ok(()) };
    let n = param.numel();
    if n == 0 {
        return Ok(());
    }
    let mut ops = OptOperands { p: [0; 5] };
    for (slot, t) in ops.p.iter_mut().zip(ts) {
        *slot = t.map_or(0, |t| address(t, t.offset()));
    }
    let mut s = OptScalars { v: [0.0; 12] };
    s.v[..scalars.len()].copy_from_slice(scalars);
    let count = n as i64;
    launch!(index_of(param)?, format!("{kernel}_{}", suffix(param.dtype())), threads_for(n); &count, &ops, &s)
}
