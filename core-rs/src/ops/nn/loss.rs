//! The negative log-likelihood loss as one kernel (PyTorch's native `nll_loss_nd`):
//! `cross_entropy` is `log_softmax` followed by it, as in PyTorch, so the pair costs two
//! passes forward and two backward instead of a chain of gather, mask and reduce ops.
//!
//! Inputs are (C), (N, C) or (N, C, d1, ..., dk): read as (N, C, S) with S = d1 * ... * dk,
//! and class-index targets as (N, S).

use crate::cpu::real::Real;
use crate::dtype::DType;
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
    let t = target.contiguous_as(DType::I64)?;
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
    weight.map(|w| w.contiguous_as(DType::F64).and_then(|w| unsafe { w.as_slice::<f64>() }.map(<[f64]>::to_vec))).transpose()
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
