//! Bindings of `ops/nn/norm.rs`.

use ferrotorch_core::{autocast, Tensor};
use pyo3::prelude::*;

use crate::error::IntoPy;
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
    let inputs: Vec<&Tensor> = [Some(&input.t), weight.map(|w| &w.t), bias.map(|b| &b.t)].into_iter().flatten().collect();
    wrap(autocast::apply("layer_norm", &inputs, |t| {
        let (weight, bias) = (weight.map(|_| &t[1]), bias.map(|_| &t[t.len() - 1]));
        t[0].layer_norm(&shape, weight, bias, eps)
    }))
}

/// `torch.rms_norm(input, normalized_shape, weight=None, eps=None)`: one fused kernel forward
/// and one backward (`FusedRmsNormBackward0`); `eps=None` means the dtype's machine epsilon.
#[pyfunction]
#[pyo3(signature = (input, normalized_shape, weight=None, eps=None))]
fn rms_norm(input: &PyTensor, normalized_shape: &Bound<'_, PyAny>, weight: Option<&PyTensor>, eps: Option<f64>) -> PyResult<PyTensor> {
    let shape: Vec<usize> = int_list(normalized_shape)?.into_iter().map(|d| d.max(0) as usize).collect();
    // `torch.finfo(dtype).eps` of the input.
    let eps = eps.unwrap_or(match input.t.dtype() {
        ferrotorch_core::DType::F16 => f64::powi(2.0, -10),
        ferrotorch_core::DType::BF16 => f64::powi(2.0, -7),
        ferrotorch_core::DType::F64 => f64::EPSILON,
        _ => f32::EPSILON as f64,
    });
    wrap(input.t.rms_norm(&shape, weight.map(|w| &w.t), eps))
}

/// `_batch_norm_train(input, weight, bias, eps) -> (output, mean, var)`: batch normalization
/// with the batch's own statistics (one fused kernel), returning them (biased variance,
/// float64, shape (C,)) for the running-statistics update.
#[pyfunction]
#[pyo3(signature = (input, weight=None, bias=None, eps=1e-5))]
fn _batch_norm_train(input: &PyTensor, weight: Option<&PyTensor>, bias: Option<&PyTensor>, eps: f64) -> PyResult<(PyTensor, PyTensor, PyTensor)> {
    let (out, mean, var) = input.t.batch_norm_train(weight.map(|w| &w.t), bias.map(|b| &b.t), eps).py()?;
    Ok((PyTensor::new(out), PyTensor::new(mean), PyTensor::new(var)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(layer_norm, m)?)?;
    m.add_function(wrap_pyfunction!(rms_norm, m)?)?;
    m.add_function(wrap_pyfunction!(_batch_norm_train, m)?)?;
    Ok(())
}
