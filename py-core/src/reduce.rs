//! Reductions: `sum`, `mean`, `max`, `var`, `norm`, `softmax`, `cumsum`, `median`,
//! `quantile`, ... as tensor methods, with `out=` function forms for those PyTorch gives one.

use ferrotorch_core::ops::binary::{BinaryOp, Operand};
use ferrotorch_core::ops::reduce::order::Interpolation;
use ferrotorch_core::{DType, Tensor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyTuple};

use crate::autocast::unless_dtype;
use crate::dtype::opt_dtype;
use crate::elementwise::with_out;
use crate::error::IntoPy;
use crate::tensor::{index, int_list, wrap, PyTensor};



/// Reads a `dim=` argument: `None`, an int, or a sequence of ints.
fn dims_arg(dim: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<i64>>> {
    match dim {
        None => Ok(None),
        Some(d) if d.is_none() => Ok(None),
        Some(d) => int_list(d).map(Some),
    }
}

/// A `(values, indices)` result as the named tuple `name`.
fn values_indices<'py>(py: Python<'py>, name: &str, (v, i): (Tensor, Tensor)) -> PyResult<Bound<'py, PyAny>> {
    crate::return_types::tensors(py, name, [v, i])
}

fn tensor_obj(py: Python<'_>, r: ferrotorch_core::Result<Tensor>) -> PyResult<Bound<'_, PyAny>> {
    Ok(Bound::new(py, wrap(r)?)?.into_any())
}

/// `max()` / `max(dim, keepdim)` / `max(other)` (and `min`).
fn max_min<'py, const MAX: bool>(py: Python<'py>, t: &Tensor, dim: Option<&Bound<'py, PyAny>>, keepdim: bool) -> PyResult<Bound<'py, PyAny>> {
    match dim {
        None => tensor_obj(py, t.max_all::<MAX>()),
        Some(d) if d.is_none() => tensor_obj(py, t.max_all::<MAX>()),
        Some(other) if other.cast::<PyTensor>().is_ok() => {
            let op = if MAX { BinaryOp::Maximum } else { BinaryOp::Minimum };
            tensor_obj(py, t.binary(op, &Operand::Tensor(other.cast::<PyTensor>()?.borrow().t.clone())))
        }
        Some(d) => values_indices(py, if MAX { "max" } else { "min" }, t.max_dim::<MAX>(index(d)?, keepdim).py()?),
    }
}

/// The `correction` of `var`/`std` from PyTorch's overloads: `var(unbiased)`,
/// `var(dim, unbiased, keepdim)`, `var(dim, *, correction, keepdim)`.
fn variance_args(
    dim: Option<&Bound<'_, PyAny>>,
    unbiased: Option<bool>,
    correction: Option<&Bound<'_, PyAny>>,
) -> PyResult<(Option<Vec<i64>>, f64)> {
    let (dims, unbiased) = match dim {
        Some(d) if d.is_instance_of::<PyBool>() => (None, Some(d.extract::<bool>()?)),
        d => (dims_arg(d)?, unbiased),
    };
    if unbiased.is_some() && correction.is_some_and(|c| !c.is_none()) {
        return Err(PyRuntimeError::new_err("Cannot specify both unbiased and correction"));
    }
    let c = match correction {
        Some(c) if !c.is_none() => c.extract::<f64>()?,
        _ => unbiased.map_or(1.0, |u| u as i64 as f64),
    };
    Ok((dims, c))
}

/// The probabilities of `quantile(q)`: a number or a tensor of the input's dtype (at most
/// 1-d); returns them with `q`'s number of dims.
fn quantile_q(t: &Tensor, q: &Bound<'_, PyAny>) -> PyResult<(Vec<f64>, usize)> {
    if let Ok(qt) = q.cast::<PyTensor>() {
        let qt = &qt.borrow().t;
        if qt.dtype() != t.dtype() {
            return Err(PyRuntimeError::new_err("quantile() q tensor must be same dtype as the input tensor"));
        }
        return Ok((qt.to_dtype(DType::F64).py()?.to_vec::<f64>().py()?, qt.ndim()));
    }
    if q.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err("quantile(): argument 'q' must be float or Tensor, not bool"));
    }
    Ok((vec![q.extract::<f64>()?], 0))
}

