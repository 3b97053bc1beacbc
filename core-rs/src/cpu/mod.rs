//! CPU kernels.

pub mod arith;
pub mod iter;
pub mod map;
pub mod real;
pub mod threads;
pub mod reduce;
