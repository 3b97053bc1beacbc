//! Row normalizations fused into one pass per row: layer normalization (PyTorch's
//! `native_layer_norm`: the row's mean and variance) and RMS normalization (`_fused_rms_norm`:
//! the row's mean square, nothing subtracted). One kernel serves both, forward and backward;
//! RMS normalization is layer normalization with the mean held at zero.

use rayon::prelude::*;

use crate::cpu::real::Real;
use crate::dtype::{DType, Element};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, with_real_dtype};

/// Elements per rayon task: enough work to pay for the hand-off.
const ROWS_PER_TASK: usize = 1 << 14;

/// Which row normalization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowNorm {
    /// `(x - mean) / sqrt(var + eps)`.
    Layer,
    /// `x / sqrt(mean(x^2) + eps)`.
    Rms,
}

impl RowNorm {
    /// Whether the row mean is subtracted.
    pub fn centered(self) -> bool {
        self == RowNorm::Layer
    }

    fn name(self) -> &'static str {
        match self {
            RowNorm::Layer => "layer_norm",
            RowNorm::Rms => "rms_norm",
        }
    }
}

/// One row's centre (its mean, or zero when not `centered`) and 1 / sqrt(mean square about it
/// + eps), accumulated in f64.
#[inline]
fn stats<R: Real>(row: &[R], eps: f64, centered: bool) -> (R, R) {
    let n = row.len().max(1) as f64;
    let mean = if centered { row.iter().map(|v| v.f64()).sum::<f64>() / n } else { 0.0 };
    let var = row.iter().map(|v| (v.f64() - mean) * (v.f64() - mean)).sum::<f64>() / n;
    (R::of(mean), R::of(1.0 / (var + eps).sqrt()))
}

#[allow(clippy::too_many_arguments)]
fn forward<R: Real + Element>(x: &[R], w: Option<&[R]>, b: Option<&[R]>, out: &mut [R], n: usize, eps: f64, centered: bool) {
    let rows_into = |o: &mut [R], x: &[R]| {
        for (orow, xrow) in o.chunks_mut(n).zip(x.chunks(n)) {
            let (mean, rstd) = stats(xrow, eps, centered);
            for (j, (ov, &xv)) in orow.iter_mut().zip(xrow).enumerate() {
                let mut v = (xv - mean) * rstd;
                if let Some(w) = w {
                    v = v * w[j];
                }
                if let Some(b) = b {
                    v = v + b[j];
                }
                *ov = v;
            }
        }
    };
    if x.len() < ROWS_PER_TASK {
        return rows_into(out, x);
    }
    let chunk = (ROWS_PER_TASK / n).max(1) * n;
    crate::cpu::threads::install(|| out.par_chunks_mut(chunk).zip(x.par_chunks(chunk)).for_each(|(o, x)| rows_into(o, x)));
}

/// dx for every row; dw and db summed over rows (when wanted). Uncentered, the mean of the
/// gradient drops out: `dx = rstd * (g - xhat * mean(g * xhat))`.
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn backward<R: Real + Element>(x: &[R], w: Option<&[R]>, dy: &[R], dx: &mut [R], n: usize, eps: f64, want_wb: bool, centered: bool) -> (Vec<f64>, Vec<f64>) {
    let (mut dw, mut db) = (vec![0.0; if want_wb { n } else { 0 }], vec![0.0; if want_wb { n } else { 0 }]);
    let inv_n = 1.0 / n.max(1) as f64;
    for ((dxr, xr), dyr) in dx.chunks_mut(n).zip(x.chunks(n)).zip(dy.chunks(n)) {
        let (mean, rstd) = stats(xr, eps, centered);
        let (mut sum_g, mut sum_gx) = (0.0f64, 0.0f64);
        for j in 0..n {
            let xhat = ((xr[j] - mean) * rstd).f64();
            let g = dyr[j].f64() * w.map_or(1.0, |w| w[j].f64());
            sum_g += g;
            sum_gx += g * xhat;
            if want_wb {
                dw[j] += dyr[j].f64() * xhat;
                db[j] += dyr[j].f64();
            }
        }
        let (mg, mgx) = (if centered { sum_g * inv_n } else { 0.0 }, sum_gx * inv_n);
        for j in 0..n {
            let xhat = ((xr[j] - mean) * rstd).f64();
            let g = dyr[j].f64() * w.map_or(1.0, |w| w[j].f64());
            dxr[j] = R::of(rstd.f64() * (g - mg - xhat * mgx));
        }
    }
    (dw, db)
}

/// The element count of the trailing `normalized` dims after checking `x`, `weight`, `bias`.
fn check(kind: RowNorm, x: &Tensor, normalized: &[usize], weight: Option<&Tensor>, bias: Option<&Tensor>) -> Result<usize> {
    let (nd, op) = (normalized.len(), kind.name());
    if x.ndim() < nd || x.shape()[x.ndim() - nd..] != *normalized {
        bail!(Runtime, "{}: expected input with shape [*, {:?}], but got input of size {:?}", op, normalized, x.shape());
    }
    for (name, t) in [("weight", weight), ("bias", bias)] {
        if let Some(t) = t {
            if t.shape() != normalized {
                bail!(Runtime, "{}: expected {} of shape {:?}, but got {:?}", op, name, normalized, t.shape());
            }
        }
    }
    if !x.dtype().is_float() {
        bail!(Runtime, "{}: expected a floating-point input, got {:?}", op, x.dtype());
    }
    Ok(normalized.iter().product())
}

