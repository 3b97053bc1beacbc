//! Bindings of `ops/nn/activation.rs`. The table generates `_C._<name>(input, *params)` and
//! the in-place `_C._<name>_` for every element-wise activation (what `nn.functional` calls);
//! the functions PyTorch itself exposes as `torch.*` / `Tensor.*` (`relu`, `selu`, `celu`,
//! `threshold`, `hardshrink`, `prelu`, `rrelu`) get their PyTorch signatures here.

use ferrotorch_core::ops::nn::activation::Activation;
use ferrotorch_core::ops::random::generator_or_default;
use ferrotorch_core::Tensor;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::error::IntoPy;
use crate::random::PyGenerator;
use crate::tensor::{wrap, PyTensor};

/// Runs an in-place activation on `input` and returns it.
fn in_place<'py>(input: &Bound<'py, PyTensor>, f: impl FnOnce(&Tensor) -> ferrotorch_core::Result<()>) -> PyResult<Bound<'py, PyTensor>> {
    let t = input.borrow().t.clone();
    f(&t).py()?;
    Ok(input.clone())
}

macro_rules! bind_activations {
    ($($variant:ident $name:ident {$($p:ident),*} $ints:ident$(($kernel:literal))? $saves:ident [$node:literal, $inode:literal]
        |$x:ident| $fwd:expr; |$g:ident, $v:ident| $bwd:expr;)*) => { paste::paste! {
        /// The generated `_C._<name>` / `_C._<name>_` functions.
        mod table {
            use super::*;
            $(
                #[pyfunction]
                pub fn [<_ $name>](input: &PyTensor, $($p: f64),*) -> PyResult<PyTensor> {
                    // `softplus` is on autocast's CUDA float32 list.
                    wrap(ferrotorch_core::autocast::apply(stringify!($name), &[&input.t], |t| t[0].activation(Activation::$variant { $($p),* })))
                }

                #[pyfunction]
                pub fn [<_ $name _>]<'py>(input: &Bound<'py, PyTensor>, $($p: f64),*) -> PyResult<Bound<'py, PyTensor>> {
                    in_place(input, |t| t.activation_(Activation::$variant { $($p),* }))
                }
            )*

            pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
                $(
                    m.add_function(wrap_pyfunction!([<_ $name>], m)?)?;
                    m.add_function(wrap_pyfunction!([<_ $name _>], m)?)?;
                )*
                Ok(())
            }
        }
    }};
}
ferrotorch_core::for_each_activation!(bind_activations);

/// CELU's ELU coefficients; PyTorch refuses `alpha == 0` before dividing by it.
fn celu_op(alpha: f64) -> PyResult<Activation> {
    if alpha == 0.0 {
        return Err(PyRuntimeError::new_err("ZeroDivisionError: alpha cannot be 0 for CELU"));
    }
    Ok(Activation::Celu { alpha })
}

#[pyfunction]
fn relu(input: &PyTensor) -> PyResult<PyTensor> {
    wrap(input.t.activation(Activation::Relu {}))
}

#[pyfunction]
fn relu_<'py>(input: &Bound<'py, PyTensor>) -> PyResult<Bound<'py, PyTensor>> {
    in_place(input, |t| t.activation_(Activation::Relu {}))
}

#[pyfunction]
fn selu(input: &PyTensor) -> PyResult<PyTensor> {
    wrap(input.t.activation(Activation::selu()))
}

#[pyfunction]
fn selu_<'py>(input: &Bound<'py, PyTensor>) -> PyResult<Bound<'py, PyTensor>> {
    in_place(input, |t| t.activation_(Activation::selu()))
}

#[pyfunction]
#[pyo3(signature = (input, alpha=1.0))]
fn celu(input: &PyTensor, alpha: f64) -> PyResult<PyTensor> {
    wrap(input.t.activation(celu_op(alpha)?))
}

