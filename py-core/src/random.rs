//! Random numbers: `Generator`, `default_generator`, the random factories (`rand`, `randn`,
//! `randint`, `randperm`, `normal`, ...), `bernoulli`, `multinomial` and `poisson`. The random
//! tensor methods live in `random/methods.rs`.

mod generator;
mod methods;

use ferrotorch_core::ops::random::Generator;
use ferrotorch_core::ops::shape::to_sizes;
use ferrotorch_core::{default_dtype, DType, Device, Tensor};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::device::opt_device;
use crate::dtype::opt_dtype;
use crate::elementwise::with_out;
use crate::error::IntoPy;
use crate::tensor::{index, int_list, shape_args, PyTensor};
pub use generator::PyGenerator;
use generator::gen;

fn sizes(shape: &[i64]) -> PyResult<Vec<usize>> {
    to_sizes(shape).py()
}

/// `size` given as `f(2, 3)`, `f((2, 3))` or `f(size=(2, 3))`.
fn size_args(args: &Bound<'_, PyTuple>, size: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<usize>> {
    match size {
        Some(s) if args.is_empty() => sizes(&int_list(s)?),
        _ => sizes(&shape_args(args)?),
    }
}

/// A new tensor on `device` filled in place by `fill`: on a GPU, from that device's generator.
fn fresh(shape: &[usize], dtype: DType, device: Device, fill: impl FnOnce(&Tensor) -> ferrotorch_core::Result<()>) -> PyResult<Tensor> {
    let t = Tensor::uninit_on(shape, dtype, device).py()?;
    fill(&t).py()?;
    Ok(t)
}

/// Wraps a new random tensor, honouring `out=` and `requires_grad`.
fn finish<'py>(py: Python<'py>, t: PyResult<Tensor>, out: Option<&Bound<'py, PyTensor>>, requires_grad: bool) -> PyResult<Bound<'py, PyAny>> {
    let t = t?;
    if requires_grad {
        t.set_requires_grad(true).py()?;
    }
    with_out(py, t, out)
}

macro_rules! float_factory {
    ($name:ident, $like:ident, $fill:ident) => {
        #[pyfunction]
        #[pyo3(signature = (*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false))]
        #[allow(clippy::too_many_arguments)]
        pub fn $name<'py>(
            py: Python<'py>,
            args: &Bound<'py, PyTuple>,
            size: Option<&Bound<'py, PyAny>>,
            generator: Option<PyRef<'py, PyGenerator>>,
            out: Option<&Bound<'py, PyTensor>>,
            dtype: Option<&Bound<'py, PyAny>>,
            layout: Option<&Bound<'py, PyAny>>,
            device: Option<&Bound<'py, PyAny>>,
            requires_grad: bool,
            pin_memory: bool,
        ) -> PyResult<Bound<'py, PyAny>> {
            let _ = (layout, pin_memory);
            let shape = size_args(args, size)?;
            let d = opt_dtype(dtype)?.or(out.map(|o| o.borrow().t.dtype())).unwrap_or_else(default_dtype);
            let g = gen(generator);
            finish(py, fresh(&shape, d, opt_device(device)?, |t| t.$fill(0.0, 1.0, &g)), out, requires_grad)
        }

        #[pyfunction]
        #[pyo3(signature = (input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=false, memory_format=None))]
        #[allow(clippy::too_many_arguments)]
        pub fn $like<'py>(
            py: Python<'py>,
            input: &PyTensor,
            generator: Option<PyRef<'py, PyGenerator>>,
            dtype: Option<&Bound<'py, PyAny>>,
            layout: Option<&Bound<'py, PyAny>>,
            device: Option<&Bound<'py, PyAny>>,
            requires_grad: bool,
            memory_format: Option<&Bound<'py, PyAny>>,
        ) -> PyResult<Bound<'py, PyAny>> {
            let _ = (layout, memory_format);
            let d = opt_dtype(dtype)?.unwrap_or(input.t.dtype());
            let g = gen(generator);
            finish(py, fresh(input.t.shape(), d, crate::device::like_device(device, &input.t)?, |t| t.$fill(0.0, 1.0, &g)), None, requires_grad)
        }
    };
}
float_factory!(rand, rand_like, uniform_);
float_factory!(randn, randn_like, normal_);

