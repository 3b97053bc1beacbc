//! Bindings of `ops/nn/loss.rs`.

use ferrotorch_core::ops::nn::loss::Reduction;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::tensor::{wrap, PyTensor};

fn reduction(name: &str) -> PyResult<Reduction> {
    match name {
        "none" => Ok(Reduction::None),
        "mean" => Ok(Reduction::Mean),
        "sum" => Ok(Reduction::Sum),
        _ => Err(PyValueError::new_err(format!("{} is not a valid value for reduction", name))),
    }
}

/// The native negative log-likelihood loss behind `F.nll_loss` and `F.cross_entropy`
/// (arguments checked there first, with PyTorch's messages).
#[pyfunction]
#[pyo3(signature = (input, target, weight=None, reduction="mean", ignore_index=-100))]
fn _nll_loss(input: &PyTensor, target: &PyTensor, weight: Option<&PyTensor>, reduction: &str, ignore_index: i64) -> PyResult<PyTensor> {
    let r = self::reduction(reduction)?;
    wrap(input.t.nll_loss(&target.t, weight.map(|w| &w.t), r, ignore_index))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_nll_loss, m)?)?;
    Ok(())
}
