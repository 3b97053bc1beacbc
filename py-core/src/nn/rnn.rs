//! Bindings of `ops/nn/rnn.rs`.

use pyo3::prelude::*;

use crate::error::IntoPy;
use crate::tensor::PyTensor;

/// `_C._lstm_cell(gates, c) -> (h, c')`: the fused element-wise part of an LSTM step.
#[pyfunction]
fn _lstm_cell(gates: &PyTensor, c: &PyTensor) -> PyResult<(PyTensor, PyTensor)> {
    let (h, cy) = gates.t.lstm_cell(&c.t).py()?;
    Ok((PyTensor::new(h), PyTensor::new(cy)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_lstm_cell, m)?)?;
    Ok(())
}
