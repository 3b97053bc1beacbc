//! Bindings of `ops/nn/norm.rs`.

use pyo3::prelude::*;

use crate::tensor::{int_list, wrap, PyTensor};

/// `torch.layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True)`.
#[pyfunction]
#[pyo3(signature = (input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=true))]
fn layer_norm(
    input: &PyTensor,
    normalized_shape: &Bound<'_, PyAny>,
    weight: Option<&PyTensor>,
    bias: Option<&PyTensor>,
    eps: f64,
    cudnn_enable: bool,
) -> PyResult<PyTensor> {
    let _ = cudnn_enable;
    let shape: Vec<usize> = int_list(normalized_shape)?.into_iter().map(|d| d.max(0) as usize).collect();
    wrap(input.t.layer_norm(&shape, weight.map(|w| &w.t), bias.map(|b| &b.t), eps))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(layer_norm, m)?)?;
    Ok(())
}
