//! Element-wise ops: methods, in-place `_` variants, module functions and operators, generated
//! from the core's op tables.

use ferrotorch_core::ops::binary::{binary, where_, BinaryOp, Operand};
use ferrotorch_core::autocast;
use ferrotorch_core::ops::unary::{FloatUnaryOp, NumericUnaryOp};
use ferrotorch_core::{Scalar, Tensor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;

use crate::error::IntoPy;
use crate::tensor::{scalar, wrap, PyTensor};

/// Reads a tensor or a Python number; `None` for anything else.
pub fn operand(obj: &Bound<'_, PyAny>) -> Option<Operand> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Some(Operand::Tensor(t.borrow().t.clone()));
    }
    scalar(obj).ok().map(Operand::Scalar)
}

fn operand_arg(obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Operand> {
    operand(obj).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "{}(): argument 'other' must be Tensor or Number, not {}",
            op,
            obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
        ))
    })
}

/// Runs an in-place op: `f` computes the new value from the tensor it is given (the tensor
/// itself, or a copy when autograd records history); `others` are the tensors `f` reads.
/// The core checks that the result's dtype casts into `slf`'s.
pub fn assign_inplace<'py>(slf: &Bound<'py, PyTensor>, others: &[Tensor], f: impl Fn(&Tensor) -> PyResult<Tensor>) -> PyResult<Bound<'py, PyTensor>> {
    let t = slf.borrow().t.clone();
    let others: Vec<&Tensor> = others.iter().collect();
    ferrotorch_core::autograd::inplace(&t, &others, |x| f(x).map_err(crate::error::stash)).py()?;
    Ok(slf.clone())
}

