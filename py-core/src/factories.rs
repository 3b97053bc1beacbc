//! Tensor factories: `tensor`, `zeros`, `ones`, `full`, `empty`, `arange`, `linspace`, ...

use ferrotorch_core::ops::shape::to_sizes;
use ferrotorch_core::{default_dtype, DType, Device, Scalar, Tensor};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert;
use crate::device::{like_device, opt_device};
use crate::dtype::opt_dtype;
use crate::error::IntoPy;
use crate::tensor::{scalar, shape_args, PyTensor};

/// Moves the result to `device` and applies `requires_grad=`.
fn finish(t: Tensor, device: Device, requires_grad: bool) -> PyResult<PyTensor> {
    let t = t.to_device(device).py()?;
    if requires_grad {
        t.set_requires_grad(true).py()?;
    }
    Ok(PyTensor::new(t))
}

/// `t` in page-locked memory when the factory's `pin_memory=True` asks for it.
fn pinned_if(t: Tensor, pin_memory: bool) -> PyResult<Tensor> {
    if pin_memory { t.pin_memory().py() } else { Ok(t) }
}

#[pyfunction]
#[pyo3(signature = (data, *, dtype=None, device=None, requires_grad=false, pin_memory=false))]
pub fn tensor(data: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool, pin_memory: bool) -> PyResult<PyTensor> {
    finish(pinned_if(convert::from_data(data, opt_dtype(dtype)?)?, pin_memory)?, opt_device(device)?, requires_grad)
}

/// `as_tensor(data)`: shares memory with a tensor or NumPy array of the right dtype.
#[pyfunction]
#[pyo3(signature = (data, dtype=None, device=None))]
pub fn as_tensor(data: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    let dtype = opt_dtype(dtype)?;
    let shared = if let Ok(t) = data.cast::<PyTensor>() {
        Some(t.borrow().t.clone())
    } else if data.hasattr("__array_interface__")? {
        convert::from_array_interface(data).ok()
    } else {
        None
    };
    let t = match shared {
        Some(t) => t.to_dtype(dtype.unwrap_or(t.dtype())).py()?,
        None => convert::from_data(data, dtype)?,
    };
    let device = like_device(device, &t)?;
    finish(t, device, false)
}

/// `from_numpy(arr)`: zero-copy.
#[pyfunction]
pub fn from_numpy(array: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    if !array.hasattr("__array_interface__")? {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!("expected np.ndarray (got {})", array.get_type().name()?)));
    }
    Ok(PyTensor::new(convert::from_array_interface(array)?))
}

fn sizes(args: &Bound<'_, PyTuple>) -> PyResult<Vec<usize>> {
    to_sizes(&shape_args(args)?).py()
}

