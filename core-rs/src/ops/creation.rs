//! Factories: `full`, `arange`, `linspace`, `logspace`, `eye`, `tril_indices`, ...

use crate::dtype::{DType, Element, Scalar};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

/// Fills a fresh contiguous tensor from `f(i)` over its flat index, converted from f64 or i64.
fn from_fn(shape: &[usize], dtype: DType, f: impl Fn(usize) -> Scalar) -> Result<Tensor> {
    let t = Tensor::uninit(shape, dtype)?;
    with_dtype!(dtype, T => {
        let out = unsafe { t.as_mut_slice::<T>()? };
        for (i, o) in out.iter_mut().enumerate() {
            *o = T::from_scalar(f(i));
        }
    });
    Ok(t)
}

impl Tensor {
    /// `full(shape, value, dtype)`.
    pub fn full(shape: &[usize], value: Scalar, dtype: DType) -> Result<Tensor> {
        let t = Tensor::uninit(shape, dtype)?;
        with_dtype!(dtype, T => unsafe { t.as_mut_slice::<T>()? }.fill(T::from_scalar(value)));
        Ok(t)
    }

    /// `full(shape, value, dtype)` on `device`.
    pub fn full_on(shape: &[usize], value: Scalar, dtype: DType, device: crate::Device) -> Result<Tensor> {
        if device == crate::Device::Cpu {
            return Tensor::full(shape, value, dtype);
        }
        let t = Tensor::uninit_on(shape, dtype, device)?;
        crate::cuda::dispatch::fill(&t, value)?;
        Ok(t)
    }

    /// Fills `self` with `value` in place.
    pub fn fill_(&self, value: Scalar) -> Result<()> {
        let fill = || {
            if self.is_cuda() {
                crate::ops::copy::check_no_internal_overlap(self)?;
                crate::cuda::dispatch::fill(self, value)?;
                self.bump_version();
                Ok(())
            } else {
                self.copy_from(&Tensor::scalar(value, self.dtype()))
            }
        };
        crate::autograd::inplace_with(self, &[], fill, |old| {
            crate::autograd::record("FillBackward0", &[old], || Tensor::full_on(old.shape(), value, old.dtype(), old.device()), |_| {
                |gr: &crate::autograd::Grads| Ok(vec![Some(gr.g().zeros_like()?)])
            })
        })
    }

    /// `arange(start, end, step)`: PyTorch computes the length in double precision.
    pub fn arange(start: Scalar, end: Scalar, step: Scalar, dtype: DType) -> Result<Tensor> {
        let (s, e, st) = (start.to_f64(), end.to_f64(), step.to_f64());
        if st == 0.0 {
            bail!(Runtime, "step must be nonzero");
        }
        if !s.is_finite() || !e.is_finite() {
            bail!(Runtime, "unsupported range: {} -> {}", s, e);
        }
        if (st > 0.0 && e < s) || (st < 0.0 && e > s) {
            bail!(Runtime, "upper bound and larger bound inconsistent with step sign");
        }
        let len = ((e - s) / st).ceil() as usize;
        let integral = dtype.is_int() || dtype == DType::Bool;
        if integral && [start, end, step].iter().all(|v| !matches!(v, Scalar::Float(_))) {
            let (s, st) = (start.to_i64(), step.to_i64());
            return from_fn(&[len], dtype, |i| Scalar::Int(s + st * i as i64));
        }
        from_fn(&[len], dtype, |i| Scalar::Float(s + st * i as f64))
    }

    /// `linspace(start, end, steps)`, symmetric from both ends like PyTorch's kernel.
    pub fn linspace(start: f64, end: f64, steps: usize, dtype: DType) -> Result<Tensor> {
        let step = if steps > 1 { (end - start) / (steps - 1) as f64 } else { 0.0 };
        let half = steps / 2;
        let value = move |i: usize| {
            if i < half || steps == 1 {
                start + step * i as f64
            } else {
                end - step * (steps - 1 - i) as f64
            }
        };
        if dtype.is_int() {
            // Integer linspace truncates each float value.
            return from_fn(&[steps], dtype, |i| Scalar::Int(value(i) as i64));
        }
        from_fn(&[steps], dtype, |i| Scalar::Float(value(i)))
    }

    /// `logspace(start, end, steps, base)`.
    pub fn logspace(start: f64, end: f64, steps: usize, base: f64, dtype: DType) -> Result<Tensor> {
        let exps = Tensor::linspace(start, end, steps, DType::F64)?.to_vec::<f64>()?;
        from_fn(&[steps], dtype, |i| Scalar::Float(base.powf(exps[i])))
    }

    /// `eye(n, m)`.
    pub fn eye(n: usize, m: usize, dtype: DType) -> Result<Tensor> {
        from_fn(&[n, m], dtype, |i| Scalar::Bool(i / m.max(1) == i % m.max(1)))
    }

    /// `eye(n, m)` on `device`: the identities gradient formulas add beside device tensors.
    pub fn eye_on(n: usize, m: usize, dtype: DType, device: crate::Device) -> Result<Tensor> {
        Tensor::eye(n, m, dtype)?.to_device(device)
    }

    /// The int64 positions `0..n` on `device` (`arange(n)`), which index-building ops use beside
    /// device tensors. Built on the host and copied: one place to give a fill kernel.
    pub fn positions_on(n: usize, device: crate::Device) -> Result<Tensor> {
        Tensor::arange(Scalar::Int(0), Scalar::Int(n as i64), Scalar::Int(1), DType::I64)?.to_device(device)
    }

    /// `tril_indices(row, col, offset)` (upper when `upper`): a (2, N) int64 tensor.
    pub fn tri_indices(row: usize, col: usize, offset: i64, upper: bool) -> Result<Tensor> {
        let mut rows = Vec::new();
        let mut cols = Vec::new();
        for r in 0..row as i64 {
            for c in 0..col as i64 {
                if (upper && c - r >= offset) || (!upper && c - r <= offset) {
                    rows.push(r);
                    cols.push(c);
                }
            }
        }
        let n = rows.len();
        rows.extend(cols);
        Tensor::from_slice(&rows, &[2, n])
    }
}
