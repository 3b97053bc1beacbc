//! Binding of `ops/nn/attention.rs`.

use ferrotorch_core::ops::nn::sdp::{self, Backend};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::error::IntoPy;
use crate::tensor::PyTensor;

/// `_C._scaled_dot_product_attention(q, k, v, scale=None, is_causal=False, enable_gqa=False)`:
/// `softmax(scale * q k^T) v` as one op (no explicit mask, no dropout); the implementation as
/// `_sdp_choice` says.
#[pyfunction]
#[pyo3(signature = (query, key, value, scale=None, is_causal=false, enable_gqa=false))]
fn _scaled_dot_product_attention(query: &PyTensor, key: &PyTensor, value: &PyTensor, scale: Option<f64>, is_causal: bool, enable_gqa: bool) -> PyResult<PyTensor> {
    Ok(PyTensor::new(query.t.scaled_dot_product_attention(&key.t, &value.t, scale, is_causal, enable_gqa).py()?))
}

/// `_C._sdp_set_enabled(name, value)`: `backends.cuda.enable_{name}_sdp(value)` (flash,
/// mem_efficient, math, cudnn).
#[pyfunction]
fn _sdp_set_enabled(name: &str, value: bool) -> PyResult<()> {
    sdp::set_enabled(name, value).py()
}

/// `_C._sdp_enabled(name)`: whether that backend may run.
#[pyfunction]
fn _sdp_enabled(name: &str) -> PyResult<bool> {
    sdp::enabled(name).py()
}

/// `_C._sdp_set_priority(first)`: "fused" or "math" first among the allowed backends, or None
/// for the default rule (sdp.rs).
#[pyfunction]
#[pyo3(signature = (first=None))]
fn _sdp_set_priority(first: Option<&str>) -> PyResult<()> {
    let first = match first {
        None => None,
        Some("fused") => Some(Backend::Fused),
        Some("math") => Some(Backend::Composed),
        Some(other) => return Err(PyValueError::new_err(format!("unknown attention priority '{other}' (fused, math)"))),
    };
    sdp::set_priority(first);
    Ok(())
}

/// `_C._sdp_priority()`: what `_sdp_set_priority` set.
#[pyfunction]
fn _sdp_priority() -> Option<&'static str> {
    sdp::priority().map(name)
}

/// `_C._sdp_choice(query, key, value, enable_gqa=False)`: which implementation ("fused" or
/// "math") a one-op attention call on these operands runs under the current switches.
#[pyfunction]
#[pyo3(signature = (query, key, value, enable_gqa=false))]
fn _sdp_choice(query: &PyTensor, key: &PyTensor, value: &PyTensor, enable_gqa: bool) -> PyResult<&'static str> {
    Ok(name(query.t.attention_backend(&key.t, &value.t, enable_gqa).py()?))
}

fn name(backend: Backend) -> &'static str {
    match backend {
        Backend::Fused => "fused",
        Backend::Composed => "math",
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_scaled_dot_product_attention, m)?)?;
    m.add_function(wrap_pyfunction!(_sdp_set_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_sdp_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_sdp_set_priority, m)?)?;
    m.add_function(wrap_pyfunction!(_sdp_priority, m)?)?;
    m.add_function(wrap_pyfunction!(_sdp_choice, m)?)
}
