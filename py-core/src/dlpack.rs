//! DLPack exchange: `Tensor.__dlpack__`, `__dlpack_device__` and `ferrotorch.from_dlpack`,
//! zero-copy in both directions (NumPy, PyTorch and any other DLPack producer or consumer).

use std::ffi::{c_void, CStr};
use std::sync::Arc;

use ferrotorch_core::storage::Storage;
use ferrotorch_core::{DType, Layout, Tensor};
use pyo3::exceptions::{PyBufferError, PyRuntimeError, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;

use crate::tensor::PyTensor;

const CPU: i32 = 1;
const CAPSULE_NAME: &CStr = c"dltensor";
const USED_NAME: &CStr = c"used_dltensor";
const VERSIONED_NAME: &CStr = c"dltensor_versioned";
const USED_VERSIONED_NAME: &CStr = c"used_dltensor_versioned";

#[repr(C)]
struct DLDevice {
    device_type: i32,
    device_id: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct DLDataType {
    code: u8,
    bits: u8,
    lanes: u16,
}

#[repr(C)]
struct DLTensor {
    data: *mut c_void,
    device: DLDevice,
    ndim: i32,
    dtype: DLDataType,
    shape: *mut i64,
    strides: *mut i64,
    byte_offset: u64,
}

#[repr(C)]
struct DLManagedTensor {
    dl_tensor: DLTensor,
    manager_ctx: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DLManagedTensor)>,
}

#[repr(C)]
struct DLPackVersion {
    major: u32,
    minor: u32,
}

/// DLPack 1.0's managed tensor: consumers that ask for it (NumPy 2) treat the memory as writable.
#[repr(C)]
struct DLManagedTensorVersioned {
    version: DLPackVersion,
    manager_ctx: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DLManagedTensorVersioned)>,
    flags: u64,
    dl_tensor: DLTensor,
}

/// What an exported DLManagedTensor keeps alive: the tensor and its shape/stride arrays.
struct Export {
    _tensor: Tensor,
    shape: Vec<i64>,
    strides: Vec<i64>,
}

fn dl_dtype(d: DType) -> DLDataType {
    let (code, bits) = match d {
        DType::Bool => (6, 8),
        DType::U8 => (1, 8),
        DType::I8 => (0, 8),
        DType::I16 => (0, 16),
        DType::I32 => (0, 32),
        DType::I64 => (0, 64),
        DType::F16 => (2, 16),
        DType::BF16 => (4, 16),
        DType::F32 => (2, 32),
        DType::F64 => (2, 64),
    };
    DLDataType { code, bits, lanes: 1 }
}

fn from_dl_dtype(t: DLDataType) -> PyResult<DType> {
    Ok(match (t.code, t.bits, t.lanes) {
        (6, 8, 1) => DType::Bool,
        (1, 8, 1) => DType::U8,
        (0, 8, 1) => DType::I8,
        (0, 16, 1) => DType::I16,
        (0, 32, 1) => DType::I32,
        (0, 64, 1) => DType::I64,
        (2, 16, 1) => DType::F16,
        (4, 16, 1) => DType::BF16,
        (2, 32, 1) => DType::F32,
        (2, 64, 1) => DType::F64,
        (c, b, l) => return Err(PyBufferError::new_err(format!("Unsupported DLPack dtype: code={c} bits={b} lanes={l}"))),
    })
}

unsafe extern "C" fn delete_export(m: *mut DLManagedTensor) {
    let m = Box::from_raw(m);
    drop(Box::from_raw(m.manager_ctx as *mut Export));
}

unsafe extern "C" fn delete_export_versioned(m: *mut DLManagedTensorVersioned) {
    let m = Box::from_raw(m);
    drop(Box::from_raw(m.manager_ctx as *mut Export));
}

/// Frees an exported tensor that no consumer took.
unsafe extern "C" fn capsule_destructor(capsule: *mut ffi::PyObject) {
    if ffi::PyCapsule_IsValid(capsule, CAPSULE_NAME.as_ptr()) == 1 {
        let m = ffi::PyCapsule_GetPointer(capsule, CAPSULE_NAME.as_ptr()) as *mut DLManagedTensor;
        if let Some(del) = (*m).deleter {
            del(m);
        }
    } else if ffi::PyCapsule_IsValid(capsule, VERSIONED_NAME.as_ptr()) == 1 {
        let m = ffi::PyCapsule_GetPointer(capsule, VERSIONED_NAME.as_ptr()) as *mut DLManagedTensorVersioned;
        if let Some(del) = (*m).deleter {
            del(m);
        }
    }
}

/// Calls the producer's deleter when the storage that wraps its memory is dropped.
enum Imported {
    Legacy(*mut DLManagedTensor),
    Versioned(*mut DLManagedTensorVersioned),
}
unsafe impl Send for Imported {}
unsafe impl Sync for Imported {}

impl Drop for Imported {
    fn drop(&mut self) {
        unsafe {
            match *self {
                Imported::Legacy(m) => {
                    if let Some(del) = (*m).deleter {
                        del(m)
                    }
                }
                Imported::Versioned(m) => {
                    if let Some(del) = (*m).deleter {
                        del(m)
                    }
                }
            }
        }
    }
}

