//! Fused multi-tensor optimizer updates (`torch.optim`'s `_single_tensor_*` arithmetic, one pass).
//!
//! Each optimizer is one function taking lists of tensors (parameters, gradients, state buffers,
//! step counters) and its hyper-parameters. It advances the step counters, computes the scalar
//! coefficients in f64 exactly as PyTorch's Python code does, then updates every element of every
//! parameter and state buffer in place in a single pass over memory (see `foreach`). The
//! element-wise arithmetic follows PyTorch's op order, with scalars rounded to the compute type
//! as PyTorch's kernels round them, so results match PyTorch step for step. float16/bfloat16
//! tensors compute in float32 and round back once per element. Writes bump version counters
//! and record no autograd history.

mod foreach;

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod nadam;
mod radam;
mod rmsprop;
mod sgd;

pub use adadelta::{adadelta, AdadeltaOptions};
pub use adagrad::{adagrad, AdagradOptions};
pub use adam::{adam, AdamOptions};
pub use adamax::{adamax, AdamaxOptions};
pub use foreach::{advance_steps, scale_scalars};
pub use nadam::{nadam, NAdamOptions};
pub use radam::{radam, RAdamOptions};
pub use rmsprop::{rmsprop, RmspropOptions};
pub use sgd::{sgd, SgdOptions};