#[pyfunction]
#[pyo3(signature = (input, alpha=1.0))]
fn celu_<'py>(input: &Bound<'py, PyTensor>, alpha: f64) -> PyResult<Bound<'py, PyTensor>> {
    let op = celu_op(alpha)?;
    in_place(input, |t| t.activation_(op))
}

#[pyfunction]
fn threshold(input: &PyTensor, threshold: f64, value: f64) -> PyResult<PyTensor> {
    wrap(input.t.activation(Activation::Threshold { threshold, value }))
}

#[pyfunction]
fn threshold_<'py>(input: &Bound<'py, PyTensor>, threshold: f64, value: f64) -> PyResult<Bound<'py, PyTensor>> {
    in_place(input, |t| t.activation_(Activation::Threshold { threshold, value }))
}

#[pyfunction]
#[pyo3(signature = (input, lambd=0.5))]
fn hardshrink(input: &PyTensor, lambd: f64) -> PyResult<PyTensor> {
    wrap(input.t.activation(Activation::Hardshrink { lambd }))
}

#[pyfunction]
fn prelu(input: &PyTensor, weight: &PyTensor) -> PyResult<PyTensor> {
    wrap(input.t.prelu(&weight.t))
}

#[pyfunction]
#[pyo3(signature = (input, lower=1.0/8.0, upper=1.0/3.0, training=false, generator=None))]
fn rrelu(input: &PyTensor, lower: f64, upper: f64, training: bool, generator: Option<PyRef<'_, PyGenerator>>) -> PyResult<PyTensor> {
    let g = generator_or_default(generator.as_ref().map(|g| &g.g));
    wrap(input.t.rrelu(lower, upper, training, &g))
}

#[pyfunction]
#[pyo3(signature = (input, lower=1.0/8.0, upper=1.0/3.0, training=false, generator=None))]
fn rrelu_<'py>(
    input: &Bound<'py, PyTensor>,
    lower: f64,
    upper: f64,
    training: bool,
    generator: Option<PyRef<'py, PyGenerator>>,
) -> PyResult<Bound<'py, PyTensor>> {
    let g = generator_or_default(generator.as_ref().map(|g| &g.g));
    in_place(input, |t| t.rrelu_(lower, upper, training, &g))
}

#[pyfunction]
#[pyo3(signature = (input, dim=-1))]
fn _glu(input: &PyTensor, dim: i64) -> PyResult<PyTensor> {
    wrap(input.t.glu(dim))
}

#[pymethods]
impl PyTensor {
    fn relu(&self) -> PyResult<PyTensor> {
        wrap(self.t.activation(Activation::Relu {}))
    }

    fn relu_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        in_place(slf, |t| t.activation_(Activation::Relu {}))
    }

    #[pyo3(signature = (lambd=0.5))]
    fn hardshrink(&self, lambd: f64) -> PyResult<PyTensor> {
        wrap(self.t.activation(Activation::Hardshrink { lambd }))
    }

    fn prelu(&self, weight: &PyTensor) -> PyResult<PyTensor> {
        wrap(self.t.prelu(&weight.t))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    table::register(m)?;
    m.add_function(wrap_pyfunction!(relu, m)?)?;
    m.add_function(wrap_pyfunction!(relu_, m)?)?;
    m.add_function(wrap_pyfunction!(selu, m)?)?;
    m.add_function(wrap_pyfunction!(selu_, m)?)?;
    m.add_function(wrap_pyfunction!(celu, m)?)?;
    m.add_function(wrap_pyfunction!(celu_, m)?)?;
    m.add_function(wrap_pyfunction!(threshold, m)?)?;
    m.add_function(wrap_pyfunction!(threshold_, m)?)?;
    m.add_function(wrap_pyfunction!(hardshrink, m)?)?;
    m.add_function(wrap_pyfunction!(prelu, m)?)?;
    m.add_function(wrap_pyfunction!(rrelu, m)?)?;
    m.add_function(wrap_pyfunction!(rrelu_, m)?)?;
    m.add_function(wrap_pyfunction!(_glu, m)?)?;
    Ok(())
}
