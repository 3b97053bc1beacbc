//! Matrix products and decompositions: Tensor methods (`mm`, `@`, `addmm`, `det`, ...), the
//! `einsum`/`tensordot` functions, and the `ferrotorch._C.linalg` submodule.

mod functions;

use ferrotorch_core::autocast;
use ferrotorch_core::ops::linalg::{matrix_norm, vector_norm, MatrixOrd, QrMode};
use ferrotorch_core::ops::matmul::{einsum, tensordot};
use ferrotorch_core::{Scalar, Tensor};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use crate::autocast::unless_dtype;
use crate::dtype::opt_dtype;
use crate::elementwise::assign_inplace;
use crate::error::IntoPy;
use crate::tensor::{int_list, scalar, wrap, PyTensor};

/// A `beta=`/`alpha=` argument (default 1).
fn coefficient(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Scalar> {
    obj.map_or(Ok(Scalar::Int(1)), scalar)
}

/// Builds PyTorch's named result tuples (`torch.return_types.qr(Q=..., R=...)`).
pub(crate) fn named_tuple<'py>(py: Python<'py>, name: &str, values: Vec<Tensor>) -> PyResult<Bound<'py, PyAny>> {
    crate::return_types::tensors(py, name, values)
}

/// A norm order: a number (inf included) or `'fro'`/`'nuc'`; `None` stays `None`.
pub(crate) fn norm_ord(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<MatrixOrd>> {
    let Some(o) = obj.filter(|o| !o.is_none()) else { return Ok(None) };
    if let Ok(s) = o.cast::<PyString>() {
        return match s.to_str()? {
            "fro" => Ok(Some(MatrixOrd::Fro)),
            "nuc" => Ok(Some(MatrixOrd::Nuc)),
            other => Err(pyo3::exceptions::PyRuntimeError::new_err(format!("linalg.matrix_norm: Order {} not supported.", other))),
        };
    }
    Ok(Some(MatrixOrd::P(scalar(o)?.to_f64())))
}

/// A `dim=` argument: `None`, an int or a sequence of ints.
pub(crate) fn opt_dims(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<i64>>> {
    obj.filter(|o| !o.is_none()).map(int_list).transpose()
}

/// Converts `einsum`'s sublist form (`op, [0, 1], op, [1, 2], [0, 2]`) to an equation.
fn sublist_equation(args: &Bound<'_, PyTuple>) -> PyResult<(String, Vec<Tensor>)> {
    let letters = |list: &Bound<'_, PyAny>| -> PyResult<String> {
        let mut s = String::new();
        for item in list.try_iter()? {
            let item = item?;
            if item.is(&item.py().Ellipsis()) {
                s.push_str("...");
                continue;
            }
            let i: i64 = item.extract()?;
            s.push(match i {
                0..=25 => (b'A' + i as u8) as char,
                26..=51 => (b'a' + (i - 26) as u8) as char,
                _ => return Err(pyo3::exceptions::PyRuntimeError::new_err("einsum(): subscript in subscript list is not within the valid range [0, 52)")),
            });
        }
        Ok(s)
    };
    let items: Vec<Bound<'_, PyAny>> = args.iter().collect();
    let mut terms = Vec::new();
    let mut ops = Vec::new();
    let mut i = 0;
    while i + 1 < items.len() {
        ops.push(crate::convert::tensor_arg(&items[i], "einsum()")?);
        terms.push(letters(&items[i + 1])?);
        i += 2;
    }
    let mut eq = terms.join(",");
    if i < items.len() {
        eq.push_str("->");
        eq.push_str(&letters(&items[i])?);
    }
    Ok((eq, ops))
}

/// `einsum(equation, *operands)`, `einsum(equation, [operands])` or the sublist form.
#[pyfunction]
#[pyo3(name = "einsum", signature = (*args))]
fn einsum_fn(args: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
    if args.is_empty() {
        return Err(PyTypeError::new_err("einsum(): must specify the equation string and at least one operand, or at least one operand and its subscripts list"));
    }
    let first = args.get_item(0)?;
    let Ok(eq) = first.extract::<String>() else {
        let (eq, ops) = sublist_equation(args)?;
        return wrap(autocast_einsum(&eq, &ops));
    };
    let rest: Vec<Bound<'_, PyAny>> = args.iter().skip(1).collect();
    let ops: Vec<Tensor> = if rest.len() == 1 && rest[0].cast::<PyTensor>().is_err() {
        rest[0].try_iter()?.map(|o| crate::convert::tensor_arg(&o?, "einsum()")).collect::<PyResult<_>>()?
    } else {
        rest.iter().map(|o| crate::convert::tensor_arg(o, "einsum()")).collect::<PyResult<_>>()?
    };
    wrap(autocast_einsum(&eq, &ops))
}

/// `einsum` under autocast's hook.
fn autocast_einsum(eq: &str, ops: &[Tensor]) -> ferrotorch_core::Result<Tensor> {
    autocast::apply("einsum", &ops.iter().collect::<Vec<_>>(), |cast| einsum(eq, cast))
}

/// `tensordot(a, b, dims=2)`: `dims` is a count of trailing/leading dims or two dim lists.
#[pyfunction]
#[pyo3(name = "tensordot", signature = (a, b, dims=None, out=None))]
fn tensordot_fn<'py>(py: Python<'py>, a: &PyTensor, b: &PyTensor, dims: Option<&Bound<'py, PyAny>>, out: Option<&Bound<'py, PyTensor>>) -> PyResult<Bound<'py, PyAny>> {
    let (da, db): (Vec<i64>, Vec<i64>) = match dims {
        None => trailing_leading(&a.t, 2)?,
        Some(d) => {
            if let Ok(n) = crate::tensor::index(d) {
                trailing_leading(&a.t, n)?
            } else {
                let parts: Vec<Bound<'py, PyAny>> = d.try_iter()?.collect::<PyResult<_>>()?;
                if parts.len() != 2 {
                    return Err(pyo3::exceptions::PyRuntimeError::new_err("tensordot expects dims to be a pair of lists of dims"));
                }
                (int_list(&parts[0])?, int_list(&parts[1])?)
            }
        }
    };
    crate::elementwise::with_out(py, tensordot(&a.t, &b.t, &da, &db).py()?, out)
}