/// The tensors among optional Python arguments (what an in-place op reads besides `self`).
pub fn tensor_args(objs: &[Option<&Bound<'_, PyAny>>]) -> Vec<Tensor> {
    objs.iter().flatten().filter_map(|o| o.cast::<PyTensor>().ok().map(|t| t.borrow().t.clone())).collect()
}

/// Stores a result into an `out=` tensor (resizing it when its shape differs), or returns it.
pub fn with_out<'py>(py: Python<'py>, r: Tensor, out: Option<&Bound<'py, PyTensor>>) -> PyResult<Bound<'py, PyAny>> {
    if out.is_some() && (r.requires_grad() || out.is_some_and(|o| o.borrow().t.requires_grad())) && ferrotorch_core::autograd::is_grad_enabled() {
        return Err(PyRuntimeError::new_err(
            "out=... arguments don't support automatic differentiation, but one of the arguments requires grad.",
        ));
    }
    match out {
        None => Ok(Bound::new(py, PyTensor::new(r))?.into_any()),
        Some(o) => {
            let same_shape = o.borrow().t.shape() == r.shape();
            if same_shape {
                o.borrow().t.copy_(&r).py()?;
            } else {
                let d = o.borrow().t.dtype();
                o.borrow_mut().t = r.to_dtype(d).py()?;
            }
            Ok(o.clone().into_any())
        }
    }
}

/// `add`/`sub` take `alpha` (scaling `other`); `div` takes `rounding_mode`.
fn prepare(op: BinaryOp, other: Operand, alpha: Option<&Bound<'_, PyAny>>, rounding_mode: Option<&str>) -> PyResult<(BinaryOp, Operand)> {
    let mut op = op;
    let mut other = other;
    if let Some(a) = alpha {
        if !matches!(op, BinaryOp::Add | BinaryOp::Sub) {
            return Err(PyTypeError::new_err(format!("{}() got an unexpected keyword argument 'alpha'", op.name())));
        }
        let a = scalar(a)?;
        if a != Scalar::Int(1) {
            other = Operand::Tensor(binary(&other, BinaryOp::Mul, &Operand::Scalar(a)).py()?);
        }
    }
    if let Some(mode) = rounding_mode {
        if op != BinaryOp::Div {
            return Err(PyTypeError::new_err(format!("{}() got an unexpected keyword argument 'rounding_mode'", op.name())));
        }
        op = match mode {
            "floor" => BinaryOp::FloorDivide,
            _ => {
                return Err(PyRuntimeError::new_err(format!(
                    "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{}'",
                    mode
                )))
            }
        };
    }
    Ok((op, other))
}

/// `op(lhs, rhs)` including `div(rounding_mode='trunc')`; through autocast's hook when `hooked`
/// (not for `out=` and in-place forms, which PyTorch's autocast leaves alone).
fn run_binary(lhs: &Operand, op: BinaryOp, rhs: Operand, alpha: Option<&Bound<'_, PyAny>>, rounding_mode: Option<&str>, hooked: bool) -> PyResult<Tensor> {
    if rounding_mode == Some("trunc") && op == BinaryOp::Div {
        return trunc_div(lhs, &rhs);
    }
    let (op, rhs) = prepare(op, rhs, alpha, rounding_mode)?;
    if hooked { autocast_binary(lhs, op, &rhs) } else { binary(lhs, op, &rhs) }.py()
}

/// `binary` under autocast's hook (`pow` and `atan2` are on its CUDA lists).
fn autocast_binary(lhs: &Operand, op: BinaryOp, rhs: &Operand) -> ferrotorch_core::Result<Tensor> {
    if !autocast::any_active() {
        return binary(lhs, op, rhs); // the common case, without the operands' copies
    }
    autocast::apply_operands(op.name(), [lhs, rhs], |[l, r]| binary(&l, op, &r))
}

/// `div(a, b, rounding_mode='trunc')`: integer inputs stay integers.
fn trunc_div(lhs: &Operand, rhs: &Operand) -> PyResult<Tensor> {
    let q = binary(lhs, BinaryOp::Div, rhs).py()?;
    let promoted = binary(lhs, BinaryOp::Add, rhs).py()?.dtype();
    if promoted.is_float() {
        return q.numeric_unary(NumericUnaryOp::Trunc).py();
    }
    // Exact integer truncation: floor division corrected towards zero.
    let f = binary(lhs, BinaryOp::FloorDivide, rhs).py()?;
    let r = binary(lhs, BinaryOp::Remainder, rhs).py()?;
    let neg_q = q.binary(BinaryOp::Lt, &Operand::Scalar(Scalar::Int(0))).py()?;
    let inexact = r.binary(BinaryOp::Ne, &Operand::Scalar(Scalar::Int(0))).py()?;
    let fix = neg_q.binary(BinaryOp::LogicalAnd, &Operand::Tensor(inexact)).py()?;
    f.binary(BinaryOp::Add, &Operand::Tensor(fix.to_dtype(f.dtype()).py()?)).py()
}

macro_rules! bind_unary {
    ($Op:ident, $method:ident, $mod_name:ident; $($variant:ident $name:ident |$x:ident| $body:expr;)*) => { paste::paste! {
        #[pymethods]
        impl PyTensor {
            $(
                fn $name(&self) -> PyResult<PyTensor> {
                    wrap(autocast::apply(stringify!($name), &[&self.t], |t| t[0].$method($Op::$variant)))
                }

                fn [<$name _>]<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
                    assign_inplace(slf, &[], |t| t.$method($Op::$variant).py())
                }
            )*
        }

        /// Module-level functions (`ferrotorch.exp(t)`).
        pub mod $mod_name {
            use super::*;
            $(
                #[pyfunction]
                #[pyo3(signature = (input, *, out=None))]
                pub fn $name<'py>(py: Python<'py>, input: &PyTensor, out: Option<&Bound<'py, PyTensor>>) -> PyResult<Bound<'py, PyAny>> {
                    // As in PyTorch, autocast casts no `out=` form.
                    let r = match out {
                        None => autocast::apply(stringify!($name), &[&input.t], |t| t[0].$method($Op::$variant)),
                        Some(_) => input.t.$method($Op::$variant),
                    };
                    with_out(py, r.py()?, out)
                }
            )*

            pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
                $( m.add_function(wrap_pyfunction!($name, m)?)?; )*
                Ok(())
            }
        }
    }};
}

