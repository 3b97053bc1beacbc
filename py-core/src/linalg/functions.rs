//! `ferrotorch.linalg.*`: functions of the `linalg` submodule of `_C`.

use ferrotorch_core::ops::linalg::{self as core, MatrixOrd, QrMode};
use ferrotorch_core::Tensor;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use super::{named_tuple, norm_ord, opt_dims};
use crate::autocast::unless_dtype;
use crate::dtype::opt_dtype;
use crate::error::{to_py, IntoPy};
use crate::tensor::{wrap, PyTensor};

pyo3::create_exception!(linalg, LinAlgError, PyRuntimeError, "A numerical failure of a linear algebra function (a singular or non positive-definite input).");

/// Numerical failures (singular, not positive-definite) raise `LinAlgError`, a `RuntimeError`.
pub fn linalg_result(r: ferrotorch_core::Result<Tensor>) -> PyResult<Tensor> {
    r.map_err(|e| {
        if e.message.contains("singular") || e.message.contains("positive-definite") {
            LinAlgError::new_err(e.message)
        } else {
            to_py(e)
        }
    })
}

#[pyfunction]
#[pyo3(signature = (x, ord=None, dim=None, keepdim=false, *, dtype=None))]
fn vector_norm(x: &PyTensor, ord: Option<&Bound<'_, PyAny>>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    let ord = match norm_ord(ord)? {
        None => 2.0,
        Some(MatrixOrd::P(p)) => p,
        Some(_) => return Err(PyRuntimeError::new_err("linalg.vector_norm: ord must be a number")),
    };
    let (dims, dtype) = (opt_dims(dim)?, opt_dtype(dtype)?);
    wrap(unless_dtype("linalg_vector_norm", &x.t, dtype, |t| core::vector_norm(t, ord, dims.as_deref(), keepdim, dtype)))
}

#[pyfunction]
#[pyo3(signature = (A, ord=None, dim=None, keepdim=false, *, dtype=None))]
#[allow(non_snake_case)]
fn matrix_norm(A: &PyTensor, ord: Option<&Bound<'_, PyAny>>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    let dims = match opt_dims(dim)?.as_deref() {
        None => [-2, -1],
        Some(&[a, b]) => [a, b],
        Some(ds) => return Err(PyRuntimeError::new_err(format!("linalg.matrix_norm: dim must be a 2-tuple. Got {:?}", ds))),
    };
    let (ord, dtype) = (norm_ord(ord)?.unwrap_or(MatrixOrd::Fro), opt_dtype(dtype)?);
    wrap(unless_dtype("linalg_matrix_norm", &A.t, dtype, |t| core::matrix_norm(t, ord, dims, keepdim, dtype)))
}

#[pyfunction]
#[pyo3(signature = (A, ord=None, dim=None, keepdim=false, *, dtype=None))]
#[allow(non_snake_case)]
fn norm(A: &PyTensor, ord: Option<&Bound<'_, PyAny>>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    let (ord, dims, dtype) = (norm_ord(ord)?, opt_dims(dim)?, opt_dtype(dtype)?);
    // PyTorch's linalg.norm runs linalg.matrix_norm (two dims, or none with an order given for
    // a matrix) or linalg.vector_norm, both on autocast's lists.
    let matrix = dims.as_ref().map_or(ord.is_some() && A.t.ndim() == 2, |d| d.len() == 2);
    let name = if matrix { "linalg_matrix_norm" } else { "linalg_vector_norm" };
    wrap(unless_dtype(name, &A.t, dtype, |t| core::norm(t, ord, dims.as_deref(), keepdim, dtype)))
}

#[pyfunction]
#[allow(non_snake_case)]
fn inv(A: &PyTensor) -> PyResult<PyTensor> {
    linalg_result(A.t.linalg_inv()).map(PyTensor::new)
}

#[pyfunction]
#[allow(non_snake_case)]
fn det(A: &PyTensor) -> PyResult<PyTensor> {
    wrap(A.t.linalg_det())
}

