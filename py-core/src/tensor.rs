//! The `ferrotorch.Tensor` type: a Python handle on a core tensor, with its attributes.

use ferrotorch_core::{DType, Scalar, Tensor};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyTuple};

use crate::convert;
use crate::dtype::{opt_dtype, PyDType};
use crate::error::IntoPy;

/// `ferrotorch.Tensor`. Operations are methods written in Rust; Python subclasses
/// (`nn.Parameter`) share the same storage handle.
#[pyclass(name = "Tensor", module = "ferrotorch", subclass, dict, weakref)]
pub struct PyTensor {
    pub t: Tensor,
}

impl PyTensor {
    pub fn new(t: Tensor) -> Self {
        PyTensor { t }
    }
}

/// Wraps a core result as a Python tensor.
pub fn wrap(r: ferrotorch_core::Result<Tensor>) -> PyResult<PyTensor> {
    r.py().map(PyTensor::new)
}

/// Builds a `ferrotorch.Size` (a tuple subclass defined in Python) from a shape.
pub fn size_object<'py>(py: Python<'py>, dims: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    static SIZE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let cls = SIZE.get_or_try_init(py, || py.import("ferrotorch._size").and_then(|m| m.getattr("Size")).map(|c| c.unbind()))?;
    cls.bind(py).call1((PyTuple::new(py, dims)?,))
}

/// Reads a shape given as `f(2, 3)`, `f((2, 3))` or `f([2, 3])`.
pub fn shape_args(args: &Bound<'_, PyTuple>) -> PyResult<Vec<i64>> {
    if args.len() == 1 {
        let a = args.get_item(0)?;
        if a.cast::<PyTuple>().is_ok() || a.cast::<PyList>().is_ok() {
            return int_list(&a);
        }
    }
    int_list(args.as_any())
}

/// Reads an int or a sequence of ints.
pub fn int_list(obj: &Bound<'_, PyAny>) -> PyResult<Vec<i64>> {
    if let Ok(i) = index(obj) {
        return Ok(vec![i]);
    }
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        out.push(index(&item?).map_err(|_| {
            PyTypeError::new_err(format!("expected a sequence of integers, but got {}", obj.repr().map(|r| r.to_string()).unwrap_or_default()))
        })?);
    }
    Ok(out)
}

/// An integer argument: a Python int or anything with `__index__` (a 0-d integer tensor too).
pub fn index(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = &t.borrow().t;
        if t.numel() == 1 && (t.dtype().is_int() || t.dtype() == DType::Bool) {
            return Ok(t.item().py()?.to_i64());
        }
        return Err(PyTypeError::new_err("only integer tensors of a single element can be converted to an index"));
    }
    if obj.is_instance_of::<pyo3::types::PyFloat>() {
        return Err(PyTypeError::new_err(format!("expected int, got float {}", obj)));
    }
    obj.call_method0("__index__")?.extract::<i64>()
}

/// Reads a Python number (bool, int, float, or a one-element tensor) as a scalar.
pub fn scalar(obj: &Bound<'_, PyAny>) -> PyResult<Scalar> {
    if let Ok(b) = obj.cast::<pyo3::types::PyBool>() {
        return Ok(Scalar::Bool(b.is_true()));
    }
    if let Ok(i) = obj.cast::<pyo3::types::PyInt>() {
        return i.extract::<i64>().map(Scalar::Int).map_err(|_| {
            pyo3::exceptions::PyRuntimeError::new_err(format!("Overflow when unpacking long: {}", obj))
        });
    }
    if let Ok(f) = obj.extract::<f64>() {
        if obj.cast::<PyTensor>().is_err() {
            return Ok(Scalar::Float(f));
        }
    }
    if let Ok(t) = obj.cast::<PyTensor>() {
        return t.borrow().t.item().py();
    }
    Err(PyTypeError::new_err(format!("expected a number, but got {}", obj.get_type().name()?)))
}