macro_rules! bind_float_unary {
    ($($t:tt)*) => { bind_unary!(FloatUnaryOp, float_unary, float_unary_functions; $($t)*); };
}
macro_rules! bind_numeric_unary {
    ($($t:tt)*) => { bind_unary!(NumericUnaryOp, numeric_unary, numeric_unary_functions; $($t)*); };
}
ferrotorch_core::for_each_float_unary_op!(bind_float_unary);
ferrotorch_core::for_each_numeric_unary_op!(bind_numeric_unary);

macro_rules! bind_binary {
    ($($variant:ident $name:ident $kind:ident |$a:ident, $b:ident| $body:expr;)*) => { paste::paste! {
        #[pymethods]
        impl PyTensor {
            $(
                #[pyo3(signature = (other, *, alpha=None, rounding_mode=None))]
                fn $name(&self, other: &Bound<'_, PyAny>, alpha: Option<&Bound<'_, PyAny>>, rounding_mode: Option<&str>) -> PyResult<PyTensor> {
                    let rhs = operand_arg(other, stringify!($name))?;
                    run_binary(&Operand::Tensor(self.t.clone()), BinaryOp::$variant, rhs, alpha, rounding_mode, true).map(PyTensor::new)
                }

                #[pyo3(signature = (other, *, alpha=None, rounding_mode=None))]
                fn [<$name _>]<'py>(slf: &Bound<'py, Self>, other: &Bound<'py, PyAny>, alpha: Option<&Bound<'py, PyAny>>, rounding_mode: Option<&str>) -> PyResult<Bound<'py, Self>> {
                    let rhs = operand_arg(other, stringify!($name))?;
                    if rounding_mode != Some("trunc") {
                        // Written straight into `self` where possible (no temporary result).
                        let (op, rhs) = prepare(BinaryOp::$variant, rhs, alpha, rounding_mode)?;
                        slf.borrow().t.binary_(op, &rhs).py()?;
                        return Ok(slf.clone());
                    }
                    let others: Vec<Tensor> = rhs.tensor().into_iter().cloned().collect();
                    assign_inplace(slf, &others, |t| run_binary(&Operand::Tensor(t.clone()), BinaryOp::$variant, rhs.clone(), alpha, rounding_mode, false))
                }
            )*
        }

        /// Module-level functions (`ferrotorch.add(a, b)`).
        pub mod binary_functions {
            use super::*;
            $(
                #[pyfunction]
                #[pyo3(signature = (input, other, *, alpha=None, rounding_mode=None, out=None))]
                pub fn $name<'py>(
                    py: Python<'py>,
                    input: &Bound<'py, PyAny>,
                    other: &Bound<'py, PyAny>,
                    alpha: Option<&Bound<'py, PyAny>>,
                    rounding_mode: Option<&str>,
                    out: Option<&Bound<'py, PyTensor>>,
                ) -> PyResult<Bound<'py, PyAny>> {
                    let lhs = operand_arg(input, stringify!($name))?;
                    let rhs = operand_arg(other, stringify!($name))?;
                    with_out(py, run_binary(&lhs, BinaryOp::$variant, rhs, alpha, rounding_mode, out.is_none())?, out)
                }
            )*

            pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
                $( m.add_function(wrap_pyfunction!($name, m)?)?; )*
                Ok(())
            }
        }
    }};
}
ferrotorch_core::for_each_binary_op!(bind_binary);

/// `a OP b` for an operator: `NotImplemented` when `other` is neither tensor nor number.
fn operator(py: Python<'_>, lhs: Operand, op: BinaryOp, rhs: &Bound<'_, PyAny>, reflected: bool) -> PyResult<Py<PyAny>> {
    let Some(rhs) = operand(rhs) else {
        return Ok(py.NotImplemented());
    };
    let r = if reflected { autocast_binary(&rhs, op, &lhs) } else { autocast_binary(&lhs, op, &rhs) }.py()?;
    Ok(Py::new(py, PyTensor::new(r))?.into_any())
}

