//! `ferrotorch.return_types`: the named tuples ops like `max(dim)` return (PyTorch's
//! `torch.return_types.max` with `.values` / `.indices`). Other op families can add theirs
//! through [`named_tuple`].

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};

static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The `return_types` module (created on first use and registered in `sys.modules`).
pub fn module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    let m = MODULE.get_or_try_init(py, || -> PyResult<Py<PyModule>> {
        let m = PyModule::new(py, "return_types")?;
        py.import("sys")?.getattr("modules")?.set_item("ferrotorch.return_types", &m)?;
        Ok(m.unbind())
    })?;
    Ok(m.bind(py))
}

/// The named tuple class `name` with `fields`, created on first use.
pub fn class<'py>(py: Python<'py>, name: &str, fields: &[&str]) -> PyResult<Bound<'py, PyAny>> {
    let m = module(py)?;
    if let Ok(cls) = m.getattr(name) {
        return Ok(cls);
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item("module", "ferrotorch.return_types")?;
    let cls = py.import("collections")?.getattr("namedtuple")?.call((name, fields.to_vec()), Some(&kwargs))?;
    m.add(name, &cls)?;
    Ok(cls)
}

/// An instance of the named tuple `name(fields...)` holding `values`.
pub fn named_tuple<'py, T, I>(py: Python<'py>, name: &str, fields: &[&str], values: I) -> PyResult<Bound<'py, PyAny>>
where
    T: IntoPyObject<'py>,
    I: IntoIterator<Item = T>,
    I::IntoIter: ExactSizeIterator,
{
    class(py, name, fields)?.call1(PyTuple::new(py, values)?)
}
