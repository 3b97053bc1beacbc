//! Extremes: `amax`/`amin`, `max`/`min` (all or along a dim with indices), `aminmax`,
//! `argmax`/`argmin`. NaN wins over every number, and ties go to the first position.

use super::{check_nonempty, reduce_mask, Plan};
use crate::cpu::reduce::reducers::{fold, ArgFold};
use crate::cpu::reduce::{pick, Bounded};
use crate::dtype::{title, DType};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

fn extreme<T: Bounded, const MAX: bool>(plan: &Plan) -> Result<Tensor> {
    let init = if MAX { T::lowest() } else { T::highest() };
    plan.reduce(&fold(init, |v: T| v, pick::<T, MAX>, |a, _| a))
}

fn arg_extreme<T: Bounded, const MAX: bool>(plan: &Plan) -> Result<(Tensor, Tensor)> {
    plan.reduce_pair(&ArgFold::<T, MAX>::new())
}

fn one_dim(dim: Option<i64>) -> Option<[i64; 1]> {
    dim.map(|d| [d])
}

/// The CUDA reduction of `max` (`MAX`) or `min`.
fn extreme_of<const MAX: bool>() -> crate::cuda::kernels::Reduction {
    if MAX { crate::cuda::kernels::Reduction::Max } else { crate::cuda::kernels::Reduction::Min }
}

impl Tensor {
    /// `amax(dim, keepdim)` (`MAX`) or `amin`: values only, over any set of dims.
    pub fn amax_amin<const MAX: bool>(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            let name = if MAX { "AmaxBackward0" } else { "AminBackward0" };
            return crate::autograd::formulas::reduce::minmax::picked(name, self, dims, || self.amax_amin::<MAX>(dims, keepdim));
        }
        let name = if MAX { "amax()" } else { "amin()" };
        let mask = reduce_mask(dims, self.ndim())?;
        check_nonempty(self, &mask, dims.is_none_or(|d| d.is_empty()), name)?;
        if self.is_cuda() {
            return crate::cuda::dispatch::reduce(extreme_of::<MAX>(), self, &mask, keepdim, self.dtype());
        }
        let plan = Plan::new(self, &mask, keepdim)?;
        with_dtype!(self.dtype(), T => extreme::<T, MAX>(&plan))
    }

    /// `amax(dim, keepdim)`.
    pub fn amax(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        self.amax_amin::<true>(dims, keepdim)
    }

    /// `amin(dim, keepdim)`.
    pub fn amin(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        self.amax_amin::<false>(dims, keepdim)
    }

    /// `max()` / `min()` without a dim: the extreme element as a 0-d tensor.
    pub fn max_all<const MAX: bool>(&self) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            let name = if MAX { "MaxBackward1" } else { "MinBackward1" };
            return crate::autograd::formulas::reduce::minmax::picked(name, self, None, || self.max_all::<MAX>());
        }
        let mask = vec![true; self.ndim()];
        check_nonempty(self, &mask, true, if MAX { "max()" } else { "min()" })?;
        if self.is_cuda() {
            return crate::cuda::dispatch::reduce(extreme_of::<MAX>(), self, &mask, false, self.dtype());
        }
        let plan = Plan::new(self, &mask, false)?;
        with_dtype!(self.dtype(), T => extreme::<T, MAX>(&plan))
    }

    /// `max(dim, keepdim)` / `min(...)`: `(values, indices)`.
    pub fn max_dim<const MAX: bool>(&self, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
        if crate::autograd::needs_grad(&[self]) {
            let name = if MAX { "MaxBackward0" } else { "MinBackward0" };
            return crate::autograd::formulas::reduce::minmax::indexed(name, self, dim, keepdim, || self.max_dim::<MAX>(dim, keepdim));
        }
        let mask = reduce_mask(Some(&[dim]), self.ndim())?;
        check_nonempty(self, &mask, false, if MAX { "max()" } else { "min()" })?;
        if self.is_cuda() {
            return crate::cuda::dispatch::arg_reduce(MAX, self, &mask, keepdim);
        }
        let plan = Plan::new(self, &mask, keepdim)?;
        with_dtype!(self.dtype(), T => arg_extreme::<T, MAX>(&plan))
    }

    /// `argmax(dim, keepdim)` / `argmin`: int64 positions; `dim=None` means the flattened
    /// tensor (with `keepdim`, every dim kept as size 1).
    pub fn argmax_argmin<const MAX: bool>(&self, dim: Option<i64>, keepdim: bool) -> Result<Tensor> {
        let name = if MAX { "argmax" } else { "argmin" };
        if self.dtype() == DType::Bool {
            let backend = if self.is_cuda() { "cuda" } else { "cpu" };
            bail!(Runtime, "\"{}_{}\" not implemented for '{}'", name, backend, title(self.dtype()));
        }
        if dim.is_none() && self.numel() == 0 {
            bail!(Index, "{}(): Expected reduction dim to be specified for input.numel() == 0.", name);
        }
        let (x, dims) = match dim {
            Some(d) => (self.clone(), one_dim(Some(d))),
            None => (self.reshape(&[-1])?, None),
        };
        let mask = reduce_mask(dims.as_ref().map(|d| &d[..]), x.ndim())?;
        check_nonempty(&x, &mask, false, &format!("{}()", name))?;
        let idx = if x.is_cuda() {
            crate::cuda::dispatch::arg_reduce(MAX, &x, &mask, keepdim && dim.is_some())?.1
        } else {
            let plan = Plan::new(&x, &mask, keepdim && dim.is_some())?;
            with_dtype!(x.dtype(), T => arg_extreme::<T, MAX>(&plan))?.1
        };
        if keepdim && dim.is_none() {
            return idx.reshape(&vec![1; self.ndim()]);
        }
        Ok(idx)
    }

    /// `argmax(dim, keepdim)`.
    pub fn argmax(&self, dim: Option<i64>, keepdim: bool) -> Result<Tensor> {
        self.argmax_argmin::<true>(dim, keepdim)
    }

    /// `argmin(dim, keepdim)`.
    pub fn argmin(&self, dim: Option<i64>, keepdim: bool) -> Result<Tensor> {
        self.argmax_argmin::<false>(dim, keepdim)
    }

    /// `aminmax(dim, keepdim)`: `(min, max)`.
    pub fn aminmax(&self, dim: Option<i64>, keepdim: bool) -> Result<(Tensor, Tensor)> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::minmax::aminmax(self, dim, keepdim);
        }
        let dims = one_dim(dim);
        let mask = reduce_mask(dims.as_ref().map(|d| &d[..]), self.ndim())?;
        let empty = self.numel() == 0 && (dim.is_none() || mask.iter().zip(self.shape()).any(|(&m, &s)| m && s == 0));
        if empty {
            bail!(
                Runtime,
                "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
            );
        }
        if self.is_cuda() {
            let both = |how| crate::cuda::dispatch::reduce(how, self, &mask, keepdim, self.dtype());
            return Ok((both(extreme_of::<false>())?, both(extreme_of::<true>())?));
        }
        let plan = Plan::new(self, &mask, keepdim)?;
        with_dtype!(self.dtype(), T => Ok((extreme::<T, false>(&plan)?, extreme::<T, true>(&plan)?)))
    }
}
