//! What serialization needs from a tensor's storage: its identity and full size, and a way to
//! put a tensor over raw bytes (a file read into memory, or a memory-mapped file) without copying.

use std::sync::Arc;

use ferrotorch_core::storage::Storage;
use ferrotorch_core::{Layout, Tensor};
use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::dtype::extract_dtype;
use crate::tensor::PyTensor;

/// `_storage_info(t) -> (base_ptr, nbytes)`: the address of the tensor's storage (shared by all
/// its views, so it names the storage) and the storage's size in bytes.
#[pyfunction]
fn _storage_info(t: PyRef<'_, PyTensor>) -> (usize, usize) {
    let s = t.t.storage();
    (s.address(), s.nbytes())
}

/// `_tensor_from_buffer(buffer, dtype)`: a 1-D tensor of `dtype` over the bytes of a writable,
/// contiguous Python buffer (bytearray, mmap, ...); the tensor keeps the buffer alive.
#[pyfunction]
fn _tensor_from_buffer(buffer: &Bound<'_, PyAny>, dtype: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let dtype = extract_dtype(dtype)?;
    let buf = PyUntypedBuffer::get(buffer)?;
    if buf.readonly() {
        return Err(PyTypeError::new_err("_tensor_from_buffer: the buffer is read-only"));
    }
    if !buf.is_c_contiguous() {
        return Err(PyValueError::new_err("_tensor_from_buffer: the buffer is not contiguous"));
    }
    let (ptr, nbytes, size) = (buf.buf_ptr() as *mut u8, buf.len_bytes(), dtype.size());
    if nbytes % size != 0 {
        return Err(PyValueError::new_err(format!(
            "_tensor_from_buffer: buffer size {} is not a multiple of the element size {} of {}",
            nbytes, size, dtype
        )));
    }
    if ptr as usize % size != 0 {
        return Err(PyValueError::new_err(format!("_tensor_from_buffer: the buffer is not aligned for {}", dtype)));
    }
    let layout = Layout { shape: vec![nbytes / size], strides: vec![1], offset: 0 };
    // SAFETY: the buffer stays exported (valid, writable, `nbytes` long) while `buf` lives, and
    // the storage owns `buf`.
    let storage = unsafe { Storage::from_foreign(ptr, nbytes, dtype, Box::new(buf)) };
    Ok(PyTensor::new(Tensor::from_parts(Arc::new(storage), layout)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_storage_info, m)?)?;
    m.add_function(wrap_pyfunction!(_tensor_from_buffer, m)?)
}
