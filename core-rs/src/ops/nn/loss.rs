//! The negative log-likelihood loss as one kernel (PyTorch's native `nll_loss_nd`):
//! `cross_entropy` is `log_softmax` followed by it, as in PyTorch, so the pair costs two
//! passes forward and two backward instead of a chain of gather, mask and reduce ops.
//!
//! Inputs are (C), (N, C) or (N, C, d1, ..., dk): read as (N, C, S) with S = d1 * ... * dk,
//! and class-index targets as (N, S).

use crate::cpu::real::Real;
use crate::device::Device;
use crate::dtype::DType;
use crate::ops::index::kernel::{gather_flat, Combine};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, with_real_dtype};

/// How per-element losses are reduced: PyTorch's `reduction=` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    None,
    Mean,
    Sum,
}

/// (N, C, S) of an nll input, after checking the target's element count against it.
fn frame(shape: &[usize], dtype: DType, target: &Tensor, weight: Option<&Tensor>) -> Result<(usize, usize, usize)> {
    let (n, c, s) = match shape.len() {
        0 => bail!(Value, "Expected 1 or more dimensions (got 0)"),
        1 => (1, shape[0], 1),
        _ => (shape[0], shape[1], shape[2..].iter().product()),
    };
    if target.numel() != n * s {
        bail!(Runtime, "nll_loss: expected a target with {} elements for input of size {:?}, got target of size {:?}", n * s, shape, target.shape());
    }
    if let Some(w) = weight {
        if w.numel() != c {
            bail!(Runtime, "weight tensor should be defined either for all {} classes or no classes but got weight tensor of shape: {:?}", c, w.shape());
        }
    }
    if !dtype.is_float() {
        bail!(Runtime, "nll_loss: expected a floating-point input, got {:?}", dtype);
    }
    Ok((n, c, s))
}

/// Each target's class (or None where ignored) and its weight; raises PyTorch's IndexError
/// for a target outside [0, C).
fn classes(target: &Tensor, weight: Option<&[f64]>, c: usize, ignore_index: i64) -> Result<Vec<Option<(usize, f64)>>> {
    // Targets on a GPU are read back: bounds are checked, and the picks listed, on the host.
    let t = target.to_device(Device::Cpu)?.contiguous_as(DType::I64)?;
    let t = unsafe { t.as_slice::<i64>()? };
    t.iter()
        .map(|&k| {
            if k == ignore_index {
                return Ok(None);
            }
            if k < 0 || k as usize >= c {
                bail!(Index, "Target {} is out of bounds.", k);
            }
            Ok(Some((k as usize, weight.map_or(1.0, |w| w[k as usize]))))
        })
        .collect()
}

fn weights_f64(weight: Option<&Tensor>) -> Result<Option<Vec<f64>>> {
    weight.map(|w| w.to_device(Device::Cpu)?.contiguous_as(DType::F64).and_then(|w| unsafe { w.as_slice::<f64>() }.map(<[f64]>::to_vec))).transpose()
}

/// The summed weight of the non-ignored targets: 'mean' divides by it.
fn total_weight(picked: &[Option<(usize, f64)>]) -> f64 {
    picked.iter().flatten().map(|&(_, w)| w).sum()
}

/// The shape of the unreduced loss: the target's frame without the class dim.
fn loss_shape(shape: &[usize]) -> Vec<usize> {
    if shape.len() == 1 {
        return vec![];
    }
    let mut out = vec![shape[0]];
    out.extend_from_slice(&shape[2..]);
    out
}

/// The targets kept (not ignored): their positions in the (N, S) frame, and the offset of each
/// one's class in a contiguous (N, C, S) input.
fn kept_offsets(picked: &[Option<(usize, f64)>], c: usize, s: usize) -> (Vec<usize>, Vec<usize>) {
    picked.iter().enumerate().filter_map(|(i, p)| p.map(|(k, _)| (i, (i / s) * c * s + k * s + i % s))).unzip()
}

/// `values` as a 1-d tensor of `like`'s dtype and device.
fn column(values: Vec<f64>, like: &Tensor) -> Result<Tensor> {
    let n = values.len();
    Tensor::from_slice(&values, &[n])?.to_dtype(like.dtype())?.to_device(like.device())
}

/// `nll_loss` of a contiguous CUDA input `x` in its compute type: the kept targets' entries
/// are gathered on the device, weighted, then reduced or scattered into the unreduced shape.
fn nll_on_device(x: &Tensor, picked: &[Option<(usize, f64)>], (n, c, s): (usize, usize, usize), reduction: Reduction, shape: &[usize]) -> Result<Tensor> {
    let (kept, at) = kept_offsets(picked, c, s);
    let m = kept.len();
    let vals = gather_flat(x, &at)?;
    let losses = vals.mul(&column(picked.iter().flatten().map(|&(_, w)| -w).collect(), x)?)?;
    match reduction {
        Reduction::None => {
            let out = Tensor::full_on(&[n * s], crate::dtype::Scalar::Int(0), x.dtype(), x.device())?;
            crate::cuda::index::scatter(&out, &losses, &kept, &(0..m).collect::<Vec<_>>(), Combine::Assign)?;
            out.reshape(&loss_shape(shape).iter().map(|&d| d as i64).collect::<Vec<_>>())
        }
        Reduction::Sum => losses.sum(None, false, None),
        Reduction::Mean => losses.sum(None, false, None)?.div(total_weight(picked)),
    }
}

