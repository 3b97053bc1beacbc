//! The kernels' thread pool (`torch.set_num_threads`). Rayon's global pool cannot be resized,
//! so kernels run their parallel parts inside a pool of ours that `set_num_threads` replaces.
//! Every parallel section (a rayon parallel iterator) must run inside `install` or `install_if`.

use std::sync::{Arc, OnceLock, RwLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

fn slot() -> &'static RwLock<Arc<ThreadPool>> {
    static POOL: OnceLock<RwLock<Arc<ThreadPool>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        RwLock::new(Arc::new(build(n).expect("a thread pool of the machine's size")))
    })
}

fn build(n: usize) -> Result<ThreadPool, rayon::ThreadPoolBuildError> {
    ThreadPoolBuilder::new().num_threads(n).thread_name(|i| format!("ferrotorch-{i}")).build()
}

fn pool() -> Arc<ThreadPool> {
    slot().read().map(|p| p.clone()).unwrap_or_else(|e| e.into_inner().clone())
}

/// Threads the kernels use.
pub fn num_threads() -> usize {
    pool().current_num_threads()
}

/// Resizes the pool used by later kernels.
pub fn set_num_threads(n: usize) -> crate::Result<()> {
    if n == 0 {
        crate::bail!(Runtime, "set_num_threads expects a positive integer");
    }
    if n == num_threads() {
        return Ok(());
    }
    let new = build(n).map_err(|e| crate::err!(Runtime, "could not start {} threads: {}", n, e))?;
    match slot().write() {
        Ok(mut p) => *p = Arc::new(new),
        Err(e) => *e.into_inner() = Arc::new(new),
    }
    Ok(())
}

/// Runs `f` inside the kernels' pool, so rayon's parallel iterators in it use that pool.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let p = pool();
    if rayon::current_thread_index().is_some() && rayon::current_num_threads() == p.current_num_threads() {
        return f();
    }
    p.install(f)
}

/// Runs `f` in the kernels' pool when `work` (elements touched) is large enough to be split;
/// small work runs on the calling thread, avoiding the hand-off to the pool.
pub fn install_if<R: Send>(work: usize, f: impl FnOnce() -> R + Send) -> R {
    if work < crate::cpu::iter::GRAIN {
        f()
    } else {
        install(f)
    }
}

/// Calls `unit(i)` for every `i < units`, each unit touching about `per_unit` elements: on the
/// calling thread when the whole is small, otherwise over the kernels' pool in pieces of at
/// least `GRAIN` elements. The one dispatch of the row kernels (softmax, log-sum-exp, medians).
pub fn for_units(units: usize, per_unit: usize, unit: impl Fn(usize) + Sync + Send) {
    use rayon::prelude::*;
    let grain = crate::cpu::iter::GRAIN;
    let work = units.saturating_mul(per_unit);
    install_if(work, || {
        if work < grain || rayon::current_num_threads() == 1 {
            (0..units).for_each(&unit);
        } else {
            (0..units).into_par_iter().with_min_len((grain / per_unit.max(1)).max(1)).for_each(&unit);
        }
    })
}
