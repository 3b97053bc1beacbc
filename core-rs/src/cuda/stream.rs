//! Streams and events (`torch.cuda.Stream`, `Event`, `current_stream`, `stream(ctx)`). Each
//! thread has a current stream per device, the legacy default stream until one is set; every
//! kernel launch and upload is queued on it, and device memory is pooled per stream (see
//! `allocator.rs`). Streams and events made from Python are kept here by id (the value of
//! their `cuda_stream` / `cuda_event` handle) until Python releases them.
//!
//! Streams are created non-blocking, as PyTorch's are: they do not wait for the legacy
//! default stream, so ordering across streams is the caller's (`wait_stream`, `wait_event`),
//! exactly as in PyTorch. Host copies wait for the current stream.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cudarc::driver::sys::CUevent_flags;
use cudarc::driver::{CudaEvent, CudaStream};

use super::{device, driver_error, guarded};
use crate::err;
use crate::error::Result;

thread_local! {
    /// The current stream of each device for this thread (absent: the default stream).
    static CURRENT: RefCell<HashMap<usize, Arc<CudaStream>>> = RefCell::new(HashMap::new());
}

/// Streams created from Python, by id, with their device.
static STREAMS: Mutex<Vec<(u64, usize, Arc<CudaStream>)>> = Mutex::new(Vec::new());
/// Events created from Python, by id, with their device.
static EVENTS: Mutex<Vec<(u64, usize, Arc<CudaEvent>)>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The id of a stream: its handle's value (0 for the legacy default stream).
fn id_of(s: &CudaStream) -> u64 {
    s.cu_stream() as u64
}

/// The stream work on device `index` is queued on by this thread.
pub fn current(index: usize) -> Result<Arc<CudaStream>> {
    match CURRENT.with(|c| c.borrow().get(&index).cloned()) {
        Some(s) => Ok(s),
        None => Ok(device::context(index)?.default_stream()),
    }
}

/// The id of this thread's current stream on device `index` (0: the default stream). The
/// allocator pools blocks by it.
pub fn current_id(index: usize) -> u64 {
    CURRENT.with(|c| c.borrow().get(&index).map_or(0, |s| id_of(s)))
}

/// Stream `id` of device `index` (0: the default stream).
fn stream(index: usize, id: u64) -> Result<Arc<CudaStream>> {
    if id == 0 {
        return Ok(device::context(index)?.default_stream());
    }
    lock(&STREAMS)
        .iter()
        .find(|(i, d, _)| *i == id && *d == index)
        .map(|(_, _, s)| s.clone())
        .ok_or_else(|| err!(Runtime, "unknown CUDA stream {id:#x} on device {index}"))
}

/// Makes stream `id` (0: the default stream) current on device `index` for this thread;
/// returns the previous current stream's id.
pub fn set_current(index: usize, id: u64) -> Result<u64> {
    let s = if id == 0 { None } else { Some(stream(index, id)?) };
    let previous = current_id(index);
    CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        match s {
            Some(s) => c.insert(index, s),
            None => c.remove(&index),
        }
    });
    Ok(previous)
}

/// A new non-blocking stream on device `index` with `priority` (lower is higher; 0 default).
pub fn create(index: usize, priority: i32) -> Result<u64> {
    let ctx = device::context(index)?;
    let s = guarded("cuStreamCreateWithPriority", || ctx.new_stream_with_priority(priority).map_err(driver_error))?;
    let id = id_of(&s);
    lock(&STREAMS).push((id, index, s));
    Ok(id)
}

/// Forgets stream `id`: waits for its work, hands its pooled memory to the default stream (a
/// new stream may get the same handle value) and destroys it once no thread holds it as
/// current.
pub fn release(id: u64) -> Result<()> {
    let found = {
        let mut streams = lock(&STREAMS);
        let at = streams.iter().position(|(i, _, _)| *i == id);
        at.map(|at| streams.remove(at))
    };
    if let Some((_, index, s)) = found {
        guarded("cuStreamSynchronize", || s.synchronize().map_err(driver_error))?;
        super::faults::forget(index, id);
        super::blas::forget_stream(index, id);
        super::memory::retire_stream(index, id)?;
    }
    Ok(())
}