fn quantile(t: &Tensor, q: &Bound<'_, PyAny>, dim: Option<i64>, keepdim: bool, interpolation: &str, ignore_nan: bool) -> PyResult<PyTensor> {
    let how = Interpolation::parse(interpolation).py()?;
    let (qs, q_dims) = quantile_q(t, q)?;
    wrap(t.quantile(&qs, q_dims, dim, keepdim, how, ignore_nan))
}

#[pymethods]
impl PyTensor {
    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None))]
    fn sum(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let (dims, dtype) = (dims_arg(dim)?, opt_dtype(dtype)?);
        wrap(unless_dtype("sum", &self.t, dtype, |t| t.sum(dims.as_deref(), keepdim, dtype)))
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None))]
    fn nansum(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        wrap(self.t.nansum(dims_arg(dim)?.as_deref(), keepdim, opt_dtype(dtype)?))
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None))]
    fn mean(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        wrap(self.t.mean(dims_arg(dim)?.as_deref(), keepdim, opt_dtype(dtype)?))
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None))]
    fn nanmean(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        wrap(self.t.nanmean(dims_arg(dim)?.as_deref(), keepdim, opt_dtype(dtype)?))
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None))]
    fn prod(&self, dim: Option<i64>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        wrap(self.t.prod(dim, keepdim, opt_dtype(dtype)?))
    }

    #[pyo3(signature = (dim=None))]
    fn count_nonzero(&self, dim: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        wrap(self.t.count_nonzero(dims_arg(dim)?.as_deref()))
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn all(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        wrap(self.t.all(dims_arg(dim)?.as_deref(), keepdim))
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn any(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        wrap(self.t.any(dims_arg(dim)?.as_deref(), keepdim))
    }

    /// `max()`, `max(dim, keepdim)` -> `(values, indices)`, or `max(other)` = `maximum`.
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn max<'py>(&self, py: Python<'py>, dim: Option<&Bound<'py, PyAny>>, keepdim: bool) -> PyResult<Bound<'py, PyAny>> {
        max_min::<true>(py, &self.t, dim, keepdim)
    }

    /// `min()`, `min(dim, keepdim)` -> `(values, indices)`, or `min(other)` = `minimum`.
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn min<'py>(&self, py: Python<'py>, dim: Option<&Bound<'py, PyAny>>, keepdim: bool) -> PyResult<Bound<'py, PyAny>> {
        max_min::<false>(py, &self.t, dim, keepdim)
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn amax(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        wrap(self.t.amax(dims_arg(dim)?.as_deref(), keepdim))
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn amin(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        wrap(self.t.amin(dims_arg(dim)?.as_deref(), keepdim))
    }

    /// `aminmax(dim, keepdim)` -> `(min, max)`.
    #[pyo3(signature = (*, dim=None, keepdim=false))]
    fn aminmax<'py>(&self, py: Python<'py>, dim: Option<i64>, keepdim: bool) -> PyResult<Bound<'py, PyAny>> {
        let (lo, hi) = self.t.aminmax(dim, keepdim).py()?;
        crate::return_types::tensors(py, "aminmax", [lo, hi])
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn argmax(&self, dim: Option<i64>, keepdim: bool) -> PyResult<PyTensor> {
        wrap(self.t.argmax(dim, keepdim))
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn argmin(&self, dim: Option<i64>, keepdim: bool) -> PyResult<PyTensor> {
        wrap(self.t.argmin(dim, keepdim))
    }

    #[pyo3(signature = (dim=None, unbiased=None, keepdim=false, *, correction=None))]
    fn var(&self, dim: Option<&Bound<'_, PyAny>>, unbiased: Option<bool>, keepdim: bool, correction: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let (dims, c) = variance_args(dim, unbiased, correction)?;
        wrap(self.t.var(dims.as_deref(), c, keepdim))
    }

    #[pyo3(signature = (dim=None, unbiased=None, keepdim=false, *, correction=None))]
    fn std(&self, dim: Option<&Bound<'_, PyAny>>, unbiased: Option<bool>, keepdim: bool, correction: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let (dims, c) = variance_args(dim, unbiased, correction)?;
        wrap(self.t.std(dims.as_deref(), c, keepdim))
    }

    #[pyo3(signature = (dim, keepdim=false))]
    fn logsumexp(&self, dim: &Bound<'_, PyAny>, keepdim: bool) -> PyResult<PyTensor> {
        let dims = dims_arg(Some(dim))?;
        wrap(ferrotorch_core::autocast::apply("logsumexp", &[&self.t], |t| t[0].logsumexp(dims.as_deref(), keepdim)))
    }

    #[pyo3(signature = (dim, dtype=None))]
    fn softmax(&self, dim: i64, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let dtype = opt_dtype(dtype)?;
        wrap(unless_dtype("softmax", &self.t, dtype, |t| t.softmax(dim, dtype, false)))
    }

    #[pyo3(signature = (dim, dtype=None))]
    fn log_softmax(&self, dim: i64, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let dtype = opt_dtype(dtype)?;
        wrap(unless_dtype("log_softmax", &self.t, dtype, |t| t.softmax(dim, dtype, true)))
    }

    #[pyo3(signature = (dim, *, dtype=None))]
    fn cumsum(&self, dim: i64, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let dtype = opt_dtype(dtype)?;
        wrap(unless_dtype("cumsum", &self.t, dtype, |t| t.cumsum(dim, dtype)))
    }

    #[pyo3(signature = (dim, *, dtype=None))]
    fn cumprod(&self, dim: i64, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let dtype = opt_dtype(dtype)?;
        wrap(unless_dtype("cumprod", &self.t, dtype, |t| t.cumprod(dim, dtype)))
    }

    #[pyo3(signature = (dim, *, dtype=None))]
    fn cumsum_<'py>(slf: &Bound<'py, Self>, dim: i64, dtype: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        crate::elementwise::assign_inplace(slf, &[], |t| t.cumsum(dim, opt_dtype(dtype)?).py())
    }

    #[pyo3(signature = (dim, *, dtype=None))]
    fn cumprod_<'py>(slf: &Bound<'py, Self>, dim: i64, dtype: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        crate::elementwise::assign_inplace(slf, &[], |t| t.cumprod(dim, opt_dtype(dtype)?).py())
    }

    fn cummax<'py>(&self, py: Python<'py>, dim: i64) -> PyResult<Bound<'py, PyAny>> {
        values_indices(py, "cummax", self.t.cummax_cummin::<true>(dim).py()?)
    }

    fn cummin<'py>(&self, py: Python<'py>, dim: i64) -> PyResult<Bound<'py, PyAny>> {
        values_indices(py, "cummin", self.t.cummax_cummin::<false>(dim).py()?)
    }

    fn logcumsumexp(&self, dim: i64) -> PyResult<PyTensor> {
        wrap(self.t.logcumsumexp(dim))
    }

    /// `median()` (lower median of all elements) or `median(dim, keepdim)` -> `(values, indices)`.
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn median<'py>(&self, py: Python<'py>, dim: Option<i64>, keepdim: bool) -> PyResult<Bound<'py, PyAny>> {
        match dim {
            None => tensor_obj(py, self.t.median_all(false)),
            Some(d) => values_indices(py, "median", self.t.median_dim(d, keepdim, false).py()?),
        }
    }

    /// `nanmedian`: `median` of the non-NaN elements.
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn nanmedian<'py>(&self, py: Python<'py>, dim: Option<i64>, keepdim: bool) -> PyResult<Bound<'py, PyAny>> {
        match dim {
            None => tensor_obj(py, self.t.median_all(true)),
            Some(d) => values_indices(py, "nanmedian", self.t.median_dim(d, keepdim, true).py()?),
        }
    }

    #[pyo3(signature = (dim=-1, keepdim=false))]
    fn mode<'py>(&self, py: Python<'py>, dim: i64, keepdim: bool) -> PyResult<Bound<'py, PyAny>> {
        values_indices(py, "mode", self.t.mode(dim, keepdim).py()?)
    }

    #[pyo3(signature = (q, dim=None, keepdim=false, *, interpolation="linear"))]
    fn quantile(&self, q: &Bound<'_, PyAny>, dim: Option<i64>, keepdim: bool, interpolation: &str) -> PyResult<PyTensor> {
        quantile(&self.t, q, dim, keepdim, interpolation, false)
    }

    #[pyo3(signature = (q, dim=None, keepdim=false, *, interpolation="linear"))]
    fn nanquantile(&self, q: &Bound<'_, PyAny>, dim: Option<i64>, keepdim: bool, interpolation: &str) -> PyResult<PyTensor> {
        quantile(&self.t, q, dim, keepdim, interpolation, true)
    }
}

