//! Tensor operations, one file per family. Each op checks its arguments once, then runs the
//! CPU kernel.

pub mod copy;
pub mod creation;
pub mod unary;
pub mod binary;
pub mod clamp;
pub mod shape;
pub mod reduce;
pub mod matmul;
pub mod linalg;
pub mod index;
pub mod join;
pub mod sort;
pub mod random;
pub mod nn;
