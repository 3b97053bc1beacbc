//! Sums and their relatives: `sum`, `nansum`, `prod`, `mean`, `nanmean`, `count_nonzero`,
//! `all`, `any`.

use super::{reduce_mask, Plan};
use crate::cpu::arith::Arith;
use crate::cpu::reduce::reducers::fold;
use crate::cpu::reduce::{is_nan, Accumulate};
use crate::dtype::{title, DType, Element, Scalar};
use crate::ops::binary::{BinaryOp, Operand};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

type AccOf<T> = <T as Accumulate>::Acc;
type SumOf<T> = <T as Accumulate>::SumOut;

/// `self` converted to `dtype` when one is requested.
fn with_optional_dtype(t: &Tensor, dtype: Option<DType>) -> Result<Tensor> {
    match dtype {
        Some(d) => t.to_dtype(d),
        None => Ok(t.clone()),
    }
}

/// The result of a reduction computed in the natural type, cast to a requested `dtype`.
fn cast_result(r: Tensor, dtype: Option<DType>) -> Result<Tensor> {
    match dtype {
        Some(d) => r.to_dtype(d),
        None => Ok(r),
    }
}

impl Tensor {
    /// `sum(dim, keepdim, dtype)`: integers and bool sum to int64; half types accumulate in
    /// float32; float sums are pairwise.
    pub fn sum(&self, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::sum(self, dims, keepdim, dtype);
        }
        self.sum_like(dims, keepdim, dtype, false)
    }

    /// `nansum`: `sum` treating NaN as zero.
    pub fn nansum(&self, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::nansum(self, dims, keepdim, dtype);
        }
        self.sum_like(dims, keepdim, dtype, true)
    }

    fn sum_like(&self, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>, skip_nan: bool) -> Result<Tensor> {
        let x = with_optional_dtype(self, dtype)?;
        if x.is_cuda() && skip_nan {
            let numbers = if x.dtype().is_float() { x.keep_where(&x.eq(&x)?)? } else { x.clone() };
            return numbers.sum_like(dims, keepdim, None, false).and_then(|r| cast_result(r, dtype));
        }
        if x.is_cuda() && !skip_nan {
            let out = with_dtype!(x.dtype(), T => <SumOf<T> as crate::dtype::Element>::DTYPE);
            let r = crate::cuda::dispatch::reduce(crate::cuda::kernels::Reduction::Sum, &x, &reduce_mask(dims, x.ndim())?, keepdim, out)?;
            return cast_result(r, dtype);
        }
        let plan = Plan::new(&x, &reduce_mask(dims, x.ndim())?, keepdim)?;
        // Two kernels rather than one with a flag: the NaN test would slow every plain sum.
        let r = if skip_nan {
            with_dtype!(x.dtype(), T => plan.reduce(&fold(
                AccOf::<T>::default(),
                |v: T| if is_nan(v) { AccOf::<T>::default() } else { v.cast::<AccOf<T>>() },
                |a: AccOf<T>, b| a.add(b),
                |a, _| a.cast::<SumOf<T>>(),
            )))?
        } else {
            with_dtype!(x.dtype(), T => plan.reduce(&fold(
                AccOf::<T>::default(),
                |v: T| v.cast::<AccOf<T>>(),
                |a: AccOf<T>, b| a.add(b),
                |a, _| a.cast::<SumOf<T>>(),
            )))?
        };
        cast_result(r, dtype)
    }

    /// `prod(dim, keepdim, dtype)`: the product, with `sum`'s result types.
    pub fn prod(&self, dim: Option<i64>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("prod", [self], |t| t[0].prod(dim, keepdim, dtype)) { return r; }
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::prod(self, dim, keepdim, dtype);
        }
        let x = with_optional_dtype(self, dtype)?;
        let dims = dim.map(|d| [d]);
        let mask = reduce_mask(dims.as_ref().map(|d| &d[..]), x.ndim())?;
        if x.is_cuda() {
            let out = with_dtype!(x.dtype(), T => <SumOf<T> as crate::dtype::Element>::DTYPE);
            let r = crate::cuda::dispatch::reduce(crate::cuda::kernels::Reduction::Prod, &x, &mask, keepdim && dim.is_some(), out)?;
            return cast_result(r, dtype);
        }
        let plan = Plan::new(&x, &mask, keepdim && dim.is_some())?;
        let r = with_dtype!(x.dtype(), T => plan.reduce(&fold(
            AccOf::<T>::from_i64(1),
            |v: T| v.cast::<AccOf<T>>(),
            |a: AccOf<T>, b| a.mul(b),
            |a, _| a.cast::<SumOf<T>>(),
        )))?;
        cast_result(r, dtype)
    }

    /// `mean(dim, keepdim, dtype)`: floating-point inputs (or a floating `dtype`) only.
    pub fn mean(&self, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::mean(self, dims, keepdim, dtype);
        }
        match dtype {
            Some(d) if !d.is_float() => bail!(
                Runtime,
                "mean(): could not infer output dtype. Optional dtype must be either a floating point or complex dtype. Got: {}",
                title(d)
            ),
            None if !self.dtype().is_float() => bail!(
                Runtime,
                "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: {}",
                title(self.dtype())
            ),
            _ => {}
        }
        self.mean_like(dims, keepdim, dtype, false)
    }

    /// `nanmean`: the mean of the non-NaN elements.
    pub fn nanmean(&self, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
        if !self.dtype().is_float() {
            bail!(
                Runtime,
                "nanmean(): expected input to have floating point or complex dtype but got {}",
                title(self.dtype())
            );
        }
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::nanmean(self, dims, keepdim, dtype);
        }
        self.mean_like(dims, keepdim, dtype, true)
    }

    fn mean_like(&self, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>, skip_nan: bool) -> Result<Tensor> {
        let x = with_optional_dtype(self, dtype)?;
        if x.is_cuda() && skip_nan {
            // The numbers' sum over their count, both in the compute type (NaN is unequal to itself).
            let (keep, c) = (x.eq(&x)?, x.dtype().compute_type());
            let sum = x.keep_where(&keep)?.sum(dims, keepdim, Some(c))?;
            return sum.div(&keep.sum(dims, keepdim, Some(c))?)?.to_dtype(x.dtype());
        }
        if x.is_cuda() && !skip_nan {
            // The sum in the compute type, divided there (an empty mean is 0/0 = NaN).
            let sum = crate::cuda::dispatch::reduce(crate::cuda::kernels::Reduction::Sum, &x, &reduce_mask(dims, x.ndim())?, keepdim, x.dtype().compute_type())?;
            let count = x.numel().checked_div(sum.numel()).unwrap_or(0);
            return sum.div(count as f64)?.to_dtype(x.dtype());
        }
        let plan = Plan::new(&x, &reduce_mask(dims, x.ndim())?, keepdim)?;
        if !skip_nan {
            return with_float_dtype!(x.dtype(), T => plan.reduce(&fold(
                AccOf::<T>::default(),
                |v: T| v.cast::<AccOf<T>>(),
                |a: AccOf<T>, b| a.add(b),
                |a, n| T::from_f64(a.to_f64() / n as f64),
            )));
        }
        // The count of non-NaN elements rides along with the sum.
        with_float_dtype!(x.dtype(), T => plan.reduce(&fold(
            (AccOf::<T>::default(), 0i64),
            |v: T| if is_nan(v) { (AccOf::<T>::default(), 0) } else { (v.cast::<AccOf<T>>(), 1) },
            |a: (AccOf<T>, i64), b: (AccOf<T>, i64)| (a.0.add(b.0), a.1 + b.1),
            |a, _| T::from_f64(a.0.to_f64() / a.1 as f64),
        )))
    }

    /// `count_nonzero(dim)`: int64 counts.
    pub fn count_nonzero(&self, dims: Option<&[i64]>) -> Result<Tensor> {
        if self.is_cuda() {
            return self.nonzero_mask()?.sum(dims, false, Some(DType::I64));
        }
        let plan = Plan::new(self, &reduce_mask(dims, self.ndim())?, false)?;
        with_dtype!(self.dtype(), T => plan.reduce(&fold(0i64, |v: T| v.is_nonzero() as i64, |a, b| a + b, |a, _| a)))
    }

    /// `all(dim, keepdim)`: bool results (uint8 for uint8 input, as PyTorch).
    pub fn all(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        self.logical_fold(dims, keepdim, true)
    }

    /// `any(dim, keepdim)`: bool results (uint8 for uint8 input, as PyTorch).
    pub fn any(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        self.logical_fold(dims, keepdim, false)
    }

    /// `self != 0` (NaN counts as nonzero), the CUDA path's input to counting reductions.
    fn nonzero_mask(&self) -> Result<Tensor> {
        self.binary(BinaryOp::Ne, &Operand::Scalar(Scalar::Int(0)))
    }

    fn logical_fold(&self, dims: Option<&[i64]>, keepdim: bool, all: bool) -> Result<Tensor> {
        let r = if self.is_cuda() {
            // Counts of nonzero elements: `all` when every one is, `any` when one is.
            let count = self.nonzero_mask()?.sum(dims, keepdim, Some(DType::I64))?;
            let full = self.numel().checked_div(count.numel().max(1)).unwrap_or(0);
            let threshold = if all { full as i64 } else { 1 };
            count.binary(BinaryOp::Ge, &Operand::Scalar(Scalar::Int(threshold)))?
        } else {
            let plan = Plan::new(self, &reduce_mask(dims, self.ndim())?, keepdim)?;
            let op = move |a: bool, b: bool| if all { a & b } else { a | b };
            with_dtype!(self.dtype(), T => plan.reduce(&fold(all, |v: T| v.is_nonzero(), op, |a, _| a)))?
        };
        if self.dtype() == DType::U8 {
            r.to_dtype(DType::U8)
        } else {
            Ok(r)
        }
    }
}
