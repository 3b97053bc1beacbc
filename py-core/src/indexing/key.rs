//! Reading a Python subscript `t[key]` into core index entries, as PyTorch's
//! `python_variable_indexing.cpp` does, and the value of `t[key] = value`.

use ferrotorch_core::ops::index::TensorIndex;
use ferrotorch_core::{DType, Tensor};
use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyList, PySequence, PySlice, PyString, PyTuple};

use crate::convert;
use crate::error::IntoPy;
use crate::tensor::{index, scalar, PyTensor};

/// The entries of `key`: a tuple is one entry per item; so is a short list holding a tensor,
/// a sequence, a slice, `...` or `None` (PyTorch's `treatSequenceAsTuple`); anything else is
/// one entry.
pub fn parse_key(key: &Bound<'_, PyAny>) -> PyResult<Vec<TensorIndex>> {
    if let Ok(t) = key.cast::<PyTuple>() {
        return t.iter().map(|x| entry(&x)).collect();
    }
    if sequence_as_tuple(key)? {
        return key.try_iter()?.map(|x| entry(&x?)).collect();
    }
    Ok(vec![entry(key)?])
}

/// Lists, tuples, NumPy arrays and other sequences (not strings, tensors or NumPy scalars).
fn is_sequence(obj: &Bound<'_, PyAny>) -> bool {
    if obj.cast::<PyTensor>().is_ok() || obj.is_instance_of::<PyString>() {
        return false;
    }
    obj.cast::<PyList>().is_ok()
        || obj.cast::<PyTuple>().is_ok()
        || (obj.hasattr("__array_interface__").unwrap_or(false) && obj.hasattr("__len__").unwrap_or(false))
        || obj.cast::<PySequence>().is_ok()
}

fn sequence_as_tuple(key: &Bound<'_, PyAny>) -> PyResult<bool> {
    if !is_sequence(key) {
        return Ok(false);
    }
    let Ok(n) = key.len() else { return Ok(false) };
    if n >= 32 {
        return Ok(false);
    }
    for item in key.try_iter()? {
        let item = item?;
        if item.cast::<PyTensor>().is_ok() || is_sequence(&item) || item.cast::<PySlice>().is_ok() || item.is_none() || item.is(&key.py().Ellipsis()) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn entry(obj: &Bound<'_, PyAny>) -> PyResult<TensorIndex> {
    let py = obj.py();
    if obj.is_none() {
        return Ok(TensorIndex::NewAxis);
    }
    if obj.is(&py.Ellipsis()) {
        return Ok(TensorIndex::Ellipsis);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(TensorIndex::Bool(b.is_true()));
    }
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(TensorIndex::Tensor(t.borrow().t.clone()));
    }
    if let Ok(s) = obj.cast::<PySlice>() {
        return slice(s);
    }
    if obj.is_instance_of::<PyInt>() || (obj.hasattr("__index__")? && !is_sequence(obj)) {
        return Ok(TensorIndex::Int(index(obj)?));
    }
    if is_sequence(obj) {
        return Ok(TensorIndex::Tensor(indexing_tensor(obj)?));
    }
    Err(PyIndexError::new_err(format!(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices (got {})",
        obj.get_type().name()?
    )))
}

/// A list (or array) used as an index becomes a bool/uint8 mask or an int64 index tensor.
fn indexing_tensor(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let t = convert::from_data(obj, None)?;
    if matches!(t.dtype(), DType::Bool | DType::U8) {
        return Ok(t);
    }
    t.to_dtype(DType::I64).py()
}

/// A slice bound: an int (or `__index__`), clamped like Python's `PySlice_Unpack`.
fn bound(obj: Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    if obj.is_none() {
        return Ok(None);
    }
    match index(&obj) {
        Ok(v) => Ok(Some(v)),
        Err(e) => match obj.call_method0("__index__") {
            Ok(big) => Ok(Some(if big.gt(0)? { i64::MAX } else { i64::MIN })),
            Err(_) => Err(e),
        },
    }
}

fn slice(s: &Bound<'_, PySlice>) -> PyResult<TensorIndex> {
    let start = bound(s.getattr("start")?)?;
    let stop = bound(s.getattr("stop")?)?;
    let step = bound(s.getattr("step")?)?.unwrap_or(1);
    if step == 0 {
        return Err(PyValueError::new_err("slice step cannot be zero"));
    }
    Ok(TensorIndex::Slice { start, stop, step })
}

/// The value of `t[key] = value`: a tensor as it is, a Python number as a 0-d tensor of `t`'s
/// dtype.
pub fn assigned_value(value: &Bound<'_, PyAny>, target: &Tensor) -> PyResult<Tensor> {
    if let Ok(t) = value.cast::<PyTensor>() {
        return Ok(t.borrow().t.clone());
    }
    if !is_sequence(value) {
        if let Ok(s) = scalar(value) {
            return Ok(Tensor::scalar(s, target.dtype()));
        }
    }
    Err(PyTypeError::new_err(format!(
        "can't assign a {} to a {}",
        value.get_type().name()?,
        convert::legacy_type_name(target.dtype())
    )))
}