fn inplace_operator<'py>(slf: &Bound<'py, PyTensor>, op: BinaryOp, rhs: &Bound<'py, PyAny>) -> PyResult<()> {
    let rhs = operand_arg(rhs, op.name())?;
    slf.borrow().t.binary_(op, &rhs).py()
}

macro_rules! operators {
    ($($op:ident $variant:ident),*) => { paste::paste! {
        #[pymethods]
        impl PyTensor {
            $(
                fn [<__ $op __>](&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                    operator(py, Operand::Tensor(self.t.clone()), BinaryOp::$variant, other, false)
                }
                fn [<__r $op __>](&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                    operator(py, Operand::Tensor(self.t.clone()), BinaryOp::$variant, other, true)
                }
                fn [<__i $op __>](slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<()> {
                    inplace_operator(slf, BinaryOp::$variant, other)
                }
            )*
        }
    }};
}
operators!(add Add, sub Sub, mul Mul, truediv Div, floordiv FloorDivide, mod Remainder, and BitwiseAnd, or BitwiseOr, xor BitwiseXor, lshift BitwiseLeftShift, rshift BitwiseRightShift);

#[pymethods]
impl PyTensor {
    fn __pow__(&self, py: Python<'_>, other: &Bound<'_, PyAny>, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = modulo;
        operator(py, Operand::Tensor(self.t.clone()), BinaryOp::Pow, other, false)
    }

    fn __rpow__(&self, py: Python<'_>, other: &Bound<'_, PyAny>, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = modulo;
        operator(py, Operand::Tensor(self.t.clone()), BinaryOp::Pow, other, true)
    }

    fn __ipow__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let _ = modulo;
        inplace_operator(slf, BinaryOp::Pow, other)
    }

    fn __richcmp__(&self, py: Python<'_>, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let variant = match op {
            CompareOp::Eq => BinaryOp::Eq,
            CompareOp::Ne => BinaryOp::Ne,
            CompareOp::Lt => BinaryOp::Lt,
            CompareOp::Le => BinaryOp::Le,
            CompareOp::Gt => BinaryOp::Gt,
            CompareOp::Ge => BinaryOp::Ge,
        };
        operator(py, Operand::Tensor(self.t.clone()), variant, other, false)
    }

    fn __neg__(&self) -> PyResult<PyTensor> {
        wrap(self.t.numeric_unary(NumericUnaryOp::Neg))
    }

    fn __pos__(&self) -> PyTensor {
        PyTensor::new(self.t.clone())
    }

    fn __abs__(&self) -> PyResult<PyTensor> {
        wrap(self.t.numeric_unary(NumericUnaryOp::Abs))
    }

    fn __invert__(&self) -> PyResult<PyTensor> {
        wrap(self.t.bitwise_not())
    }

    fn bitwise_not(&self) -> PyResult<PyTensor> {
        wrap(self.t.bitwise_not())
    }

    fn logical_not(&self) -> PyResult<PyTensor> {
        wrap(self.t.logical_not())
    }

    fn frac(&self) -> PyResult<PyTensor> {
        wrap(self.t.frac())
    }

    #[pyo3(signature = (decimals=0))]
    fn round(&self, decimals: i64) -> PyResult<PyTensor> {
        wrap(self.t.round_decimals(decimals))
    }

    #[pyo3(signature = (decimals=0))]
    fn round_<'py>(slf: &Bound<'py, Self>, decimals: i64) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &[], |t| t.round_decimals(decimals).py())
    }

    #[pyo3(signature = (eps=None))]
    fn logit(&self, eps: Option<f64>) -> PyResult<PyTensor> {
        wrap(self.t.logit(eps))
    }

    #[pyo3(signature = (nan=0.0, posinf=None, neginf=None))]
    fn nan_to_num(&self, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> PyResult<PyTensor> {
        wrap(self.t.nan_to_num(nan, posinf, neginf))
    }

    #[pyo3(signature = (nan=0.0, posinf=None, neginf=None))]
    fn nan_to_num_<'py>(slf: &Bound<'py, Self>, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &[], |t| t.nan_to_num(nan, posinf, neginf).py())
    }

    fn isnan(&self) -> PyResult<PyTensor> {
        wrap(self.t.float_test("isnan"))
    }
    fn isinf(&self) -> PyResult<PyTensor> {
        wrap(self.t.float_test("isinf"))
    }
    fn isfinite(&self) -> PyResult<PyTensor> {
        wrap(self.t.float_test("isfinite"))
    }
    fn isposinf(&self) -> PyResult<PyTensor> {
        wrap(self.t.float_test("isposinf"))
    }
    fn isneginf(&self) -> PyResult<PyTensor> {
        wrap(self.t.float_test("isneginf"))
    }
    fn signbit(&self) -> PyResult<PyTensor> {
        wrap(self.t.float_test("signbit"))
    }

    /// `clamp(min, max)`: bounds may be numbers or tensors; NaN propagates.
    #[pyo3(signature = (min=None, max=None))]
    fn clamp(&self, min: Option<&Bound<'_, PyAny>>, max: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        clamp(&self.t, min, max).map(PyTensor::new)
    }

    #[pyo3(signature = (min=None, max=None))]
    fn clamp_<'py>(slf: &Bound<'py, Self>, min: Option<&Bound<'py, PyAny>>, max: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &tensor_args(&[min, max]), |t| clamp(t, min, max))
    }

    /// `lerp(end, weight)`: `self + weight * (end - self)`, computed stably from both ends.
    fn lerp(&self, end: &Bound<'_, PyAny>, weight: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        lerp(&self.t, end, weight).map(PyTensor::new)
    }

    fn lerp_<'py>(slf: &Bound<'py, Self>, end: &Bound<'py, PyAny>, weight: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &tensor_args(&[Some(end), Some(weight)]), |t| lerp(t, end, weight))
    }

    /// `addcmul(t1, t2, value)`: `self + value * t1 * t2`.
    #[pyo3(signature = (tensor1, tensor2, *, value=None))]
    fn addcmul(&self, tensor1: &Bound<'_, PyAny>, tensor2: &Bound<'_, PyAny>, value: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        autocast_addc("addcmul", &self.t, BinaryOp::Mul, tensor1, tensor2, value).map(PyTensor::new)
    }

    #[pyo3(signature = (tensor1, tensor2, *, value=None))]
    fn addcmul_<'py>(slf: &Bound<'py, Self>, tensor1: &Bound<'py, PyAny>, tensor2: &Bound<'py, PyAny>, value: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &tensor_args(&[Some(tensor1), Some(tensor2)]), |t| addc(t, BinaryOp::Mul, tensor1, tensor2, value))
    }

    /// `addcdiv(t1, t2, value)`: `self + value * t1 / t2`.
    #[pyo3(signature = (tensor1, tensor2, *, value=None))]
    fn addcdiv(&self, tensor1: &Bound<'_, PyAny>, tensor2: &Bound<'_, PyAny>, value: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        autocast_addc("addcdiv", &self.t, BinaryOp::Div, tensor1, tensor2, value).map(PyTensor::new)
    }

    #[pyo3(signature = (tensor1, tensor2, *, value=None))]
    fn addcdiv_<'py>(slf: &Bound<'py, Self>, tensor1: &Bound<'py, PyAny>, tensor2: &Bound<'py, PyAny>, value: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &tensor_args(&[Some(tensor1), Some(tensor2)]), |t| addc(t, BinaryOp::Div, tensor1, tensor2, value))
    }
}