fn trailing_leading(a: &Tensor, n: i64) -> PyResult<(Vec<i64>, Vec<i64>)> {
    if n < 0 {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(format!("tensordot expects dims >= 0, but got dims={}", n)));
    }
    if n as usize > a.ndim() {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "tensordot expects dims < ndim_a or ndim_b, but got dims={}",
            n
        )));
    }
    let nd = a.ndim() as i64;
    Ok(((nd - n..nd).collect(), (0..n).collect()))
}

#[pymethods]
impl PyTensor {
    fn mm(&self, mat2: &PyTensor) -> PyResult<PyTensor> {
        wrap(self.t.mm(&mat2.t))
    }

    fn bmm(&self, mat2: &PyTensor) -> PyResult<PyTensor> {
        wrap(self.t.bmm(&mat2.t))
    }

    fn mv(&self, vec: &PyTensor) -> PyResult<PyTensor> {
        wrap(autocast::apply("mv", &[&self.t, &vec.t], |t| t[0].mv(&t[1])))
    }

    fn dot(&self, other: &PyTensor) -> PyResult<PyTensor> {
        wrap(autocast::apply("dot", &[&self.t, &other.t], |t| t[0].dot(&t[1])))
    }

    fn vdot(&self, other: &PyTensor) -> PyResult<PyTensor> {
        wrap(autocast::apply("vdot", &[&self.t, &other.t], |t| t[0].vdot(&t[1])))
    }

    fn matmul(&self, other: &PyTensor) -> PyResult<PyTensor> {
        wrap(self.t.matmul(&other.t))
    }

