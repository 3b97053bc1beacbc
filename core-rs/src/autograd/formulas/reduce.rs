//! Gradients of reductions (`ops/reduce/`).

use crate::autograd::node::Grads;
use crate::autograd::record::record;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::reduce::reduce_mask;
use crate::tensor::Tensor;

/// The input's shape with the reduced dims kept as size 1.
pub fn kept_shape(shape: &[usize], dims: Option<&[i64]>) -> Result<Vec<i64>> {
    let mask = reduce_mask(dims, shape.len())?;
    Ok(shape.iter().zip(&mask).map(|(&s, &m)| if m { 1 } else { s as i64 }).collect())
}

/// Spreads the gradient of a reduction back over the input's shape.
pub fn unreduce(g: &Tensor, shape: &[usize], kept: &[i64]) -> Result<Tensor> {
    g.reshape(kept)?.expand_to(shape)
}

/// Records `sum` (`SumBackward0` over everything, `SumBackward1` over dims).
pub fn sum(x: &Tensor, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    let name = if dims.is_none() { "SumBackward0" } else { "SumBackward1" };
    let (shape, kept) = (x.shape().to_vec(), kept_shape(x.shape(), dims)?);
    record(name, &[x], || x.sum(dims, keepdim, dtype), |_| move |gr: &Grads| Ok(vec![Some(unreduce(gr.g(), &shape, &kept)?)]))
}

/// Records `mean` (`MeanBackward0`/`MeanBackward1`).
pub fn mean(x: &Tensor, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    let name = if dims.is_none() { "MeanBackward0" } else { "MeanBackward1" };
    let (shape, kept) = (x.shape().to_vec(), kept_shape(x.shape(), dims)?);
    let count = (x.numel() as f64 / kept.iter().product::<i64>().max(1) as f64).max(0.0);
    record(name, &[x], || x.mean(dims, keepdim, dtype), |_| {
        move |gr: &Grads| Ok(vec![Some(unreduce(&gr.g().div(count)?, &shape, &kept)?)])
    })
}
