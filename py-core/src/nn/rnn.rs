//! Bindings of `ops/nn/rnn.rs`, `ops/nn/lstm_layer.rs` and `ops/nn/gru_layer.rs`.

use pyo3::prelude::*;

use crate::error::IntoPy;
use crate::tensor::PyTensor;

/// `_C._lstm_cell(gates, c) -> (h, c')`: the fused element-wise part of an LSTM step.
#[pyfunction]
fn _lstm_cell(gates: &PyTensor, c: &PyTensor) -> PyResult<(PyTensor, PyTensor)> {
    let (h, cy) = gates.t.lstm_cell(&c.t).py()?;
    Ok((PyTensor::new(h), PyTensor::new(cy)))
}

/// `_C._gru_cell(gi, gh, h) -> h'`: the fused element-wise part of a GRU step, from the input
/// gates `x W_ih^T + b_ih` and hidden gates `h W_hh^T + b_hh` (B, 3H) and the state (B, H).
#[pyfunction]
fn _gru_cell(gi: &PyTensor, gh: &PyTensor, h: &PyTensor) -> PyResult<PyTensor> {
    Ok(PyTensor::new(gi.t.gru_cell(&gh.t, &h.t).py()?))
}

/// `_C._lstm_layer(x, h0, c0, w_hh, batch_sizes, reverse) -> (output, h_n, c_n)`: one LSTM
/// layer and direction over packed-layout projected input `x` (N, 4H), time loop included.
#[pyfunction]
fn _lstm_layer(x: &PyTensor, h0: &PyTensor, c0: &PyTensor, w_hh: &PyTensor, batch_sizes: Vec<i64>, reverse: bool) -> PyResult<(PyTensor, PyTensor, PyTensor)> {
    let (out, h, c) = ferrotorch_core::ops::nn::lstm_layer::lstm_layer(&x.t, &h0.t, &c0.t, &w_hh.t, &batch_sizes, reverse).py()?;
    Ok((PyTensor::new(out), PyTensor::new(h), PyTensor::new(c)))
}

/// `_C._gru_layer(x, h0, w_hh, b_hh, batch_sizes, reverse) -> (output, h_n)`: one GRU layer
/// and direction over packed-layout projected input `x` (N, 3H: `x W_ih^T + b_ih`), time loop
/// included; `b_hh` may be None.
#[pyfunction]
#[pyo3(signature = (x, h0, w_hh, b_hh, batch_sizes, reverse))]
fn _gru_layer(x: &PyTensor, h0: &PyTensor, w_hh: &PyTensor, b_hh: Option<PyRef<'_, PyTensor>>, batch_sizes: Vec<i64>, reverse: bool) -> PyResult<(PyTensor, PyTensor)> {
    let b_hh = b_hh.as_ref().map(|b| &b.t);
    let (out, h) = ferrotorch_core::ops::nn::gru_layer::gru_layer(&x.t, &h0.t, &w_hh.t, b_hh, &batch_sizes, reverse).py()?;
    Ok((PyTensor::new(out), PyTensor::new(h)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_lstm_cell, m)?)?;
    m.add_function(wrap_pyfunction!(_gru_cell, m)?)?;
    m.add_function(wrap_pyfunction!(_lstm_layer, m)?)?;
    m.add_function(wrap_pyfunction!(_gru_layer, m)?)?;
    Ok(())
}
