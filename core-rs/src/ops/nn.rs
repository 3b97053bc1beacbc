//! Neural-network kernels (`torch.nn.functional`'s native ops), one family per file.

pub mod activation;
pub mod attention;
pub mod batch_norm;
pub mod conv;
pub mod loss;
pub mod norm;
pub mod pool;
pub mod gru_layer;
pub mod lstm_layer;
pub mod recurrence;
pub mod rnn;
pub mod sdp;
