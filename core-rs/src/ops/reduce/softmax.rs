//! `softmax` and `log_softmax` along a dim.

use super::split_at_dim;
use crate::cpu::reduce::softmax::softmax;
use crate::dtype::{title, DType};
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::tensor::Tensor;
use crate::{bail, with_real_dtype};

impl Tensor {
    /// `softmax(dim, dtype)` (or `log_softmax` when `log`): the input is converted to `dtype`
    /// first; floating-point types only; half types compute in float32.
    pub fn softmax(&self, dim: i64, dtype: Option<DType>, log: bool) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::stats::softmax(self, dim, dtype, log);
        }
        let x = match dtype {
            Some(d) => self.to_dtype(d)?,
            None => self.clone(),
        };
        let d = wrap_dim(dim, x.ndim())?;
        if !x.dtype().is_float() {
            let last = d + 1 >= x.ndim();
            bail!(
                Runtime,
                "\"{}{}_kernel_impl\" not implemented for '{}'",
                if log { "log_softmax" } else { "softmax" },
                if last { "_lastdim" } else { "" },
                title(x.dtype())
            );
        }
        let (o, r, k) = split_at_dim(x.shape(), d);
        let c = x.contiguous_as(x.dtype().compute_type())?;
        if c.is_cuda() {
            return crate::cuda::dispatch::softmax(&c, (o, r, k), log)?.to_dtype(x.dtype());
        }
        let out = Tensor::uninit(x.shape(), c.dtype())?;
        with_real_dtype!(c.dtype(), R => unsafe {
            softmax::<R>(c.data_ptr::<R>()?.add(c.offset()), out.data_ptr::<R>()?, o, r, k, log)
        });
        out.to_dtype(x.dtype())
    }
}
