//! `ferrotorch.device` and device arguments.

use ferrotorch_core::Device;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;

/// A device, as `torch.device("cuda:0")`.
#[pyclass(name = "device", module = "ferrotorch", frozen, eq, hash)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyDevice(pub Device);

fn parse(s: &str, index: Option<i64>) -> PyResult<Device> {
    let (kind, idx) = match s.split_once(':') {
        Some((k, i)) => (k, Some(i.parse::<i64>().map_err(|_| PyRuntimeError::new_err(format!("Invalid device string: '{}'", s)))?)),
        None => (s, index),
    };
    match kind {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Ok(Device::Cuda(idx.unwrap_or(0).max(0) as usize)),
        _ => Err(PyRuntimeError::new_err(format!(
            "Expected one of cpu, cuda device type at start of device string: {}",
            s
        ))),
    }
}

#[pymethods]
impl PyDevice {
    #[new]
    #[pyo3(signature = (spec, index=None))]
    fn py_new(spec: &Bound<'_, PyAny>, index: Option<i64>) -> PyResult<Self> {
        extract_device_with(spec, index).map(PyDevice)
    }

    #[getter]
    fn r#type(&self) -> &'static str {
        match self.0 {
            Device::Cpu => "cpu",
            Device::Cuda(_) => "cuda",
        }
    }

    #[getter]
    fn index(&self) -> Option<usize> {
        match self.0 {
            Device::Cpu => None,
            Device::Cuda(i) => Some(i),
        }
    }

    fn __repr__(&self) -> String {
        match self.0 {
            Device::Cpu => "device(type='cpu')".into(),
            Device::Cuda(i) => format!("device(type='cuda', index={i})"),
        }
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }
}

fn extract_device_with(obj: &Bound<'_, PyAny>, index: Option<i64>) -> PyResult<Device> {
    if let Ok(d) = obj.cast::<PyDevice>() {
        return Ok(d.get().0);
    }
    if let Ok(s) = obj.extract::<String>() {
        return parse(&s, index);
    }
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(Device::Cuda(i.max(0) as usize));
    }
    Err(PyTypeError::new_err(format!("expected a device, got {}", obj.get_type().name()?)))
}

/// Reads a `device=` argument: a device, a string like `"cuda:1"`, or a CUDA ordinal.
pub fn extract_device(obj: &Bound<'_, PyAny>) -> PyResult<Device> {
    extract_device_with(obj, None)
}

/// Raises unless tensors can be created on `d` on this machine (PyTorch's errors for a machine
/// without a driver or GPU, or an ordinal past the last GPU).
pub fn check_device_supported(d: Device) -> PyResult<()> {
    match d {
        Device::Cpu => Ok(()),
        Device::Cuda(i) => ferrotorch_core::cuda::device::check_device(i).map_err(crate::error::to_py),
    }
}

/// Reads an optional `device=` argument and checks it.
pub fn opt_device(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Device> {
    match obj {
        Some(o) if !o.is_none() => {
            let d = extract_device(o)?;
            check_device_supported(d)?;
            Ok(d)
        }
        _ => Ok(Device::Cpu),
    }
}

/// The `device=` of a `*_like` factory: the given one, else `like`'s.
pub fn like_device(obj: Option<&Bound<'_, PyAny>>, like: &ferrotorch_core::Tensor) -> PyResult<Device> {
    match obj {
        Some(o) if !o.is_none() => opt_device(Some(o)),
        _ => Ok(like.device()),
    }
}

pub fn device_object<'py>(py: Python<'py>, d: Device) -> PyResult<Bound<'py, PyAny>> {
    Ok(Bound::new(py, PyDevice(d))?.into_any())
}
