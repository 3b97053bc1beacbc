//! Tensor operations, one file per family. Each op checks its arguments once, then runs the
//! CPU kernel.

pub mod copy;
pub mod creation;
pub mod unary;
pub mod binary;
pub mod shape;
