//! Gradients of sorting and selection (`ops/sort/`). The selected values' gradient goes back
//! to the positions they were taken from; the index outputs have none.

use crate::autograd::mode::no_grad;
use crate::autograd::node::Grads;
use crate::autograd::record::attach;
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::ops::index::ScatterSrc;
use crate::tensor::Tensor;

/// Zeros shaped like the input with `g` written at `indices` along `dim` (PyTorch's
/// `value_selecting_reduction_backward`); `keepdim = false` means `dim` was removed.
fn selected_backward(g: &Tensor, dim: usize, indices: &Tensor, shape: &[usize], keepdim: bool) -> Result<Tensor> {
    let (g, indices) = if keepdim || shape.is_empty() {
        (g.clone(), indices.clone())
    } else {
        (g.unsqueeze(dim as i64)?, indices.unsqueeze(dim as i64)?)
    };
    Tensor::zeros_on(shape, g.dtype(), g.device())?.scatter(dim as i64, &indices, &ScatterSrc::Tensor(g), None)
}

/// Gives `(values, indices)` of a selection along `dim` of `x` the node `name`.
fn record_selection(name: &'static str, x: &Tensor, dim: usize, keepdim: bool, (values, indices): (Tensor, Tensor)) -> (Tensor, Tensor) {
    let shape = x.shape().to_vec();
    let idx = indices.clone();
    let mut outs = attach(name.into(), &[x], vec![values, indices], move |s| {
        s.keeps_state();
        move |gr: &Grads| Ok(vec![Some(selected_backward(&gr.outputs[0], dim, &idx, &shape, keepdim)?)])
    });
    let indices = outs.pop().expect("two outputs");
    (outs.pop().expect("two outputs"), indices)
}

/// Records `sort` (`SortBackward0`).
pub fn sort(x: &Tensor, dim: i64, descending: bool) -> Result<(Tensor, Tensor)> {
    let out = no_grad(|| x.sort(dim, descending))?;
    Ok(record_selection("SortBackward0", x, wrap_dim(dim, x.ndim())?, true, out))
}

/// Records `topk` (`TopkBackward0`).
pub fn topk(x: &Tensor, k: i64, dim: i64, largest: bool, sorted: bool) -> Result<(Tensor, Tensor)> {
    let out = no_grad(|| x.topk(k, dim, largest, sorted))?;
    Ok(record_selection("TopkBackward0", x, wrap_dim(dim, x.ndim())?, true, out))
}

/// Records `kthvalue` (`KthvalueBackward0`).
pub fn kthvalue(x: &Tensor, k: i64, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
    let out = no_grad(|| x.kthvalue(k, dim, keepdim))?;
    Ok(record_selection("KthvalueBackward0", x, wrap_dim(dim, x.ndim())?, keepdim, out))
}

/// Gives `unique`'s values a node whose backward raises, as PyTorch's `not_implemented`.
pub fn not_implemented(name: &'static str, op: &'static str, x: &Tensor, values: Tensor) -> Tensor {
    attach(name.into(), &[x], vec![values], move |_| {
        move |_: &Grads| -> Result<Vec<Option<Tensor>>> { crate::bail!(NotImplemented, "the derivative for '{}' is not implemented.", op) }
    })
    .remove(0)
}
