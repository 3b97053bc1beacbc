//! Batch normalization with batch statistics (training mode), fused per channel as PyTorch's
//! `native_batch_norm`: one task per channel computes the channel's mean and variance and
//! writes its normalized, affine-mapped output; the backward pass likewise takes two sums per
//! channel and writes the input gradient. Evaluation mode (running statistics) is a plain
//! scale and shift and needs no kernel of its own.

use rayon::prelude::*;

use crate::cpu::iter::SendPtr;
use crate::cpu::real::Real;
use crate::dtype::Element;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, with_real_dtype};

use super::norm::dense;

/// How an `(N, C, *)` input splits: `batch` blocks of `channels` runs of `spatial` elements.
#[derive(Clone, Copy)]
struct Geometry {
    batch: usize,
    channels: usize,
    spatial: usize,
}

impl Geometry {
    fn of(x: &Tensor) -> Geometry {
        let (batch, channels) = (x.shape()[0], x.shape()[1]);
        Geometry { batch, channels, spatial: x.shape()[2..].iter().product() }
    }

    /// Elements per channel.
    fn count(self) -> usize {
        self.batch * self.spatial
    }

    /// The runs of channel `c`, each `spatial` long, as element offsets.
    fn runs(self, c: usize) -> impl Iterator<Item = usize> {
        (0..self.batch).map(move |b| (b * self.channels + c) * self.spatial)
    }
}

/// `sum(f(i))` over `0..len` in f64 with eight independent accumulators, so the loop
/// vectorizes (a single running sum is a chain of dependent adds).
#[inline(always)]
fn sum_f64(len: usize, f: impl Fn(usize) -> f64) -> f64 {
    let mut acc = [0.0f64; 8];
    let whole = len / 8 * 8;
    for i in (0..whole).step_by(8) {
        for (k, a) in acc.iter_mut().enumerate() {
            *a += f(i + k);
        }
    }
    let tail: f64 = (whole..len).map(&f).sum();
    acc.iter().sum::<f64>() + tail
}

/// `task(c)` for every channel, in parallel when the input is large.
fn per_channel<T: Send>(g: Geometry, task: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    if g.count() * g.channels < crate::cpu::iter::GRAIN || g.channels == 1 {
        (0..g.channels).map(task).collect()
    } else {
        crate::cpu::threads::install(|| (0..g.channels).into_par_iter().map(task).collect())
    }
}

fn forward<R: Real + Element>(x: &[R], w: Option<&[R]>, b: Option<&[R]>, out: SendPtr<R>, g: Geometry, eps: f64) -> (Vec<f64>, Vec<f64>) {
    let n = g.count().max(1) as f64;
    per_channel(g, |c| {
        let mean = g.runs(c).map(|r| sum_f64(g.spatial, |i| x[r + i].f64())).sum::<f64>() / n;
        let var = g.runs(c).map(|r| sum_f64(g.spatial, |i| (x[r + i].f64() - mean).powi(2))).sum::<f64>() / n;
        let invstd = 1.0 / (var + eps).sqrt();
        // out = x * scale + shift, as PyTorch's CPU kernel computes it.
        let scale = w.map_or(1.0, |w| w[c].f64()) * invstd;
        let shift = b.map_or(0.0, |b| b[c].f64()) - mean * scale;
        let (scale, shift) = (R::of(scale), R::of(shift));
        for r in g.runs(c) {
            for i in 0..g.spatial {
                unsafe { *out.get().add(r + i) = x[r + i] * scale + shift };
            }
        }
        (mean, var)
    })
    .into_iter()
    .unzip()
}

/// dx for every element; per channel `sum(dy * xhat)` and `sum(dy)` (dweight and dbias).
#[allow(clippy::too_many_arguments)]
fn backward<R: Real + Element>(x: &[R], dy: &[R], w: Option<&[R]>, mean: &[f64], invstd: &[f64], dx: SendPtr<R>, g: Geometry) -> (Vec<f64>, Vec<f64>) {
    let n = g.count().max(1) as f64;
    per_channel(g, |c| {
        let (m, istd) = (mean[c], invstd[c]);
        let sum_dy = g.runs(c).map(|r| sum_f64(g.spatial, |i| dy[r + i].f64())).sum::<f64>();
        let dot = g.runs(c).map(|r| sum_f64(g.spatial, |i| (x[r + i].f64() - m) * dy[r + i].f64())).sum::<f64>();
        // dx = (dy - mean(dy) - (x - mean) * invstd^2 * mean(dy * (x - mean))) * invstd * w
        let k = R::of(dot * istd * istd / n);
        let (mean_dy, mr) = (R::of(sum_dy / n), R::of(m));
        let scale = R::of(istd * w.map_or(1.0, |w| w[c].f64()));
        for r in g.runs(c) {
            for i in 0..g.spatial {
                unsafe { *dx.get().add(r + i) = (dy[r + i] - mean_dy - (x[r + i] - mr) * k) * scale };
            }
        }
        (dot * istd, sum_dy)
    })
    .into_iter()
    .unzip()
}

