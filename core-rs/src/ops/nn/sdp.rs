//! Which implementation runs `scaled_dot_product_attention`, under PyTorch's switches for its
//! SDP backends (`backends.cuda.enable_{flash,mem_efficient,math,cudnn}_sdp` and
//! `nn.attention.sdpa_kernel`).
//!
//! ferrotorch has two implementations. The fused kernels (cuda/attention.rs) stand for PyTorch's
//! flash attention (float16 and bfloat16) and its memory-efficient attention (every float dtype),
//! on CUDA with heads of at most 256 elements. The composed tensor ops (ops/nn/attention.rs) are
//! PyTorch's math backend, and on the CPU also stand for PyTorch's CPU flash kernel. ferrotorch
//! has no cuDNN attention, so its switch is kept and read by no choice.
//!
//! Where both may run, the composed ops run while the scores of the call fit in
//! `COMPOSED_BUDGET`: their products are cuBLAS's batched GEMMs, where the fused kernels compute
//! on CUDA cores (session 14 measured them at 0.09x of PyTorch's flash attention); past the
//! budget the fused kernels keep memory linear in the key count. `sdpa_kernel(...,
//! set_priority=True)` replaces that rule with the caller's order.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::cuda::attention::Sizes;
use crate::dtype::DType;
use crate::error::Result;
use crate::{bail, err};

static FLASH: AtomicBool = AtomicBool::new(true);
static MEM_EFFICIENT: AtomicBool = AtomicBool::new(true);
static MATH: AtomicBool = AtomicBool::new(true);
static CUDNN: AtomicBool = AtomicBool::new(true);

/// The order among allowed implementations: `BY_SIZE` (the budget rule), or the caller's.
static PRIORITY: AtomicU8 = AtomicU8::new(BY_SIZE);
const BY_SIZE: u8 = 0;
const FUSED_FIRST: u8 = 1;
const COMPOSED_FIRST: u8 = 2;

/// The largest scores tensor `(heads, L, S)` in the compute type that the composed ops build
/// when the fused kernels could run instead. The backward keeps the probabilities, one such
/// tensor per attention layer; 256 MiB holds a GPT-2-small layer's (12 heads x 1024^2 x 4 B
/// = 48 MiB) at batch 5.
pub const COMPOSED_BUDGET: usize = 256 << 20;

/// The implementation one attention call runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// cuda/attention.rs: no scores in memory.
    Fused,
    /// Tensor ops in the compute type, keeping the probabilities for the backward.
    Composed,
}

fn switch(name: &str) -> Result<&'static AtomicBool> {
    Ok(match name {
        "flash" => &FLASH,
        "mem_efficient" => &MEM_EFFICIENT,
        "math" => &MATH,
        "cudnn" => &CUDNN,
        _ => bail!(Value, "unknown scaled-dot-product attention backend '{name}' (flash, mem_efficient, math, cudnn)"),
    })
}

/// Allows or forbids one backend by PyTorch's name for it.
pub fn set_enabled(name: &str, value: bool) -> Result<()> {
    switch(name)?.store(value, Ordering::Relaxed);
    Ok(())
}

/// Whether a backend is allowed.
pub fn enabled(name: &str) -> Result<bool> {
    Ok(switch(name)?.load(Ordering::Relaxed))
}

/// Sets the order among allowed backends: `None` for the size rule, or `Fused` / `Composed` first.
pub fn set_priority(first: Option<Backend>) {
    let value = match first {
        None => BY_SIZE,
        Some(Backend::Fused) => FUSED_FIRST,
        Some(Backend::Composed) => COMPOSED_FIRST,
    };
    PRIORITY.store(value, Ordering::Relaxed);
}

/// The backend set first by `set_priority`, if any.
pub fn priority() -> Option<Backend> {
    match PRIORITY.load(Ordering::Relaxed) {
        FUSED_FIRST => Some(Backend::Fused),
        COMPOSED_FIRST => Some(Backend::Composed),
        _ => None,
    }
}