/// `nll_loss_backward` on the device: `-weight[t] * g` (scaled for 'mean') scattered to the kept
/// targets' entries of a zero gradient of `shape` in `compute`.
fn nll_backward_on_device(g: &Tensor, picked: &[Option<(usize, f64)>], (c, s): (usize, usize), reduction: Reduction, shape: &[usize], compute: DType) -> Result<Tensor> {
    let (kept, at) = kept_offsets(picked, c, s);
    let m = kept.len();
    let g = g.contiguous_as(compute)?;
    let scale = if reduction == Reduction::Mean { 1.0 / total_weight(picked) } else { 1.0 };
    // Unreduced: each kept target's own g; reduced: the one g for all.
    let from: Vec<usize> = if reduction == Reduction::None { kept } else { vec![0; m] };
    let gs = gather_flat(&g, &from)?;
    let vals = gs.mul(&column(picked.iter().flatten().map(|&(_, w)| -w * scale).collect(), &g)?)?;
    let grad = Tensor::full_on(shape, crate::dtype::Scalar::Int(0), compute, g.device())?;
    crate::cuda::index::scatter(&grad, &vals, &at, &(0..m).collect::<Vec<_>>(), Combine::Assign)?;
    Ok(grad)
}

impl Tensor {
    /// `-weight[t] * self[n, t, ...]` for every target `t` (class indices), skipping targets
    /// equal to `ignore_index`, then reduced; 'mean' divides by the summed weight of the
    /// targets kept.
    pub fn nll_loss(&self, target: &Tensor, weight: Option<&Tensor>, reduction: Reduction, ignore_index: i64) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::nn::loss::nll_loss(self, target, weight, reduction, ignore_index);
        }
        let (n, c, s) = frame(self.shape(), self.dtype(), target, weight)?;
        let picked = classes(target, weights_f64(weight)?.as_deref(), c, ignore_index)?;
        let compute = self.dtype().compute_type();
        let x = self.contiguous_as(compute)?;
        if x.is_cuda() {
            crate::device::common_device(&[self, target])?;
            return nll_on_device(&x, &picked, (n, c, s), reduction, self.shape())?.to_dtype(self.dtype());
        }
        let losses: Vec<f64> = with_real_dtype!(compute, R => {
            let x = unsafe { x.as_slice::<R>()? };
            picked
                .iter()
                .enumerate()
                .map(|(i, p)| p.map_or(0.0, |(k, w)| -w * x[(i / s) * c * s + k * s + i % s].f64()))
                .collect()
        });
        debug_assert_eq!(losses.len(), n * s);
        let out = match reduction {
            Reduction::None => Tensor::from_slice(&losses, &loss_shape(self.shape()))?,
            Reduction::Sum => Tensor::from_slice(&[losses.iter().sum::<f64>()], &[])?,
            Reduction::Mean => Tensor::from_slice(&[losses.iter().sum::<f64>() / total_weight(&picked)], &[])?,
        };
        out.to_dtype(self.dtype())
    }

    /// The gradient of `nll_loss` with respect to its input, given the loss gradient `self`:
    /// `-weight[t] * g` at each target's class (g divided by the total weight for 'mean'),
    /// zero elsewhere. `input_shape` and `dtype` are the input's.
    pub fn nll_loss_backward(&self, target: &Tensor, weight: Option<&Tensor>, reduction: Reduction, ignore_index: i64, input_shape: &[usize], dtype: DType) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::nn::loss::nll_loss_backward(self, target, weight, reduction, ignore_index, input_shape, dtype);
        }
        let (_, c, s) = frame(input_shape, dtype, target, weight)?;
        let picked = classes(target, weights_f64(weight)?.as_deref(), c, ignore_index)?;
        if self.is_cuda() {
            return nll_backward_on_device(self, &picked, (c, s), reduction, input_shape, dtype.compute_type())?.to_dtype(dtype);
        }
        let g = self.contiguous_as(DType::F64)?;
        let g = unsafe { g.as_slice::<f64>()? };
        let scale = match reduction {
            Reduction::Mean => 1.0 / total_weight(&picked),
            _ => 1.0,
        };
        let compute = dtype.compute_type();
        let grad = Tensor::zeros(input_shape, compute)?;
        with_real_dtype!(compute, R => {
            let out = unsafe { grad.as_mut_slice::<R>()? };
            for (i, p) in picked.iter().enumerate() {
                if let Some((k, w)) = *p {
                    let gi = if reduction == Reduction::None { g[i] } else { g[0] };
                    out[(i / s) * c * s + k * s + i % s] = R::of(-w * gi * scale);
                }
            }
        });
        grad.to_dtype(dtype)
    }
}
