//! Device memory for tensors: one [`CachingAllocator`] per device over the driver's
//! `cuMemAlloc`/`cuMemFree`, and [`DeviceBuffer`], the block a CUDA storage owns and returns to
//! its allocator when dropped.
//!
//! Blocks are pooled by the stream current when they were allocated, so a block freed here is
//! reused only by later work on that stream, which the stream orders after the last use (or by
//! the CUDA graph whose capture allocated it: see `graphs.rs`).

use std::sync::Mutex;

use cudarc::driver::result as driver;
use cudarc::driver::sys::{self as driver_sys, CUstreamCaptureMode};

use super::allocator::{Block, CachingAllocator, DeviceMemory, MemoryStats, SegmentInfo};
use super::{device, driver_error, guarded};
use crate::error::Result;

/// The driver's memory of one device.
struct DriverMemory {
    device: usize,
}

impl DriverMemory {
    /// Makes the device's context current (the allocator's interface has no room for an error:
    /// a failure reads as "no memory").
    fn bind(&self) -> bool {
        device::bind(self.device).is_ok()
    }
}

impl DeviceMemory for DriverMemory {
    fn allocate(&mut self, bytes: usize) -> Option<u64> {
        if !self.bind() {
            return None;
        }
        // A capture in the strict ("global") mode forbids cuMemAlloc on this thread; PyTorch
        // relaxes the mode around it, as here: an allocation is not captured, and the graph
        // keeps the new address, which its private pool never frees before the graph goes.
        let mut mode = CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_RELAXED;
        // SAFETY: `mode` is a valid value to exchange; the old one is put back below.
        let exchanged = unsafe { driver_sys::cuThreadExchangeStreamCaptureMode(&mut mode) } == driver_sys::CUresult::CUDA_SUCCESS;
        // SAFETY: the context is current; the result is checked.
        let ptr = unsafe { driver::malloc_sync(bytes) }.ok();
        if exchanged {
            // SAFETY: as above, restoring the thread's mode.
            unsafe { driver_sys::cuThreadExchangeStreamCaptureMode(&mut mode) };
        }
        ptr
    }

    fn release(&mut self, ptr: u64, _bytes: usize) {
        if self.bind() {
            // SAFETY: `ptr` came from `malloc_sync` on this device and is no longer used (the
            // allocator only releases cached blocks). A failure leaks the block, nothing worse.
            let _ = unsafe { driver::free_sync(ptr) };
        }
    }

    fn free_and_total(&self) -> (usize, usize) {
        free_and_total(self.device).unwrap_or((0, 0))
    }

    fn may_release(&self) -> bool {
        !super::graphs::any_capture()
    }

    fn record_event(&mut self, stream: u64) -> Option<u64> {
        if !self.bind() {
            return None;
        }
        let cu_stream = stream as driver_sys::CUstream;
        let Ok(event) = driver::event::create(driver_sys::CUevent_flags::CU_EVENT_DISABLE_TIMING) else {
            // No event to wait on later: wait for the stream now.
            // SAFETY: the stream id is a live stream's handle (or 0, the default stream).
            let _ = unsafe { driver::stream::synchronize(cu_stream) };
            return None;
        };
        // SAFETY: the event was just created; the stream handle is live.
        if unsafe { driver::event::record(event, cu_stream) }.is_err() {
            // SAFETY: as above; then the event, never recorded, goes.
            unsafe {
                let _ = driver::stream::synchronize(cu_stream);
                let _ = driver::event::destroy(event);
            }
            return None;
        }
        Some(event as u64)
    }

    fn event_done(&mut self, event: u64) -> bool {
        let event = event as driver_sys::CUevent;
        // SAFETY: `event` came from `record_event` and is destroyed only here or in wait_event.
        let ready = !matches!(unsafe { driver::event::query(event) }, Err(e) if e.0 == driver_sys::CUresult::CUDA_ERROR_NOT_READY);
        if ready {
            // SAFETY: as above. (A failed query counts as done: the context is broken anyway.)
            let _ = unsafe { driver::event::destroy(event) };
        }
        ready
    }

    fn wait_event(&mut self, event: u64) {
        let event = event as driver_sys::CUevent;
        // SAFETY: as in event_done.
        unsafe {
            let _ = driver::event::synchronize(event);
            let _ = driver::event::destroy(event);
        }
    }
}

/// The allocators, by device index, created at first use.
static ALLOCATORS: Mutex<Vec<Option<CachingAllocator<DriverMemory>>>> = Mutex::new(Vec::new());

