//! Autocast (automatic mixed precision), as `torch.autocast`: inside an enabled region, listed
//! ops cast their floating inputs to the op's dtype first: matrix products and convolutions
//! to the fast dtype (bfloat16 on the CPU, float16 on CUDA by default), precision-sensitive ops
//! (losses, decompositions, some pools) to float32, and joins to the widest input type; each
//! device type has its own switch, fast dtype and table, chosen by the op's first input.
//!
//! The state is thread-local, as PyTorch's is, and lives here rather than in Python because ops
//! are reached from Rust with no Python frame (`a @ b`, `F.linear`, convolutions). Each listed
//! op has one hook line at its entry (`autocast::run`), or, when other ops compose it (`sum`,
//! `exp`, `softmax`), at its Python binding (`autocast::apply`), so that only a user's call is
//! cast; which list an op is on is decided by one table ([`policy`]). GradScaler's fused
//! kernels live in [`scaler`].

mod cast;
pub mod policy;
pub mod scaler;
mod state;

pub use cast::{apply, apply_operands, cast_for, cast_inputs, clear_cache, run, trace, OpName};
pub use policy::Policy;
pub use state::{
    any_active, decrement_nesting, dtype, increment_nesting, is_available, is_cache_enabled, is_enabled, is_excluded, set_cache_enabled,
    set_dtype, set_excluded, set_enabled, DeviceType, ExcludeGuard,
};
