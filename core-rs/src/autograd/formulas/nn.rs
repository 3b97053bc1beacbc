//! Gradients of the neural-network kernels (`ops/nn/`), one family per file.

pub mod activation;
pub mod attention;
pub mod conv;
pub mod loss;
pub mod norm;
pub mod pool;
pub mod rnn;
