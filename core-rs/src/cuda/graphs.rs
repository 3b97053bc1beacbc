//! CUDA graphs (`torch.cuda.CUDAGraph`, `graph(ctx)`): the work queued on a stream between
//! [`capture_begin`] and [`capture_end`] is recorded by the driver's stream capture instead of
//! run, then [`replay`]ed with one launch: the same kernels on the same addresses.
//!
//! As in PyTorch, capture needs a stream other than the legacy default one, and every block the
//! capture allocates comes from the graph's private pool (`allocator.rs`), kept until the graph
//! is [`reset`], so the addresses a replay writes are never handed to other work. Work that
//! cannot be captured fails the capture with the driver's error: host synchronisation (`item()`,
//! printing, `nonzero`), uploads from pageable host memory. Random kernels would replay the
//! numbers drawn at capture, so they refuse to run in a capture (PyTorch has the kernels read
//! their Philox offset from device memory instead; ferrotorch's take it by value).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cudarc::driver::sys::{CUgraphInstantiate_flags, CUstreamCaptureMode, CUstreamCaptureStatus};
use cudarc::driver::{CudaGraph, CudaStream};

use super::{allocator, device, driver_error, guarded, memory, stream};
use crate::error::Result;
use crate::{bail, err};

/// A graph: where it lives and what it holds.
struct Graph {
    device: usize,
    /// The private pool's owner id ([`allocator::private_pool`]) once a capture began.
    pool: Option<u64>,
    /// The stream being captured, between begin and end.
    capturing: Option<Arc<CudaStream>>,
    /// The instantiated graph, after a capture.
    exec: Option<CudaGraph>,
}

// SAFETY: a graph is used by one call at a time (the mutex below), as the driver requires.
unsafe impl Send for Graph {}

static GRAPHS: Mutex<Option<HashMap<u64, Graph>>> = Mutex::new(None);
static NEXT_GRAPH: AtomicU64 = AtomicU64::new(1);
static NEXT_POOL: AtomicU64 = AtomicU64::new(1);
/// Captures underway in this process: random kernels check it before asking the driver.
static CAPTURES: AtomicUsize = AtomicUsize::new(0);

fn with_graph<R>(id: u64, f: impl FnOnce(&mut Graph) -> Result<R>) -> Result<R> {
    let mut graphs = GRAPHS.lock().unwrap_or_else(|e| e.into_inner());
    let graph = graphs.get_or_insert_with(HashMap::new).get_mut(&id).ok_or_else(|| err!(Runtime, "CUDA graph {id} does not exist"))?;
    f(graph)
}

/// A new private memory pool id (`torch.cuda.graph_pool_handle()`), for graphs that share one.
pub fn pool_handle() -> u64 {
    NEXT_POOL.fetch_add(1, Ordering::Relaxed)
}

/// A new, empty graph on device `index`.
pub fn create(index: usize) -> Result<u64> {
    device::check_device(index)?;
    let id = NEXT_GRAPH.fetch_add(1, Ordering::Relaxed);
    GRAPHS.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new).insert(id, Graph { device: index, pool: None, capturing: None, exec: None });
    Ok(id)
}

/// The driver's capture mode for PyTorch's `capture_error_mode` names.
fn capture_mode(name: &str) -> Result<CUstreamCaptureMode> {
    Ok(match name {
        "global" => CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_GLOBAL,
        "thread_local" => CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL,
        "relaxed" => CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_RELAXED,
        _ => bail!(Runtime, "Unknown capture error mode. Expected `global`, `thread_local`, or `relaxed`, got {name}"),
    })
}

/// Starts capturing the work queued on this thread's current stream of device `index` into
/// graph `id`, allocating from private pool `pool` (a [`pool_handle`]; a new one when None).
pub fn capture_begin(id: u64, index: usize, pool: Option<u64>, mode: &str) -> Result<()> {
    let mode = capture_mode(mode)?;
    device::check_device(index)?;
    with_graph(id, |g| {
        if g.exec.is_some() || g.capturing.is_some() {
            bail!(Runtime, "This CUDAGraph instance already owns a captured graph. To capture a new graph, create a new instance.");
        }
        let s = stream::current(index)?;
        if s.cu_stream().is_null() {
            bail!(Runtime, "CUDA graphs must be captured on a non-default stream. (However, after capture, it's ok to replay them on the default stream.)");
        }
        let stream_id = s.cu_stream() as u64;
        let owner = allocator::private_pool(pool.unwrap_or_else(pool_handle));
        // Refused (the pool untouched) when the stream is being captured already.
        memory::begin_capture(index, stream_id, owner)?;
        if let Err(e) = guarded("cuStreamBeginCapture", || s.begin_capture(mode).map_err(driver_error)) {
            memory::end_capture(index, stream_id)?;
            memory::release_pool(index, owner)?;
            return Err(e);
        }
        CAPTURES.fetch_add(1, Ordering::Relaxed);
        g.device = index;
        g.pool = Some(owner);
        g.capturing = Some(s);
        Ok(())
    })
}