macro_rules! constant_factory {
    ($name:ident, $like:ident, $value:expr) => {
        #[pyfunction]
        #[pyo3(signature = (*size, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false, memory_format=None))]
        #[allow(clippy::too_many_arguments)]
        pub fn $name(
            size: &Bound<'_, PyTuple>,
            out: Option<&Bound<'_, PyTensor>>,
            dtype: Option<&Bound<'_, PyAny>>,
            layout: Option<&Bound<'_, PyAny>>,
            device: Option<&Bound<'_, PyAny>>,
            requires_grad: bool,
            pin_memory: bool,
            memory_format: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<PyTensor> {
            let _ = (out, layout, memory_format);
            let d = opt_dtype(dtype)?.unwrap_or_else(default_dtype);
            let device = opt_device(device)?;
            finish(pinned_if(Tensor::full_on(&sizes(size)?, $value, d, device).py()?, pin_memory)?, device, requires_grad)
        }

        #[pyfunction]
        #[pyo3(signature = (input, *, dtype=None, layout=None, device=None, requires_grad=false, memory_format=None))]
        pub fn $like(
            input: &PyTensor,
            dtype: Option<&Bound<'_, PyAny>>,
            layout: Option<&Bound<'_, PyAny>>,
            device: Option<&Bound<'_, PyAny>>,
            requires_grad: bool,
            memory_format: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<PyTensor> {
            let _ = (layout, memory_format);
            let d = opt_dtype(dtype)?.unwrap_or(input.t.dtype());
            let device = like_device(device, &input.t)?;
            finish(Tensor::full_on(input.t.shape(), $value, d, device).py()?, device, requires_grad)
        }
    };
}
constant_factory!(zeros, zeros_like, Scalar::Int(0));
constant_factory!(ones, ones_like, Scalar::Int(1));
// `empty` returns zeroed memory: uninitialised reads would make results depend on history.
constant_factory!(empty, empty_like, Scalar::Int(0));

/// The dtype of `full(size, value)` without `dtype=`: follows the fill value's type.
fn fill_dtype(v: Scalar) -> DType {
    match v {
        Scalar::Bool(_) => DType::Bool,
        Scalar::Int(_) => DType::I64,
        Scalar::Float(_) => default_dtype(),
    }
}

#[pyfunction]
#[pyo3(signature = (size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false))]
#[allow(clippy::too_many_arguments)]
pub fn full(
    size: &Bound<'_, PyAny>,
    fill_value: &Bound<'_, PyAny>,
    out: Option<&Bound<'_, PyTensor>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    pin_memory: bool,
) -> PyResult<PyTensor> {
    let _ = (out, layout);
    let v = scalar(fill_value)?;
    let d = opt_dtype(dtype)?.unwrap_or(fill_dtype(v));
    let shape = to_sizes(&crate::tensor::int_list(size)?).py()?;
    let device = opt_device(device)?;
    finish(pinned_if(Tensor::full_on(&shape, v, d, device).py()?, pin_memory)?, device, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=false, memory_format=None))]
#[allow(clippy::too_many_arguments)]
pub fn full_like(
    input: &PyTensor,
    fill_value: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    memory_format: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyTensor> {
    let _ = (layout, memory_format);
    let d = opt_dtype(dtype)?.unwrap_or(input.t.dtype());
    let device = like_device(device, &input.t)?;
    finish(Tensor::full_on(input.t.shape(), scalar(fill_value)?, d, device).py()?, device, requires_grad)
}

/// `arange(end)`, `arange(start, end, step)`: integer result when all bounds are integers.
#[pyfunction]
#[pyo3(signature = (start, end=None, step=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=false))]
#[allow(clippy::too_many_arguments)]
pub fn arange(
    start: &Bound<'_, PyAny>,
    end: Option<&Bound<'_, PyAny>>,
    step: Option<&Bound<'_, PyAny>>,
    out: Option<&Bound<'_, PyTensor>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let _ = (out, layout);
    let (s, e) = match end {
        Some(e) if !e.is_none() => (scalar(start)?, scalar(e)?),
        _ => (Scalar::Int(0), scalar(start)?),
    };
    let st = match step {
        Some(st) => scalar(st)?,
        None => Scalar::Int(1),
    };
    let any_float = [s, e, st].iter().any(|v| matches!(v, Scalar::Float(_)));
    let d = opt_dtype(dtype)?.unwrap_or(if any_float { default_dtype() } else { DType::I64 });
    finish(Tensor::arange(s, e, st, d).py()?, opt_device(device)?, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=false))]
#[allow(clippy::too_many_arguments)]
pub fn linspace(
    start: &Bound<'_, PyAny>,
    end: &Bound<'_, PyAny>,
    steps: i64,
    out: Option<&Bound<'_, PyTensor>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let _ = (out, layout);
    if steps < 0 {
        return Err(pyo3::exceptions::PyRuntimeError::new_err("linspace(): number of steps must be non-negative"));
    }
    let d = opt_dtype(dtype)?.unwrap_or_else(default_dtype);
    finish(Tensor::linspace(scalar(start)?.to_f64(), scalar(end)?.to_f64(), steps as usize, d).py()?, opt_device(device)?, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=false))]