/// `randint(high, size)` or `randint(low, high, size)`, also by keyword.
#[pyfunction]
#[pyo3(signature = (*args, low=None, high=None, size=None, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false))]
#[allow(clippy::too_many_arguments)]
pub fn randint<'py>(
    py: Python<'py>,
    args: &Bound<'py, PyTuple>,
    low: Option<i64>,
    high: Option<i64>,
    size: Option<&Bound<'py, PyAny>>,
    generator: Option<PyRef<'py, PyGenerator>>,
    out: Option<&Bound<'py, PyTensor>>,
    dtype: Option<&Bound<'py, PyAny>>,
    layout: Option<&Bound<'py, PyAny>>,
    device: Option<&Bound<'py, PyAny>>,
    requires_grad: bool,
    pin_memory: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let _ = (layout, pin_memory);
    let mut pos: Vec<Bound<'py, PyAny>> = args.iter().collect();
    let size = match size {
        Some(s) => s.clone(),
        None => pos.pop().ok_or_else(|| PyTypeError::new_err("randint() missing required argument 'size'"))?,
    };
    let ints: Vec<i64> = pos.iter().map(index).collect::<PyResult<_>>()?;
    let (low, high) = match (ints.as_slice(), low, high) {
        ([], l, Some(h)) => (l.unwrap_or(0), h),
        ([h], None, None) => (0, *h),
        ([l], None, Some(h)) => (*l, h),
        ([l, h], None, None) => (*l, *h),
        ([], _, None) => return Err(PyTypeError::new_err("randint() missing required argument 'high'")),
        _ => return Err(PyTypeError::new_err("randint() received an invalid combination of arguments")),
    };
    let shape = sizes(&int_list(&size)?)?;
    let d = opt_dtype(dtype)?.or(out.map(|o| o.borrow().t.dtype())).unwrap_or(DType::I64);
    let g = gen(generator);
    finish(py, fresh(&shape, d, opt_device(device)?, |t| t.random_(low, Some(high), &g)), out, requires_grad)
}

/// `randint_like(input, high)` or `randint_like(input, low, high)`.
#[pyfunction]
#[pyo3(signature = (input, *args, low=None, high=None, generator=None, dtype=None, layout=None, device=None, requires_grad=false, memory_format=None))]
#[allow(clippy::too_many_arguments)]
pub fn randint_like<'py>(
    py: Python<'py>,
    input: &PyTensor,
    args: &Bound<'py, PyTuple>,
    low: Option<i64>,
    high: Option<i64>,
    generator: Option<PyRef<'py, PyGenerator>>,
    dtype: Option<&Bound<'py, PyAny>>,
    layout: Option<&Bound<'py, PyAny>>,
    device: Option<&Bound<'py, PyAny>>,
    requires_grad: bool,
    memory_format: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let _ = (layout, memory_format);
    let ints: Vec<i64> = args.iter().map(|a| index(&a)).collect::<PyResult<_>>()?;
    let (low, high) = match (ints.as_slice(), low, high) {
        ([], l, Some(h)) => (l.unwrap_or(0), h),
        ([h], None, None) => (0, *h),
        ([l], None, Some(h)) => (*l, h),
        ([l, h], None, None) => (*l, *h),
        _ => return Err(PyTypeError::new_err("randint_like() received an invalid combination of arguments")),
    };
    let d = opt_dtype(dtype)?.unwrap_or(input.t.dtype());
    let g = gen(generator);
    finish(py, fresh(input.t.shape(), d, crate::device::like_device(device, &input.t)?, |t| t.random_(low, Some(high), &g)), None, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false))]
#[allow(clippy::too_many_arguments)]
pub fn randperm<'py>(
    py: Python<'py>,
    n: &Bound<'py, PyAny>,
    generator: Option<PyRef<'py, PyGenerator>>,
    out: Option<&Bound<'py, PyTensor>>,
    dtype: Option<&Bound<'py, PyAny>>,
    layout: Option<&Bound<'py, PyAny>>,
    device: Option<&Bound<'py, PyAny>>,
    requires_grad: bool,
    pin_memory: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let _ = (layout, pin_memory);
    let d = opt_dtype(dtype)?.or(out.map(|o| o.borrow().t.dtype())).unwrap_or(DType::I64);
    // Drawn on the host (from the device generator's stream for a GPU), then moved.
    let device = opt_device(device)?;
    let g = gen(generator).for_device(device).and_then(|g| g.host_stream()).py()?;
    finish(py, Tensor::randperm(index(n)?, d, &g).and_then(|t| t.to_device(device)).py(), out, requires_grad)
}

