//! Autocast state and GradScaler kernels: PyTorch's `torch.is_autocast_enabled` family and the
//! private `_amp_*` kernels. The state itself lives in the core (`ferrotorch_core::autocast`).

use ferrotorch_core::autocast::{self, scaler, DeviceType, Policy};
use ferrotorch_core::{DType, Result, Tensor};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::dtype::{extract_dtype, PyDType};
use crate::error::IntoPy;
use crate::join::tensor_list;
use crate::tensor::PyTensor;

/// The device type a string names, or PyTorch's error for a type without autocast here.
fn device_type(s: &str) -> PyResult<DeviceType> {
    autocast::DeviceType::parse(s)
        .py()?
        .ok_or_else(|| PyRuntimeError::new_err(format!("User specified an unsupported autocast device_type '{}'", s)))
}

/// `torch.is_autocast_enabled(device_type)`; without an argument, CUDA's state (as PyTorch).
#[pyfunction]
#[pyo3(signature = (device_type=None))]
fn is_autocast_enabled(device_type: Option<&str>) -> PyResult<bool> {
    match device_type {
        None => Ok(autocast::is_enabled(DeviceType::Cuda)),
        Some(s) => Ok(DeviceType::parse(s).py()?.is_some_and(autocast::is_enabled)),
    }
}

/// `torch.set_autocast_enabled(device_type, enabled)`; the old one-argument form sets CUDA's.
#[pyfunction]
#[pyo3(signature = (device_type, enabled=None))]
fn set_autocast_enabled(device_type: &Bound<'_, PyAny>, enabled: Option<bool>) -> PyResult<()> {
    match enabled {
        None => autocast::set_enabled(DeviceType::Cuda, device_type.extract::<bool>()?),
        Some(on) => autocast::set_enabled(self::device_type(&device_type.extract::<String>()?)?, on),
    }
    Ok(())
}

/// `torch.get_autocast_dtype(device_type)`: the fast dtype of autocast regions there.
#[pyfunction]
fn get_autocast_dtype(device_type: &str) -> PyResult<PyDType> {
    Ok(PyDType(autocast::dtype(self::device_type(device_type)?)))
}

/// `torch.set_autocast_dtype(device_type, dtype)` (unchecked, as in PyTorch: `autocast()`
/// checks the dtype it is given).
#[pyfunction]
fn set_autocast_dtype(device_type: &str, dtype: &Bound<'_, PyAny>) -> PyResult<()> {
    autocast::set_dtype(self::device_type(device_type)?, extract_dtype(dtype)?);
    Ok(())
}

/// `torch.is_autocast_cache_enabled()`.
#[pyfunction]
fn is_autocast_cache_enabled() -> bool {
    autocast::is_cache_enabled()
}

/// `torch.set_autocast_cache_enabled(enabled)`.
#[pyfunction]
fn set_autocast_cache_enabled(enabled: bool) {
    autocast::set_cache_enabled(enabled)
}

/// `torch.clear_autocast_cache()`.
#[pyfunction]
fn clear_autocast_cache() {
    autocast::clear_cache()
}

/// `torch.autocast_increment_nesting()`: the depth of autocast regions after entering one.
#[pyfunction]
fn autocast_increment_nesting() -> i64 {
    autocast::increment_nesting()
}

/// `torch.autocast_decrement_nesting()`: the depth after leaving one.
#[pyfunction]
fn autocast_decrement_nesting() -> i64 {
    autocast::decrement_nesting()
}

/// `torch._C._is_autocast_available(device_type)`.
#[pyfunction]
fn _is_autocast_available(device_type: &str) -> PyResult<bool> {
    autocast::is_available(device_type).py()
}

/// For Python composite ops (`ferrotorch.amp.autocast_op`): `tensors` cast by the policy of
/// `op`, or None when autocast does not apply (off for the first tensor's device type, inside
/// another autocast op, or `op` not listed for that device type).
#[pyfunction]
fn _autocast_cast<'py>(py: Python<'py>, op: &str, tensors: &Bound<'py, PyAny>) -> PyResult<Option<Vec<Bound<'py, PyTensor>>>> {
    let inputs = tensor_list(tensors, "_autocast_cast")?;
    let Some(cast) = autocast::cast_for(op, &inputs.iter().collect::<Vec<_>>()) else { return Ok(None) };
    cast.py()?.into_iter().map(|t| Bound::new(py, PyTensor::new(t))).collect::<PyResult<Vec<_>>>().map(Some)
}

