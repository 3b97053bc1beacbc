//! Bindings of `ops/nn/conv.rs`: `convolution`, `conv1d/2d/3d`, `conv_transpose1d/2d/3d`
//! (as `torch.*`), and the private `_im2col`/`_col2im` behind `F.unfold`/`F.fold`.

use ferrotorch_core::ops::nn::conv::{self as core, Padding};
use ferrotorch_core::Tensor;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::tensor::{index, int_list, wrap, PyTensor};

/// An int-or-sequence argument; an int stands for `dims` equal entries (PyTorch's
/// `IntArrayRef[dims]` parsing).
fn sizes(obj: &Bound<'_, PyAny>, dims: usize) -> PyResult<Vec<i64>> {
    match index(obj) {
        Ok(i) if obj.cast::<PyTensor>().is_err() => Ok(vec![i; dims]),
        _ => int_list(obj),
    }
}

/// `padding=`: ints, `'same'` or `'valid'`.
fn padding(obj: &Bound<'_, PyAny>, dims: usize) -> PyResult<Padding> {
    if let Ok(s) = obj.cast::<PyString>() {
        return match s.to_str()? {
            "same" => Ok(Padding::Same),
            "valid" => Ok(Padding::Valid),
            other => Err(PyRuntimeError::new_err(format!("Invalid padding string: '{}'", other))),
        };
    }
    Ok(Padding::Explicit(sizes(obj, dims)?))
}

/// An optional int-or-sequence argument, `default` when left out.
fn sizes_or(obj: Option<&Bound<'_, PyAny>>, default: i64, dims: usize) -> PyResult<Vec<i64>> {
    obj.map_or(Ok(vec![default; dims]), |o| sizes(o, dims))
}

fn tensor(t: &Option<PyRef<'_, PyTensor>>) -> Option<Tensor> {
    t.as_ref().map(|t| t.t.clone())
}

#[allow(clippy::too_many_arguments)]
fn conv_nd(
    input: &PyTensor,
    weight: &PyTensor,
    bias: Option<PyRef<'_, PyTensor>>,
    stride: Option<&Bound<'_, PyAny>>,
    pad: Option<&Bound<'_, PyAny>>,
    dilation: Option<&Bound<'_, PyAny>>,
    groups: i64,
    dims: usize,
) -> PyResult<PyTensor> {
    let pad = match pad {
        Some(p) => padding(p, dims)?,
        None => Padding::Explicit(vec![0; dims]),
    };
    let (stride, dilation) = (sizes_or(stride, 1, dims)?, sizes_or(dilation, 1, dims)?);
    wrap(core::conv(&input.t, &weight.t, tensor(&bias).as_ref(), &stride, pad, &dilation, groups, dims))
}

#[allow(clippy::too_many_arguments)]
fn conv_transpose_nd(
    input: &PyTensor,
    weight: &PyTensor,
    bias: Option<PyRef<'_, PyTensor>>,
    stride: Option<&Bound<'_, PyAny>>,
    padding: Option<&Bound<'_, PyAny>>,
    output_padding: Option<&Bound<'_, PyAny>>,
    groups: i64,
    dilation: Option<&Bound<'_, PyAny>>,
    dims: usize,
) -> PyResult<PyTensor> {
    let (stride, padding) = (sizes_or(stride, 1, dims)?, sizes_or(padding, 0, dims)?);
    let (output_padding, dilation) = (sizes_or(output_padding, 0, dims)?, sizes_or(dilation, 1, dims)?);
    wrap(core::conv_transpose(&input.t, &weight.t, tensor(&bias).as_ref(), &stride, &padding, &output_padding, groups, &dilation, dims))
}

macro_rules! conv_fns {
    ($($name:ident $dims:literal),*) => {$(
        #[doc = concat!("`", stringify!($name), "(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)`: a ", stringify!($dims), "-d convolution; `padding` may be `'same'` or `'valid'`.")]
        #[pyfunction]
        #[pyo3(signature = (input, weight, bias=None, stride=None, padding=None, dilation=None, groups=1))]
        fn $name(input: &PyTensor, weight: &PyTensor, bias: Option<PyRef<'_, PyTensor>>, stride: Option<&Bound<'_, PyAny>>, padding: Option<&Bound<'_, PyAny>>, dilation: Option<&Bound<'_, PyAny>>, groups: i64) -> PyResult<PyTensor> {
            conv_nd(input, weight, bias, stride, padding, dilation, groups, $dims)
        }
    )*};
}
conv_fns!(conv1d 1, conv2d 2, conv3d 3);

