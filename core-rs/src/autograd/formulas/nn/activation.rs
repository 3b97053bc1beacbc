//! Gradients of `ops/nn/activation.rs`.
