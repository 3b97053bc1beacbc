//! Gradients of reductions (`ops/reduce/`).

use crate::autograd::node::Grads;
use crate::autograd::record::record;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::binary::Operand;
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

pub mod minmax;
pub mod order;
pub mod scan;
pub mod stats;

/// `where(cond, a, b)` for formulas (either side may be a number).
pub(crate) fn select(cond: &Tensor, a: impl Into<Operand>, b: impl Into<Operand>) -> Result<Tensor> {
    crate::ops::binary::where_(cond, &a.into(), &b.into())
}

/// `x` with its zeros replaced by ones: a divisor whose masked-out quotients stay finite, so
/// the gradient of the discarded branch of a `where` is 0 rather than NaN.
pub(crate) fn nonzero_or_one(x: &Tensor) -> Result<Tensor> {
    select(&x.eq(0.0)?, 1.0, x)
}

/// Whether any element of `t` is non-zero.
pub(crate) fn any_true(t: &Tensor) -> Result<bool> {
    Ok(t.numel() > 0 && t.any(None, false)?.item()?.to_f64() != 0.0)
}

/// For each element of `x`, the product of the other elements of its slice over `dims`, given
/// `prod` (the product over `dims`, kept as size 1). One zero in a slice leaves the product of
/// the rest at its position; two or more make every entry 0 (PyTorch's `prod_backward`).
pub fn prod_others(x: &Tensor, prod: &Tensor, dims: Option<&[i64]>) -> Result<Tensor> {
    let zero = x.eq(0.0)?;
    let safe = nonzero_or_one(x)?;
    let others = prod.div(&safe)?;
    if !any_true(&zero)? {
        return Ok(others);
    }
    let single = zero.sum(dims, true, None)?.eq(1.0)?;
    let rest = match dims {
        None => safe.prod(None, false, None)?,
        Some(ds) => ds.iter().try_fold(safe, |acc, &d| acc.prod(Some(d), true, None))?,
    };
    select(&zero, &rest.keep_where(&single)?, &others)
}

/// Records `prod` (`ProdBackward0` over everything, `ProdBackward1` along a dim).
pub fn prod(x: &Tensor, dim: Option<i64>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    let name = if dim.is_none() { "ProdBackward0" } else { "ProdBackward1" };
    let dims = dim.map(|d| vec![d]);
    let kept = kept_shape(x.shape(), dims.as_deref())?;
    record(name, &[x], || x.prod(dim, keepdim, dtype), |s| {
        let (xs, out) = (s.save(x), s.output(0));
        move |gr: &Grads| {
            let others = prod_others(&xs.get()?, &out.get()?.reshape(&kept)?, dims.as_deref())?;
            Ok(vec![Some(gr.g().reshape(&kept)?.mul(&others)?)])
        }
    })
}

/// Records `nansum`: NaN elements get no gradient.
pub fn nansum(x: &Tensor, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    let (shape, kept) = (x.shape().to_vec(), kept_shape(x.shape(), dims)?);
    record("NansumBackward0", &[x], || x.nansum(dims, keepdim, dtype), |s| {
        let xs = s.save(x);
        move |gr: &Grads| Ok(vec![Some(unreduce(gr.g(), &shape, &kept)?.keep_where(&xs.get()?.isnan()?.logical_not()?)?)])
    })
}

/// `nanmean` as PyTorch composes it: `nansum / count of non-NaN` (so `DivBackward0`).
pub fn nanmean(x: &Tensor, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    let count = crate::autograd::no_grad(|| x.isnan()?.logical_not()?.sum(dims, keepdim, None))?;
    x.nansum(dims, keepdim, dtype)?.div(&count)
}