/// `var_mean(input, dim, unbiased, keepdim, *, correction)` -> `(var, mean)`.
#[pyfunction]
#[pyo3(signature = (input, dim=None, unbiased=None, keepdim=false, *, correction=None))]
fn var_mean(input: &PyTensor, dim: Option<&Bound<'_, PyAny>>, unbiased: Option<bool>, keepdim: bool, correction: Option<&Bound<'_, PyAny>>) -> PyResult<(PyTensor, PyTensor)> {
    let (dims, c) = variance_args(dim, unbiased, correction)?;
    let (v, m) = input.t.var_mean(dims.as_deref(), c, keepdim).py()?;
    Ok((PyTensor::new(v), PyTensor::new(m)))
}

/// `std_mean(input, dim, unbiased, keepdim, *, correction)` -> `(std, mean)`.
#[pyfunction]
#[pyo3(signature = (input, dim=None, unbiased=None, keepdim=false, *, correction=None))]
fn std_mean(input: &PyTensor, dim: Option<&Bound<'_, PyAny>>, unbiased: Option<bool>, keepdim: bool, correction: Option<&Bound<'_, PyAny>>) -> PyResult<(PyTensor, PyTensor)> {
    let (dims, c) = variance_args(dim, unbiased, correction)?;
    let (s, m) = input.t.std_mean(dims.as_deref(), c, keepdim).py()?;
    Ok((PyTensor::new(s), PyTensor::new(m)))
}

