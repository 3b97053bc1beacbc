//! Backward formulas, one file per op family (mirroring `ops/`).

pub mod binary;
pub mod linalg;
pub mod matmul;
pub mod reduce;
pub mod unary;
pub mod index;
pub mod join;
pub mod sort;
pub mod nn;
