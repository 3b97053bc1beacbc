//! Gradients of `ops/nn/pool.rs`.
