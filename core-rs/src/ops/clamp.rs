//! `clamp(min, max)`: a maximum with `min`, then a minimum with `max`.
//!
//! With tensor bounds the gradient is that of the two ops (ties split the gradient, as
//! PyTorch's ClampBackward0 does). With number bounds PyTorch records one ClampBackward1 node
//! whose gradient passes only strictly inside the bounds, so that is recorded here.

use crate::autograd::formulas::unary::clamp_scalar;
use crate::error::Result;
use crate::ops::binary::{BinaryOp, Operand};
use crate::tensor::Tensor;
use crate::bail;

impl Tensor {
    /// `self` limited to `[min, max]` (either bound may be absent, not both); a NaN input or
    /// bound gives NaN.
    pub fn clamp(&self, min: Option<&Operand>, max: Option<&Operand>) -> Result<Tensor> {
        if min.is_none() && max.is_none() {
            bail!(Runtime, "torch.clamp: At least one of 'min' or 'max' must not be None");
        }
        let scalar_bounds = [min, max].iter().flatten().all(|b| matches!(b, Operand::Scalar(_)));
        if scalar_bounds && crate::autograd::needs_grad(&[self]) {
            return clamp_scalar(self, min, max);
        }
        let mut r = self.clone();
        if let Some(lo) = min {
            r = r.binary(BinaryOp::Maximum, lo)?;
        }
        if let Some(hi) = max {
            r = r.binary(BinaryOp::Minimum, hi)?;
        }
        Ok(r)
    }
}
