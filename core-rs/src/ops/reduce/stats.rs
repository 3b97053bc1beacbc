//! Statistics over dims: `var`, `std`, `var_mean`, `std_mean`, vector `norm`, `logsumexp`.

use super::{reduce_mask, Plan};
use crate::ops::binary::Operand;
use crate::cpu::reduce::reducers::{fold, LogSumExp, Moments};
use crate::cpu::reduce::{is_nan, pick, Accumulate};
use crate::cpu::real::Real;
use crate::dtype::{title, DType, Element};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, default_dtype, with_real_dtype};

/// The order of a vector norm: `p` in `sum(|x|^p)^(1/p)`, with `inf`/`-inf` for max/min `|x|`
/// and 0 for the number of non-zeros.
pub type NormOrd = f64;

impl Tensor {
    /// `(var, mean)` over `dims`, dividing by `N - correction` (clamped at 0).
    pub fn var_mean(&self, dims: Option<&[i64]>, correction: f64, keepdim: bool) -> Result<(Tensor, Tensor)> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::stats::spread_mean(self, dims, correction, keepdim, crate::autograd::formulas::reduce::stats::Spread::Var);
        }
        if !self.dtype().is_float() {
            bail!(Runtime, "std and var only support floating point and complex dtypes");
        }
        if self.is_cuda() {
            return var_mean_on_device(self, dims, correction, keepdim);
        }
        let plan = Plan::new(self, &reduce_mask(dims, self.ndim())?, keepdim)?;
        let (var, mean) = with_float_dtype!(self.dtype(), T => plan.reduce_pair::<_, f64, f64>(&Moments::<T>::new(correction)))?;
        Ok((var.to_dtype(self.dtype())?, mean.to_dtype(self.dtype())?))
    }

    /// `(std, mean)`.
    pub fn std_mean(&self, dims: Option<&[i64]>, correction: f64, keepdim: bool) -> Result<(Tensor, Tensor)> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::stats::spread_mean(self, dims, correction, keepdim, crate::autograd::formulas::reduce::stats::Spread::Std);
        }
        let (var, mean) = self.var_mean(dims, correction, keepdim)?;
        Ok((var.float_unary(crate::ops::unary::FloatUnaryOp::Sqrt)?, mean))
    }

    /// `var(dim, correction, keepdim)`.
    pub fn var(&self, dims: Option<&[i64]>, correction: f64, keepdim: bool) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::stats::spread(self, dims, correction, keepdim, crate::autograd::formulas::reduce::stats::Spread::Var);
        }
        Ok(self.var_mean(dims, correction, keepdim)?.0)
    }

    /// `std(dim, correction, keepdim)`.
    pub fn std(&self, dims: Option<&[i64]>, correction: f64, keepdim: bool) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::stats::spread(self, dims, correction, keepdim, crate::autograd::formulas::reduce::stats::Spread::Std);
        }
        Ok(self.std_mean(dims, correction, keepdim)?.0)
    }

    /// `linalg.vector_norm(ord, dim, keepdim, dtype)`, which `norm(p)` is for vectors.
    pub fn vector_norm(&self, ord: NormOrd, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::stats::vector_norm(self, ord, dims, keepdim, dtype);
        }
        if !self.dtype().is_float() {
            bail!(
                Runtime,
                "linalg.vector_norm: Expected a floating point or complex tensor as input. Got {}",
                title(self.dtype())
            );
        }
        let x = match dtype {
            Some(d) if !d.is_float() => bail!(
                Runtime,
                "linalg.vector_norm: dtype should be floating point or complex, but got {}",
                title(d)
            ),
            Some(d) => self.to_dtype(d)?,
            None => self.clone(),
        };
        let mask = reduce_mask(dims, x.ndim())?;
        if ord.is_infinite() && x.numel() == 0 {
            let all = dims.is_none_or(|d| d.is_empty());
            if all || mask.iter().zip(x.shape()).any(|(&m, &s)| m && s == 0) {
                bail!(
                    Runtime,
                    "linalg.vector_norm cannot compute the {} norm on an empty tensor because the operation does not have an identity",
                    if ord > 0.0 { "inf" } else { "-inf" }
                );
            }
        }
        if x.is_cuda() {
            return norm_on_device(&x, ord, dims, keepdim);
        }
        let plan = Plan::new(&x, &mask, keepdim)?;
        with_float_dtype!(x.dtype(), T => norm_kernel::<T>(&plan, ord))
    }

    /// `logsumexp(dim, keepdim)`: `log(sum(exp(x)))` without overflow; integer inputs give
    /// the default float type.
    pub fn logsumexp(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::stats::logsumexp(self, dims, keepdim);
        }
        let x = if self.dtype().is_float() { self.clone() } else { self.to_dtype(default_dtype())? };
        if x.is_cuda() && x.numel() > 0 {
            return logsumexp_on_device(&x, dims, keepdim);
        }
        if x.is_cuda() {
            return crate::device::on_host(&x, |h| h.logsumexp(dims, keepdim));
        }
        let plan = Plan::new(&x, &reduce_mask(dims, x.ndim())?, keepdim)?;
        if plan.inner() == 1 && matches!(x.dtype(), DType::F32 | DType::F64) {
            // Whole contiguous rows: two passes that vectorize instead of the online reducer.
            let out = Tensor::uninit(&[plan.outputs()], x.dtype())?;
            with_real_dtype!(x.dtype(), R => unsafe {
                crate::cpu::reduce::softmax::logsumexp_rows::<R>(plan.src_ptr::<R>()?, out.data_ptr::<R>()?, plan.outputs(), plan.reduced())
            });
            return plan.finish(out);
        }
        let r = with_float_dtype!(x.dtype(), T => {
            with_real_dtype!(x.dtype().compute_type(), A => plan.reduce(&LogSumExp::<T, A>::new()))
        })?;
        r.to_dtype(x.dtype())
    }
}