/// PyTorch's `fp32_set_opt_dtype` ops (`sum`, `softmax`, `cumsum`, norms): under autocast's
/// hook for `name` only when the caller asks for no dtype of its own.
pub fn unless_dtype<R>(name: &str, t: &Tensor, dtype: Option<DType>, f: impl Fn(&Tensor) -> Result<R>) -> Result<R> {
    match dtype {
        Some(_) => f(t),
        None => autocast::apply(name, &[t], |cast| f(&cast[0])),
    }
}

/// Whether autocast would cast some op now (on for a device type, not inside an autocast op):
/// the one check Python composite ops make before anything else.
#[pyfunction]
fn _autocast_any_active() -> bool {
    autocast::any_active()
}

/// Op `name`'s policy on `device_type` ('lower_precision_fp', 'fp32', 'promote', 'banned'), or
/// None when it is not on that device type's list.
#[pyfunction]
fn _autocast_policy(device_type: &str, name: &str) -> PyResult<Option<&'static str>> {
    Ok(autocast::policy::policy(self::device_type(device_type)?, name).map(|p| match p {
        Policy::LowerPrecision => "lower_precision_fp",
        Policy::Fp32 => "fp32",
        Policy::Promote => "promote",
        Policy::Banned => "banned",
    }))
}

/// Starts (`True`) or stops recording the names of the ops whose autocast hook consults a list;
/// returns the names recorded so far.
#[pyfunction]
fn _autocast_trace(on: bool) -> Vec<String> {
    autocast::trace(on)
}

/// Sets whether autocast is excluded (ops run as they are); returns the previous setting.
#[pyfunction]
fn _autocast_set_excluded(excluded: bool) -> bool {
    autocast::set_excluded(excluded)
}

/// `torch._amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale)`.
#[pyfunction]
fn _amp_foreach_non_finite_check_and_unscale_(grads: &Bound<'_, PyAny>, found_inf: &PyTensor, inv_scale: &PyTensor) -> PyResult<()> {
    let grads = tensor_list(grads, "_amp_foreach_non_finite_check_and_unscale_")?;
    scaler::non_finite_check_and_unscale_(&grads, &found_inf.t, &inv_scale.t).py()
}

/// `torch._amp_update_scale_(scale, growth_tracker, found_inf, growth_factor, backoff_factor,
/// growth_interval)`: updates `scale` and `growth_tracker` in place and returns `scale`.
#[pyfunction]
fn _amp_update_scale_<'py>(
    scale: Bound<'py, PyTensor>,
    growth_tracker: &PyTensor,
    found_inf: &PyTensor,
    scale_growth_factor: f64,
    scale_backoff_factor: f64,
    growth_interval: i64,
) -> PyResult<Bound<'py, PyTensor>> {
    scaler::update_scale_(&scale.borrow().t, &growth_tracker.t, &found_inf.t, scale_growth_factor, scale_backoff_factor, growth_interval).py()?;
    Ok(scale)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(is_autocast_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(set_autocast_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(get_autocast_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(set_autocast_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(is_autocast_cache_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(set_autocast_cache_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(clear_autocast_cache, m)?)?;
    m.add_function(wrap_pyfunction!(autocast_increment_nesting, m)?)?;
    m.add_function(wrap_pyfunction!(autocast_decrement_nesting, m)?)?;
    m.add_function(wrap_pyfunction!(_is_autocast_available, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_cast, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_set_excluded, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_any_active, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_policy, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_trace, m)?)?;
    m.add_function(wrap_pyfunction!(_amp_foreach_non_finite_check_and_unscale_, m)?)?;
    m.add_function(wrap_pyfunction!(_amp_update_scale_, m)?)?;
    Ok(())
}
