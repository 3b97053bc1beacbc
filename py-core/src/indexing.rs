//! Indexing bindings: `t[key]`, `t[key] = value`, and the index ops (`gather`, `scatter*`,
//! `index_*`, `masked_*`, `take`, `put_`, `nonzero`). All work is in `ferrotorch_core::ops::index`.

mod key;

use ferrotorch_core::ops::index::{ScatterReduce, ScatterSrc};
use ferrotorch_core::{Scalar, Tensor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::error::IntoPy;
use crate::tensor::{scalar, wrap, PyTensor};

/// A number, or a 0-d tensor read as one (`masked_fill`, `index_fill`).
fn fill_value(op: &str, value: &Bound<'_, PyAny>) -> PyResult<Scalar> {
    if let Ok(t) = value.cast::<PyTensor>() {
        let nd = t.borrow().t.ndim();
        if nd != 0 {
            return Err(PyRuntimeError::new_err(format!(
                "{} only supports a 0-dimensional value tensor, but got tensor with {} dimension(s).",
                op, nd
            )));
        }
    }
    scalar(value)
}

/// A fill value as the core takes it: a 0-d tensor keeps its history (`masked_fill(mask, t)`).
enum Fill {
    Number(Scalar),
    Tensor(Tensor),
}

fn fill_arg(op: &str, value: &Bound<'_, PyAny>) -> PyResult<Fill> {
    if let Ok(t) = value.cast::<PyTensor>() {
        fill_value(op, value)?;
        return Ok(Fill::Tensor(t.borrow().t.clone()));
    }
    fill_value(op, value).map(Fill::Number)
}

/// `scatter`'s third argument: `src` (tensor or number) or `value=`.
fn scatter_src(src: Option<&Bound<'_, PyAny>>, value: Option<&Bound<'_, PyAny>>) -> PyResult<ScatterSrc> {
    match (src, value) {
        (Some(s), _) => match s.cast::<PyTensor>() {
            Ok(t) => Ok(ScatterSrc::Tensor(t.borrow().t.clone())),
            Err(_) => Ok(ScatterSrc::Value(scalar(s)?)),
        },
        (None, Some(v)) => Ok(ScatterSrc::Value(scalar(v)?)),
        (None, None) => Err(PyTypeError::new_err("scatter() missing 1 required positional argument: 'src' or 'value'")),
    }
}

/// `index_put`'s indices: a tuple or list of tensors or `None`.
fn index_list(indices: &Bound<'_, PyAny>) -> PyResult<Vec<Option<Tensor>>> {
    if indices.cast::<PyTuple>().is_err() && indices.cast::<PyList>().is_err() {
        return Err(PyTypeError::new_err("index_put(): argument 'indices' must be tuple of Tensors"));
    }
    indices
        .try_iter()?
        .map(|x| {
            let x = x?;
            if x.is_none() {
                return Ok(None);
            }
            x.cast::<PyTensor>()
                .map(|t| Some(t.borrow().t.clone()))
                .map_err(|_| PyTypeError::new_err("index_put(): argument 'indices' must be tuple of Tensors"))
        })
        .collect()
}

fn alpha_of(alpha: Option<&Bound<'_, PyAny>>) -> PyResult<Scalar> {
    alpha.map(scalar).transpose().map(|a| a.unwrap_or(Scalar::Int(1)))
}

/// Runs an in-place core op on `slf` and returns `slf`.
fn inplace<'py>(slf: &Bound<'py, PyTensor>, f: impl FnOnce(&Tensor) -> ferrotorch_core::Result<()>) -> PyResult<Bound<'py, PyTensor>> {
    let t = slf.borrow().t.clone();
    f(&t).py()?;
    Ok(slf.clone())
}

