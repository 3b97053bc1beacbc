//! Gradients of `ops/nn/conv.rs`.
