//! Moving data between Python and tensors: nested lists, NumPy arrays (zero-copy through the
//! array interface), `tolist`, `item`.

use ferrotorch_core::storage::Storage;
use ferrotorch_core::{default_dtype, DType, Element, Layout, Scalar, Tensor};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PySequence, PyTuple};
use std::sync::Arc;

use crate::dtype::{from_typestr, typestr};
use crate::error::IntoPy;
use crate::tensor::{scalar, PyTensor};

/// A Python number for a scalar.
pub fn scalar_to_py(py: Python<'_>, s: Scalar) -> PyResult<Bound<'_, PyAny>> {
    Ok(match s {
        Scalar::Bool(b) => pyo3::types::PyBool::new(py, b).to_owned().into_any(),
        Scalar::Int(i) => i.into_pyobject(py)?.into_any(),
        Scalar::Float(f) => f.into_pyobject(py)?.into_any(),
    })
}

/// `t.tolist()`: nested lists of Python numbers.
pub fn to_list<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    fn go<'py, T: Element>(py: Python<'py>, p: *const T, l: &Layout, dim: usize, off: usize) -> PyResult<Bound<'py, PyAny>> {
        if dim == l.ndim() {
            return scalar_to_py(py, ferrotorch_core::tensor::element_to_scalar(unsafe { *p.add(off) }));
        }
        let items = (0..l.shape[dim]).map(|i| go(py, p, l, dim + 1, off + i * l.strides[dim])).collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(py, items)?.into_any())
    }
    if t.is_cuda() {
        return to_list(py, &t.to_device(ferrotorch_core::Device::Cpu).py()?);
    }
    ferrotorch_core::with_dtype!(t.dtype(), T => go::<T>(py, t.data_ptr::<T>().py()?, t.layout(), 0, t.offset()))
}

/// `tensor.type()` with no argument: the legacy class name.
pub fn legacy_type_name(d: DType) -> String {
    format!("torch.{}Tensor", ferrotorch_core::dtype::title(d))
}

/// The `__array_interface__` dict of a tensor.
pub fn array_interface<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    if t.is_cuda() {
        return Err(PyTypeError::new_err(format!(
            "can't convert {} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.",
            t.device()
        )));
    }
    let ts = typestr(t.dtype()).ok_or_else(|| PyTypeError::new_err("Got unsupported ScalarType BFloat16"))?;
    let d = PyDict::new(py);
    let size = t.dtype().size();
    d.set_item("shape", PyTuple::new(py, t.shape())?)?;
    d.set_item("typestr", ts)?;
    let ptr = t.storage().address() + t.offset() * size;
    d.set_item("data", (ptr, false))?;
    d.set_item("strides", PyTuple::new(py, t.strides().iter().map(|s| s * size))?)?;
    d.set_item("version", 3)?;
    Ok(d.into_any())
}

/// Keeps a Python object alive while a storage views its memory.
struct PyOwner(#[allow(dead_code)] Py<PyAny>);

/// `from_numpy(arr)`: a tensor sharing the array's memory (anything with an array interface).
pub fn from_array_interface(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let iface = obj.getattr("__array_interface__")?;
    let ts: String = iface.get_item("typestr")?.extract()?;
    let dtype = from_typestr(&ts).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "can't convert np.ndarray of type {}. The only supported types are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool.",
            ts
        ))
    })?;
    let shape: Vec<usize> = iface.get_item("shape")?.extract()?;
    let (ptr, _readonly): (usize, bool) = iface.get_item("data")?.extract()?;
    let size = dtype.size();
    let strides_obj = iface.get_item("strides")?;
    let strides: Vec<usize> = if strides_obj.is_none() {
        ferrotorch_core::layout::contiguous_strides(&shape)
    } else {
        let bytes: Vec<i64> = strides_obj.extract()?;
        if bytes.iter().any(|&s| s < 0) {
            return Err(PyValueError::new_err(
                "At least one stride in the given numpy array is negative, and tensors with negative strides are not currently supported. (You can probably work around this by making a copy of your array  with array.copy().) ",
            ));
        }
        if bytes.iter().any(|&s| s as usize % size != 0) {
            return Err(PyValueError::new_err("given numpy array strides not a multiple of the element byte size. Copy the numpy array to reallocate the memory."));
        }
        bytes.iter().map(|&s| s as usize / size).collect()
    };
    let layout = Layout { shape, strides, offset: 0 };
    if ptr % size != 0 {
        return Err(PyValueError::new_err("given numpy array is not aligned for its element type; copy it first"));
    }
    let extent = layout.storage_extent().max(1);
    let storage = unsafe { Storage::from_foreign(ptr as *mut u8, extent * size, dtype, Box::new(PyOwner(obj.clone().unbind()))) };
    Ok(Tensor::from_parts(Arc::new(storage), layout))
}