#[pymethods]
impl PyTensor {
    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        wrap(self.t.get_item(&key::parse_key(key)?))
    }

    fn __setitem__(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let indices = key::parse_key(key)?;
        let value = key::assigned_value(value, &self.t)?;
        self.t.set_item(&indices, &value).py()
    }

    fn index_select(&self, dim: i64, index: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
        wrap(self.t.index_select(dim, &index.t))
    }

    #[pyo3(signature = (dim, index, *, sparse_grad=false))]
    fn gather(&self, dim: i64, index: PyRef<'_, PyTensor>, sparse_grad: bool) -> PyResult<PyTensor> {
        let _ = sparse_grad;
        wrap(self.t.gather(dim, &index.t))
    }

    #[pyo3(signature = (indices, dim=None))]
    fn take_along_dim(&self, indices: PyRef<'_, PyTensor>, dim: Option<i64>) -> PyResult<PyTensor> {
        wrap(self.t.take_along_dim(&indices.t, dim))
    }

    #[pyo3(signature = (dim, index, src=None, *, value=None, reduce=None))]
    fn scatter(
        &self,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        src: Option<&Bound<'_, PyAny>>,
        value: Option<&Bound<'_, PyAny>>,
        reduce: Option<&str>,
    ) -> PyResult<PyTensor> {
        wrap(self.t.scatter(dim, &index.t, &scatter_src(src, value)?, reduce))
    }

    #[pyo3(signature = (dim, index, src=None, *, value=None, reduce=None))]
    fn scatter_<'py>(
        slf: &Bound<'py, Self>,
        dim: i64,
        index: PyRef<'py, PyTensor>,
        src: Option<&Bound<'py, PyAny>>,
        value: Option<&Bound<'py, PyAny>>,
        reduce: Option<&str>,
    ) -> PyResult<Bound<'py, Self>> {
        let src = scatter_src(src, value)?;
        inplace(slf, |t| t.scatter_(dim, &index.t, &src, reduce))
    }

    fn scatter_add(&self, dim: i64, index: PyRef<'_, PyTensor>, src: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
        wrap(ferrotorch_core::autocast::apply("scatter_add", &[&self.t, &src.t], |t| t[0].scatter_add(dim, &index.t, &t[1])))
    }

    fn scatter_add_<'py>(slf: &Bound<'py, Self>, dim: i64, index: PyRef<'py, PyTensor>, src: PyRef<'py, PyTensor>) -> PyResult<Bound<'py, Self>> {
        inplace(slf, |t| t.scatter_add_(dim, &index.t, &src.t))
    }

    #[pyo3(signature = (dim, index, src, reduce, *, include_self=true))]
    fn scatter_reduce(&self, dim: i64, index: PyRef<'_, PyTensor>, src: PyRef<'_, PyTensor>, reduce: &str, include_self: bool) -> PyResult<PyTensor> {
        let r = ScatterReduce::parse(reduce).py()?;
        wrap(self.t.scatter_reduce(dim, &index.t, &src.t, r, include_self))
    }

    #[pyo3(signature = (dim, index, src, reduce, *, include_self=true))]
    fn scatter_reduce_<'py>(
        slf: &Bound<'py, Self>,
        dim: i64,
        index: PyRef<'py, PyTensor>,
        src: PyRef<'py, PyTensor>,
        reduce: &str,
        include_self: bool,
    ) -> PyResult<Bound<'py, Self>> {
        let r = ScatterReduce::parse(reduce).py()?;
        inplace(slf, |t| t.scatter_reduce_(dim, &index.t, &src.t, r, include_self))
    }

    #[pyo3(signature = (dim, index, source, *, alpha=None))]
    fn index_add(&self, dim: i64, index: PyRef<'_, PyTensor>, source: PyRef<'_, PyTensor>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        wrap(self.t.index_add(dim, &index.t, &source.t, alpha_of(alpha)?))
    }

    #[pyo3(signature = (dim, index, source, *, alpha=None))]
    fn index_add_<'py>(
        slf: &Bound<'py, Self>,
        dim: i64,
        index: PyRef<'py, PyTensor>,
        source: PyRef<'py, PyTensor>,
        alpha: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        let alpha = alpha_of(alpha)?;
        inplace(slf, |t| t.index_add_(dim, &index.t, &source.t, alpha))
    }

    fn index_copy(&self, dim: i64, index: PyRef<'_, PyTensor>, source: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
        wrap(self.t.index_copy(dim, &index.t, &source.t))
    }

    fn index_copy_<'py>(slf: &Bound<'py, Self>, dim: i64, index: PyRef<'py, PyTensor>, source: PyRef<'py, PyTensor>) -> PyResult<Bound<'py, Self>> {
        inplace(slf, |t| t.index_copy_(dim, &index.t, &source.t))
    }

    fn index_fill(&self, dim: i64, index: PyRef<'_, PyTensor>, value: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        wrap(match fill_arg("index_fill_", value)? {
            Fill::Number(v) => self.t.index_fill(dim, &index.t, v),
            Fill::Tensor(v) => self.t.index_fill_tensor(dim, &index.t, &v),
        })
    }

    fn index_fill_<'py>(slf: &Bound<'py, Self>, dim: i64, index: PyRef<'py, PyTensor>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        match fill_arg("index_fill_", value)? {
            Fill::Number(v) => inplace(slf, |t| t.index_fill_(dim, &index.t, v)),
            Fill::Tensor(v) => inplace(slf, |t| t.index_fill_tensor_(dim, &index.t, &v)),
        }
    }

    #[pyo3(signature = (indices, values, accumulate=false))]
    fn index_put(&self, indices: &Bound<'_, PyAny>, values: PyRef<'_, PyTensor>, accumulate: bool) -> PyResult<PyTensor> {
        let indices = index_list(indices)?;
        wrap(ferrotorch_core::autocast::apply("index_put", &[&self.t, &values.t], |t| t[0].index_put(&indices, &t[1], accumulate)))
    }

    #[pyo3(signature = (indices, values, accumulate=false))]
    fn index_put_<'py>(slf: &Bound<'py, Self>, indices: &Bound<'py, PyAny>, values: PyRef<'py, PyTensor>, accumulate: bool) -> PyResult<Bound<'py, Self>> {
        let indices = index_list(indices)?;
        inplace(slf, |t| t.index_put_(&indices, &values.t, accumulate))
    }

    fn masked_fill(&self, mask: PyRef<'_, PyTensor>, value: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        wrap(match fill_arg("masked_fill_", value)? {
            Fill::Number(v) => self.t.masked_fill(&mask.t, v),
            Fill::Tensor(v) => self.t.masked_fill_tensor(&mask.t, &v),
        })
    }

    fn masked_fill_<'py>(slf: &Bound<'py, Self>, mask: PyRef<'py, PyTensor>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        match fill_arg("masked_fill_", value)? {
            Fill::Number(v) => inplace(slf, |t| t.masked_fill_(&mask.t, v)),
            Fill::Tensor(v) => inplace(slf, |t| t.masked_fill_tensor_(&mask.t, &v)),
        }
    }

    fn masked_select(&self, mask: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
        wrap(self.t.masked_select(&mask.t))
    }

    fn masked_scatter(&self, mask: PyRef<'_, PyTensor>, source: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
        wrap(self.t.masked_scatter(&mask.t, &source.t))
    }

    fn masked_scatter_<'py>(slf: &Bound<'py, Self>, mask: PyRef<'py, PyTensor>, source: PyRef<'py, PyTensor>) -> PyResult<Bound<'py, Self>> {
        inplace(slf, |t| t.masked_scatter_(&mask.t, &source.t))
    }

    fn take(&self, index: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
        wrap(self.t.take(&index.t))
    }

    #[pyo3(signature = (index, source, accumulate=false))]
    fn put(&self, index: PyRef<'_, PyTensor>, source: PyRef<'_, PyTensor>, accumulate: bool) -> PyResult<PyTensor> {
        wrap(self.t.put(&index.t, &source.t, accumulate))
    }

    #[pyo3(signature = (index, source, accumulate=false))]
    fn put_<'py>(slf: &Bound<'py, Self>, index: PyRef<'py, PyTensor>, source: PyRef<'py, PyTensor>, accumulate: bool) -> PyResult<Bound<'py, Self>> {
        inplace(slf, |t| t.put_(&index.t, &source.t, accumulate))
    }

    /// `nonzero()`: an `(n, ndim)` tensor of positions, or with `as_tuple=True` one tensor per dim.
    #[pyo3(signature = (*, as_tuple=false))]
    fn nonzero(&self, py: Python<'_>, as_tuple: bool) -> PyResult<Py<PyAny>> {
        if as_tuple {
            let parts = self.t.nonzero_tuple().py()?;
            let items = parts.into_iter().map(|t| Py::new(py, PyTensor::new(t))).collect::<PyResult<Vec<_>>>()?;
            return Ok(PyTuple::new(py, items)?.into_any().unbind());
        }
        Ok(Py::new(py, wrap(self.t.nonzero())?)?.into_any())
    }

    fn argwhere(&self) -> PyResult<PyTensor> {
        wrap(self.t.nonzero())
    }
}

pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
