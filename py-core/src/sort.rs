//! Sorting and counting: `sort`, `argsort`, `topk`, `kthvalue`, `unique`, `searchsorted`,
//! `bucketize`, `histc`, `histogram`, `bincount`.

use ferrotorch_core::ops::sort::search::{bucketize as core_bucketize, searchsorted as core_searchsorted, Needles, SearchOptions};
use ferrotorch_core::ops::sort::unique::Unique;
use ferrotorch_core::Tensor;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::elementwise::with_out;
use crate::error::IntoPy;
use crate::return_types;
use crate::tensor::{scalar, wrap, PyTensor};

/// `unique`'s Python result: the values alone, or a tuple with the requested extras.
fn unique_result<'py>(py: Python<'py>, u: Unique, return_inverse: bool, return_counts: bool) -> PyResult<Bound<'py, PyAny>> {
    let values = Bound::new(py, PyTensor::new(u.values))?.into_any();
    if !return_inverse && !return_counts {
        return Ok(values);
    }
    let mut items = vec![values];
    if return_inverse {
        items.push(Bound::new(py, PyTensor::new(u.inverse))?.into_any());
    }
    if return_counts {
        items.push(Bound::new(py, PyTensor::new(u.counts))?.into_any());
    }
    Ok(PyTuple::new(py, items)?.into_any())
}

/// Reads searched values: a tensor or a Python number.
fn needles<'a>(obj: &Bound<'_, PyAny>, holder: &'a mut Option<Tensor>) -> PyResult<Needles<'a>> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        *holder = Some(t.borrow().t.clone());
        return Ok(Needles::Tensor(holder.as_ref().expect("just set")));
    }
    Ok(Needles::Scalar(scalar(obj)?))
}

#[pymethods]
impl PyTensor {
    /// `sort(dim=-1, descending=False, *, stable)`: `(values, indices)`; always stable.
    #[pyo3(signature = (dim=-1, descending=false, *, stable=None))]
    fn sort<'py>(&self, py: Python<'py>, dim: i64, descending: bool, stable: Option<bool>) -> PyResult<Bound<'py, PyAny>> {
        let _ = stable;
        let (v, i) = self.t.sort(dim, descending).py()?;
        return_types::tensors(py, "sort", [v, i])
    }

    #[pyo3(signature = (dim=-1, descending=false, stable=false))]
    fn argsort(&self, dim: i64, descending: bool, stable: bool) -> PyResult<PyTensor> {
        let _ = stable;
        wrap(self.t.argsort(dim, descending))
    }

    fn msort(&self) -> PyResult<PyTensor> {
        wrap(self.t.msort())
    }

    #[pyo3(signature = (k, dim=-1, largest=true, sorted=true))]
    fn topk<'py>(&self, py: Python<'py>, k: i64, dim: i64, largest: bool, sorted: bool) -> PyResult<Bound<'py, PyAny>> {
        let (v, i) = self.t.topk(k, dim, largest, sorted).py()?;
        return_types::tensors(py, "topk", [v, i])
    }

    #[pyo3(signature = (k, dim=-1, keepdim=false))]
    fn kthvalue<'py>(&self, py: Python<'py>, k: i64, dim: i64, keepdim: bool) -> PyResult<Bound<'py, PyAny>> {
        let (v, i) = self.t.kthvalue(k, dim, keepdim).py()?;
        return_types::tensors(py, "kthvalue", [v, i])
    }

    /// `unique(sorted=True, return_inverse=False, return_counts=False, dim=None)`; results are
    /// always sorted (the order PyTorch leaves unspecified for `sorted=False`).
    #[pyo3(signature = (sorted=true, return_inverse=false, return_counts=false, dim=None))]
    fn unique<'py>(&self, py: Python<'py>, sorted: bool, return_inverse: bool, return_counts: bool, dim: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
        let _ = sorted;
        let u = match dim {
            None => self.t.unique_all(false),
            Some(d) => self.t.unique_dim(d, false),
        }
        .py()?;
        unique_result(py, u, return_inverse, return_counts)
    }

    #[pyo3(signature = (return_inverse=false, return_counts=false, dim=None))]
    fn unique_consecutive<'py>(&self, py: Python<'py>, return_inverse: bool, return_counts: bool, dim: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
        let u = match dim {
            None => self.t.unique_all(true),
            Some(d) => self.t.unique_dim(d, true),
        }
        .py()?;
        unique_result(py, u, return_inverse, return_counts)
    }

    #[pyo3(signature = (bins=100, min=0.0, max=0.0))]
    fn histc(&self, bins: i64, min: f64, max: f64) -> PyResult<PyTensor> {
        wrap(self.t.histc(bins, min, max))
    }

    /// `histogram(bins, *, range=None, weight=None, density=False)`: `(hist, bin_edges)`, with
    /// `bins` a count of equal-width bins or a tensor of edges.
    #[pyo3(signature = (bins, *, range=None, weight=None, density=false))]
    fn histogram<'py>(
        &self,
        py: Python<'py>,
        bins: &Bound<'py, PyAny>,
        range: Option<(f64, f64)>,
        weight: Option<PyRef<'py, PyTensor>>,
        density: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let w = weight.as_ref().map(|w| &w.t);
        let (h, e) = match bins.cast::<PyTensor>() {
            Ok(edges) => self.t.histogram_edges(&edges.borrow().t, w, density),
            Err(_) => self.t.histogram_count(crate::tensor::index(bins)?, range, w, density),
        }
        .py()?;
        return_types::tensors(py, "histogram", [h, e])
    }

    #[pyo3(signature = (weights=None, minlength=0))]
    fn bincount(&self, weights: Option<PyRef<'_, PyTensor>>, minlength: i64) -> PyResult<PyTensor> {
        wrap(self.t.bincount(weights.as_ref().map(|w| &w.t), minlength))
    }
}

/// `searchsorted(sorted_sequence, input, *, out_int32, right, side, sorter)`.
#[pyfunction]
#[pyo3(signature = (sorted_sequence, input, *, out_int32=false, right=false, side=None, sorter=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn searchsorted<'py>(
    py: Python<'py>,
    sorted_sequence: &Bound<'py, PyAny>,
    input: &Bound<'py, PyAny>,
    out_int32: bool,
    right: bool,
    side: Option<&str>,
    sorter: Option<PyRef<'py, PyTensor>>,
    out: Option<&Bound<'py, PyTensor>>,
) -> PyResult<Bound<'py, PyAny>> {
    let seq = sorted_sequence
        .cast::<PyTensor>()
        .map_err(|_| PyTypeError::new_err("searchsorted(): argument 'sorted_sequence' (position 1) must be Tensor"))?
        .borrow()
        .t
        .clone();
    let mut holder = None;
    let values = needles(input, &mut holder)?;
    let opts = SearchOptions { out_int32, right, side, sorter: sorter.as_ref().map(|s| &s.t) };
    with_out(py, core_searchsorted(&seq, values, opts).py()?, out)
}

/// `bucketize(input, boundaries, *, out_int32, right)`.
#[pyfunction]
#[pyo3(signature = (input, boundaries, *, out_int32=false, right=false, out=None))]
fn bucketize<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    boundaries: PyRef<'py, PyTensor>,
    out_int32: bool,
    right: bool,
    out: Option<&Bound<'py, PyTensor>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut holder = None;
    let values = needles(input, &mut holder)?;
    with_out(py, core_bucketize(values, &boundaries.t, out_int32, right).py()?, out)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(searchsorted, m)?)?;
    m.add_function(wrap_pyfunction!(bucketize, m)?)?;
    Ok(())
}
