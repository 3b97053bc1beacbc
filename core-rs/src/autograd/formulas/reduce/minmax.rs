//! Gradients of extremes (`ops/reduce/minmax.rs`) and the two ways a selecting reduction hands
//! its gradient back: split evenly over ties, or to the reported index.

use super::kept_shape;
use crate::autograd::node::Grads;
use crate::autograd::record::{attach, record, record_multi};
use crate::autograd::views::scatter_add_linear;
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::ops::binary::{BinaryOp, Operand};
use crate::tensor::Tensor;

/// The gradient of a reduction that picks the value `result` (kept dims of size 1) out of `x`
/// over `dims`: `g` split evenly over every element equal to it (NaN matching NaN).
pub fn evenly_distribute(g: &Tensor, x: &Tensor, result: &Tensor, dims: Option<&[i64]>) -> Result<Tensor> {
    let both_nan = x.isnan()?.binary(BinaryOp::LogicalAnd, &Operand::Tensor(result.isnan()?))?;
    let mask = x.eq(result)?.logical_or(&both_nan)?;
    let count = mask.sum(dims, true, None)?;
    g.div(&count)?.mul(&mask)
}

/// Records a reduction whose value is an element of `x` picked over `dims` (`amax`, `max()`,
/// `median()`, ...): ties share the gradient.
pub fn picked(name: &'static str, x: &Tensor, dims: Option<&[i64]>, forward: impl FnOnce() -> Result<Tensor>) -> Result<Tensor> {
    let kept = kept_shape(x.shape(), dims)?;
    let dims = dims.map(<[i64]>::to_vec);
    record(name, &[x], forward, |s| {
        let (xs, out) = (s.save(x), s.output(0));
        move |gr: &Grads| {
            let result = out.get()?.reshape(&kept)?;
            Ok(vec![Some(evenly_distribute(&gr.g().reshape(&kept)?, &xs.get()?, &result, dims.as_deref())?)])
        }
    })
}

/// For indices along `dim` of `x` (shaped like `x` with `dim` of any size), the linear index of
/// each picked element in `x`.
pub fn positions_along(shape: &[usize], dim: usize, indices: &Tensor) -> Result<Tensor> {
    if shape.is_empty() {
        return indices.zeros_like();
    }
    crate::autograd::no_grad(|| Tensor::arange_i64(shape)?.to_device(indices.device())?.gather(dim as i64, indices))
}

/// Records an op returning `(values, indices)` whose values are the elements of `x` at
/// `indices` along `dim` (`max(dim)`, `median(dim)`, `mode`, `cummax`, ...): the gradient goes
/// to those elements. `keepdim` says whether the reduced `dim` is still in the result.
pub fn indexed(
    name: &'static str,
    x: &Tensor,
    dim: i64,
    keepdim: bool,
    forward: impl FnOnce() -> Result<(Tensor, Tensor)>,
) -> Result<(Tensor, Tensor)> {
    let shape = x.shape().to_vec();
    let d = wrap_dim(dim, shape.len())?;
    let (values, indices) = crate::autograd::no_grad(forward)?;
    // The indices are integers without history: the formula keeps them as plain state.
    let index = indices.clone();
    let values = attach(name.into(), &[x], vec![values], move |s| {
        s.keeps_state();
        move |gr: &Grads| {
            let (mut g, mut idx) = (gr.g().clone(), index.clone());
            if !keepdim && !shape.is_empty() {
                g = g.unsqueeze(d as i64)?;
                idx = idx.unsqueeze(d as i64)?;
            }
            Ok(vec![Some(scatter_add_linear(&g, &positions_along(&shape, d, &idx)?, &shape)?)])
        }
    })
    .remove(0);
    Ok((values, indices))
}

/// Records `aminmax` (`AminmaxBackward0`): each result splits its gradient over its ties.
pub fn aminmax(x: &Tensor, dim: Option<i64>, keepdim: bool) -> Result<(Tensor, Tensor)> {
    let dims = dim.map(|d| vec![d]);
    let kept = kept_shape(x.shape(), dims.as_deref())?;
    let mut outs = record_multi("AminmaxBackward0", &[x], || x.aminmax(dim, keepdim).map(|(a, b)| vec![a, b]), |s| {
        let (xs, lo, hi) = (s.save(x), s.output(0), s.output(1));
        move |gr: &Grads| {
            let x = xs.get()?;
            let part = |k: usize, out: &crate::autograd::Saved| -> Result<Tensor> {
                evenly_distribute(&gr.outputs[k].reshape(&kept)?, &x, &out.get()?.reshape(&kept)?, dims.as_deref())
            };
            let g = match (gr.present(0), gr.present(1)) {
                (true, true) => part(0, &lo)?.add(&part(1, &hi)?)?,
                (true, false) => part(0, &lo)?,
                _ => part(1, &hi)?,
            };
            Ok(vec![Some(g)])
        }
    })?;
    let hi = outs.pop().expect("two outputs");
    Ok((outs.pop().expect("two outputs"), hi))
}
