//! Binding of `ops/nn/attention.rs`.

use pyo3::prelude::*;

use crate::error::IntoPy;
use crate::tensor::PyTensor;

/// `_C._scaled_dot_product_attention(q, k, v, scale=None, is_causal=False, enable_gqa=False)`:
/// `softmax(scale * q k^T) v` as one op (no explicit mask, no dropout); fused kernels on CUDA.
#[pyfunction]
#[pyo3(signature = (query, key, value, scale=None, is_causal=false, enable_gqa=false))]
fn _scaled_dot_product_attention(query: &PyTensor, key: &PyTensor, value: &PyTensor, scale: Option<f64>, is_causal: bool, enable_gqa: bool) -> PyResult<PyTensor> {
    Ok(PyTensor::new(query.t.scaled_dot_product_attention(&key.t, &value.t, scale, is_causal, enable_gqa).py()?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_scaled_dot_product_attention, m)?)
}
