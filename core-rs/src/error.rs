//! Errors of the core. Each kind maps onto the Python exception PyTorch raises for it.

use std::fmt;

/// Which Python exception an error becomes at the binding layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `RuntimeError`: shape mismatches, impossible views, unsupported dtype combinations.
    Runtime,
    /// `IndexError`: indexes and dims out of range.
    Index,
    /// `TypeError`: wrong argument types.
    Type,
    /// `ValueError`: arguments of the right type with a bad value.
    Value,
    /// `NotImplementedError`.
    NotImplemented,
}

/// An error with the message PyTorch would show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `bail!(Runtime, "...", args)` returns an error of that kind from the current function.
#[macro_export]
macro_rules! bail {
    ($kind:ident, $($fmt:tt)+) => {
        return Err($crate::error::Error::new($crate::error::ErrorKind::$kind, format!($($fmt)+)))
    };
}

/// Builds an error value without returning.
#[macro_export]
macro_rules! err {
    ($kind:ident, $($fmt:tt)+) => {
        $crate::error::Error::new($crate::error::ErrorKind::$kind, format!($($fmt)+))
    };
}