    fn __matmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match other.cast::<PyTensor>() {
            Ok(o) => Ok(Py::new(py, wrap(self.t.matmul(&o.borrow().t))?)?.into_any()),
            Err(_) => Ok(py.NotImplemented()),
        }
    }

    fn __rmatmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match other.cast::<PyTensor>() {
            Ok(o) => Ok(Py::new(py, wrap(o.borrow().t.matmul(&self.t))?)?.into_any()),
            Err(_) => Ok(py.NotImplemented()),
        }
    }

    #[pyo3(signature = (mat1, mat2, *, beta=None, alpha=None))]
    fn addmm(&self, mat1: &PyTensor, mat2: &PyTensor, beta: Option<&Bound<'_, PyAny>>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        wrap(self.t.addmm(&mat1.t, &mat2.t, coefficient(beta)?, coefficient(alpha)?))
    }

    #[pyo3(signature = (mat1, mat2, *, beta=None, alpha=None))]
    fn addmm_<'py>(slf: &Bound<'py, Self>, mat1: &PyTensor, mat2: &PyTensor, beta: Option<&Bound<'py, PyAny>>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &[mat1.t.clone(), mat2.t.clone()], |t| t.addmm(&mat1.t, &mat2.t, coefficient(beta)?, coefficient(alpha)?).py())
    }

    #[pyo3(signature = (mat, vec, *, beta=None, alpha=None))]
    fn addmv(&self, mat: &PyTensor, vec: &PyTensor, beta: Option<&Bound<'_, PyAny>>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let (beta, alpha) = (coefficient(beta)?, coefficient(alpha)?);
        wrap(autocast::apply("addmv", &[&self.t, &mat.t, &vec.t], |t| t[0].addmv(&t[1], &t[2], beta, alpha)))
    }

    #[pyo3(signature = (mat, vec, *, beta=None, alpha=None))]
    fn addmv_<'py>(slf: &Bound<'py, Self>, mat: &PyTensor, vec: &PyTensor, beta: Option<&Bound<'py, PyAny>>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &[mat.t.clone(), vec.t.clone()], |t| t.addmv(&mat.t, &vec.t, coefficient(beta)?, coefficient(alpha)?).py())
    }

    #[pyo3(signature = (vec1, vec2, *, beta=None, alpha=None))]
    fn addr(&self, vec1: &PyTensor, vec2: &PyTensor, beta: Option<&Bound<'_, PyAny>>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let (beta, alpha) = (coefficient(beta)?, coefficient(alpha)?);
        wrap(autocast::apply("addr", &[&self.t, &vec1.t, &vec2.t], |t| t[0].addr(&t[1], &t[2], beta, alpha)))
    }

    #[pyo3(signature = (vec1, vec2, *, beta=None, alpha=None))]
    fn addr_<'py>(slf: &Bound<'py, Self>, vec1: &PyTensor, vec2: &PyTensor, beta: Option<&Bound<'py, PyAny>>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &[vec1.t.clone(), vec2.t.clone()], |t| t.addr(&vec1.t, &vec2.t, coefficient(beta)?, coefficient(alpha)?).py())
    }

    #[pyo3(signature = (batch1, batch2, *, beta=None, alpha=None))]
    fn baddbmm(&self, batch1: &PyTensor, batch2: &PyTensor, beta: Option<&Bound<'_, PyAny>>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        wrap(self.t.baddbmm(&batch1.t, &batch2.t, coefficient(beta)?, coefficient(alpha)?))
    }

    #[pyo3(signature = (batch1, batch2, *, beta=None, alpha=None))]
    fn baddbmm_<'py>(slf: &Bound<'py, Self>, batch1: &PyTensor, batch2: &PyTensor, beta: Option<&Bound<'py, PyAny>>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &[batch1.t.clone(), batch2.t.clone()], |t| t.baddbmm(&batch1.t, &batch2.t, coefficient(beta)?, coefficient(alpha)?).py())
    }

    #[pyo3(signature = (batch1, batch2, *, beta=None, alpha=None))]
    fn addbmm(&self, batch1: &PyTensor, batch2: &PyTensor, beta: Option<&Bound<'_, PyAny>>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        wrap(self.t.addbmm(&batch1.t, &batch2.t, coefficient(beta)?, coefficient(alpha)?))
    }

    #[pyo3(signature = (batch1, batch2, *, beta=None, alpha=None))]
    fn addbmm_<'py>(slf: &Bound<'py, Self>, batch1: &PyTensor, batch2: &PyTensor, beta: Option<&Bound<'py, PyAny>>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &[batch1.t.clone(), batch2.t.clone()], |t| t.addbmm(&batch1.t, &batch2.t, coefficient(beta)?, coefficient(alpha)?).py())
    }

    fn outer(&self, vec2: &PyTensor) -> PyResult<PyTensor> {
        wrap(self.t.outer(&vec2.t))
    }

    fn ger(&self, vec2: &PyTensor) -> PyResult<PyTensor> {
        wrap(self.t.outer(&vec2.t))
    }

    fn inner(&self, other: &PyTensor) -> PyResult<PyTensor> {
        wrap(self.t.inner(&other.t))
    }

    fn kron(&self, other: &PyTensor) -> PyResult<PyTensor> {
        wrap(self.t.kron(&other.t))
    }

    fn trace(&self) -> PyResult<PyTensor> {
        wrap(self.t.trace())
    }

    #[pyo3(signature = (offset=0, dim1=0, dim2=1))]
    fn diagonal(&self, offset: i64, dim1: i64, dim2: i64) -> PyResult<PyTensor> {
        wrap(self.t.diagonal(offset, dim1, dim2))
    }

    fn matrix_power(&self, n: i64) -> PyResult<PyTensor> {
        wrap(self.t.matrix_power(n))
    }

    fn det(&self) -> PyResult<PyTensor> {
        wrap(self.t.linalg_det())
    }

    /// `logdet()`: `log(det)`, NaN for a negative determinant, -inf for a singular matrix.
    fn logdet(&self) -> PyResult<PyTensor> {
        let (sign, log) = self.t.linalg_slogdet().py()?;
        let nan = Tensor::scalar(Scalar::Float(f64::NAN), log.dtype());
        let negative = sign.binary(ferrotorch_core::ops::binary::BinaryOp::Lt, &Scalar::Int(0).into()).py()?;
        wrap(ferrotorch_core::ops::binary::where_(&negative, &nan.into(), &log.into()))
    }

    fn slogdet<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (s, l) = self.t.linalg_slogdet().py()?;
        named_tuple(py, "slogdet", vec![s, l])
    }

    fn inverse(&self) -> PyResult<PyTensor> {
        functions::linalg_result(self.t.linalg_inv()).map(PyTensor::new)
    }

    #[pyo3(signature = (upper=false))]
    fn cholesky(&self, upper: bool) -> PyResult<PyTensor> {
        functions::linalg_result(self.t.linalg_cholesky(upper)).map(PyTensor::new)
    }

    /// The deprecated `qr(some=True)`.
    #[pyo3(signature = (some=true))]
    fn qr<'py>(&self, py: Python<'py>, some: bool) -> PyResult<Bound<'py, PyAny>> {
        let (q, r) = self.t.linalg_qr(if some { QrMode::Reduced } else { QrMode::Complete }).py()?;
        named_tuple(py, "qr", vec![q, r])
    }

    /// The deprecated `svd(some=True, compute_uv=True)`: returns `V`, not `Vh`.
    #[pyo3(signature = (some=true, compute_uv=true))]
    fn svd<'py>(&self, py: Python<'py>, some: bool, compute_uv: bool) -> PyResult<Bound<'py, PyAny>> {
        let (u, s, vh) = self.t.linalg_svd(!some || !compute_uv).py()?;
        let v = vh.mt().py()?;
        let (u, v) = if compute_uv { (u, v) } else { (Tensor::zeros(u.shape(), u.dtype()).py()?, Tensor::zeros(v.shape(), v.dtype()).py()?) };
        named_tuple(py, "svd", vec![u, s, v])
    }

    #[pyo3(signature = (rcond=1e-15))]
    fn pinverse(&self, rcond: f64) -> PyResult<PyTensor> {
        wrap(self.t.linalg_pinv(None, Some(rcond)))
    }

    /// `torch.norm(input, p='fro', dim=None, keepdim=False, dtype=None)`: numbers are vector
    /// norms over `dim` (all dims by default), `'fro'` is the 2-norm, `'nuc'` a matrix norm.
    #[pyo3(signature = (p=None, dim=None, keepdim=false, dtype=None))]
    fn norm(&self, p: Option<&Bound<'_, PyAny>>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let dims = opt_dims(dim)?;
        let dtype = opt_dtype(dtype)?;
        let ord = norm_ord(p)?.unwrap_or(MatrixOrd::Fro);
        let nuclear = match (&ord, dims.as_deref()) {
            (MatrixOrd::Nuc, None) => Some([-2, -1]),
            (MatrixOrd::Nuc, Some(&[a, b])) => Some([a, b]),
            (MatrixOrd::Nuc, Some(_)) => return Err(pyo3::exceptions::PyRuntimeError::new_err("nuclear norm requires a 2-D dim")),
            _ => None,
        };
        // PyTorch's `norm` computes in float32 under CUDA autocast (`fp32_append_dtype`).
        wrap(unless_dtype("norm", &self.t, dtype, |t| match (&ord, nuclear) {
            (_, Some(d)) => matrix_norm(t, MatrixOrd::Nuc, d, keepdim, dtype),
            (MatrixOrd::P(p), None) => vector_norm(t, *p, dims.as_deref(), keepdim, dtype),
            _ => vector_norm(t, 2.0, dims.as_deref(), keepdim, dtype),
        }))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(einsum_fn, m)?)?;
    m.add_function(wrap_pyfunction!(tensordot_fn, m)?)?;
    let sub = PyModule::new(m.py(), "linalg")?;
    functions::register(&sub)?;
    m.add_submodule(&sub)?;
    Ok(())
}
