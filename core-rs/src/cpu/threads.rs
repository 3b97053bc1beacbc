//! The kernels' thread pool size (`torch.set_num_threads`).

use std::sync::atomic::{AtomicUsize, Ordering};

static REQUESTED: AtomicUsize = AtomicUsize::new(0);

/// Threads the kernels use.
pub fn num_threads() -> usize {
    rayon::current_num_threads()
}

/// Sets the pool size. Rayon's global pool can be sized once, before first use; later calls
/// that ask for another size raise.
pub fn set_num_threads(n: usize) -> crate::Result<()> {
    if n == 0 {
        crate::bail!(Runtime, "Number of threads must be positive, got {}", n);
    }
    if rayon::ThreadPoolBuilder::new().num_threads(n).build_global().is_ok() {
        REQUESTED.store(n, Ordering::Relaxed);
        return Ok(());
    }
    if num_threads() != n {
        crate::bail!(Runtime, "set_num_threads({}): the thread pool is already running with {} threads", n, num_threads());
    }
    Ok(())
}
