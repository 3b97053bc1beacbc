//! Fused optimizer updates on CUDA tensors: each launch of an optim.cu kernel updates a list of
//! up to `OPT_LIST` parameters (PyTorch's multi-tensor apply), every operand dense, each
//! parameter with its rule's scalars. With step counters on the device (`capturable=True`), a
//! prologue launch advances them and leaves each parameter's bias corrections (and whatever
//! depends on a learning rate given as a device tensor) for the update: nothing is read back to
//! the host, so the step can be captured into a CUDA graph.

use super::dispatch::{address, index_of, launch, threads_for};
use super::kernels::{suffix, OPT_LIST};
use crate::error::Result;
use crate::tensor::Tensor;

/// The scalars a capturable step's prologue leaves per parameter (optim.cu's `FT_OPT_COEF`).
const OPT_COEF: usize = 5;

/// optim.cu's `OptList`.
#[repr(C)]
struct OptList {
    count: i64,
    ends: [i64; OPT_LIST],
    p: [[u64; 5]; OPT_LIST],
    s: [[f64; 15]; OPT_LIST],
    step: [u64; OPT_LIST],
    coef: [u64; OPT_LIST],
    extra: [u64; OPT_LIST],
    lr: [u64; OPT_LIST],
}

// SAFETY: plain `#[repr(C)]` data matching the CUDA struct.
unsafe impl cudarc::driver::DeviceRepr for OptList {}

/// One parameter's update: the kernel family with its operand count (`optim_adam4`, ...), the
/// dense operands (parameter first, on a GPU; absent state buffers `None`) and the scalars.
pub struct Update<'a> {
    pub kernel: String,
    pub operands: Vec<Option<&'a Tensor>>,
    pub scalars: Vec<f64>,
    /// The parameter's float32 step counter on the device (capturable steps), and the rule's
    /// float32 scalar state there (NAdam's mu_product).
    pub step: Option<&'a Tensor>,
    pub extra: Option<&'a Tensor>,
    /// With capturable steps, the learning rate as a float64 on the device, read by the
    /// prologue in place of the rule's scalar.
    pub lr: Option<&'a Tensor>,
}

/// Runs `updates`: consecutive ones of the same kernel, dtype and device share launches, up to
/// `OPT_LIST` parameters each.
pub fn step(updates: &[Update]) -> Result<()> {
    let key = |u: &Update| u.operands[0].map(|p| (u.kernel.clone(), p.dtype(), p.device(), u.step.is_some()));
    // Empty parameters need no launch, unless their device step counter must still advance.
    let live: Vec<&Update> = updates.iter().filter(|u| u.step.is_some() || u.operands[0].is_some_and(|p| p.numel() > 0)).collect();
    let mut start = 0;
    while start < live.len() {
        let k = key(live[start]);
        let mut end = start + 1;
        while end < live.len() && end - start < OPT_LIST && key(live[end]) == k {
            end += 1;
        }
        launch_list(&live[start..end])?;
        start = end;
    }
    Ok(())
}

/// The launches over `list` (one kernel, dtype and device; at most `OPT_LIST` parameters).
fn launch_list(list: &[&Update]) -> Result<()> {
    let mut table = OptList {
        count: list.len() as i64,
        ends: [0; OPT_LIST],
        p: [[0; 5]; OPT_LIST],
        s: [[0.0; 15]; OPT_LIST],
        step: [0; OPT_LIST],
        coef: [0; OPT_LIST],
        extra: [0; OPT_LIST],
        lr: [0; OPT_LIST],
    };
    let mut total = 0;
    for (t, u) in list.iter().enumerate() {
        for (slot, op) in table.p[t].iter_mut().zip(&u.operands) {
            *slot = op.map_or(0, |x| address(x, x.offset()));
        }
        table.s[t][..u.scalars.len()].copy_from_slice(&u.scalars);
        total += u.operands[0].map_or(0, |p| p.numel());
        table.ends[t] = total as i64;
    }
    let param = list[0].operands[0].expect("a parameter");
    let index = index_of(param)?;
    // Capturable steps: the rule's prologue advances the counters and leaves the step's
    // scalars here (a temporary: the update that reads it is queued right after, on the same
    // stream).
    let _coefs = if list[0].step.is_some() {
        let coefs = Tensor::uninit_on(&[list.len(), OPT_COEF], crate::dtype::DType::F64, param.device())?;
        for (t, u) in list.iter().enumerate() {
            let step = u.step.expect("one list shares capturable steps");
            table.step[t] = address(step, step.offset());
            table.coef[t] = address(&coefs, OPT_COEF * t);
            table.extra[t] = u.extra.map_or(0, |x| address(x, x.offset()));
            table.lr[t] = u.lr.map_or(0, |x| address(x, x.offset()));
        }
        // optim_<family><K>: the family's prologue.
        let family = list[0].kernel.trim_start_matches("optim_").trim_end_matches(|c: char| c.is_ascii_digit());
        launch!(index, format!("optim_prepare_{family}"), threads_for(list.len()); &table)?;
        Some(coefs)
    } else {
        None
    };
    if total == 0 {
        return Ok(());
    }
    launch!(index, format!("{}_{}", list[0].kernel, suffix(param.dtype())), threads_for(total); &table)
}
