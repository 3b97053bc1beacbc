//! In-place ops under autograd. With history to record, the new value is computed out of
//! place from a copy of the old one, written in, and the written tensor takes on the new
//! value's history. Writing through a view rebases its base's history (`CopySlices`), and
//! every view of that base regenerates its own history from the base when next used.

use crate::autograd::mode::{is_grad_enabled, no_grad};
use crate::autograd::node::Grads;
use crate::autograd::record::{attach, record};
use crate::autograd::views::{gather_linear, linear_index, scatter_add_linear};
use crate::dtype::check_can_cast;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::bail;

/// Whether writing into `dst` (with `others` flowing in) must be recorded.
fn tracks(dst: &Tensor, others: &[&Tensor]) -> bool {
    is_grad_enabled() && (dst.requires_grad() || dst.base().is_some_and(|b| b.requires_grad()) || others.iter().any(|t| t.requires_grad()))
}

/// PyTorch's rules: leaves that require grad (and their views) cannot be written in place
/// while recording.
fn check_writable(dst: &Tensor) -> Result<()> {
    if let Some(base) = dst.base() {
        if base.requires_grad() && base.is_leaf() {
            bail!(Runtime, "a view of a leaf Variable that requires grad is being used in an in-place operation.");
        }
    } else if dst.requires_grad() && dst.is_leaf() {
        bail!(Runtime, "a leaf Variable that requires grad is being used in an in-place operation.");
    }
    Ok(())
}

/// `dst = f(dst)` in place. `others` are the other tensors `f` reads (their gradients flow
/// through the recorded graph). `raw` writes directly when nothing is recorded.
pub fn inplace_with(dst: &Tensor, others: &[&Tensor], raw: impl FnOnce() -> Result<()>, f: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<()> {
    if !tracks(dst, others) {
        return raw();
    }
    check_writable(dst)?;
    let old = dst.duplicate()?;
    let value = f(&old)?;
    check_can_cast(value.dtype(), dst.dtype())?;
    write(dst, &value)
}

/// `dst = f(dst)` in place, computing `f` out of place in both cases.
pub fn inplace(dst: &Tensor, others: &[&Tensor], f: impl Fn(&Tensor) -> Result<Tensor>) -> Result<()> {
    inplace_direct(dst, others, || Ok(false), f)
}

/// `inplace`, trying `direct` first when nothing is recorded: it writes `dst` itself with no
/// temporary and returns false when it cannot, and the out-of-place way runs instead.
pub fn inplace_direct(dst: &Tensor, others: &[&Tensor], direct: impl FnOnce() -> Result<bool>, f: impl Fn(&Tensor) -> Result<Tensor>) -> Result<()> {
    inplace_with(
        dst,
        others,
        || {
            if direct()? {
                dst.bump_version();
                return Ok(());
            }
            let r = f(dst)?;
            check_can_cast(r.dtype(), dst.dtype())?;
            dst.copy_from(&r)
        },
        &f,
    )
}

/// Writes `value` into `dst` and gives `dst` (or its base) the matching history.
fn write(dst: &Tensor, value: &Tensor) -> Result<()> {
    no_grad(|| dst.copy_from(value))?;
    let value = if value.dtype() != dst.dtype() { value.cast(dst.dtype())? } else { value.clone() };
    let value = if value.shape() != dst.shape() { value.expand_to(dst.shape())? } else { value };
    if !value.requires_grad() && !dst.requires_grad() && !dst.base().is_some_and(|b| b.requires_grad()) {
        return Ok(());
    }
    // The written tensor needs a node of its own to point at.
    let value = if value.grad_fn().is_none() { value.duplicate_always()? } else { value };
    match dst.base() {
        None => match value.grad_fn() {
            Some(node) => dst.set_history(node, value.output_nr()),
            None => dst.detach_()?,
        },
        Some(base) => {
            let positions = linear_index(base, dst)?;
            let mut keep = vec![true; base.numel()];
            for &p in &positions.to_vec::<i64>()? {
                keep[p as usize] = false;
            }
            let keep = Tensor::from_slice(&keep, base.shape())?.to_device(base.device())?;
            let base_in = base.clone();
            attach("CopySlices".into(), &[&base_in, &value], vec![base.clone()], move |s| {
                s.keeps_state();
                move |gr: &Grads| Ok(vec![gr.when(0, || gr.g().keep_where(&keep))?, gr.when(1, || gather_linear(gr.g(), &positions))?])
            });
            regenerate_view(dst, base);
        }
    }
    Ok(())
}

/// Gives `view` history as a strided view of `base`'s current history (`AsStridedBackward0`).
pub(crate) fn regenerate_view(view: &Tensor, base: &Tensor) {
    let Ok(positions) = linear_index(base, view) else { return };
    let shape = base.shape().to_vec();
    attach("AsStridedBackward0".into(), &[base], vec![view.clone()], move |s| {
        s.keeps_state();
        move |gr: &Grads| Ok(vec![Some(scatter_add_linear(gr.g(), &positions, &shape)?)])
    });
}

impl Tensor {
    /// `clone()`: a contiguous copy that keeps history (`CloneBackward0`).
    pub fn duplicate(&self) -> Result<Tensor> {
        record("CloneBackward0", &[self], || self.clone_contiguous(), |_| |gr: &Grads| Ok(vec![Some(gr.g().clone())]))
    }

    /// `duplicate()` even when grad mode is off or the result would be the input.
    fn duplicate_always(&self) -> Result<Tensor> {
        let out = no_grad(|| self.clone_contiguous())?;
        Ok(attach("CopyBackwards".into(), &[self], vec![out], |_| |gr: &Grads| Ok(vec![Some(gr.g().clone())])).remove(0))
    }

    /// `to(dtype)` with history (`ToCopyBackward0`); the gradient is cast back.
    pub fn cast(&self, dtype: crate::DType) -> Result<Tensor> {
        record("ToCopyBackward0", &[self], || self.to_dtype(dtype), |_| |gr: &Grads| Ok(vec![Some(gr.g().clone())]))
    }

    /// `to(device)` with history (`ToCopyBackward0`); the engine moves the gradient back.
    pub fn to_device_recorded(&self, device: crate::Device) -> Result<Tensor> {
        record("ToCopyBackward0", &[self], || self.to_device(device), |_| |gr: &Grads| Ok(vec![Some(gr.g().clone())]))
    }

    /// `self.copy_(src)`: copies `src` (broadcast and cast) into `self`, with history.
    pub fn copy_(&self, src: &Tensor) -> Result<()> {
        inplace_with(self, &[src], || self.copy_from(src), |old| {
            let shape = self.shape().to_vec();
            let (dtype, device) = (self.dtype(), self.device());
            record("CopyBackwards", &[old, src], || {
                let out = Tensor::uninit_on(&shape, dtype, device)?;
                out.copy_from(src)?;
                Ok(out)
            }, |_| |gr: &Grads| Ok(vec![gr.when(0, || gr.g().zeros_like())?, Some(gr.g().clone())]))
        })
    }
}
