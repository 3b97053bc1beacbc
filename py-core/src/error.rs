//! Core errors become the Python exceptions PyTorch raises.

use ferrotorch_core::{Error, ErrorKind};
use pyo3::exceptions::{PyIndexError, PyNotImplementedError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::PyErr;

/// Converts a core error into its Python exception.
pub fn to_py(e: Error) -> PyErr {
    if let Some(pending) = take_pending(&e) {
        return pending;
    }
    match e.kind {
        ErrorKind::Runtime => PyRuntimeError::new_err(e.message),
        ErrorKind::Index => PyIndexError::new_err(e.message),
        ErrorKind::Type => PyTypeError::new_err(e.message),
        ErrorKind::Value => PyValueError::new_err(e.message),
        ErrorKind::NotImplemented => PyNotImplementedError::new_err(e.message),
    }
}

/// `result.map_err(to_py)` as a method.
pub trait IntoPy<T> {
    fn py(self) -> pyo3::PyResult<T>;
}

impl<T> IntoPy<T> for ferrotorch_core::Result<T> {
    fn py(self) -> pyo3::PyResult<T> {
        self.map_err(to_py)
    }
}

thread_local! {
    /// A Python exception raised inside a hook or a Python `autograd.Function` while the core
    /// ran backward; it surfaces unchanged once control returns to Python.
    static PENDING: std::cell::RefCell<Option<PyErr>> = const { std::cell::RefCell::new(None) };
}

const PENDING_MARK: &str = "\u{0}python exception";

/// Keeps a Python exception for the trip through the core; returns the core error carrying it.
pub fn stash(e: PyErr) -> Error {
    PENDING.with(|p| *p.borrow_mut() = Some(e));
    Error::new(ErrorKind::Runtime, PENDING_MARK)
}

fn take_pending(e: &Error) -> Option<PyErr> {
    if e.message == PENDING_MARK {
        PENDING.with(|p| p.borrow_mut().take())
    } else {
        None
    }
}