/// Waits on the host for the work queued on stream `id` of device `index`.
pub fn synchronize(index: usize, id: u64) -> Result<()> {
    let (s, ticket) = (stream(index, id)?, super::faults::ticket());
    guarded("cuStreamSynchronize", || s.synchronize().map_err(driver_error))?;
    super::faults::raise_pending(super::faults::Waited::Streams(index, [id, id], ticket))
}

/// Waits for the current stream of device `index` when it is not the default stream (whose
/// work the synchronous host copies already wait for).
pub fn sync_current(index: usize) -> Result<()> {
    if current_id(index) != 0 {
        synchronize(index, current_id(index))?;
    }
    Ok(())
}

/// Whether all work queued on stream `id` has finished.
pub fn query(index: usize, id: u64) -> Result<bool> {
    let s = stream(index, id)?;
    guarded("cuStreamQuery", || {
        let e = s.record_event(None).map_err(driver_error)?;
        e.try_is_complete().map_err(driver_error)
    })
}

/// `t.record_stream(stream)`: the memory of CUDA tensor `t` is reused, once freed, only after
/// the work queued by then on stream `id` of device `index` (see `allocator.rs`).
pub fn record_stream(t: &crate::tensor::Tensor, index: usize, id: u64) -> Result<()> {
    let Some(buffer) = t.storage().device_buffer() else {
        return Err(err!(NotImplemented, "Could not run 'aten::record_stream' with arguments from the 'CPU' backend."));
    };
    if buffer.device() != index {
        return Err(err!(Runtime, "record_stream: the tensor is on cuda:{} but the stream on cuda:{}", buffer.device(), index));
    }
    stream(index, id)?;
    buffer.record_stream(id)
}

/// Makes stream `id` wait (on the device) for the work queued so far on stream `other`.
pub fn wait_stream(index: usize, id: u64, other: u64) -> Result<()> {
    let (s, o) = (stream(index, id)?, stream(index, other)?);
    guarded("cuStreamWaitEvent", || s.join(&o).map_err(driver_error))
}

/// A new event on device `index`, timing or not.
pub fn create_event(index: usize, timing: bool) -> Result<u64> {
    let ctx = device::context(index)?;
    let flags = if timing { CUevent_flags::CU_EVENT_DEFAULT } else { CUevent_flags::CU_EVENT_DISABLE_TIMING };
    let e = guarded("cuEventCreate", || ctx.new_event(Some(flags)).map_err(driver_error))?;
    let id = e.cu_event() as u64;
    lock(&EVENTS).push((id, index, Arc::new(e)));
    Ok(id)
}

fn event(id: u64) -> Result<(usize, Arc<CudaEvent>)> {
    lock(&EVENTS).iter().find(|(i, _, _)| *i == id).map(|(_, d, e)| (*d, e.clone())).ok_or_else(|| err!(Runtime, "unknown CUDA event {id:#x}"))
}

/// Forgets event `id`.
pub fn release_event(id: u64) {
    lock(&EVENTS).retain(|(i, _, _)| *i != id);
}

/// Records on event `id` the work queued so far on stream `stream_id` of the event's device.
pub fn record(id: u64, stream_id: u64) -> Result<()> {
    let (index, e) = event(id)?;
    let s = stream(index, stream_id)?;
    guarded("cuEventRecord", || e.record(&s).map_err(driver_error))
}

/// Makes stream `stream_id` wait (on the device) for event `id`.
pub fn wait_event(id: u64, stream_id: u64) -> Result<()> {
    let (index, e) = event(id)?;
    let s = stream(index, stream_id)?;
    guarded("cuStreamWaitEvent", || s.wait(&e).map_err(driver_error))
}

/// Waits on the host for event `id`.
pub fn event_synchronize(id: u64) -> Result<()> {
    let (_, e) = event(id)?;
    guarded("cuEventSynchronize", || e.synchronize().map_err(driver_error))
}

/// Whether the work event `id` recorded has finished.
pub fn event_query(id: u64) -> Result<bool> {
    let (_, e) = event(id)?;
    guarded("cuEventQuery", || e.try_is_complete().map_err(driver_error))
}

/// Milliseconds from event `start` to event `end` (both recorded, timing events).
pub fn elapsed_ms(start: u64, end: u64) -> Result<f32> {
    let ((_, a), (_, b)) = (event(start)?, event(end)?);
    guarded("cuEventElapsedTime", || a.elapsed_ms(&b).map_err(driver_error))
}
