//! Page-locked host memory (`pin_memory()`): host blocks the GPU's copy engines read directly,
//! so a host-to-device copy from one is queued on the stream without staging through a driver
//! buffer. With `non_blocking=True` the host returns at once and the copy overlaps whatever
//! runs next; otherwise the copy is waited for, as PyTorch does.

use std::cell::Cell;
use std::sync::Mutex;

use cudarc::driver::{result as driver, CudaEvent, CudaStream};

use super::{device, driver_error, guarded};
use crate::error::Result;

/// A block from `cuMemHostAlloc`, freed with `cuMemFreeHost`.
pub struct PinnedBuffer {
    ptr: *mut u8,
    /// One event per asynchronous copy still reading the buffer (on any device), waited for
    /// before the memory is freed so a queued copy never reads freed memory.
    readers: Mutex<Vec<CudaEvent>>,
}

// The pointer is plain host memory; ordering is the tensor ops' job, as for other storage.
unsafe impl Send for PinnedBuffer {}
unsafe impl Sync for PinnedBuffer {}

impl PinnedBuffer {
    /// `bytes` (at least one) of page-locked memory, portable across devices; raises without
    /// a GPU, as PyTorch does.
    pub fn allocate(bytes: usize) -> Result<PinnedBuffer> {
        device::init()?;
        device::bind(device::current_device()?)?;
        // SAFETY: a plain allocation; the pointer is freed once, in `drop`.
        let ptr = guarded("cuMemHostAlloc", || {
            unsafe { driver::malloc_host(bytes.max(1), cudarc::driver::sys::CU_MEMHOSTALLOC_PORTABLE) }.map_err(driver_error)
        })?;
        Ok(PinnedBuffer { ptr: ptr as *mut u8, readers: Mutex::new(Vec::new()) })
    }

    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// Records that work just queued on `stream` reads the buffer; forgets finished readers.
    pub fn read_by(&self, stream: &CudaStream) -> Result<()> {
        let event = guarded("cuEventRecord", || stream.record_event(None).map_err(driver_error))?;
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        readers.retain(|e| !e.is_complete());
        readers.push(event);
        Ok(())
    }
}

impl Drop for PinnedBuffer {
    fn drop(&mut self) {
        let readers = self.readers.get_mut().unwrap_or_else(|e| e.into_inner());
        for event in readers.drain(..) {
            let _ = event.synchronize();
        }
        // The driver frees host allocations through a context: make one current.
        let _ = device::current_device().and_then(device::bind);
        // SAFETY: allocated by `cuMemHostAlloc` and no longer read by any queued copy.
        let _ = unsafe { driver::free_host(self.ptr as *mut std::ffi::c_void) };
    }
}

thread_local! {
    static NON_BLOCKING: Cell<bool> = const { Cell::new(false) };
}

/// Restores the thread's flag when a `non_blocking` scope ends, by return or by panic.
struct Restore(bool);

impl Drop for Restore {
    fn drop(&mut self) {
        NON_BLOCKING.with(|c| c.set(self.0));
    }
}

/// Runs `f` with copies from pinned memory left running when they are queued
/// (`non_blocking=True`) or waited for (`false`), as the caller's argument says.
pub fn non_blocking<R>(non_blocking: bool, f: impl FnOnce() -> R) -> R {
    let _restore = Restore(NON_BLOCKING.with(|c| c.replace(non_blocking)));
    f()
}

/// Whether the copy being made may return before it completes.
pub(super) fn is_non_blocking() -> bool {
    NON_BLOCKING.with(|c| c.get())
}