#[pymethods]
impl PyTensor {
    /// `Tensor(data)` or `Tensor(*sizes)`: the legacy float32 constructor.
    #[new]
    #[pyo3(signature = (*args))]
    fn py_new(args: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let dtype = ferrotorch_core::default_dtype();
        if args.is_empty() {
            return wrap(Tensor::zeros(&[0], dtype));
        }
        let first = args.get_item(0)?;
        if args.len() == 1 && (first.cast::<PyTensor>().is_ok() || index(&first).is_err()) {
            if let Ok(t) = first.cast::<PyTensor>() {
                return Ok(PyTensor::new(t.borrow().t.clone()));
            }
            return convert::from_data(&first, Some(dtype)).map(PyTensor::new);
        }
        let shape = ferrotorch_core::ops::shape::to_sizes(&shape_args(args)?).py()?;
        wrap(Tensor::zeros(&shape, dtype))
    }

    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        size_object(py, self.t.shape())
    }

    /// `size()` or `size(dim)`.
    #[pyo3(signature = (dim=None))]
    fn size<'py>(&self, py: Python<'py>, dim: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
        match dim {
            None => size_object(py, self.t.shape()),
            Some(d) => {
                let d = ferrotorch_core::layout::wrap_dim(d, self.t.ndim()).py()?;
                Ok(self.t.shape().get(d).copied().unwrap_or(1).into_pyobject(py)?.into_any())
            }
        }
    }

    /// `stride()` or `stride(dim)`.
    #[pyo3(signature = (dim=None))]
    fn stride<'py>(&self, py: Python<'py>, dim: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
        match dim {
            None => Ok(PyTuple::new(py, self.t.strides())?.into_any()),
            Some(d) => {
                let d = ferrotorch_core::layout::wrap_dim(d, self.t.ndim()).py()?;
                Ok(self.t.strides().get(d).copied().unwrap_or(1).into_pyobject(py)?.into_any())
            }
        }
    }

    fn storage_offset(&self) -> usize {
        self.t.offset()
    }

    #[getter]
    fn dtype(&self) -> PyDType {
        PyDType(self.t.dtype())
    }

    #[getter]
    fn device<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::device::device_object(py, self.t.device())
    }

    #[getter]
    fn is_cuda(&self) -> bool {
        matches!(self.t.device(), ferrotorch_core::Device::Cuda(_))
    }

    #[getter]
    fn is_cpu(&self) -> bool {
        self.t.device() == ferrotorch_core::Device::Cpu
    }

    #[getter]
    fn ndim(&self) -> usize {
        self.t.ndim()
    }

    fn dim(&self) -> usize {
        self.t.ndim()
    }

    fn ndimension(&self) -> usize {
        self.t.ndim()
    }

    fn numel(&self) -> usize {
        self.t.numel()
    }

    fn nelement(&self) -> usize {
        self.t.numel()
    }

    fn element_size(&self) -> usize {
        self.t.dtype().size()
    }

    #[getter]
    fn itemsize(&self) -> usize {
        self.t.dtype().size()
    }

    #[getter]
    fn nbytes(&self) -> usize {
        self.t.numel() * self.t.dtype().size()
    }

    fn is_floating_point(&self) -> bool {
        self.t.dtype().is_float()
    }

    fn is_complex(&self) -> bool {
        false
    }

    fn is_signed(&self) -> bool {
        self.t.dtype().is_signed()
    }

    #[pyo3(signature = (memory_format=None))]
    fn is_contiguous(&self, memory_format: Option<&Bound<'_, PyAny>>) -> bool {
        let _ = memory_format;
        self.t.is_contiguous()
    }

    fn data_ptr(&self) -> usize {
        self.t.storage().address() + self.t.offset() * self.t.dtype().size()
    }

    fn untyped_storage_ptr(&self) -> usize {
        self.t.storage().address()
    }


    /// The storage's in-place write counter (`t._version`).
    #[getter]
    fn _version(&self) -> u64 {
        self.t.storage().version()
    }

    fn item<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::scalar_to_py(py, self.t.item().py()?)
    }

    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_list(py, &self.t)
    }

    fn __len__(&self) -> PyResult<usize> {
        if self.t.ndim() == 0 {
            return Err(PyTypeError::new_err("len() of a 0-d tensor"));
        }
        Ok(self.t.shape()[0])
    }

    fn __bool__(&self) -> PyResult<bool> {
        if self.t.numel() != 1 {
            let what = if self.t.numel() == 0 { "no values" } else { "more than one value" };
            return Err(pyo3::exceptions::PyRuntimeError::new_err(format!("Boolean value of Tensor with {what} is ambiguous")));
        }
        Ok(self.t.item().py()?.to_f64() != 0.0)
    }

    fn __float__(&self) -> PyResult<f64> {
        Ok(self.t.item().py()?.to_f64())
    }

    fn __int__(&self) -> PyResult<i64> {
        let s = self.t.item().py()?;
        match s {
            Scalar::Float(f) if !f.is_finite() => Err(PyValueError::new_err(format!("cannot convert float {} to integer", f))),
            _ => Ok(s.to_i64()),
        }
    }

    fn __index__(&self) -> PyResult<i64> {
        if self.t.dtype().is_float() || self.t.numel() != 1 {
            return Err(PyTypeError::new_err("only integer tensors of a single element can be converted to an index"));
        }
        Ok(self.t.item().py()?.to_i64())
    }

    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }

    /// `t.to(dtype)`, `t.to(device)`, `t.to(other)`, with `copy=`.
    #[pyo3(signature = (*args, dtype=None, device=None, non_blocking=false, copy=false, memory_format=None))]
    fn to(
        slf: &Bound<'_, Self>,
        args: &Bound<'_, PyTuple>,
        dtype: Option<&Bound<'_, PyAny>>,
        device: Option<&Bound<'_, PyAny>>,
        non_blocking: bool,
        copy: bool,
        memory_format: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let _ = memory_format;
        let mut target = opt_dtype(dtype)?;
        let mut dev = device.map(crate::device::extract_device).transpose()?;
        for a in args.iter() {
            if let Ok(t) = a.cast::<PyTensor>() {
                target = Some(t.borrow().t.dtype());
                dev = Some(t.borrow().t.device());
            } else if let Ok(d) = crate::dtype::extract_dtype(&a) {
                target = Some(d);
            } else {
                dev = Some(crate::device::extract_device(&a)?);
            }
        }
        if let Some(d) = dev {
            crate::device::check_device_supported(d)?;
        }
        let t = &slf.borrow().t;
        if let Some(d) = dev.filter(|&d| d != t.device()) {
            let moved = ferrotorch_core::cuda::pinned::non_blocking(non_blocking, || t.to_device_recorded(d)).py()?;
            let moved = match target {
                Some(dt) if dt != moved.dtype() => moved.cast(dt).py()?,
                _ => moved,
            };
            return Ok(Py::new(slf.py(), PyTensor::new(moved))?.into_any());
        }
        if copy && target.is_none_or(|d| d == t.dtype()) {
            return Ok(Py::new(slf.py(), wrap(t.duplicate())?)?.into_any());
        }
        cast_or_self(slf, target.unwrap_or(t.dtype()))
    }

    #[pyo3(signature = (dtype=None, non_blocking=false))]
    fn r#type(&self, py: Python<'_>, dtype: Option<&Bound<'_, PyAny>>, non_blocking: bool) -> PyResult<Py<PyAny>> {
        let _ = non_blocking;
        match opt_dtype(dtype)? {
            None => Ok(convert::legacy_type_name(self.t.dtype()).into_pyobject(py)?.into_any().unbind()),
            Some(d) => Ok(Py::new(py, wrap(self.t.cast(d))?)?.into_any()),
        }
    }

    fn float(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        cast_or_self(slf, DType::F32)
    }
    fn double(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        cast_or_self(slf, DType::F64)
    }
    fn half(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        cast_or_self(slf, DType::F16)
    }
    fn bfloat16(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        cast_or_self(slf, DType::BF16)
    }
    fn long(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        cast_or_self(slf, DType::I64)
    }
    fn int(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        cast_or_self(slf, DType::I32)
    }
    fn short(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        cast_or_self(slf, DType::I16)
    }
    fn char(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        cast_or_self(slf, DType::I8)
    }
    fn byte(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        cast_or_self(slf, DType::U8)
    }
    fn bool(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        cast_or_self(slf, DType::Bool)
    }

    fn type_as(slf: &Bound<'_, Self>, other: &PyTensor) -> PyResult<Py<PyAny>> {
        cast_or_self(slf, other.t.dtype())
    }

    #[pyo3(signature = (memory_format=None))]
    fn contiguous(slf: &Bound<'_, Self>, memory_format: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = memory_format;
        let t = &slf.borrow().t;
        if t.is_contiguous() {
            Ok(slf.clone().into_any().unbind())
        } else {
            Ok(Py::new(slf.py(), wrap(t.duplicate())?)?.into_any())
        }
    }

    /// `self` when on the CPU, else a copy there (with history).
    #[pyo3(signature = (memory_format=None))]
    fn cpu(slf: &Bound<'_, Self>, memory_format: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = memory_format;
        move_or_self(slf, ferrotorch_core::Device::Cpu)
    }

    /// `self` when already on that GPU, else a copy there (with history). `device` defaults
    /// to the current CUDA device.
    #[pyo3(signature = (device=None, non_blocking=false, memory_format=None))]
    fn cuda(slf: &Bound<'_, Self>, device: Option<&Bound<'_, PyAny>>, non_blocking: bool, memory_format: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = memory_format;
        let d = match device {
            Some(d) if !d.is_none() => crate::device::extract_device(d)?,
            _ => ferrotorch_core::Device::Cuda(ferrotorch_core::cuda::device::current_device().py()?),
        };
        if d == ferrotorch_core::Device::Cpu {
            return Err(pyo3::exceptions::PyRuntimeError::new_err("Invalid device, must be cuda device"));
        }
        crate::device::check_device_supported(d)?;
        ferrotorch_core::cuda::pinned::non_blocking(non_blocking, || move_or_self(slf, d))
    }

    /// `pin_memory()`: `self` in page-locked host memory (itself when it already is), which
    /// host-to-device copies read without staging.
    #[pyo3(signature = (device=None))]
    fn pin_memory(slf: &Bound<'_, Self>, device: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = device;
        let t = &slf.borrow().t;
        if t.is_pinned() {
            return Ok(slf.clone().into_any().unbind());
        }
        Ok(Py::new(slf.py(), wrap(t.pin_memory())?)?.into_any())
    }

    /// Whether `self` lives in page-locked host memory.
    #[pyo3(signature = (device=None))]
    fn is_pinned(&self, device: Option<&Bound<'_, PyAny>>) -> bool {
        let _ = device;
        self.t.is_pinned()
    }

    #[pyo3(signature = (src, non_blocking=false))]
    fn copy_<'py>(slf: &Bound<'py, Self>, src: &Bound<'py, PyAny>, non_blocking: bool) -> PyResult<Bound<'py, Self>> {
        let src = convert::as_tensor_like(src, &slf.borrow().t)?;
        ferrotorch_core::cuda::pinned::non_blocking(non_blocking, || slf.borrow().t.copy_(&src)).py()?;
        Ok(slf.clone())
    }

    fn fill_<'py>(slf: &Bound<'py, Self>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.borrow().t.fill_(scalar(value)?).py()?;
        Ok(slf.clone())
    }

    fn zero_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        slf.borrow().t.fill_(Scalar::Int(0)).py()?;
        Ok(slf.clone())
    }

    /// NumPy's array interface: `numpy.asarray(t)` views the tensor's memory.
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::array_interface(py, &self.t)
    }

    /// `t.numpy()`: an array sharing memory with the tensor.
    #[pyo3(signature = (*, force=false))]
    fn numpy<'py>(slf: &Bound<'py, Self>, force: bool) -> PyResult<Bound<'py, PyAny>> {
        let _ = force;
        let np = slf.py().import("numpy")?;
        np.call_method1("asarray", (slf,))
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(slf: &Bound<'py, Self>, dtype: Option<&Bound<'py, PyAny>>, copy: Option<bool>) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy;
        let arr = Self::numpy(slf, false)?;
        match dtype {
            Some(d) if !d.is_none() => arr.call_method1("astype", (d,)),
            _ => Ok(arr),
        }
    }
}

/// `slf` itself when already on `device`, otherwise a copy there with history.
/// Runs a copy; with `non_blocking`, one from pinned memory returns once it is queued.
fn move_or_self(slf: &Bound<'_, PyTensor>, device: ferrotorch_core::Device) -> PyResult<Py<PyAny>> {
    let t = &slf.borrow().t;
    if t.device() == device {
        return Ok(slf.clone().into_any().unbind());
    }
    Ok(Py::new(slf.py(), wrap(t.to_device_recorded(device))?)?.into_any())
}

/// `slf` itself when `d` is already its dtype (as PyTorch's conversions return the same object),
/// otherwise a converted copy.
fn cast_or_self(slf: &Bound<'_, PyTensor>, d: DType) -> PyResult<Py<PyAny>> {
    let t = &slf.borrow().t;
    if t.dtype() == d {
        return Ok(slf.clone().into_any().unbind());
    }
    Ok(Py::new(slf.py(), wrap(t.cast(d))?)?.into_any())
}