/// Flattens nested sequences of numbers into values and a shape.
fn flatten(obj: &Bound<'_, PyAny>, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<Scalar>, float_seen: &mut Option<DType>) -> PyResult<()> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = t.borrow().t.clone();
        if t.ndim() == 0 {
            if t.dtype().is_float() {
                *float_seen = Some(t.dtype());
            }
            out.push(t.item().py()?);
            return check_depth(depth, shape);
        }
        return flatten(&to_list(obj.py(), &t)?, depth, shape, out, float_seen);
    }
    let is_seq = obj.cast::<PyList>().is_ok() || obj.cast::<PyTuple>().is_ok() || (obj.cast::<PySequence>().is_ok() && obj.hasattr("__array_interface__")?);
    if is_seq && !obj.is_instance_of::<pyo3::types::PyString>() {
        let items: Vec<Bound<'_, PyAny>> = obj.try_iter()?.collect::<PyResult<_>>()?;
        if depth == shape.len() {
            if !out.is_empty() {
                return Err(PyValueError::new_err(format!("expected sequence of length {:?} at dim {} (got a sequence)", shape, depth)));
            }
            shape.push(items.len());
        } else if shape[depth] != items.len() {
            return Err(PyValueError::new_err(format!("expected sequence of length {} at dim {} (got {})", shape[depth], depth, items.len())));
        }
        for item in &items {
            flatten(item, depth + 1, shape, out, float_seen)?;
        }
        return Ok(());
    }
    let s = scalar(obj).map_err(|_| {
        PyTypeError::new_err(format!(
            "new(): invalid data type '{}'",
            obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
        ))
    })?;
    out.push(s);
    check_depth(depth, shape)
}

fn check_depth(depth: usize, shape: &[usize]) -> PyResult<()> {
    if depth != shape.len() {
        return Err(PyValueError::new_err(format!("expected sequence of length {} at dim {} (got a number)", shape[depth], depth)));
    }
    Ok(())
}

/// `ferrotorch.tensor(data, dtype)`: always copies.
pub fn from_data(obj: &Bound<'_, PyAny>, dtype: Option<DType>) -> PyResult<Tensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = &t.borrow().t;
        return t.to_dtype_copy(dtype.unwrap_or(t.dtype())).py();
    }
    if obj.hasattr("__array_interface__")? && !obj.is_instance_of::<PyList>() {
        if let Ok(t) = from_array_interface(obj) {
            return t.to_dtype_copy(dtype.unwrap_or(t.dtype())).py();
        }
    }
    let mut shape = Vec::new();
    let mut values = Vec::new();
    let mut float_seen = None;
    flatten(obj, 0, &mut shape, &mut values, &mut float_seen)?;
    let inferred = if values.iter().any(|v| matches!(v, Scalar::Float(_))) {
        float_seen.filter(|_| values.len() == 1 && shape.is_empty()).unwrap_or_else(default_dtype)
    } else if values.iter().any(|v| matches!(v, Scalar::Int(_))) {
        DType::I64
    } else if values.is_empty() {
        default_dtype()
    } else {
        DType::Bool
    };
    let dtype = dtype.unwrap_or(inferred);
    let t = Tensor::uninit(&shape, dtype).py()?;
    ferrotorch_core::with_dtype!(dtype, T => {
        let out = unsafe { t.as_mut_slice::<T>() }.py()?;
        for (o, v) in out.iter_mut().zip(&values) {
            *o = T::from_scalar(*v);
        }
    });
    Ok(t)
}

/// Reads `obj` as a tensor; numbers become 0-d tensors of `like`'s dtype.
pub fn as_tensor_like(obj: &Bound<'_, PyAny>, like: &Tensor) -> PyResult<Tensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(t.borrow().t.clone());
    }
    if let Ok(s) = scalar(obj) {
        return Ok(Tensor::scalar(s, like.dtype()));
    }
    from_data(obj, None)
}

/// Reads a tensor argument, raising TypeError naming `what` otherwise.
pub fn tensor_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Tensor> {
    obj.cast::<PyTensor>()
        .map(|t| t.borrow().t.clone())
        .map_err(|_| PyTypeError::new_err(format!("{}: argument must be Tensor, not {}", what, obj.get_type().name().map(|n| n.to_string()).unwrap_or_default())))
}
