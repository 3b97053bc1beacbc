//! GradScaler's two fused kernels: unscaling a list of gradients while looking for inf/NaN, and
//! the scale update. Both work in place on small state tensors, so a training step needs no
//! Python arithmetic on the scale.

use crate::dtype::{DType, Element};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, with_dtype};
use std::sync::atomic::{AtomicBool, Ordering};

/// Checks that `t` is a one-element tensor of `dtype` (PyTorch's messages name it `name`).
fn check_state(t: &Tensor, name: &str, dtype: DType, kind: &str) -> Result<()> {
    if t.numel() != 1 {
        bail!(Runtime, "{} must be a 1-element tensor.", name);
    }
    if t.dtype() != dtype {
        bail!(Runtime, "{} must be {} tensor.", name, kind);
    }
    Ok(())
}

/// Reads the element of a checked one-element tensor (read back from a GPU).
fn read<T: Element>(t: &Tensor) -> Result<T> {
    let t = t.to_device(crate::device::Device::Cpu)?;
    Ok(unsafe { *t.data_ptr::<T>()?.add(t.offset()) })
}

/// Writes the element of a checked one-element tensor.
fn write<T: Element>(t: &Tensor, v: T) -> Result<()> {
    if t.is_cuda() {
        t.fill_(crate::dtype::Scalar::Float(v.to_f64()))?;
    } else {
        unsafe { *t.data_ptr::<T>()?.add(t.offset()) = v };
    }
    t.bump_version();
    Ok(())
}

/// `torch._amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale)`: multiplies
/// every gradient by `inv_scale` in place and sets `found_inf` to 1.0 when any element is inf or
/// NaN (the gradients are unscaled either way, as in PyTorch).
pub fn non_finite_check_and_unscale_(grads: &[Tensor], found_inf: &Tensor, inv_scale: &Tensor) -> Result<()> {
    check_state(inv_scale, "inv_scale", DType::F32, "a float")?;
    check_state(found_inf, "found_inf", DType::F32, "a float")?;
    if let Some(g) = grads.iter().find(|g| !g.dtype().is_float()) {
        bail!(NotImplemented, "\"_amp_foreach_non_finite_check_and_unscale_cpu\" not implemented for '{}'", crate::dtype::title(g.dtype()));
    }
    let inv = read::<f32>(inv_scale)? as f64;
    let found = AtomicBool::new(false);
    for g in grads {
        if g.is_cuda() {
            unscale_on_device(g, inv, &found)?;
        } else {
            with_dtype!(g.dtype(), T => unscale::<T>(g, inv, &found))?;
        }
        g.bump_version();
    }
    if found.load(Ordering::Relaxed) {
        write(found_inf, 1.0f32)?;
    }
    Ok(())
}

/// One gradient of `non_finite_check_and_unscale_`, in place over its strided elements. As in
/// PyTorch the product is computed in float64 for float64 gradients and in float32 otherwise.
fn unscale<T: Element>(g: &Tensor, inv: f64, found: &AtomicBool) -> Result<()> {
    let in_f64 = T::DTYPE == DType::F64;
    let base = crate::cpu::iter::SendPtr(g.data_ptr::<T>()?);
    crate::cpu::iter::for_each_row(g.shape(), [(g.strides(), g.offset())], |[off], len, [stride]| {
        let mut any = false;
        for i in 0..len {
            let p = unsafe { base.get().add(off + i * stride) };
            let v = unsafe { *p }.to_f64();
            any |= !v.is_finite();
            if inv != 1.0 {
                let scaled = if in_f64 { v * inv } else { f64::from(v as f32 * inv as f32) };
                unsafe { *p = T::from_f64(scaled) };
            }
        }
        if any {
            found.store(true, Ordering::Relaxed);
        }
    });
    Ok(())
}

/// `unscale` of a CUDA gradient in device ops: `g - g` is NaN exactly where `g` is inf or
/// NaN; the product is the binary kernel's, in float32 for float32 and half gradients.
fn unscale_on_device(g: &Tensor, inv: f64, found: &AtomicBool) -> Result<()> {
    if g.numel() == 0 {
        return Ok(());
    }
    if g.sub(g)?.ne(0.0)?.any(None, false)?.item()?.to_f64() != 0.0 {
        found.store(true, Ordering::Relaxed);
    }
    if inv != 1.0 {
        let factor = if g.dtype() == DType::F64 { inv } else { f64::from(inv as f32) };
        g.copy_from(&g.mul(factor)?)?;
    }
    Ok(())
}

/// `torch._amp_update_scale_(scale, growth_tracker, found_inf, growth_factor, backoff_factor,
/// growth_interval)`: after an overflow, multiplies the scale by `backoff_factor` and resets the
/// count of good steps; after `growth_interval` good steps in a row, multiplies it by
/// `growth_factor` (unless that overflows float32) and resets the count.
pub fn update_scale_(scale: &Tensor, growth_tracker: &Tensor, found_inf: &Tensor, growth_factor: f64, backoff_factor: f64, growth_interval: i64) -> Result<()> {
    check_state(growth_tracker, "growth_tracker", DType::I32, "an int")?;
    check_state(scale, "current_scale", DType::F32, "a float")?;
    check_state(found_inf, "found_inf", DType::F32, "a float")?;
    let current = read::<f32>(scale)?;
    if read::<f32>(found_inf)? != 0.0 {
        write(scale, current * backoff_factor as f32)?;
        write(growth_tracker, 0i32)?;
        return Ok(());
    }
    let successful = read::<i32>(growth_tracker)? + 1;
    if i64::from(successful) == growth_interval {
        let grown = current * growth_factor as f32;
        if grown.is_finite() {
            write(scale, grown)?;
        }
        write(growth_tracker, 0i32)?;
    } else {
        write(growth_tracker, successful)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The device-ops unscale CUDA gradients take, run here on CPU tensors, equals the CPU
    /// kernel: the same products and the same inf/NaN verdict.
    #[test]
    fn device_ops_unscale_matches_the_cpu_kernel() {
        for dtype in [DType::F32, DType::F64, DType::BF16, DType::F16] {
            for bad in [None, Some(f64::INFINITY), Some(f64::NAN)] {
                let mut values = vec![1.5, -3.25, 1e-3, 7.0, 0.0, -0.0];
                if let Some(b) = bad {
                    values[2] = b;
                }
                let g = Tensor::from_slice(&values, &[2, 3]).unwrap().to_dtype(dtype).unwrap();
                let (a, b) = (g.contiguous().unwrap().to_dtype(dtype).unwrap(), g.to_dtype(DType::F64).unwrap().to_dtype(dtype).unwrap());
                let (fa, fb) = (AtomicBool::new(false), AtomicBool::new(false));
                with_dtype!(dtype, T => unscale::<T>(&a, 0.3, &fa)).unwrap();
                unscale_on_device(&b, 0.3, &fb).unwrap();
                assert_eq!(fa.load(Ordering::Relaxed), fb.load(Ordering::Relaxed), "{dtype:?} {bad:?}");
                assert_eq!(fb.load(Ordering::Relaxed), bad.is_some());
                let (va, vb) = (a.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap(), b.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap());
                for (x, y) in va.iter().zip(&vb) {
                    assert!(x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()), "{dtype:?}: {x} vs {y}");
                }
            }
        }
    }
}
