//! Reverse-mode automatic differentiation.
//!
//! Every differentiable op records a [`Node`] holding what its backward formula needs; the
//! formulas (in `formulas/`, one file per op family, mirroring `ops/`) are written with ordinary
//! tensor ops, so running them with grad mode on (`create_graph=True`) records the graph of the
//! gradient itself. The [`engine`] walks a graph from its outputs and accumulates into leaves.

pub mod anomaly;
pub mod engine;
pub mod formulas;
pub mod inplace;
pub mod math;
pub mod meta;
pub mod mode;
pub mod node;
pub mod record;
pub mod views;

pub use engine::{run_backward, BackwardRequest};
pub use inplace::{inplace, inplace_direct, inplace_with};
pub use mode::{is_grad_enabled, no_grad, set_grad_enabled, GradModeGuard};
pub use node::{Edge, Formula, Grads, Hook, Node, Saved};
pub use record::{attach, needs_grad, record, record_multi, Saver};
pub use views::view;
