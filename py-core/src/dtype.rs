//! `ferrotorch.dtype` objects (`ferrotorch.float32`, ...) and dtype arguments.

use ferrotorch_core::DType;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyType};

/// A tensor element type, as `torch.dtype`.
#[pyclass(name = "dtype", module = "ferrotorch", frozen, eq, hash)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyDType(pub DType);

#[pymethods]
impl PyDType {
    fn __repr__(&self) -> String {
        format!("torch.{}", self.0.name())
    }

    #[getter]
    fn is_floating_point(&self) -> bool {
        self.0.is_float()
    }

    #[getter]
    fn is_complex(&self) -> bool {
        false
    }

    #[getter]
    fn is_signed(&self) -> bool {
        self.0.is_signed()
    }

    #[getter]
    fn itemsize(&self) -> usize {
        self.0.size()
    }

    fn to_real(&self) -> Self {
        *self
    }

    /// Pickles as a reference to the module attribute (`ferrotorch.float32`), as torch does.
    fn __reduce__(&self) -> String {
        self.0.name().to_string()
    }
}

/// Module attribute names of each dtype, aliases included.
pub const DTYPE_NAMES: &[(&str, DType)] = &[
    ("bool", DType::Bool),
    ("uint8", DType::U8),
    ("int8", DType::I8),
    ("int16", DType::I16),
    ("short", DType::I16),
    ("int32", DType::I32),
    ("int", DType::I32),
    ("int64", DType::I64),
    ("long", DType::I64),
    ("float16", DType::F16),
    ("half", DType::F16),
    ("bfloat16", DType::BF16),
    ("float32", DType::F32),
    ("float", DType::F32),
    ("float64", DType::F64),
    ("double", DType::F64),
];

/// The dtype named by numpy's `dtype.str`-style type code (`<f4`, `|b1`, ...).
pub fn from_typestr(s: &str) -> Option<DType> {
    Some(match &s[1..] {
        "b1" => DType::Bool,
        "u1" => DType::U8,
        "i1" => DType::I8,
        "i2" => DType::I16,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "f2" => DType::F16,
        "f4" => DType::F32,
        "f8" => DType::F64,
        _ => return None,
    })
}

/// NumPy's type code for a dtype, or `None` for bfloat16 (which NumPy lacks).
pub fn typestr(d: DType) -> Option<&'static str> {
    Some(match d {
        DType::Bool => "|b1",
        DType::U8 => "|u1",
        DType::I8 => "|i1",
        DType::I16 => "<i2",
        DType::I32 => "<i4",
        DType::I64 => "<i8",
        DType::F16 => "<f2",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
        DType::BF16 => return None,
    })
}

/// Reads a `dtype=` argument: a ferrotorch dtype, a Python type (`float`, `int`, `bool`), or a
/// NumPy dtype.
pub fn extract_dtype(obj: &Bound<'_, PyAny>) -> PyResult<DType> {
    if let Ok(d) = obj.cast::<PyDType>() {
        return Ok(d.get().0);
    }
    if let Ok(t) = obj.cast::<PyType>() {
        if t.is(obj.py().get_type::<PyBool>()) {
            return Ok(DType::Bool);
        }
        if t.is(obj.py().get_type::<PyInt>()) {
            return Ok(DType::I64);
        }
        if t.is(obj.py().get_type::<PyFloat>()) {
            return Ok(DType::F64);
        }
    }
    if let Ok(s) = obj.getattr("str").and_then(|s| s.extract::<String>()) {
        if let Some(d) = from_typestr(&s) {
            return Ok(d);
        }
    }
    if let Ok(np_dtype) = obj.getattr("dtype").and_then(|d| d.getattr("str")).and_then(|s| s.extract::<String>()) {
        if let Some(d) = from_typestr(&np_dtype) {
            return Ok(d);
        }
    }
    Err(PyTypeError::new_err(format!("dtype must be a ferrotorch.dtype, not {}", obj.get_type().name()?)))
}

/// Optional `dtype=` argument.
pub fn opt_dtype(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DType>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => extract_dtype(o).map(Some),
    }
}

/// Registers the dtype objects on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDType>()?;
    // Aliases (`float`, `float32`) are one object, as in PyTorch.
    let mut objects: Vec<(DType, Bound<'_, PyDType>)> = Vec::new();
    for (name, d) in DTYPE_NAMES {
        let obj = match objects.iter().find(|(k, _)| k == d) {
            Some((_, o)) => o.clone(),
            None => {
                let o = Bound::new(m.py(), PyDType(*d))?;
                objects.push((*d, o.clone()));
                o
            }
        };
        m.add(*name, obj)?;
    }
    Ok(())
}
