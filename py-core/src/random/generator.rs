//! `ferrotorch.Generator` and the `generator=` argument.

use ferrotorch_core::ops::random::{generator_or_default, Generator};
use ferrotorch_core::Device;
use pyo3::exceptions::{PyOverflowError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt};

use crate::device::{device_object, opt_device};
use crate::error::IntoPy;
use crate::tensor::PyTensor;

/// A random number generator, as `torch.Generator(device='cpu')` or `(device='cuda')`.
#[pyclass(name = "Generator", module = "ferrotorch")]
pub struct PyGenerator {
    pub g: Generator,
}

/// The generator a `generator=` argument names, else the default one.
pub fn gen(generator: Option<PyRef<'_, PyGenerator>>) -> Generator {
    generator_or_default(generator.as_ref().map(|g| &g.g))
}

/// A seed as PyTorch reads it: any 64-bit integer, negative ones taken as their bit pattern.
fn seed_value(seed: &Bound<'_, PyAny>) -> PyResult<u64> {
    let Ok(int) = seed.cast::<PyInt>() else {
        return Err(PyTypeError::new_err(format!("manual_seed expected a long, but got {}", seed.get_type().name()?)));
    };
    match int.extract::<u64>() {
        Ok(s) => Ok(s),
        Err(e) if e.is_instance_of::<PyOverflowError>(seed.py()) => int
            .extract::<i64>()
            .map(|s| s as u64)
            .map_err(|_| PyRuntimeError::new_err("Overflow when unpacking long")),
        Err(e) => Err(e),
    }
}

#[pymethods]
impl PyGenerator {
    #[new]
    #[pyo3(signature = (device=None))]
    fn py_new(device: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(PyGenerator {
            g: match opt_device(device)? {
                Device::Cuda(i) => Generator::new_cuda(i),
                Device::Cpu => Generator::new(),
            },
        })
    }

    /// Seeds the generator; returns it.
    fn manual_seed<'py>(slf: &Bound<'py, Self>, seed: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.borrow().g.manual_seed(seed_value(seed)?);
        Ok(slf.clone())
    }

    /// Seeds from the operating system's randomness; returns the seed.
    fn seed(&self) -> u64 {
        self.g.seed()
    }

    fn initial_seed(&self) -> u64 {
        self.g.initial_seed()
    }

    /// The state as a uint8 tensor (PyTorch's layout, 5056 bytes).
    fn get_state(&self) -> PyResult<PyTensor> {
        Ok(PyTensor::new(self.g.get_state().py()?))
    }

    fn set_state<'py>(slf: &Bound<'py, Self>, new_state: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let Ok(t) = new_state.cast::<PyTensor>() else {
            return Err(PyTypeError::new_err(format!("expected a torch.ByteTensor, but got {}", new_state.get_type().name()?)));
        };
        slf.borrow().g.set_state(&t.borrow().t).py()?;
        Ok(slf.clone())
    }

    #[getter]
    fn device<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        device_object(py, self.g.device())
    }

    /// Pickling keeps the stream: a new generator restored to this state (as bytes, so
    /// pickling needs nothing from tensors).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,), Bound<'py, PyBytes>)> {
        let g = &slf.borrow().g;
        Ok((slf.get_type().into_any(), (g.device().to_string(),), PyBytes::new(slf.py(), &g.state_bytes())))
    }

    fn __setstate__(&self, state: &[u8]) -> PyResult<()> {
        self.g.set_state_bytes(state).py()
    }
}

/// `torch.cuda.default_generators[index]`: the default generator of CUDA device `index`.
#[pyfunction]
pub fn _cuda_default_generator(index: usize) -> PyGenerator {
    PyGenerator { g: Generator::default_cuda(index) }
}

/// `torch.cuda.manual_seed_all(seed)`: every CUDA device's default generator, present and
/// future, with no driver call.
#[pyfunction]
pub fn _cuda_manual_seed_all(seed: &Bound<'_, PyAny>) -> PyResult<()> {
    Generator::manual_seed_all_cuda(seed_value(seed)?);
    Ok(())
}
