//! Named result tuples (`torch.return_types.sort`, ...), defined once in Python
//! (`ferrotorch/return_types.py`) and built here for every op family.

use ferrotorch_core::Tensor;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

use crate::tensor::PyTensor;

/// `ferrotorch.return_types.<name>(items)`.
pub fn return_type<'py>(py: Python<'py>, name: &str, items: Vec<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module = MODULE.get_or_try_init(py, || py.import("ferrotorch.return_types").map(|m| m.unbind()))?;
    module.bind(py).getattr(name)?.call1((PyTuple::new(py, items)?,))
}

/// A result of tensors as the named tuple `name` (`values`/`indices` for `sort`, ...).
pub fn tensors<'py>(py: Python<'py>, name: &str, ts: impl IntoIterator<Item = Tensor>) -> PyResult<Bound<'py, PyAny>> {
    let items = ts.into_iter().map(|t| Ok(Bound::new(py, PyTensor::new(t))?.into_any())).collect::<PyResult<Vec<_>>>()?;
    return_type(py, name, items)
}
