//! Bindings of `ops/nn/pool.rs`: `max_pool{1,2,3}d` (and `_with_indices`), `avg_pool*d`,
//! `adaptive_avg_pool*d`, `adaptive_max_pool*d` (values and indices, as `torch.adaptive_max_pool1d`)
//! and `max_unpool*d` (taking the spatial output size). Size arguments are an int or a sequence.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::error::IntoPy;
use crate::join::tensor_tuple;
use crate::tensor::{int_list, wrap, PyTensor};

/// A size argument that may be omitted (`stride=None` or `()` means the kernel size).
fn opt_list(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<i64>> {
    match obj {
        Some(o) if !o.is_none() => int_list(o),
        _ => Ok(Vec::new()),
    }
}

/// The bindings of one spatial rank.
macro_rules! pool_bindings {
    ($nd:expr, $max:ident, $max_idx:ident, $avg:ident, $aavg:ident, $amax:ident, $unpool:ident, $register:ident) => {
        #[pyfunction]
        #[pyo3(signature = (input, kernel_size, stride=None, padding=None, dilation=None, ceil_mode=false))]
        fn $max(
            input: &PyTensor,
            kernel_size: &Bound<'_, PyAny>,
            stride: Option<&Bound<'_, PyAny>>,
            padding: Option<&Bound<'_, PyAny>>,
            dilation: Option<&Bound<'_, PyAny>>,
            ceil_mode: bool,
        ) -> PyResult<PyTensor> {
            let (pad, dil) = (opt_list(padding)?, opt_list(dilation)?);
            let pad = if pad.is_empty() { vec![0] } else { pad };
            let dil = if dil.is_empty() { vec![1] } else { dil };
            let (v, _) = input.t.max_pool($nd, &int_list(kernel_size)?, &opt_list(stride)?, &pad, &dil, ceil_mode).py()?;
            Ok(PyTensor::new(v))
        }

        #[pyfunction]
        #[pyo3(signature = (input, kernel_size, stride=None, padding=None, dilation=None, ceil_mode=false))]
        fn $max_idx<'py>(
            py: Python<'py>,
            input: &PyTensor,
            kernel_size: &Bound<'py, PyAny>,
            stride: Option<&Bound<'py, PyAny>>,
            padding: Option<&Bound<'py, PyAny>>,
            dilation: Option<&Bound<'py, PyAny>>,
            ceil_mode: bool,
        ) -> PyResult<Bound<'py, PyTuple>> {
            let (pad, dil) = (opt_list(padding)?, opt_list(dilation)?);
            let pad = if pad.is_empty() { vec![0] } else { pad };
            let dil = if dil.is_empty() { vec![1] } else { dil };
            let (v, i) = input.t.max_pool($nd, &int_list(kernel_size)?, &opt_list(stride)?, &pad, &dil, ceil_mode).py()?;
            tensor_tuple(py, vec![v, i])
        }

        #[pyfunction]
        #[pyo3(signature = (input, kernel_size, stride=None, padding=None, ceil_mode=false, count_include_pad=true, divisor_override=None))]
        fn $avg(
            input: &PyTensor,
            kernel_size: &Bound<'_, PyAny>,
            stride: Option<&Bound<'_, PyAny>>,
            padding: Option<&Bound<'_, PyAny>>,
            ceil_mode: bool,
            count_include_pad: bool,
            divisor_override: Option<i64>,
        ) -> PyResult<PyTensor> {
            let pad = opt_list(padding)?;
            let pad = if pad.is_empty() { vec![0] } else { pad };
            wrap(input.t.avg_pool($nd, &int_list(kernel_size)?, &opt_list(stride)?, &pad, ceil_mode, count_include_pad, divisor_override))
        }

        #[pyfunction]
        fn $aavg(input: &PyTensor, output_size: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
            wrap(input.t.adaptive_avg_pool($nd, &int_list(output_size)?))
        }

        #[pyfunction]
        fn $amax<'py>(py: Python<'py>, input: &PyTensor, output_size: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
            let (v, i) = input.t.adaptive_max_pool($nd, &int_list(output_size)?).py()?;
            tensor_tuple(py, vec![v, i])
        }

        #[pyfunction]
        fn $unpool(input: &PyTensor, indices: &PyTensor, output_size: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
            wrap(input.t.max_unpool($nd, &indices.t, &int_list(output_size)?))
        }

        fn $register(m: &Bound<'_, PyModule>) -> PyResult<()> {
            m.add_function(wrap_pyfunction!($max, m)?)?;
            m.add_function(wrap_pyfunction!($max_idx, m)?)?;
            m.add_function(wrap_pyfunction!($avg, m)?)?;
            m.add_function(wrap_pyfunction!($aavg, m)?)?;
            m.add_function(wrap_pyfunction!($amax, m)?)?;
            m.add_function(wrap_pyfunction!($unpool, m)?)?;
            Ok(())
        }
    };
}

pool_bindings!(1, max_pool1d, max_pool1d_with_indices, avg_pool1d, adaptive_avg_pool1d, adaptive_max_pool1d, max_unpool1d, register1);
pool_bindings!(2, max_pool2d, max_pool2d_with_indices, avg_pool2d, adaptive_avg_pool2d, adaptive_max_pool2d, max_unpool2d, register2);
pool_bindings!(3, max_pool3d, max_pool3d_with_indices, avg_pool3d, adaptive_avg_pool3d, adaptive_max_pool3d, max_unpool3d, register3);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    register1(m)?;
    register2(m)?;
    register3(m)?;
    Ok(())
}
