//! CPU kernels.

pub mod arith;
pub mod gemm;
pub mod im2col;
pub mod iter;
pub mod map;
pub mod pool;
pub mod real;
pub mod reduce;
pub mod rng;
pub mod threads;
pub mod vecmath;