#[allow(clippy::too_many_arguments)]
pub fn logspace(
    start: &Bound<'_, PyAny>,
    end: &Bound<'_, PyAny>,
    steps: i64,
    base: f64,
    out: Option<&Bound<'_, PyTensor>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let _ = (out, layout);
    if steps < 0 {
        return Err(pyo3::exceptions::PyRuntimeError::new_err("logspace(): number of steps must be non-negative"));
    }
    let d = opt_dtype(dtype)?.unwrap_or_else(default_dtype);
    finish(Tensor::logspace(scalar(start)?.to_f64(), scalar(end)?.to_f64(), steps as usize, base, d).py()?, opt_device(device)?, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=false))]
#[allow(clippy::too_many_arguments)]
pub fn eye(
    n: i64,
    m: Option<i64>,
    out: Option<&Bound<'_, PyTensor>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let _ = (out, layout);
    let m = m.unwrap_or(n);
    if n < 0 || m < 0 {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(format!("n must be greater or equal to 0, got {}", n.min(m))));
    }
    let d = opt_dtype(dtype)?.unwrap_or_else(default_dtype);
    finish(Tensor::eye(n as usize, m as usize, d).py()?, opt_device(device)?, requires_grad)
}

fn tri_indices(row: i64, col: i64, offset: i64, upper: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    if row < 0 || col < 0 {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(format!("row must be non-negative, got{}", row.min(col))));
    }
    let t = Tensor::tri_indices(row as usize, col as usize, offset, upper).py()?;
    let d = opt_dtype(dtype)?.unwrap_or(DType::I64);
    Ok(PyTensor::new(t.to_dtype(d).py()?))
}

#[pyfunction]
#[pyo3(signature = (row, col, offset=0, *, dtype=None, device=None, layout=None))]
pub fn tril_indices(row: i64, col: i64, offset: i64, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, layout: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    let _ = layout;
    finish(tri_indices(row, col, offset, false, dtype)?.t, opt_device(device)?, false)
}

#[pyfunction]
#[pyo3(signature = (row, col, offset=0, *, dtype=None, device=None, layout=None))]
pub fn triu_indices(row: i64, col: i64, offset: i64, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, layout: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    let _ = layout;
    finish(tri_indices(row, col, offset, true, dtype)?.t, opt_device(device)?, false)
}

#[pyfunction]
#[pyo3(signature = (s, *, dtype=None, device=None, requires_grad=false))]
pub fn scalar_tensor(s: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool) -> PyResult<PyTensor> {
    
    let d = opt_dtype(dtype)?.unwrap_or_else(default_dtype);
    finish(Tensor::scalar(scalar(s)?, d), opt_device(device)?, requires_grad)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tensor, m)?)?;
    m.add_function(wrap_pyfunction!(as_tensor, m)?)?;
    m.add_function(wrap_pyfunction!(from_numpy, m)?)?;
    m.add_function(wrap_pyfunction!(zeros, m)?)?;
    m.add_function(wrap_pyfunction!(zeros_like, m)?)?;
    m.add_function(wrap_pyfunction!(ones, m)?)?;
    m.add_function(wrap_pyfunction!(ones_like, m)?)?;
    m.add_function(wrap_pyfunction!(empty, m)?)?;
    m.add_function(wrap_pyfunction!(empty_like, m)?)?;
    m.add_function(wrap_pyfunction!(full, m)?)?;
    m.add_function(wrap_pyfunction!(full_like, m)?)?;
    m.add_function(wrap_pyfunction!(arange, m)?)?;
    m.add_function(wrap_pyfunction!(linspace, m)?)?;
    m.add_function(wrap_pyfunction!(logspace, m)?)?;
    m.add_function(wrap_pyfunction!(eye, m)?)?;
    m.add_function(wrap_pyfunction!(tril_indices, m)?)?;
    m.add_function(wrap_pyfunction!(triu_indices, m)?)?;
    m.add_function(wrap_pyfunction!(scalar_tensor, m)?)?;
    Ok(())
}