#[pyfunction]
#[allow(non_snake_case)]
fn slogdet<'py>(py: Python<'py>, A: &PyTensor) -> PyResult<Bound<'py, PyAny>> {
    let (s, l) = A.t.linalg_slogdet().py()?;
    named_tuple(py, "linalg_slogdet", vec![s, l])
}

#[pyfunction]
#[pyo3(signature = (A, B, *, left=true))]
#[allow(non_snake_case)]
fn solve(A: &PyTensor, B: &PyTensor, left: bool) -> PyResult<PyTensor> {
    linalg_result(A.t.linalg_solve(&B.t, left)).map(PyTensor::new)
}

#[pyfunction]
#[pyo3(signature = (A, *, upper=false))]
#[allow(non_snake_case)]
fn cholesky(A: &PyTensor, upper: bool) -> PyResult<PyTensor> {
    linalg_result(A.t.linalg_cholesky(upper)).map(PyTensor::new)
}

#[pyfunction]
#[pyo3(signature = (A, mode="reduced"))]
#[allow(non_snake_case)]
fn qr<'py>(py: Python<'py>, A: &PyTensor, mode: &str) -> PyResult<Bound<'py, PyAny>> {
    let (q, r) = A.t.linalg_qr(QrMode::parse(mode).py()?).py()?;
    named_tuple(py, "linalg_qr", vec![q, r])
}

#[pyfunction]
#[pyo3(signature = (A, full_matrices=true, *, driver=None))]
#[allow(non_snake_case)]
fn svd<'py>(py: Python<'py>, A: &PyTensor, full_matrices: bool, driver: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
    let _ = driver;
    let (u, s, vh) = A.t.linalg_svd(full_matrices).py()?;
    named_tuple(py, "linalg_svd", vec![u, s, vh])
}

#[pyfunction]
#[pyo3(signature = (A, *, driver=None))]
#[allow(non_snake_case)]
fn svdvals(A: &PyTensor, driver: Option<&str>) -> PyResult<PyTensor> {
    let _ = driver;
    wrap(A.t.linalg_svdvals())
}

#[pyfunction]
#[pyo3(signature = (A, UPLO="L"))]
#[allow(non_snake_case)]
fn eigh<'py>(py: Python<'py>, A: &PyTensor, UPLO: &str) -> PyResult<Bound<'py, PyAny>> {
    let (w, v) = A.t.linalg_eigh(UPLO).py()?;
    named_tuple(py, "linalg_eigh", vec![w, v])
}

#[pyfunction]
#[pyo3(signature = (A, UPLO="L"))]
#[allow(non_snake_case)]
fn eigvalsh(A: &PyTensor, UPLO: &str) -> PyResult<PyTensor> {
    wrap(A.t.linalg_eigvalsh(UPLO))
}

#[pyfunction]
#[pyo3(signature = (A, *, atol=None, rtol=None, hermitian=false))]
#[allow(non_snake_case)]
fn pinv(A: &PyTensor, atol: Option<f64>, rtol: Option<f64>, hermitian: bool) -> PyResult<PyTensor> {
    let _ = hermitian;
    wrap(A.t.linalg_pinv(atol, rtol))
}

#[pyfunction]
#[pyo3(signature = (A, *, atol=None, rtol=None, hermitian=false))]
#[allow(non_snake_case)]
fn matrix_rank(A: &PyTensor, atol: Option<f64>, rtol: Option<f64>, hermitian: bool) -> PyResult<PyTensor> {
    let _ = hermitian;
    wrap(A.t.linalg_matrix_rank(atol, rtol))
}

#[pyfunction]
#[pyo3(signature = (A, B, rcond=None, *, driver=None))]
#[allow(non_snake_case)]
fn lstsq<'py>(py: Python<'py>, A: &PyTensor, B: &PyTensor, rcond: Option<f64>, driver: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
    let (x, res, rank, sv) = A.t.linalg_lstsq(&B.t, rcond, driver).py()?;
    named_tuple(py, "linalg_lstsq", vec![x, res, rank, sv])
}