/// `normal(mean, std)` with tensors or floats on either side; two floats need `size`.
#[pyfunction]
#[pyo3(signature = (mean, std=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false))]
#[allow(clippy::too_many_arguments)]
pub fn normal<'py>(
    py: Python<'py>,
    mean: &Bound<'py, PyAny>,
    std: Option<&Bound<'py, PyAny>>,
    size: Option<&Bound<'py, PyAny>>,
    generator: Option<PyRef<'py, PyGenerator>>,
    out: Option<&Bound<'py, PyTensor>>,
    dtype: Option<&Bound<'py, PyAny>>,
    layout: Option<&Bound<'py, PyAny>>,
    device: Option<&Bound<'py, PyAny>>,
    requires_grad: bool,
    pin_memory: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let _ = (layout, pin_memory);
    let g: Generator = gen(generator);
    let tensor = |o: &Bound<'py, PyAny>| o.cast::<PyTensor>().ok().map(|t| t.borrow().t.clone());
    let mean_t = tensor(mean);
    let std_t = std.and_then(tensor);
    let size = size.filter(|s| !s.is_none());
    if (mean_t.is_some() || std_t.is_some()) && (size.is_some() || dtype.is_some_and(|d| !d.is_none())) {
        return Err(PyTypeError::new_err("normal() received an invalid combination of arguments: size and dtype go with float mean and std only"));
    }
    let std_f = || -> PyResult<f64> { std.map_or(Ok(1.0), |s| s.extract()) };
    let r = match (mean_t, std_t) {
        (Some(m), Some(s)) => Tensor::normal_tensors(&m, &s, &g),
        (Some(m), None) => Tensor::normal_tensor_mean(&m, std_f()?, &g),
        (None, Some(s)) => Tensor::normal_tensor_std(mean.extract()?, &s, &g),
        (None, None) => {
            let size = size.ok_or_else(|| PyTypeError::new_err("normal() received an invalid combination of arguments: float mean and std need a size"))?;
            let d = opt_dtype(dtype)?.or(out.map(|o| o.borrow().t.dtype())).unwrap_or_else(default_dtype);
            let (mean, std) = (mean.extract()?, std_f()?);
            return finish(py, fresh(&sizes(&int_list(size)?)?, d, opt_device(device)?, |t| t.normal_(mean, std, &g)), out, requires_grad);
        }
    };
    finish(py, r.py(), out, requires_grad)
}

/// `bernoulli(input)` (probabilities from `input`) or `bernoulli(input, p)`.
#[pyfunction]
#[pyo3(signature = (input, p=None, *, generator=None, out=None))]
pub fn bernoulli<'py>(
    py: Python<'py>,
    input: &PyTensor,
    p: Option<f64>,
    generator: Option<PyRef<'py, PyGenerator>>,
    out: Option<&Bound<'py, PyTensor>>,
) -> PyResult<Bound<'py, PyAny>> {
    let g = gen(generator);
    let r = match p {
        Some(p) => input.t.bernoulli_p(p, &g),
        None => input.t.bernoulli(&g),
    };
    with_out(py, r.py()?, out)
}

#[pyfunction]
#[pyo3(signature = (input, num_samples, replacement=false, *, generator=None, out=None))]
pub fn multinomial<'py>(
    py: Python<'py>,
    input: &PyTensor,
    num_samples: i64,
    replacement: bool,
    generator: Option<PyRef<'py, PyGenerator>>,
    out: Option<&Bound<'py, PyTensor>>,
) -> PyResult<Bound<'py, PyAny>> {
    with_out(py, input.t.multinomial(num_samples, replacement, &gen(generator)).py()?, out)
}

#[pyfunction]
#[pyo3(signature = (input, generator=None))]
pub fn poisson(input: &PyTensor, generator: Option<PyRef<'_, PyGenerator>>) -> PyResult<PyTensor> {
    crate::tensor::wrap(input.t.poisson(&gen(generator)))
}

/// Dropout's scale of shape `shape` in `like`'s dtype and on its device: `1 / keep` with
/// probability `keep`, else zero, drawn in one pass (one launch on a GPU).
#[pyfunction]
pub fn _dropout_scale(like: &PyTensor, shape: Vec<usize>, keep: f64) -> PyResult<PyTensor> {
    let t = fresh(&shape, like.t.dtype(), like.t.device(), |t| t.dropout_scale_(keep, &Generator::unspecified()))?;
    Ok(PyTensor::new(t))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_dropout_scale, m)?)?;
    m.add_class::<PyGenerator>()?;
    m.add_function(wrap_pyfunction!(generator::_cuda_default_generator, m)?)?;
    m.add_function(wrap_pyfunction!(generator::_cuda_manual_seed_all, m)?)?;
    m.add("default_generator", Py::new(m.py(), PyGenerator { g: Generator::default_cpu() })?)?;
    m.add_function(wrap_pyfunction!(rand, m)?)?;
    m.add_function(wrap_pyfunction!(rand_like, m)?)?;
    m.add_function(wrap_pyfunction!(randn, m)?)?;
    m.add_function(wrap_pyfunction!(randn_like, m)?)?;
    m.add_function(wrap_pyfunction!(randint, m)?)?;
    m.add_function(wrap_pyfunction!(randint_like, m)?)?;
    m.add_function(wrap_pyfunction!(randperm, m)?)?;
    m.add_function(wrap_pyfunction!(normal, m)?)?;
    m.add_function(wrap_pyfunction!(bernoulli, m)?)?;
    m.add_function(wrap_pyfunction!(multinomial, m)?)?;
    m.add_function(wrap_pyfunction!(poisson, m)?)?;
    Ok(())
}