/// `logsumexp` of a non-empty CUDA tensor in device ops, in the compute type: the maximum (0
/// where it is not finite, so that infinities and NaN pass through `exp` and `log` as
/// themselves), then `log(sum(exp(x - max))) + max`.
fn logsumexp_on_device(x: &Tensor, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
    let c = x.to_dtype(x.dtype().compute_type())?;
    let top = c.amax(dims, true)?;
    let finite = top.abs()?.lt(f64::INFINITY)?;
    let shift = crate::ops::binary::where_(&finite, &Operand::Tensor(top), &Operand::Scalar(crate::Scalar::Float(0.0)))?;
    let r = c.sub(&shift)?.exp()?.sum(dims, true, None)?.log()?.add(&shift)?;
    let shape = super::reduced_shape(x.shape(), &reduce_mask(dims, x.ndim())?, keepdim);
    r.reshape(&shape.iter().map(|&s| s as i64).collect::<Vec<_>>())?.to_dtype(x.dtype())
}

/// `var_mean` of a CUDA tensor in device ops, two passes in the compute type: the mean, then
/// the squared deviations summed and divided by `max(N - correction, 0)`.
fn var_mean_on_device(t: &Tensor, dims: Option<&[i64]>, correction: f64, keepdim: bool) -> Result<(Tensor, Tensor)> {
    let x = t.to_dtype(t.dtype().compute_type())?;
    let mean = x.mean(dims, true, None)?;
    let squares = x.sub(&mean)?.square()?.sum(dims, keepdim, None)?;
    let n = x.numel().checked_div(squares.numel()).unwrap_or(0) as f64;
    let var = squares.div((n - correction).max(0.0))?;
    let mean = if keepdim { mean } else { mean.reshape(&squares.shape().iter().map(|&s| s as i64).collect::<Vec<_>>())? };
    Ok((var.to_dtype(t.dtype())?, mean.to_dtype(t.dtype())?))
}

/// `norm_kernel` of a CUDA tensor in device ops: reductions of `|t|` in its compute type (as
/// the CPU accumulates), in `t`'s dtype.
fn norm_on_device(t: &Tensor, ord: f64, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
    let x = t.to_dtype(t.dtype().compute_type())?;
    let acc = Some(x.dtype());
    let r = if ord == f64::INFINITY {
        x.abs()?.amax(dims, keepdim)?
    } else if ord == f64::NEG_INFINITY {
        x.abs()?.amin(dims, keepdim)?
    } else if ord == 0.0 {
        // NaN != 0 counts, as on the CPU.
        x.ne(0.0)?.sum(dims, keepdim, acc)?
    } else if ord == 1.0 {
        x.abs()?.sum(dims, keepdim, acc)?
    } else if ord == 2.0 {
        x.square()?.sum(dims, keepdim, acc)?.sqrt()?
    } else {
        x.abs()?.pow(ord)?.sum(dims, keepdim, acc)?.pow(1.0 / ord)?
    };
    r.to_dtype(t.dtype())
}