fn with_allocator<R>(index: usize, f: impl FnOnce(&mut CachingAllocator<DriverMemory>) -> R) -> Result<R> {
    device::check_device(index)?;
    let mut all = ALLOCATORS.lock().unwrap_or_else(|e| e.into_inner());
    if all.len() <= index {
        all.resize_with(index + 1, || None);
    }
    let allocator = all[index].get_or_insert_with(|| CachingAllocator::new(index, DriverMemory { device: index }));
    Ok(f(allocator))
}

/// A block of device memory owned by a storage; returned to the allocator on drop.
pub struct DeviceBuffer {
    device: usize,
    block: Block,
}

impl DeviceBuffer {
    /// At least `bytes` of uninitialised memory on device `index`. Zero bytes take no block:
    /// the pointer is null, as PyTorch's `data_ptr()` of an empty CUDA tensor.
    pub fn allocate(index: usize, bytes: usize) -> Result<DeviceBuffer> {
        if bytes == 0 {
            device::check_device(index)?;
            return Ok(DeviceBuffer { device: index, block: Block { ptr: 0, size: 0 } });
        }
        // A stream taking part in a CUDA graph capture allocates from the graph's pool.
        let (stream, pool) = (super::stream::current_id(index), super::graphs::capture_pool(index)?);
        let block = guarded("cuMemAlloc", || {
            with_allocator(index, |a| match pool {
                Some(pool) => a.allocate_in_pool(bytes, stream, pool),
                None => a.allocate(bytes, stream),
            })?
        })?;
        Ok(DeviceBuffer { device: index, block })
    }

    /// The device pointer of the first byte.
    pub fn ptr(&self) -> u64 {
        self.block.ptr
    }

    /// The block's size (at least the bytes asked for).
    pub fn bytes(&self) -> usize {
        self.block.size
    }

    pub fn device(&self) -> usize {
        self.device
    }

    /// Marks this block as used by work on stream `stream` (an id as `stream::current_id`
    /// gives): when dropped, it is reused only after the work queued on that stream by then
    /// (`Tensor.record_stream`).
    pub fn record_stream(&self, stream: u64) -> Result<()> {
        if self.block.size == 0 {
            return Ok(());
        }
        with_allocator(self.device, |a| a.record_stream(self.block.ptr, stream))?
    }
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        if self.block.size == 0 {
            return;
        }
        let _ = with_allocator(self.device, |a| a.free(self.block.ptr));
    }
}

/// The allocator's counters for device `index` (all zero before its first allocation).
pub fn stats(index: usize) -> Result<MemoryStats> {
    with_allocator(index, |a| a.stats())
}

/// Releases the cached blocks of device `index` (`torch.cuda.empty_cache()`).
pub fn empty_cache(index: usize) -> Result<()> {
    guarded("cuMemFree", || with_allocator(index, |a| a.empty_cache()))
}

/// Moves the blocks of stream `stream` (finished, about to be destroyed) of device `index` to
/// the default stream's pool.
pub fn retire_stream(index: usize, stream: u64) -> Result<()> {
    with_allocator(index, |a| a.retire_stream(stream))
}

/// Serves the requests for work on stream `stream` of device `index` from private pool `pool`
/// until [`end_capture`] (a CUDA graph is being captured on it).
pub fn begin_capture(index: usize, stream: u64, pool: u64) -> Result<()> {
    with_allocator(index, |a| a.begin_capture(stream, pool))?
}

/// Ends the capture of stream `stream` of device `index`.
pub fn end_capture(index: usize, stream: u64) -> Result<()> {
    with_allocator(index, |a| a.end_capture(stream))
}

/// One graph fewer uses private pool `pool` of device `index` (whose work has finished).
pub fn release_pool(index: usize, pool: u64) -> Result<()> {
    with_allocator(index, |a| a.release_pool(pool))
}

/// Caps the caching allocator of device `index` at `fraction` of the device's memory.
pub fn set_memory_fraction(index: usize, fraction: f64) -> Result<()> {
    with_allocator(index, |a| a.set_memory_fraction(fraction))
}

/// The segments of device `index` and their blocks.
pub fn snapshot(index: usize) -> Result<Vec<SegmentInfo>> {
    with_allocator(index, |a| a.snapshot())
}

/// `(free, total)` bytes of device `index`, as the driver counts them.
pub fn free_and_total(index: usize) -> Result<(usize, usize)> {
    device::check_device(index)?;
    device::bind(index)?;
    guarded("cuMemGetInfo", || driver::mem_get_info().map_err(driver_error))
}

/// Resets the peak counters of device `index`.
pub fn reset_peak_stats(index: usize) -> Result<()> {
    with_allocator(index, |a| a.reset_peak_stats())
}