/// Function forms `ferrotorch.name(input, ..., out=None)` of reduction methods: the method
/// does the work, `out=` receives the result.
macro_rules! out_functions {
    ($($name:ident),*) => { paste::paste! {
        mod out_functions {
            use super::*;
            $(
                #[pyfunction]
                #[pyo3(name = "" $name, signature = (input, *args, out=None, **kwargs))]
                pub fn [<$name _function>]<'py>(
                    py: Python<'py>,
                    input: &Bound<'py, PyTensor>,
                    args: &Bound<'py, PyTuple>,
                    out: Option<&Bound<'py, PyTensor>>,
                    kwargs: Option<&Bound<'py, PyDict>>,
                ) -> PyResult<Bound<'py, PyAny>> {
                    let r = input.call_method(stringify!($name), args, kwargs)?;
                    match out {
                        None => Ok(r),
                        Some(_) => {
                            let t = r.cast::<PyTensor>()?.borrow().t.clone();
                            with_out(py, t, out)
                        }
                    }
                }
            )*

            pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
                $( m.add_function(wrap_pyfunction!([<$name _function>], m)?)?; )*
                Ok(())
            }
        }
    }};
}
out_functions!(
    sum, nansum, mean, nanmean, prod, amax, amin, argmax, argmin, all, any, var, std, norm, logsumexp,
    cumsum, cumprod, logcumsumexp, quantile, nanquantile
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    out_functions::register(m)?;
    m.add_function(wrap_pyfunction!(var_mean, m)?)?;
    m.add_function(wrap_pyfunction!(std_mean, m)?)?;
    Ok(())
}
