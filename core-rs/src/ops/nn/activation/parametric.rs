//! Activations that read more than one element-wise input: `prelu` (a learned slope per
//! channel), `rrelu` (random slopes) and `glu` (one half of the input gates the other).

use crate::cpu::map::map2;
use crate::cpu::real::Real;
use crate::dtype::title;
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::ops::random::Generator;
use crate::tensor::Tensor;
use crate::{bail, with_real_dtype};

use super::scalar::sigmoid;

/// Raises PyTorch's "`kernel` not implemented for 'Long'" for non-float inputs.
fn require_float(t: &Tensor, kernel: &str) -> Result<()> {
    if !t.dtype().is_float() {
        bail!(NotImplemented, "\"{}\" not implemented for '{}'", kernel, title(t.dtype()));
    }
    Ok(())
}

/// `f(a, b)` element-wise over `a` and `b` broadcast to `a`'s shape, in `a`'s dtype. CUDA
/// operands are computed on the host and the result uploaded (these activations are rare; a
/// device kernel per closure would need its CUDA twin).
fn fused2(a: &Tensor, b: &Tensor, f: impl Fn(f64, f64) -> f64 + Sync + Copy) -> Result<Tensor> {
    if a.is_cuda() || b.is_cuda() {
        return crate::device::on_host2(a, b, |a, b| fused2(a, b, f));
    }
    let compute = a.dtype().compute_type();
    let (x, y) = (a.to_dtype(compute)?, b.to_dtype(compute)?);
    let r = with_real_dtype!(compute, R => map2::<R, R, R>(&x, &y, a.shape(), move |p: R, q: R| generic2(p, q, f)))?;
    r.to_dtype(a.dtype())
}

/// Runs an f64 closure on `R` values. For f32 inputs a product or sum of two values rounded
/// once from f64 equals the f32 operation, so the maps here give f32's own results.
#[inline(always)]
fn generic2<R: Real>(p: R, q: R, f: impl Fn(f64, f64) -> f64) -> R {
    R::of(f(p.f64(), q.f64()))
}

/// `x * noise` (the forward of `rrelu` once its slopes are drawn).
fn scale_by(x: &Tensor, noise: &Tensor) -> Result<Tensor> {
    fused2(x, noise, |x, n| x * n)
}

impl Tensor {
    /// `prelu(weight)`: `x` above 0, `weight * x` below, one weight per channel (dim 1) or a
    /// single weight for all.
    pub fn prelu(&self, weight: &Tensor) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("prelu", [self, weight], |t| t[0].prelu(&t[1])) { return r; }
        require_float(self, "prelu_cpu")?;
        if weight.ndim() > 1 {
            bail!(Runtime, "prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {}", weight.ndim());
        }
        let channels = if self.ndim() >= 2 { self.shape()[1] } else { 1 };
        if weight.numel() != 1 && weight.numel() != channels {
            bail!(
                Runtime,
                "Mismatch of parameter numbers and input channel size. Found parameter numbers = {} and channel size = {}.",
                weight.numel(),
                channels
            );
        }
        // The weight as a broadcastable [1, C, 1, ...]: the engine sums its gradient back.
        let shape: Vec<i64> = (0..self.ndim()).map(|d| if d == 1 { weight.numel() as i64 } else { 1 }).collect();
        let w = weight.reshape(&shape)?;
        if crate::autograd::needs_grad(&[self, &w]) {
            return crate::autograd::formulas::nn::activation::prelu(self, &w);
        }
        self.prelu_broadcast(&w)
    }

    /// `prelu` with the weight already broadcastable to `self`.
    pub fn prelu_broadcast(&self, w: &Tensor) -> Result<Tensor> {
        fused2(self, w, |x, w| if x > 0.0 { x } else { w * x })
    }

    /// `rrelu(lower, upper, training)`: slopes drawn from U(lower, upper) per non-positive
    /// element when training, their mean otherwise.
    pub fn rrelu(&self, lower: f64, upper: f64, training: bool, g: &Generator) -> Result<Tensor> {
        let noise = self.rrelu_noise(lower, upper, training, g)?;
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::nn::activation::rrelu(self, &noise, "RreluWithNoiseBackward0");
        }
        scale_by(self, &noise)
    }

    /// `rrelu_`: `rrelu` written into `self`.
    pub fn rrelu_(&self, lower: f64, upper: f64, training: bool, g: &Generator) -> Result<()> {
        let noise = self.rrelu_noise(lower, upper, training, g)?;
        crate::autograd::inplace_with(self, &[], || self.copy_from(&scale_by(self, &noise)?), |old| {
            crate::autograd::formulas::nn::activation::rrelu(old, &noise, "RreluWithNoiseBackward1")
        })
    }

    /// The slope of each element (1 where it is positive), which is also its gradient.
    fn rrelu_noise(&self, lower: f64, upper: f64, training: bool, g: &Generator) -> Result<Tensor> {
        if lower > upper {
            bail!(Runtime, "Lower bound should be less than or equal to the upper bound");
        }
        require_float(self, if training { "rrelu_with_noise_out_cpu" } else { "leaky_relu_cpu" })?;
        let x = self.detach();
        if !training {
            let slope = (lower + upper) / 2.0;
            return fused2(&x, &x, move |x, _| if x > 0.0 { 1.0 } else { slope });
        }
        let u = Tensor::uninit_on(self.shape(), x.dtype().compute_type(), x.device())?;
        u.uniform_(0.0, 1.0, g)?;
        fused2(&x, &u, move |x, u| if x <= 0.0 { lower + (upper - lower) * u } else { 1.0 })
    }

    /// `glu(dim)`: `a * sigmoid(b)` where `a`, `b` are the halves of `self` along `dim`.
    pub fn glu(&self, dim: i64) -> Result<Tensor> {
        if self.ndim() == 0 {
            bail!(Runtime, "glu does not support scalars because halving size must be even");
        }
        let d = wrap_dim(dim, self.ndim())?;
        let n = self.shape()[d];
        if n % 2 != 0 {
            bail!(Runtime, "Halving dimension must be even, but dimension {} is size {}", d, n);
        }
        require_float(self, "glu_cpu")?;
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::nn::activation::glu(self, d);
        }
        let (a, b) = self.halves(d)?;
        let compute = self.dtype().compute_type();
        let (a, b) = (a.to_dtype(compute)?, b.to_dtype(compute)?);
        let r = if a.is_cuda() {
            a.mul(&b.float_unary(crate::ops::unary::FloatUnaryOp::Sigmoid)?)?
        } else {
            with_real_dtype!(compute, R => map2::<R, R, R>(&a, &b, a.shape(), |a: R, b: R| a * sigmoid(b)))?
        };
        r.to_dtype(self.dtype())
    }

    /// The two halves of `self` along dim `d` (views).
    pub fn halves(&self, d: usize) -> Result<(Tensor, Tensor)> {
        let h = (self.shape()[d] / 2) as i64;
        Ok((self.narrow(d as i64, 0, h)?, self.narrow(d as i64, h, h)?))
    }
}
