//! Cumulative ops along a dim: `cumsum`, `cumprod`, `cummax`, `cummin`, `logcumsumexp`.

use super::split_at_dim;
use crate::cpu::arith::Arith;
use crate::cpu::iter::SendPtr;
use crate::cpu::real::Real;
use crate::cpu::reduce::scan::scan;
use crate::cpu::reduce::{is_nan, Accumulate, Bounded};
use crate::cuda::kernels::Scan;
use crate::dtype::{title, DType, Element};
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::tensor::Tensor;
use crate::{bail, with_dtype, with_real_dtype};

/// The contiguous input of a scan along `dim` and its `(outer, size, inner)` split.
fn scan_input(t: &Tensor, dim: i64) -> Result<(Tensor, (usize, usize, usize))> {
    let d = wrap_dim(dim, t.ndim())?;
    let c = t.contiguous()?;
    let split = split_at_dim(t.shape(), d);
    Ok((c, split))
}

fn src_of<T: Element>(c: &Tensor) -> Result<*const T> {
    Ok(unsafe { c.data_ptr::<T>()?.add(c.offset()) })
}

/// Running sum (`PROD == false`) or product, with `sum`'s result types.
fn accumulate<T: Accumulate, const PROD: bool>(c: &Tensor, (o, r, k): (usize, usize, usize)) -> Result<Tensor> {
    let out = Tensor::uninit(c.shape(), T::SumOut::DTYPE)?;
    let dst = SendPtr(out.data_ptr::<T::SumOut>()?);
    let init = if PROD { T::Acc::from_i64(1) } else { T::Acc::default() };
    unsafe {
        scan(
            src_of::<T>(c)?,
            o,
            r,
            k,
            init,
            |a: T::Acc, x: T, _| if PROD { a.mul(x.cast()) } else { a.add(x.cast()) },
            |i, a| *dst.get().add(i) = a.cast(),
        )
    };
    Ok(out)
}

/// Running maximum (`MAX`) or minimum with the position it was last seen at: ties move the
/// position forward, and NaN, once seen, sticks (PyTorch's `cummax` rules).
fn running_extreme<T: Bounded, const MAX: bool>(c: &Tensor, (o, r, k): (usize, usize, usize)) -> Result<(Tensor, Tensor)> {
    let values = Tensor::uninit(c.shape(), T::DTYPE)?;
    let indices = Tensor::uninit(c.shape(), DType::I64)?;
    let (vp, ip) = (SendPtr(values.data_ptr::<T>()?), SendPtr(indices.data_ptr::<i64>()?));
    let init = (if MAX { T::lowest() } else { T::highest() }, 0usize);
    let step = |a: (T, usize), x: T, j: usize| {
        let takes = is_nan(x) || (!is_nan(a.0) && if MAX { x >= a.0 } else { x <= a.0 });
        if takes { (x, j) } else { a }
    };
    unsafe {
        scan(src_of::<T>(c)?, o, r, k, init, step, |i, a| {
            *vp.get().add(i) = a.0;
            *ip.get().add(i) = a.1 as i64;
        })
    };
    Ok((values, indices))
}

impl Tensor {
    /// `cumsum(dim, dtype)`: integers and bool accumulate to int64 unless `dtype` is given.
    pub fn cumsum(&self, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::scan::cumsum(self, dim, dtype);
        }
        self.cumulative::<false>(dim, dtype)
    }

    /// `cumprod(dim, dtype)`.
    pub fn cumprod(&self, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::scan::cumprod(self, dim, dtype);
        }
        self.cumulative::<true>(dim, dtype)
    }

    fn cumulative<const PROD: bool>(&self, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
        let x = match dtype {
            Some(d) => self.to_dtype(d)?,
            None => self.clone(),
        };
        let r = if x.is_cuda() {
            crate::cuda::dispatch::scan(if PROD { Scan::Prod } else { Scan::Sum }, &x, wrap_dim(dim, x.ndim())?)?
        } else {
            let (c, split) = scan_input(&x, dim)?;
            with_dtype!(c.dtype(), T => accumulate::<T, PROD>(&c, split))?
        };
        match dtype {
            Some(d) => r.to_dtype(d),
            None => Ok(r),
        }
    }

    /// `cummax(dim)` (`MAX`) / `cummin(dim)`: `(values, indices)`.
    pub fn cummax_cummin<const MAX: bool>(&self, dim: i64) -> Result<(Tensor, Tensor)> {
        if crate::autograd::needs_grad(&[self]) {
            let name = if MAX { "CummaxBackward0" } else { "CumminBackward0" };
            // The indices keep the input's shape: the scanned dim is "kept".
            return crate::autograd::formulas::reduce::minmax::indexed(name, self, dim, true, || self.cummax_cummin::<MAX>(dim));
        }
        if self.is_cuda() {
            return crate::cuda::dispatch::running_extreme(MAX, self, wrap_dim(dim, self.ndim())?);
        }
        let (c, split) = scan_input(self, dim)?;
        with_dtype!(c.dtype(), T => running_extreme::<T, MAX>(&c, split))
    }

    /// `logcumsumexp(dim)`: `log(cumsum(exp(x)))` computed stably; floating point only.
    pub fn logcumsumexp(&self, dim: i64) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::scan::logcumsumexp(self, dim);
        }
        if !self.dtype().is_float() {
            bail!(Runtime, "\"logcumsumexp_out_cpu\" not implemented for '{}'", title(self.dtype()));
        }
        if self.is_cuda() {
            return crate::cuda::dispatch::scan(Scan::LogSumExp, self, wrap_dim(dim, self.ndim())?);
        }
        let (c, (o, r, k)) = scan_input(&self.to_dtype(self.dtype().compute_type())?, dim)?;
        let out = Tensor::uninit(c.shape(), c.dtype())?;
        with_real_dtype!(c.dtype(), R => {
            let dst = SendPtr(out.data_ptr::<R>()?);
            let step = |a: R, x: R, _| {
                if x.is_nan() || a.is_nan() {
                    if x.is_nan() { x } else { a }
                } else {
                    let (hi, lo) = if a > x { (a, x) } else { (x, a) };
                    if lo == R::of(f64::NEG_INFINITY) || hi == lo && hi.is_infinite() { hi } else { hi + (lo - hi).exp().ln_1p() }
                }
            };
            unsafe { scan(src_of::<R>(&c)?, o, r, k, R::of(f64::NEG_INFINITY), step, |i, a| *dst.get().add(i) = a) };
        });
        out.to_dtype(self.dtype())
    }
}