fn clamp(t: &Tensor, min: Option<&Bound<'_, PyAny>>, max: Option<&Bound<'_, PyAny>>) -> PyResult<Tensor> {
    let bound = |b: Option<&Bound<'_, PyAny>>| b.filter(|b| !b.is_none()).map(|b| operand_arg(b, "clamp")).transpose();
    t.clamp(bound(min)?.as_ref(), bound(max)?.as_ref()).py()
}

fn lerp(start: &Tensor, end: &Bound<'_, PyAny>, weight: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let end = operand_arg(end, "lerp")?;
    let w = operand_arg(weight, "lerp")?;
    let s = Operand::Tensor(start.clone());
    let diff = Operand::Tensor(binary(&end, BinaryOp::Sub, &s).py()?);
    // weight < 0.5: start + w * diff; else end - (1 - w) * diff (exact at w = 1).
    let low = binary(&s, BinaryOp::Add, &Operand::Tensor(binary(&w, BinaryOp::Mul, &diff).py()?)).py()?;
    let one_minus = binary(&Operand::Scalar(Scalar::Int(1)), BinaryOp::Sub, &w).py()?;
    let high = binary(&end, BinaryOp::Sub, &Operand::Tensor(binary(&Operand::Tensor(one_minus), BinaryOp::Mul, &diff).py()?)).py()?;
    let small = binary(&w, BinaryOp::Lt, &Operand::Scalar(Scalar::Float(0.5))).py()?;
    let r = where_(&small, &Operand::Tensor(low), &Operand::Tensor(high)).py()?;
    r.cast(start.dtype()).py()
}