/// Whether a capture is underway anywhere in this process (the driver forbids freeing device
/// memory meanwhile).
pub fn any_capture() -> bool {
    CAPTURES.load(Ordering::Relaxed) > 0
}

/// Ends the driver's capture of `s` and instantiates what it recorded. Only once the driver's
/// capture has ended is ferrotorch's side of it (the count, the allocator's redirection)
/// undone: a failure that leaves the stream capturing leaves the graph capturing too.
fn end_driver_capture(g: &mut Graph) -> Result<Option<CudaGraph>> {
    let s = g.capturing.clone().expect("a capture to end");
    let ended = guarded("cuStreamEndCapture", || s.end_capture(CUgraphInstantiate_flags(0)).map_err(driver_error));
    let status = || guarded("cuStreamIsCapturing", || s.capture_status().map_err(driver_error));
    let still_capturing = ended.is_err() && status().is_ok_and(|status| status != CUstreamCaptureStatus::CU_STREAM_CAPTURE_STATUS_NONE);
    if !still_capturing {
        g.capturing = None;
        CAPTURES.fetch_sub(1, Ordering::Relaxed);
        memory::end_capture(g.device, s.cu_stream() as u64)?;
    }
    ended
}

/// Ends the capture of graph `id` and instantiates the graph. A capture the driver invalidated
/// (work that cannot be captured ran) raises its error; the graph is then empty again.
pub fn capture_end(id: u64) -> Result<()> {
    with_graph(id, |g| {
        if g.capturing.is_none() {
            bail!(Runtime, "CUDAGraph::capture_end called without capture_begin");
        }
        match end_driver_capture(g) {
            Ok(Some(exec)) => {
                g.exec = Some(exec);
                Ok(())
            }
            Ok(None) => {
                release(g)?;
                bail!(Runtime, "CUDA graph capture produced no graph")
            }
            Err(e) if g.capturing.is_some() => Err(e),
            Err(e) => {
                release(g)?;
                Err(err!(Runtime, "{} (ending a CUDA graph capture: work that cannot be captured, such as a host synchronization, may have run)", e.message))
            }
        }
    })
}

/// Launches graph `id` on this thread's current stream of its device.
pub fn replay(id: u64) -> Result<()> {
    with_graph(id, |g| {
        let Some(exec) = g.exec.as_ref() else { bail!(Runtime, "CUDAGraph::replay called without a captured graph (call capture_begin and capture_end first)") };
        let s = stream::current(g.device)?;
        device::bind(g.device)?;
        // SAFETY: a live executable graph of this device's context and a stream of it.
        guarded("cuGraphLaunch", || unsafe { cudarc::driver::result::graph::launch(exec.cu_graph_exec(), s.cu_stream()) }.map_err(driver_error))
    })
}

/// Drops the executable graph (the driver defers its destruction past a replay still running)
/// and the graph's hold on its pool, whose memory serves no other work until `empty_cache`
/// gives it back (which waits for the device). No synchronisation here: it would break a
/// capture underway on another stream.
fn release(g: &mut Graph) -> Result<()> {
    g.exec = None;
    match g.pool.take() {
        Some(owner) => memory::release_pool(g.device, owner),
        None => Ok(()),
    }
}

/// Empties graph `id` (`CUDAGraph.reset()`): its graph and its use of the private pool go.
pub fn reset(id: u64) -> Result<()> {
    with_graph(id, |g| {
        if g.capturing.is_some() {
            bail!(Runtime, "Cannot reset a CUDAGraph while it is capturing");
        }
        release(g)
    })
}

/// Forgets graph `id` (the Python object is gone): a capture left open is ended, then as
/// [`reset`].
pub fn destroy(id: u64) -> Result<()> {
    let graph = GRAPHS.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new).remove(&id);
    let Some(mut g) = graph else { return Ok(()) };
    let ended = if g.capturing.is_some() { end_driver_capture(&mut g).map(drop) } else { Ok(()) };
    let released = release(&mut g);
    ended.and(released)
}

/// The private pool id graph `id` allocates from (`CUDAGraph.pool()`), once captured.
pub fn pool_of(id: u64) -> Result<Option<u64>> {
    with_graph(id, |g| Ok(g.pool.map(|owner| owner & !allocator::private_pool(0))))
}

/// Whether this thread's current stream of device `index` is being captured.
pub fn is_current_stream_capturing(index: usize) -> Result<bool> {
    if CAPTURES.load(Ordering::Relaxed) == 0 {
        return Ok(false);
    }
    let s = stream::current(index)?;
    let status = guarded("cuStreamIsCapturing", || s.capture_status().map_err(driver_error))?;
    Ok(status != CUstreamCaptureStatus::CU_STREAM_CAPTURE_STATUS_NONE)
}

/// Refuses work that a replay would repeat wrongly (random draws) while it is captured.
pub fn refuse_in_capture(index: usize, what: &str) -> Result<()> {
    if is_current_stream_capturing(index)? {
        bail!(Runtime, "{what} inside a CUDA graph capture is not supported by ferrotorch yet: a replay would draw the same numbers again");
    }
    Ok(())
}