/// Checks `x` is a float `(N, C, *)` input and `weight`/`bias` have C elements.
fn check(x: &Tensor, weight: Option<&Tensor>, bias: Option<&Tensor>) -> Result<()> {
    if x.ndim() < 2 {
        bail!(Runtime, "batch_norm: expected an input of at least 2 dims (N, C, *), got shape {:?}", x.shape());
    }
    if !x.dtype().is_float() {
        bail!(Runtime, "batch_norm: expected a floating-point input, got {}", x.dtype());
    }
    for (name, t) in [("weight", weight), ("bias", bias)] {
        if let Some(t) = t {
            if t.numel() != x.shape()[1] {
                bail!(Runtime, "{} should contain {} elements not {}", name, x.shape()[1], t.numel());
            }
        }
    }
    Ok(())
}

impl Tensor {
    /// Batch normalization of an `(N, C, *)` input with its own per-channel statistics:
    /// `(x - mean) / sqrt(var + eps) * weight + bias`, the variance biased. Returns the output
    /// and the statistics `(mean, var)` (shape `(C,)`, never recorded; float64 on the CPU, the
    /// compute type on a GPU, where they stay), from which callers update running statistics.
    pub fn batch_norm_train(&self, weight: Option<&Tensor>, bias: Option<&Tensor>, eps: f64) -> Result<(Tensor, Tensor, Tensor)> {
        check(self, weight, bias)?;
        if crate::autograd::needs_grad(&[Some(self), weight, bias].into_iter().flatten().collect::<Vec<_>>()) {
            return crate::autograd::formulas::nn::norm::batch_norm_train(self, weight, bias, eps);
        }
        self.batch_norm_stats_forward(weight, bias, eps)
    }

    /// The unrecorded kernel of `batch_norm_train`: output, per-channel means and variances.
    pub(crate) fn batch_norm_stats_forward(&self, weight: Option<&Tensor>, bias: Option<&Tensor>, eps: f64) -> Result<(Tensor, Tensor, Tensor)> {
        let compute = self.dtype().compute_type();
        let (w, b) = (dense(weight, compute)?, dense(bias, compute)?);
        if self.is_cuda() {
            // The kernels read half inputs as stored (no float32 copy).
            let x = self.contiguous()?;
            crate::device::common_device(&[Some(&x), w.as_ref(), b.as_ref()].into_iter().flatten().collect::<Vec<_>>())?;
            return crate::cuda::batch_norm::forward(&x, w.as_ref(), b.as_ref(), eps);
        }
        let x = self.contiguous_as(compute)?;
        let out = Tensor::uninit(self.shape(), compute)?;
        let g = Geometry::of(self);
        let (mean, var) = with_real_dtype!(compute, R => unsafe {
            forward::<R>(x.as_slice()?, w.as_ref().map(|w| w.as_slice()).transpose()?, b.as_ref().map(|b| b.as_slice()).transpose()?, SendPtr(out.data_ptr::<R>()?), g, eps)
        });
        let c = [g.channels];
        Ok((out.to_dtype(self.dtype())?, Tensor::from_slice(&mean, &c)?, Tensor::from_slice(&var, &c)?))
    }

    /// The gradients `(dx, dweight, dbias)` of `batch_norm_train` from `dy`, given the
    /// forward pass's per-channel `mean` and `invstd` (`(C,)` tensors on the input's device;
    /// not recorded). `dweight`/`dbias` come in `weight`'s dtype (the input's without a weight).
    pub fn batch_norm_train_backward(&self, dy: &Tensor, weight: Option<&Tensor>, mean: &Tensor, invstd: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        check(self, weight, None)?;
        let compute = self.dtype().compute_type();
        let dy = dy.expand(&self.shape().iter().map(|&s| s as i64).collect::<Vec<_>>())?;
        let w = dense(weight, compute)?;
        let dtype = weight.map_or(self.dtype(), |w| w.dtype());
        if self.is_cuda() {
            crate::device::common_device(&[self, &dy])?;
            let (x, dy) = (self.contiguous()?, dy.contiguous_as(self.dtype())?);
            let (mean, invstd) = (mean.contiguous_as(compute)?, invstd.contiguous_as(compute)?);
            let (dx, dw, db) = crate::cuda::batch_norm::backward(&x, &dy, w.as_ref(), &mean, &invstd)?;
            return Ok((dx, dw.to_dtype(dtype)?, db.to_dtype(dtype)?));
        }
        let (x, dy) = (self.contiguous_as(compute)?, dy.contiguous_as(compute)?);
        let dx = Tensor::uninit(self.shape(), compute)?;
        let g = Geometry::of(self);
        let values = |t: &Tensor| t.to_dtype(crate::dtype::DType::F64)?.contiguous()?.to_vec::<f64>();
        let (mean, invstd) = (values(mean)?, values(invstd)?);
        let (dw, db) = with_real_dtype!(compute, R => unsafe {
            backward::<R>(x.as_slice()?, dy.as_slice()?, w.as_ref().map(|w| w.as_slice()).transpose()?, &mean, &invstd, SendPtr(dx.data_ptr::<R>()?), g)
        });
        let c = [g.channels];
        Ok((dx.to_dtype(self.dtype())?, Tensor::from_slice(&dw, &c)?.to_dtype(dtype)?, Tensor::from_slice(&db, &c)?.to_dtype(dtype)?))
    }
}