fn norm_kernel<T: Accumulate>(plan: &Plan, ord: f64) -> Result<Tensor>
where
    T::Acc: Real,
{
    type A<T> = <T as Accumulate>::Acc;
    let abs = |v: T| v.cast::<A<T>>().abs();
    let out = |a: A<T>| T::from_f64(a.to_f64());
    let zero = A::<T>::of(0.0);
    let add = |a: A<T>, b: A<T>| a + b;
    if ord == f64::INFINITY {
        plan.reduce(&fold(zero, abs, pick::<A<T>, true>, move |a, _| out(a)))
    } else if ord == f64::NEG_INFINITY {
        plan.reduce(&fold(A::<T>::of(f64::INFINITY), abs, pick::<A<T>, false>, move |a, _| out(a)))
    } else if ord == 0.0 {
        plan.reduce(&fold(zero, |v: T| if v.is_nonzero() || is_nan(v) { A::<T>::of(1.0) } else { zero }, add, move |a, _| out(a)))
    } else if ord == 1.0 {
        plan.reduce(&fold(zero, abs, add, move |a, _| out(a)))
    } else if ord == 2.0 {
        plan.reduce(&fold(zero, |v: T| { let x = v.cast::<A<T>>(); x * x }, add, move |a: A<T>, _| out(a.sqrt())))
    } else {
        let (p, inv) = (A::<T>::of(ord), A::<T>::of(1.0 / ord));
        plan.reduce(&fold(zero, move |v: T| abs(v).powf(p), add, move |a: A<T>, _| out(a.powf(inv))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::random::Generator;
    use crate::testing::max_diff;

    /// The device-ops forms CUDA tensors take, run here on CPU tensors, equal the CPU kernels.
    #[test]
    fn device_ops_forms_match_the_cpu_kernels() {
        let x = Tensor::randn(&[4, 5, 3], DType::F64, &Generator::new()).unwrap();
        for (dims, correction, keepdim) in [(None, 1.0, false), (Some(&[1i64][..]), 0.0, true), (Some(&[0, 2][..]), 1.0, false), (Some(&[2][..]), 3.0, false)] {
            let (v, m) = x.var_mean(dims, correction, keepdim).unwrap();
            let (v2, m2) = var_mean_on_device(&x, dims, correction, keepdim).unwrap();
            assert!(max_diff(&v, &v2) < 1e-12 && max_diff(&m, &m2) < 1e-12, "{dims:?} {correction}");
        }
        let special = Tensor::from_slice(&[1000.0, 1000.0, f64::NEG_INFINITY, f64::NEG_INFINITY, f64::INFINITY, 1.0, f64::NAN, 1.0, -1000.0, -1001.0], &[5, 2]).unwrap();
        for (t, dims) in [(&x, Some(&[1i64][..])), (&x, None), (&x, Some(&[0, 2][..])), (&special, Some(&[1][..]))] {
            for keepdim in [false, true] {
                let (want, got) = (t.logsumexp(dims, keepdim).unwrap(), logsumexp_on_device(t, dims, keepdim).unwrap());
                assert_eq!(want.shape(), got.shape());
                let (w, g) = (want.contiguous().unwrap().to_vec::<f64>().unwrap(), got.contiguous().unwrap().to_vec::<f64>().unwrap());
                for (a, b) in w.iter().zip(&g) {
                    assert!(a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-12, "{a} vs {b} ({dims:?})");
                }
            }
        }
        for ord in [2.0, 1.0, 0.0, 3.5, f64::INFINITY, f64::NEG_INFINITY] {
            for dims in [None, Some(&[1i64][..])] {
                let want = x.vector_norm(ord, dims, false, None).unwrap();
                assert!(max_diff(&want, &norm_on_device(&x, ord, dims, false).unwrap()) < 1e-12, "{ord}");
            }
        }
    }
}
