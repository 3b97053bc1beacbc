//! Gradients of cumulative ops (`ops/reduce/scan.rs`). Each is a reversed cumulative sum of
//! the output gradient, written as `sum - cumsum + g` so that it is made of recorded ops.

use super::{any_true, nonzero_or_one, select};
use crate::autograd::node::Grads;
use crate::autograd::record::record;
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::tensor::Tensor;

/// `out[i] = sum_{j >= i} t[j]` along `dim`.
pub fn reverse_cumsum(t: &Tensor, dim: i64) -> Result<Tensor> {
    t.sum(Some(&[dim]), true, None)?.sub(&t.cumsum(dim, None)?)?.add(t)
}

/// Records `cumsum` (`CumsumBackward0`).
pub fn cumsum(x: &Tensor, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
    wrap_dim(dim, x.ndim())?;
    record("CumsumBackward0", &[x], || x.cumsum(dim, dtype), |_| move |gr: &Grads| Ok(vec![Some(reverse_cumsum(gr.g(), dim)?)]))
}

/// Records `cumprod` (`CumprodBackward0`). Without zeros the gradient is
/// `reverse_cumsum(g * out) / x`. With zeros, positions before a slice's first zero keep that
/// formula, the first zero gets `sum_{j >= z} g_j prod_{k <= j, k != z} x_k` (the cumulative
/// product with that zero replaced by one), and later positions get 0.
pub fn cumprod(x: &Tensor, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
    wrap_dim(dim, x.ndim())?;
    record("CumprodBackward0", &[x], || x.cumprod(dim, dtype), |s| {
        let (xs, out) = (s.save(x), s.output(0));
        move |gr: &Grads| {
            let (x, g, out) = (xs.get()?, gr.g(), out.get()?);
            let zero = x.eq(0.0)?;
            let before = reverse_cumsum(&g.mul(&out)?, dim)?.div(&nonzero_or_one(&x)?)?;
            if !any_true(&zero)? {
                return Ok(vec![Some(before)]);
            }
            let zeros_so_far = zero.cumsum(dim, None)?;
            let first_zero = zero.binary(crate::ops::binary::BinaryOp::LogicalAnd, &(&zeros_so_far.eq(1.0)?).into())?;
            let skipped = select(&first_zero, 1.0, &x)?.cumprod(dim, None)?;
            let at_zero = reverse_cumsum(&g.mul(&skipped)?, dim)?;
            let grad = select(&zeros_so_far.eq(0.0)?, &before, 0.0)?.add(&select(&first_zero, &at_zero, 0.0)?)?;
            Ok(vec![Some(grad)])
        }
    })
}

/// Records `logcumsumexp` (`LogcumsumexpBackward0`):
/// `grad_i = sum_{j >= i} g_j exp(x_i - out_j)`, computed as
/// `exp(x_i - c) reverse_cumsum(g_j exp(c - out_j))` with `c` the slice's total (its last
/// output), so nothing overflows unless a slice spans more than ~700 in log space.
pub fn logcumsumexp(x: &Tensor, dim: i64) -> Result<Tensor> {
    let d = wrap_dim(dim, x.ndim())?;
    let len = if x.ndim() == 0 { 1 } else { x.shape()[d] };
    record("LogcumsumexpBackward0", &[x], || x.logcumsumexp(dim), |s| {
        let (xs, out) = (s.save(x), s.output(0));
        move |gr: &Grads| {
            let (x, g, out) = (xs.get()?, gr.g(), out.get()?);
            if x.numel() == 0 {
                return Ok(vec![Some(g.clone())]);
            }
            let total = if x.ndim() == 0 { out.clone() } else { out.narrow(d as i64, len as i64 - 1, 1)? };
            let tail = reverse_cumsum(&g.mul(&total.sub(&out)?.exp()?)?, dim)?;
            Ok(vec![Some(x.sub(&total)?.exp()?.mul(&tail)?)])
        }
    })
}
