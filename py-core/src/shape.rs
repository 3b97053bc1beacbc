//! View methods: `view`, `reshape`, `permute`, `transpose`, `expand`, `squeeze`, ...

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::tensor::{int_list, shape_args, wrap, PyTensor};

#[pymethods]
impl PyTensor {
    #[pyo3(signature = (*shape))]
    fn view(&self, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        wrap(self.t.view(&shape_args(shape)?))
    }

    fn view_as(&self, other: &PyTensor) -> PyResult<PyTensor> {
        wrap(self.t.view(&dims_of(&other.t)))
    }

    #[pyo3(signature = (*shape))]
    fn reshape(&self, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        wrap(self.t.reshape(&shape_args(shape)?))
    }

    fn reshape_as(&self, other: &PyTensor) -> PyResult<PyTensor> {
        wrap(self.t.reshape(&dims_of(&other.t)))
    }

    #[pyo3(signature = (*dims))]
    fn permute(&self, dims: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        wrap(self.t.permute(&shape_args(dims)?))
    }

    fn transpose(&self, dim0: i64, dim1: i64) -> PyResult<PyTensor> {
        wrap(self.t.transpose(dim0, dim1))
    }

    fn swapaxes(&self, axis0: i64, axis1: i64) -> PyResult<PyTensor> {
        wrap(self.t.transpose(axis0, axis1))
    }

    fn swapdims(&self, dim0: i64, dim1: i64) -> PyResult<PyTensor> {
        wrap(self.t.transpose(dim0, dim1))
    }

    fn t(&self) -> PyResult<PyTensor> {
        wrap(self.t.t())
    }

    /// `T`: all dims reversed.
    #[getter(T)]
    fn big_t(&self) -> PyResult<PyTensor> {
        let n = self.t.ndim() as i64;
        wrap(self.t.permute(&(0..n).rev().collect::<Vec<_>>()))
    }

    #[getter(mT)]
    fn m_t(&self) -> PyResult<PyTensor> {
        wrap(self.t.mt())
    }

    #[getter(H)]
    fn big_h(&self) -> PyResult<PyTensor> {
        self.big_t()
    }

    #[getter(mH)]
    fn m_h(&self) -> PyResult<PyTensor> {
        wrap(self.t.mt())
    }

    #[pyo3(signature = (*sizes))]
    fn expand(&self, sizes: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        wrap(self.t.expand(&shape_args(sizes)?))
    }

    fn expand_as(&self, other: &PyTensor) -> PyResult<PyTensor> {
        wrap(self.t.expand(&dims_of(&other.t)))
    }

    fn unsqueeze(&self, dim: i64) -> PyResult<PyTensor> {
        wrap(self.t.unsqueeze(dim))
    }

    #[pyo3(signature = (dim=None))]
    fn squeeze(&self, dim: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        match dim {
            None => wrap(self.t.squeeze(None)),
            Some(d) => wrap(self.t.squeeze(Some(&int_list(d)?))),
        }
    }

    #[pyo3(signature = (start_dim=0, end_dim=-1))]
    fn flatten(&self, start_dim: i64, end_dim: i64) -> PyResult<PyTensor> {
        wrap(self.t.flatten(start_dim, end_dim))
    }

    fn ravel(&self) -> PyResult<PyTensor> {
        wrap(self.t.reshape(&[-1]))
    }

    fn unflatten(&self, dim: i64, sizes: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        wrap(self.t.unflatten(dim, &int_list(sizes)?))
    }

    fn narrow(&self, dim: i64, start: i64, length: i64) -> PyResult<PyTensor> {
        wrap(self.t.narrow(dim, start, length))
    }

    fn select(&self, dim: i64, index: i64) -> PyResult<PyTensor> {
        wrap(self.t.select(dim, index))
    }

    fn unfold(&self, dimension: i64, size: i64, step: i64) -> PyResult<PyTensor> {
        wrap(self.t.unfold(dimension, size, step))
    }

    #[pyo3(signature = (size, stride, storage_offset=None))]
    fn as_strided(&self, size: &Bound<'_, PyAny>, stride: &Bound<'_, PyAny>, storage_offset: Option<i64>) -> PyResult<PyTensor> {
        wrap(self.t.as_strided(&int_list(size)?, &int_list(stride)?, storage_offset))
    }

    fn movedim(&self, source: &Bound<'_, PyAny>, destination: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        wrap(self.t.movedim(&int_list(source)?, &int_list(destination)?))
    }

    fn moveaxis(&self, source: &Bound<'_, PyAny>, destination: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.movedim(source, destination)
    }
}

fn dims_of(t: &ferrotorch_core::Tensor) -> Vec<i64> {
    t.shape().iter().map(|&s| s as i64).collect()
}