/// The implementation for a call of `dtype` operands with sizes `n`, on CUDA or not, under the
/// current switches; PyTorch's error when every backend that could take it is off.
pub fn choose(cuda: bool, dtype: DType, n: Sizes) -> Result<Backend> {
    let on = |s: &AtomicBool| s.load(Ordering::Relaxed);
    let math = on(&MATH);
    if !cuda {
        if math || on(&FLASH) {
            return Ok(Backend::Composed);
        }
        return Err(none_available("the math and flash backends are disabled"));
    }
    let half = matches!(dtype, DType::F16 | DType::BF16);
    let fused = n.dim().is_some() && (on(&MEM_EFFICIENT) || (half && on(&FLASH)));
    Ok(match (fused, math) {
        (true, true) => match priority() {
            Some(first) => first,
            None if scores_bytes(dtype, n) <= COMPOSED_BUDGET => Backend::Composed,
            None => Backend::Fused,
        },
        (true, false) => Backend::Fused,
        (false, true) => Backend::Composed,
        (false, false) => {
            let why = if n.dim().is_none() {
                format!("the math backend is disabled and the fused kernels take head dims up to 256, got {} and {}", n.e, n.ev)
            } else if half {
                "the math, flash and memory-efficient backends are disabled".to_string()
            } else {
                format!("the math and memory-efficient backends are disabled (flash attention takes float16 and bfloat16, got {dtype})")
            };
            return Err(none_available(&why));
        }
    })
}

/// Bytes of the scores `(heads, L, S)` in `dtype`'s compute type (saturating).
fn scores_bytes(dtype: DType, n: Sizes) -> usize {
    [n.heads, n.l, n.s, dtype.compute_type().size()].into_iter().fold(1usize, usize::saturating_mul)
}

fn none_available(why: &str) -> crate::error::Error {
    err!(Runtime, "No available kernel. Aborting execution. (scaled_dot_product_attention: {why})")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The switches are process-wide: one test walks every case so none races another.
    #[test]
    fn switches_and_sizes_choose_the_implementation() {
        let small = Sizes { heads: 384, group: 1, l: 256, s: 256, e: 64, ev: 64 };
        let long = Sizes { l: 4096, s: 4096, ..small };
        let wide = Sizes { e: 512, ev: 512, ..small };
        assert_eq!(choose(true, DType::BF16, small).unwrap(), Backend::Composed);
        assert_eq!(choose(true, DType::F32, long).unwrap(), Backend::Fused);
        assert_eq!(choose(true, DType::F32, wide).unwrap(), Backend::Composed);
        assert_eq!(choose(false, DType::F32, long).unwrap(), Backend::Composed);

        set_priority(Some(Backend::Fused));
        assert_eq!(choose(true, DType::BF16, small).unwrap(), Backend::Fused);
        set_priority(Some(Backend::Composed));
        assert_eq!(choose(true, DType::F32, long).unwrap(), Backend::Composed);
        set_priority(None);

        set_enabled("math", false).unwrap();
        assert_eq!(choose(true, DType::F32, small).unwrap(), Backend::Fused);
        assert!(choose(true, DType::F32, wide).unwrap_err().to_string().contains("No available kernel"));
        set_enabled("mem_efficient", false).unwrap();
        // Flash attention takes the half types only.
        assert_eq!(choose(true, DType::F16, small).unwrap(), Backend::Fused);
        assert!(choose(true, DType::F32, small).unwrap_err().to_string().contains("flash attention takes float16"));
        assert_eq!(choose(false, DType::F32, small).unwrap(), Backend::Composed);
        set_enabled("flash", false).unwrap();
        assert!(choose(false, DType::F32, small).is_err());
        assert!(choose(true, DType::BF16, small).is_err());
        for name in ["flash", "mem_efficient", "math"] {
            set_enabled(name, true).unwrap();
        }
        assert!(set_enabled("fast", true).is_err());
        assert_eq!(choose(true, DType::BF16, small).unwrap(), Backend::Composed);
    }
}