macro_rules! conv_transpose_fns {
    ($($name:ident $dims:literal),*) => {$(
        #[doc = concat!("`", stringify!($name), "(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1)`: a ", stringify!($dims), "-d transposed convolution.")]
        #[pyfunction]
        #[pyo3(signature = (input, weight, bias=None, stride=None, padding=None, output_padding=None, groups=1, dilation=None))]
        #[allow(clippy::too_many_arguments)]
        fn $name(input: &PyTensor, weight: &PyTensor, bias: Option<PyRef<'_, PyTensor>>, stride: Option<&Bound<'_, PyAny>>, padding: Option<&Bound<'_, PyAny>>, output_padding: Option<&Bound<'_, PyAny>>, groups: i64, dilation: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
            conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, $dims)
        }
    )*};
}
conv_transpose_fns!(conv_transpose1d 1, conv_transpose2d 2, conv_transpose3d 3);

/// `convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
/// groups)`: the general convolution every other form calls.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn convolution(
    input: &PyTensor,
    weight: &PyTensor,
    bias: Option<PyRef<'_, PyTensor>>,
    stride: &Bound<'_, PyAny>,
    padding: &Bound<'_, PyAny>,
    dilation: &Bound<'_, PyAny>,
    transposed: bool,
    output_padding: &Bound<'_, PyAny>,
    groups: i64,
) -> PyResult<PyTensor> {
    let dims = weight.t.ndim().saturating_sub(2).max(1);
    let (stride, padding, dilation) = (sizes(stride, dims)?, sizes(padding, dims)?, sizes(dilation, dims)?);
    let output_padding = sizes(output_padding, dims)?;
    wrap(core::convolution(&input.t, &weight.t, tensor(&bias).as_ref(), &stride, &padding, &dilation, transposed, &output_padding, groups))
}

/// `_im2col(input, kernel_size, dilation, padding, stride)` (`F.unfold`).
#[pyfunction]
fn _im2col(input: &PyTensor, kernel_size: &Bound<'_, PyAny>, dilation: &Bound<'_, PyAny>, padding: &Bound<'_, PyAny>, stride: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let [k, d, p, s] = [kernel_size, dilation, padding, stride].map(|o| sizes(o, 2));
    wrap(input.t.im2col(&k?, &d?, &p?, &s?))
}

/// `_col2im(input, output_size, kernel_size, dilation, padding, stride)` (`F.fold`).
#[pyfunction]
fn _col2im(
    input: &PyTensor,
    output_size: &Bound<'_, PyAny>,
    kernel_size: &Bound<'_, PyAny>,
    dilation: &Bound<'_, PyAny>,
    padding: &Bound<'_, PyAny>,
    stride: &Bound<'_, PyAny>,
) -> PyResult<PyTensor> {
    let [o, k, d, p, s] = [output_size, kernel_size, dilation, padding, stride].map(|o| sizes(o, 2));
    wrap(input.t.col2im(&o?, &k?, &d?, &p?, &s?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(conv1d, m)?)?;
    m.add_function(wrap_pyfunction!(conv2d, m)?)?;
    m.add_function(wrap_pyfunction!(conv3d, m)?)?;
    m.add_function(wrap_pyfunction!(conv_transpose1d, m)?)?;
    m.add_function(wrap_pyfunction!(conv_transpose2d, m)?)?;
    m.add_function(wrap_pyfunction!(conv_transpose3d, m)?)?;
    m.add_function(wrap_pyfunction!(convolution, m)?)?;
    m.add_function(wrap_pyfunction!(_im2col, m)?)?;
    m.add_function(wrap_pyfunction!(_col2im, m)?)?;
    Ok(())
}
