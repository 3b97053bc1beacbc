//! CPU kernels.

pub mod arith;
pub mod gemm;
pub mod iter;
pub mod map;
pub mod real;
pub mod rng;
pub mod threads;
pub mod vecmath;