/// `self + value * (t1 op t2)`: `addcmul` (`op` Mul), `addcdiv` (Div).
fn addc(t: &Tensor, op: BinaryOp, t1: &Bound<'_, PyAny>, t2: &Bound<'_, PyAny>, value: Option<&Bound<'_, PyAny>>) -> PyResult<Tensor> {
    let (a, b, value) = addc_args(op, t1, t2, value)?;
    combine(&Operand::Tensor(t.clone()), op, &a, &b, value).py()
}

/// `addc` under autocast's hook for `name` (the out-of-place forms).
fn autocast_addc(name: &str, t: &Tensor, op: BinaryOp, t1: &Bound<'_, PyAny>, t2: &Bound<'_, PyAny>, value: Option<&Bound<'_, PyAny>>) -> PyResult<Tensor> {
    let (a, b, value) = addc_args(op, t1, t2, value)?;
    autocast::apply_operands(name, [&Operand::Tensor(t.clone()), &a, &b], |[t, a, b]| combine(&t, op, &a, &b, value)).py()
}

fn addc_args(op: BinaryOp, t1: &Bound<'_, PyAny>, t2: &Bound<'_, PyAny>, value: Option<&Bound<'_, PyAny>>) -> PyResult<(Operand, Operand, Option<Scalar>)> {
    Ok((operand_arg(t1, op.name())?, operand_arg(t2, op.name())?, value.map(scalar).transpose()?))
}

fn combine(t: &Operand, op: BinaryOp, a: &Operand, b: &Operand, value: Option<Scalar>) -> ferrotorch_core::Result<Tensor> {
    let prod = binary(a, op, b)?;
    let scaled = match value {
        Some(v) => prod.binary(BinaryOp::Mul, &Operand::Scalar(v))?,
        None => prod,
    };
    binary(t, BinaryOp::Add, &Operand::Tensor(scaled))
}

/// `ferrotorch.where(cond, a, b)`.
#[pyfunction]
#[pyo3(name = "where", signature = (condition, input=None, other=None))]
pub fn where_fn(condition: &PyTensor, input: Option<&Bound<'_, PyAny>>, other: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    match (input, other) {
        (Some(a), Some(b)) => wrap(where_(&condition.t, &operand_arg(a, "where")?, &operand_arg(b, "where")?)),
        _ => Err(PyTypeError::new_err("where() with one argument is not supported; use nonzero(as_tuple=True)")),
    }
}

#[pymethods]
impl PyTensor {
    #[pyo3(name = "where")]
    fn where_method(&self, condition: &PyTensor, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        wrap(where_(&condition.t, &Operand::Tensor(self.t.clone()), &operand_arg(other, "where")?))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    float_unary_functions::register(m)?;
    numeric_unary_functions::register(m)?;
    binary_functions::register(m)?;
    m.add_function(wrap_pyfunction!(where_fn, m)?)?;
    Ok(())
}