/// `t` as a contiguous slice-able tensor of `dtype`.
pub(super) fn dense(t: Option<&Tensor>, dtype: DType) -> Result<Option<Tensor>> {
    t.map(|t| t.contiguous_as(dtype)).transpose()
}

impl Tensor {
    /// Layer normalization over the trailing dims of sizes `normalized` (biased variance,
    /// `eps` inside the square root), then `* weight + bias` element-wise when given.
    pub fn layer_norm(&self, normalized: &[usize], weight: Option<&Tensor>, bias: Option<&Tensor>, eps: f64) -> Result<Tensor> {
        self.row_norm(RowNorm::Layer, normalized, weight, bias, eps)
    }

    /// RMS normalization over the trailing dims of sizes `normalized` (`x / sqrt(mean(x^2) +
    /// eps)`), then `* weight` element-wise when given.
    pub fn rms_norm(&self, normalized: &[usize], weight: Option<&Tensor>, eps: f64) -> Result<Tensor> {
        self.row_norm(RowNorm::Rms, normalized, weight, None, eps)
    }

    /// Normalization of the rows formed by the trailing `normalized` dims, then the affine map.
    pub fn row_norm(&self, kind: RowNorm, normalized: &[usize], weight: Option<&Tensor>, bias: Option<&Tensor>, eps: f64) -> Result<Tensor> {
        let inputs: Vec<&Tensor> = [Some(self), weight, bias].into_iter().flatten().collect();
        if crate::autograd::needs_grad(&inputs) {
            return crate::autograd::formulas::nn::norm::row_norm(kind, self, normalized, weight, bias, eps);
        }
        let n = check(kind, self, normalized, weight, bias)?;
        let compute = self.dtype().compute_type();
        let (x, w, b) = (self.contiguous_as(compute)?, dense(weight, compute)?, dense(bias, compute)?);
        if x.is_cuda() {
            crate::device::common_device(&inputs)?;
            return crate::cuda::nn::row_norm(&x, w.as_ref(), b.as_ref(), n, eps, kind.centered())?.to_dtype(self.dtype());
        }
        let out = Tensor::uninit(self.shape(), compute)?;
        if self.numel() != 0 {
            with_real_dtype!(compute, R => unsafe {
                forward::<R>(x.as_slice()?, w.as_ref().map(|w| w.as_slice()).transpose()?, b.as_ref().map(|b| b.as_slice()).transpose()?, out.as_mut_slice()?, n, eps, kind.centered())
            });
        }
        out.to_dtype(self.dtype())
    }

    /// The gradients `(dx, dweight, dbias)` of `row_norm` from `dy` (not recorded: the
    /// autograd formula uses it when no graph of the backward pass is wanted). `dbias` is
    /// `dy`'s column sums, also for RMS normalization (which has no bias; callers drop it).
    #[allow(clippy::too_many_arguments)]
    pub fn row_norm_backward(&self, kind: RowNorm, dy: &Tensor, normalized: &[usize], weight: Option<&Tensor>, eps: f64, want_wb: bool) -> Result<(Tensor, Option<Tensor>, Option<Tensor>)> {
        let n = check(kind, self, normalized, weight, None)?;
        let compute = self.dtype().compute_type();
        let x = self.contiguous_as(compute)?;
        let dy = dy.expand(&self.shape().iter().map(|&s| s as i64).collect::<Vec<_>>())?.contiguous_as(compute)?;
        let w = dense(weight, compute)?;
        let dtype = weight.map_or(self.dtype(), |w| w.dtype());
        if x.is_cuda() {
            crate::device::common_device(&[Some(self), Some(&dy), weight].into_iter().flatten().collect::<Vec<_>>())?;
            let (dx, dy_xhat) = crate::cuda::nn::row_norm_backward(&x, w.as_ref(), &dy, n, eps, want_wb, kind.centered())?;
            let shape: Vec<i64> = normalized.iter().map(|&s| s as i64).collect();
            let rows = if n == 0 { 0 } else { (self.numel() / n) as i64 };
            let column_sums = |t: &Tensor| t.reshape(&[rows, n as i64])?.sum(Some(&[0]), false, None)?.view(&shape)?.to_dtype(dtype);
            let dw = dy_xhat.as_ref().map(column_sums).transpose()?;
            let db = if want_wb { Some(column_sums(&dy)?) } else { None };
            return Ok((dx.to_dtype(self.dtype())?, dw, db));
        }
        let dx = Tensor::uninit(self.shape(), compute)?;
        let (dw, db) = if self.numel() == 0 {
            (vec![0.0; n], vec![0.0; n])
        } else {
            with_real_dtype!(compute, R => unsafe {
                backward::<R>(x.as_slice()?, w.as_ref().map(|w| w.as_slice()).transpose()?, dy.as_slice()?, dx.as_mut_slice()?, n, eps, want_wb, kind.centered())
            })
        };
        let shaped = |v: Vec<f64>| Tensor::from_slice(&v, normalized).and_then(|t| t.to_dtype(dtype));
        let (dw, db) = if want_wb { (Some(shaped(dw)?), Some(shaped(db)?)) } else { (None, None) };
        Ok((dx.to_dtype(self.dtype())?, dw, db))
    }
}
