//! The negative log-likelihood loss as one kernel (PyTorch's native `nll_loss_nd`):
//! `cross_entropy` is `log_softmax` followed by it, as in PyTorch, so the pair costs two
//! passes forward and two backward instead of a chain of gather, mask and reduce ops.
//!
//! Inputs are (C), (N, C) or (N, C, d1, ..., dk): read as (N, C, S) with S = d1 * ... * dk,
//! and class-index targets as (N, S).

use crate::cpu::real::Real;
use crate::device::Device;
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::layout::Layout;
use crate::ops::binary::{where_, Operand};
use crate::ops::index::checks::{deltas, Deltas, IndexRule};
use crate::ops::index::fault::Fault;
use crate::ops::index::kernel::gather;
use crate::ops::index::ScatterSrc;
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
/// for a target outside [0, C). (CPU inputs; CUDA inputs read their targets on the device.)
fn classes(target: &Tensor, weight: Option<&[f64]>, c: usize, ignore_index: i64) -> Result<Vec<Option<(usize, f64)>>> {
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

/// The targets of an (N, C, S) input on `device`, for device ops (what CUDA inputs run): each
/// target as the storage delta of its class (ignored targets reading class 0), read where the
/// target lives (on the device its faults raise at the next wait, as the index ops'), with the
/// targets so made safe and the mask of ignored ones, flat.
fn device_classes(target: &Tensor, (c, s): (usize, usize), ignore_index: i64, device: Device) -> Result<(Deltas, Tensor, Tensor)> {
    let t = target.to_dtype(DType::I64)?.reshape(&[-1])?;
    let ignored = t.eq(Operand::Scalar(Scalar::Int(ignore_index)))?;
    let safe = where_(&ignored, &Operand::Scalar(Scalar::Int(0)), &Operand::Tensor(t))?;
    let rule = IndexRule { size: c, stride: s, wrap: false, fault: Fault::Target };
    Ok((deltas(&safe, rule, device)?, safe.to_device(device)?, ignored.to_device(device)?))
}

/// Each target's weight in `compute` on `device`, zero where ignored. Looked up with the
/// targets clamped into range: a target out of range is the class lookup's fault to report.
fn kept_weights(weight: Option<&Tensor>, safe: &Tensor, ignored: &Tensor, c: usize, compute: DType) -> Result<Tensor> {
    let device = safe.device();
    let w = match weight {
        Some(w) => {
            let top = Operand::Scalar(Scalar::Int(c.max(1) as i64 - 1));
            w.to_dtype(compute)?.to_device(device)?.index_select(0, &safe.clamp(Some(&Operand::Scalar(Scalar::Int(0))), Some(&top))?)?
        }
        None => Tensor::full_on(&[safe.numel()], Scalar::Int(1), compute, device)?,
    };
    zero_where(ignored, &w)
}

/// `values` with +0 where `mask` holds.
fn zero_where(mask: &Tensor, values: &Tensor) -> Result<Tensor> {
    where_(mask, &Operand::Scalar(Scalar::Int(0)), &Operand::Tensor(values.clone()))
}

/// `nll_loss` of a contiguous input `x` (compute type) in device ops: each target's entry
/// gathered through its class delta, weighted, then reduced ('mean' by the kept weight).
fn nll_by_gather(x: &Tensor, target: &Tensor, weight: Option<&Tensor>, (n, c, s): (usize, usize, usize), reduction: Reduction, ignore_index: i64, shape: &[usize]) -> Result<Tensor> {
    let (classes, safe, ignored) = device_classes(target, (c, s), ignore_index, x.device())?;
    let src = Layout { shape: vec![n, s], strides: vec![c * s, 1], offset: x.offset() };
    let picked = gather(x, &src, &classes, &Layout::contiguous(&[n, s]))?;
    let w = kept_weights(weight, &safe, &ignored, c, x.dtype())?;
    // Ignored targets lose nothing, whatever their class-0 entry holds (inf, NaN).
    let losses = zero_where(&ignored, &picked.reshape(&[-1])?.mul(&w)?.mul(-1.0)?)?;
    match reduction {
        Reduction::None => losses.reshape(&loss_shape(shape).iter().map(|&d| d as i64).collect::<Vec<_>>()),
        Reduction::Sum => losses.sum(None, false, None),
        Reduction::Mean => losses.sum(None, false, None)?.div(&w.sum(None, false, None)?),
    }
}

/// `nll_loss_backward` in device ops: `-weight[t] * g` (divided by the kept weight for 'mean')
/// scattered to each target's class of a zero (N, C, S) gradient in `compute`.
fn nll_backward_by_scatter(g: &Tensor, target: &Tensor, weight: Option<&Tensor>, (n, c, s): (usize, usize, usize), reduction: Reduction, ignore_index: i64, compute: DType) -> Result<Tensor> {
    let device = g.device();
    let (_, safe, ignored) = device_classes(target, (c, s), ignore_index, device)?;
    let w = kept_weights(weight, &safe, &ignored, c, compute)?;
    let g = g.to_dtype(compute)?;
    let vals = match reduction {
        Reduction::None => w.mul(&g.reshape(&[-1])?)?,
        Reduction::Sum => w.mul(&g)?,
        Reduction::Mean => w.mul(&g.div(&w.sum(None, false, None)?)?)?,
    };
    let vals = zero_where(&ignored, &vals.mul(-1.0)?)?;
    let grad = Tensor::full_on(&[n, c, s], Scalar::Int(0), compute, device)?;
    grad.scatter_(1, &safe.reshape(&[n as i64, 1, s as i64])?, &ScatterSrc::Tensor(vals.reshape(&[n as i64, 1, s as i64])?), None)?;
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
        let compute = self.dtype().compute_type();
        let x = self.contiguous_as(compute)?;
        if x.is_cuda() && c == 0 {
            // No classes: nothing to read on the device (every target is ignored or faults).
            let (cpu, w) = (Device::Cpu, weight.map(|w| w.to_device(Device::Cpu)).transpose()?);
            return self.to_device(cpu)?.nll_loss(&target.to_device(cpu)?, w.as_ref(), reduction, ignore_index)?.to_device(self.device());
        }
        if x.is_cuda() {
            crate::device::common_device(&[self, target])?;
            return nll_by_gather(&x, target, weight, (n, c, s), reduction, ignore_index, self.shape())?.to_dtype(self.dtype());
        }
        let picked = classes(target, weights_f64(weight)?.as_deref(), c, ignore_index)?;
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
        let (n, c, s) = frame(input_shape, dtype, target, weight)?;
        if self.is_cuda() && c == 0 {
            let (cpu, w) = (Device::Cpu, weight.map(|w| w.to_device(Device::Cpu)).transpose()?);
            let grad = self.to_device(cpu)?.nll_loss_backward(&target.to_device(cpu)?, w.as_ref(), reduction, ignore_index, input_shape, dtype)?;
            return grad.to_device(self.device());
        }
        if self.is_cuda() {
            let grad = nll_backward_by_scatter(self, target, weight, (n, c, s), reduction, ignore_index, dtype.compute_type())?;
            return grad.reshape(&input_shape.iter().map(|&d| d as i64).collect::<Vec<_>>())?.to_dtype(dtype);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal where the reference is NaN (any NaN) or zero (with its sign), close elsewhere
    /// (sums run in another order).
    fn agree(got: &Tensor, want: &Tensor, what: &str) {
        assert_eq!(got.shape(), want.shape(), "{what}");
        let (g, w) = (got.contiguous().unwrap().to_vec::<f64>().unwrap(), want.contiguous().unwrap().to_vec::<f64>().unwrap());
        for (a, b) in g.iter().zip(&w) {
            let ok = if b.is_nan() { a.is_nan() } else if *b == 0.0 { a.to_bits() == b.to_bits() } else { (a - b).abs() <= 1e-12 * b.abs().max(1.0) };
            assert!(ok, "{what}: {g:?} vs {w:?}");
        }
    }

    /// The device route's compositions (class gather, weights, reduction; scatter of the
    /// gradient) run on any device: on the CPU they equal the loops, ignored targets, class
    /// weights and every reduction included, and a target out of range raises PyTorch's error.
    #[test]
    fn device_compositions_equal_the_loops() {
        let (n, c, s) = (3usize, 4usize, 2usize);
        let xs: Vec<f64> = (0..n * c * s).map(|i| ((i * 7 % 11) as f64 - 5.0) / 3.0).collect();
        let x = Tensor::from_slice(&xs, &[n, c, s]).unwrap();
        let target = Tensor::from_slice(&[3i64, 0, -100, 2, 1, 3], &[n, s]).unwrap();
        let weight = Tensor::from_slice(&[0.5f64, 2.0, 1.5, 0.25], &[c]).unwrap();
        let g_none = Tensor::from_slice(&[0.3f64, -1.0, 2.0, 0.5, 1.25, -0.75], &[n, s]).unwrap();
        let g_one = Tensor::from_slice(&[0.7f64], &[]).unwrap();
        for w in [None, Some(&weight)] {
            for reduction in [Reduction::None, Reduction::Sum, Reduction::Mean] {
                let what = format!("{reduction:?} weighted={}", w.is_some());
                let want = x.nll_loss(&target, w, reduction, -100).unwrap();
                let got = nll_by_gather(&x, &target, w, (n, c, s), reduction, -100, x.shape()).unwrap();
                agree(&got, &want, &what);
                let g = if reduction == Reduction::None { &g_none } else { &g_one };
                let want = g.nll_loss_backward(&target, w, reduction, -100, x.shape(), DType::F64).unwrap();
                let got = nll_backward_by_scatter(g, &target, w, (n, c, s), reduction, -100, DType::F64).unwrap();
                agree(&got.reshape(&[n as i64, c as i64, s as i64]).unwrap(), &want, &what);
            }
        }
        // An ignored target's class-0 entry may be -inf (masked logits); every target ignored.
        let mut xs_inf = xs.clone();
        xs_inf[c * s] = f64::NEG_INFINITY; // class 0 of the ignored target (1, 0)
        let x_inf = Tensor::from_slice(&xs_inf, &[n, c, s]).unwrap();
        let ignored_all = Tensor::from_slice(&[-100i64; 6], &[n, s]).unwrap();
        for (x, t) in [(&x_inf, &target), (&x, &ignored_all)] {
            for reduction in [Reduction::None, Reduction::Sum, Reduction::Mean] {
                let want = x.nll_loss(t, Some(&weight), reduction, -100).unwrap();
                let got = nll_by_gather(x, t, Some(&weight), (n, c, s), reduction, -100, x.shape()).unwrap();
                agree(&got, &want, &format!("{reduction:?}"));
                let g = if reduction == Reduction::None { &g_none } else { &g_one };
                let want = g.nll_loss_backward(t, Some(&weight), reduction, -100, x.shape(), DType::F64).unwrap();
                let got = nll_backward_by_scatter(g, t, Some(&weight), (n, c, s), reduction, -100, DType::F64).unwrap();
                agree(&got.reshape(&[n as i64, c as i64, s as i64]).unwrap(), &want, &format!("{reduction:?} backward"));
            }
        }
        let bad = Tensor::from_slice(&[3i64, 0, 4, 2, 1, 3], &[n, s]).unwrap();
        let e = nll_by_gather(&x, &bad, Some(&weight), (n, c, s), Reduction::Mean, -100, x.shape()).err().expect("target 4 of 4 classes");
        assert_eq!(e.to_string(), "Target 4 is out of bounds.");
    }
}