#[pymethods]
impl PyTensor {
    /// Exports the tensor as a DLPack capsule sharing its memory.
    #[pyo3(signature = (*, stream=None, max_version=None, dl_device=None, copy=None))]
    fn __dlpack__(
        &self,
        py: Python<'_>,
        stream: Option<&Bound<'_, PyAny>>,
        max_version: Option<&Bound<'_, PyAny>>,
        dl_device: Option<&Bound<'_, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Py<PyAny>> {
        let _ = (stream, dl_device);
        let versioned = match max_version {
            Some(v) if !v.is_none() => v.extract::<(u32, u32)>()?.0 >= 1,
            _ => false,
        };
        let t = if copy == Some(true) { self.t.clone_contiguous().map_err(crate::error::to_py)? } else { self.t.clone() };
        let mut export = Box::new(Export {
            shape: t.shape().iter().map(|&s| s as i64).collect(),
            strides: t.strides().iter().map(|&s| s as i64).collect(),
            _tensor: t.clone(),
        });
        let data = (t.storage().address() + t.offset() * t.dtype().size()) as *mut c_void;
        let dl_tensor = DLTensor {
            data,
            device: DLDevice { device_type: CPU, device_id: 0 },
            ndim: t.ndim() as i32,
            dtype: dl_dtype(t.dtype()),
            shape: export.shape.as_mut_ptr(),
            strides: export.strides.as_mut_ptr(),
            byte_offset: 0,
        };
        let ctx = Box::into_raw(export) as *mut c_void;
        let (ptr, name) = if versioned {
            let m = DLManagedTensorVersioned {
                version: DLPackVersion { major: 1, minor: 0 },
                manager_ctx: ctx,
                deleter: Some(delete_export_versioned),
                flags: 0,
                dl_tensor,
            };
            (Box::into_raw(Box::new(m)) as *mut c_void, VERSIONED_NAME)
        } else {
            let m = DLManagedTensor { dl_tensor, manager_ctx: ctx, deleter: Some(delete_export) };
            (Box::into_raw(Box::new(m)) as *mut c_void, CAPSULE_NAME)
        };
        unsafe {
            let capsule = ffi::PyCapsule_New(ptr, name.as_ptr(), Some(capsule_destructor));
            Bound::from_owned_ptr_or_err(py, capsule).map(|b| b.unbind())
        }
    }

    /// `(device_type, device_id)`: (1, 0) for the CPU.
    fn __dlpack_device__(&self) -> (i32, i32) {
        (CPU, 0)
    }
}

/// `from_dlpack(obj)`: a tensor sharing the memory of any DLPack producer.
#[pyfunction]
pub fn from_dlpack(obj: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(PyTensor::new(t.borrow().t.clone()));
    }
    let capsule = if obj.hasattr("__dlpack__")? {
        let kwargs = pyo3::types::PyDict::new(obj.py());
        kwargs.set_item("max_version", (1, 0))?;
        match obj.call_method("__dlpack__", (), Some(&kwargs)) {
            Ok(c) => c,
            Err(e) if e.is_instance_of::<PyTypeError>(obj.py()) => obj.call_method0("__dlpack__")?,
            Err(e) => return Err(e),
        }
    } else {
        obj.clone()
    };
    unsafe {
        let ptr = capsule.as_ptr();
        let (dl, used, owner): (&DLTensor, &CStr, Imported) = if ffi::PyCapsule_IsValid(ptr, VERSIONED_NAME.as_ptr()) == 1 {
            let m = ffi::PyCapsule_GetPointer(ptr, VERSIONED_NAME.as_ptr()) as *mut DLManagedTensorVersioned;
            (&(*m).dl_tensor, USED_VERSIONED_NAME, Imported::Versioned(m))
        } else if ffi::PyCapsule_IsValid(ptr, CAPSULE_NAME.as_ptr()) == 1 {
            let m = ffi::PyCapsule_GetPointer(ptr, CAPSULE_NAME.as_ptr()) as *mut DLManagedTensor;
            (&(*m).dl_tensor, USED_NAME, Imported::Legacy(m))
        } else {
            return Err(PyTypeError::new_err("from_dlpack: expected an object with __dlpack__ or an unconsumed 'dltensor' capsule"));
        };
        // Until the capsule is renamed, errors must not run the deleter: the capsule's
        // destructor still owns the tensor.
        let owner = std::mem::ManuallyDrop::new(owner);
        if dl.device.device_type != CPU {
            return Err(PyRuntimeError::new_err(format!("from_dlpack: tensors on DLPack device type {} are not supported", dl.device.device_type)));
        }
        let dtype = from_dl_dtype(dl.dtype)?;
        let ndim = dl.ndim.max(0) as usize;
        let shape: Vec<usize> = (0..ndim).map(|i| *dl.shape.add(i) as usize).collect();
        let strides: Vec<usize> = if dl.strides.is_null() {
            ferrotorch_core::layout::contiguous_strides(&shape)
        } else {
            let raw: Vec<i64> = (0..ndim).map(|i| *dl.strides.add(i)).collect();
            if raw.iter().any(|&s| s < 0) {
                return Err(PyBufferError::new_err("from_dlpack: negative strides are not supported"));
            }
            raw.iter().map(|&s| s as usize).collect()
        };
        let layout = Layout { shape, strides, offset: 0 };
        let data = (dl.data as *mut u8).add(dl.byte_offset as usize);
        if (data as usize) % dtype.size() != 0 {
            return Err(PyBufferError::new_err("from_dlpack: data is not aligned for its dtype"));
        }
        ffi::PyCapsule_SetName(ptr, used.as_ptr());
        let owner = std::mem::ManuallyDrop::into_inner(owner);
        let nbytes = layout.storage_extent().max(1) * dtype.size();
        let storage = Storage::from_foreign(data, nbytes, dtype, Box::new(owner));
        Ok(PyTensor::new(Tensor::from_parts(Arc::new(storage), layout)))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(from_dlpack, m)?)
}
