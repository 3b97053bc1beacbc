//! Library handles (cuBLAS, cuDNN): one per device, created at first use, used by one call at a
//! time and bound to the calling thread's current stream before each use, so their work is
//! queued there like every kernel.

use std::sync::Mutex;

use cudarc::driver::CudaStream;

use super::{device, stream};
use crate::error::Result;

/// A handle in the table.
struct Held<H>(H);

// SAFETY: the libraries' handles may be used from any thread, one call at a time, which the
// table's mutex ensures.
unsafe impl<H> Send for Held<H> {}

/// The handles of one library, by device index.
pub(crate) struct Handles<H>(Mutex<Vec<Option<Held<H>>>>);

impl<H: Copy> Handles<H> {
    pub const fn new() -> Self {
        Handles(Mutex::new(Vec::new()))
    }

    /// Runs `f` with device `index`'s handle (made by `create` the first time) after `attach`
    /// has set it to the thread's current stream; the handle's lock is held throughout.
    pub fn with<R>(&self, index: usize, create: impl FnOnce() -> Result<H>, attach: impl FnOnce(H, &CudaStream) -> Result<()>, f: impl FnOnce(H) -> Result<R>) -> Result<R> {
        device::bind(index)?;
        let mut handles = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if handles.len() <= index {
            handles.resize_with(index + 1, || None);
        }
        let handle = match &handles[index] {
            Some(held) => held.0,
            None => {
                let handle = create()?;
                handles[index] = Some(Held(handle));
                handle
            }
        };
        attach(handle, &*stream::current(index)?)?;
        f(handle)
    }
}
