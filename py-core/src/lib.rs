#![allow(non_snake_case)] // the crate is named `_C`, after the module PyTorch users know
//! `ferrotorch._C`: thin PyO3 bindings over ferrotorch-core. Argument parsing and error
//! mapping live here; all computation is in the core.

use pyo3::prelude::*;

mod autocast;
mod autograd;
mod convert;
mod cuda;
mod device;
mod dlpack;
mod dtype;
mod elementwise;
mod error;
mod factories;
mod indexing;
mod join;
mod linalg;
mod nn;
mod optim;
mod random;
mod reduce;
mod return_types;
mod shape;
mod sort;
mod storage;
mod tensor;

use ferrotorch_core::DType;

#[pyfunction]
fn get_default_dtype() -> dtype::PyDType {
    dtype::PyDType(ferrotorch_core::default_dtype())
}

#[pyfunction]
fn set_default_dtype(d: &Bound<'_, PyAny>) -> PyResult<()> {
    use error::IntoPy;
    ferrotorch_core::set_default_dtype(dtype::extract_dtype(d)?).py()
}

#[pyfunction]
fn promote_types(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<dtype::PyDType> {
    Ok(dtype::PyDType(ferrotorch_core::dtype::promote_types(dtype::extract_dtype(a)?, dtype::extract_dtype(b)?)))
}

#[pyfunction]
fn can_cast(from_: &Bound<'_, PyAny>, to: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(ferrotorch_core::dtype::can_cast(dtype::extract_dtype(from_)?, dtype::extract_dtype(to)?))
}

/// `result_type(a, b)`: each side a tensor or a Python number.
#[pyfunction]
fn result_type(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<dtype::PyDType> {
    let mut state = ferrotorch_core::dtype::ResultTypeState::default();
    for x in [a, b] {
        state = if let Ok(t) = x.cast::<tensor::PyTensor>() {
            let t = &t.borrow().t;
            state.tensor(t.dtype(), t.ndim())
        } else {
            state.scalar(tensor::scalar(x)?)
        };
    }
    Ok(dtype::PyDType(state.result()))
}

#[pyfunction]
fn set_num_threads(n: usize) -> PyResult<()> {
    ferrotorch_core::cpu::threads::set_num_threads(n).map_err(error::to_py)
}

#[pyfunction]
fn get_num_threads() -> usize {
    rayon_threads()
}

fn rayon_threads() -> usize {
    ferrotorch_core::cpu::threads::num_threads()
}

#[pymodule]
#[pyo3(name = "_C")]
fn init_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let _ = DType::F32;
    m.add_class::<tensor::PyTensor>()?;
    m.add_class::<device::PyDevice>()?;
    dtype::register(m)?;
    factories::register(m)?;
    dlpack::register(m)?;
    elementwise::register(m)?;
    reduce::register(m)?;
    linalg::register(m)?;
    indexing::register(m)?;
    join::register(m)?;
    sort::register(m)?;
    random::register(m)?;
    autograd::register(m)?;
    autocast::register(m)?;
    nn::register(m)?;
    storage::register(m)?;
    optim::register(m)?;
    cuda::register(m)?;
    m.add_function(wrap_pyfunction!(get_default_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(set_default_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(promote_types, m)?)?;
    m.add_function(wrap_pyfunction!(can_cast, m)?)?;
    m.add_function(wrap_pyfunction!(result_type, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    Ok(())
}