#[pyfunction]
fn matmul(input: &PyTensor, other: &PyTensor) -> PyResult<PyTensor> {
    wrap(input.t.matmul(&other.t))
}

#[pyfunction]
#[pyo3(signature = (x, y, *, dim=-1))]
fn vecdot(x: &PyTensor, y: &PyTensor, dim: i64) -> PyResult<PyTensor> {
    wrap(x.t.vecdot(&y.t, dim))
}

#[pyfunction]
#[allow(non_snake_case)]
fn matrix_power(A: &PyTensor, n: i64) -> PyResult<PyTensor> {
    linalg_result(A.t.matrix_power(n)).map(PyTensor::new)
}

#[pyfunction]
#[pyo3(signature = (A, *, offset=0, dim1=-2, dim2=-1))]
#[allow(non_snake_case)]
fn diagonal(A: &PyTensor, offset: i64, dim1: i64, dim2: i64) -> PyResult<PyTensor> {
    wrap(A.t.diagonal(offset, dim1, dim2))
}

/// `multi_dot(tensors)`: a chain of matrix products; the first and last may be vectors.
#[pyfunction]
fn multi_dot(tensors: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let ts: Vec<Tensor> = tensors.try_iter()?.map(|t| crate::convert::tensor_arg(&t?, "multi_dot()")).collect::<PyResult<_>>()?;
    if ts.len() < 2 {
        return Err(PyRuntimeError::new_err(format!("multi_dot(): expected at least 2 tensors but got {}", ts.len())));
    }
    for (i, t) in ts.iter().enumerate() {
        let edge = i == 0 || i == ts.len() - 1;
        if t.ndim() != 2 && !(edge && t.ndim() == 1) {
            return Err(PyRuntimeError::new_err(format!("multi_dot(): tensor {} must be 2D but got {}D", i, t.ndim())));
        }
    }
    wrap(ferrotorch_core::autocast::apply("linalg_multi_dot", &ts.iter().collect::<Vec<_>>(), |ts| {
        ts[1..].iter().try_fold(ts[0].clone(), |acc, t| acc.matmul(t))
    }))
}

/// Adds the `linalg` functions and `LinAlgError` to the submodule.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("LinAlgError", m.py().get_type::<LinAlgError>())?;
    m.add_function(wrap_pyfunction!(vector_norm, m)?)?;
    m.add_function(wrap_pyfunction!(matrix_norm, m)?)?;
    m.add_function(wrap_pyfunction!(norm, m)?)?;
    m.add_function(wrap_pyfunction!(inv, m)?)?;
    m.add_function(wrap_pyfunction!(det, m)?)?;
    m.add_function(wrap_pyfunction!(slogdet, m)?)?;
    m.add_function(wrap_pyfunction!(solve, m)?)?;
    m.add_function(wrap_pyfunction!(cholesky, m)?)?;
    m.add_function(wrap_pyfunction!(qr, m)?)?;
    m.add_function(wrap_pyfunction!(svd, m)?)?;
    m.add_function(wrap_pyfunction!(svdvals, m)?)?;
    m.add_function(wrap_pyfunction!(eigh, m)?)?;
    m.add_function(wrap_pyfunction!(eigvalsh, m)?)?;
    m.add_function(wrap_pyfunction!(pinv, m)?)?;
    m.add_function(wrap_pyfunction!(matrix_rank, m)?)?;
    m.add_function(wrap_pyfunction!(lstsq, m)?)?;
    m.add_function(wrap_pyfunction!(matmul, m)?)?;
    m.add_function(wrap_pyfunction!(vecdot, m)?)?;
    m.add_function(wrap_pyfunction!(matrix_power, m)?)?;
    m.add_function(wrap_pyfunction!(diagonal, m)?)?;
    m.add_function(wrap_pyfunction!(multi_dot, m)?)?;
    Ok(())
}
