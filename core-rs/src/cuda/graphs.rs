//! CUDA graphs (`torch.cuda.CUDAGraph`, `graph(ctx)`): the work queued on a stream between
//! [`capture_begin`] and [`capture_end`] is recorded by the driver's stream capture instead of
//! run, then [`replay`]ed with one launch: the same kernels on the same addresses.
//!
//! As in PyTorch, capture needs a stream other than the legacy default one, and every block the
//! capture allocates comes from the graph's private pool (`allocator.rs`), kept until the graph
//! is [`reset`], so the addresses a replay writes are never handed to other work; that holds
//! for streams joined to the capture through events too, found by the driver's capture id. Work that
//! cannot be captured fails the capture with the driver's error: host synchronisation (`item()`,
//! printing, `nonzero`), uploads from pageable host memory.
//!
//! Random kernels captured in a graph draw fresh numbers at every replay, as PyTorch's: a
//! capture that draws from a CUDA generator gives the graph a device pair `[seed, base offset]`
//! for that generator, which its kernels read, each at its own place after the base; every
//! replay writes the generator's seed and current offset there (on the replay's stream, before
//! the graph) and advances the generator past the graph's draws. A replay after
//! `manual_seed(s)` therefore draws what the same ops would eagerly after `manual_seed(s)`.
//! Sampling on the host (`randperm`) still refuses to be captured; `multinomial` waits for its
//! distribution's checks, a synchronisation that fails a capture, as PyTorch's does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cudarc::driver::sys::{CUgraphInstantiate_flags, CUstreamCaptureMode, CUstreamCaptureStatus};
use cudarc::driver::{CudaGraph, CudaStream};

use super::memory::DeviceBuffer;
use super::{allocator, device, driver_error, guarded, memory, stream};
use crate::device::Device;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::random::{Generator, PhiloxDraw};
use crate::tensor::Tensor;
use crate::{bail, err};

/// A graph: where it lives and what it holds.
struct Graph {
    device: usize,
    /// The private pool's owner id ([`allocator::private_pool`]) once a capture began.
    pool: Option<u64>,
    /// The stream being captured, between begin and end.
    capturing: Option<Arc<CudaStream>>,
    /// The driver's id of that capture, which streams joined to it (through events) share.
    capture_id: Option<u64>,
    /// The instantiated graph, after a capture.
    exec: Option<CudaGraph>,
    /// The generators the capture drew from.
    drawn: Vec<Drawn>,
    /// Memory the captured work uses that is not the pool's (cuBLAS workspaces), held while
    /// the graph lives.
    held: Vec<Arc<DeviceBuffer>>,
}

/// A generator a capture drew from: the device pair `[seed, base offset]` its captured kernels
/// read, and how many draws (offsets) the graph takes from it per replay.
struct Drawn {
    generator: Generator,
    state: Tensor,
    draws: u64,
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
    GRAPHS.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new).insert(id, Graph { device: index, pool: None, capturing: None, capture_id: None, exec: None, drawn: Vec::new(), held: Vec::new() });
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
        // Counted before the driver starts capturing, so no empty_cache elsewhere frees memory
        // (cuMemFree) while the capture may already run.
        CAPTURES.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = guarded("cuStreamBeginCapture", || s.begin_capture(mode).map_err(driver_error)) {
            CAPTURES.fetch_sub(1, Ordering::Relaxed);
            memory::end_capture(index, stream_id)?;
            memory::release_pool(index, owner)?;
            return Err(e);
        }
        // Without the id (the query failing), joined streams and their draws are not found;
        // the capturing stream itself still allocates from the pool.
        g.capture_id = capture_of(&s).ok().flatten();
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
        g.capture_id = None;
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

/// Launches graph `id` on this thread's current stream of its device, after writing each
/// generator it draws from's seed and offset for its kernels (advancing the generator).
pub fn replay(id: u64) -> Result<()> {
    // The uploads run outside the graphs' lock (an upload may allocate, and allocations look
    // captures up under it). They are queued on the replay's stream: replays of one graph on
    // two streams at once would race on the pair, as they do in PyTorch.
    let drawn = with_graph(id, |g| {
        if g.exec.is_none() {
            bail!(Runtime, "CUDAGraph::replay called without a captured graph (call capture_begin and capture_end first)");
        }
        Ok(g.drawn.iter().map(|d| (d.generator.clone(), d.state.clone(), d.draws)).collect::<Vec<_>>())
    })?;
    for (generator, state, draws) in drawn {
        let (seed, base) = generator.philox_advance(draws)?;
        // Bit patterns: the kernels read the pair as u64.
        state.copy_from(&Tensor::from_slice(&[seed as i64, base as i64], &[2])?)?;
    }
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
    g.drawn.clear();
    g.held.clear();
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
    with_graph(id, |g| Ok(g.pool.map(allocator::pool_number)))
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

/// This thread's current stream of device `index` while any capture runs in the process (which
/// it may take part in: its own, or one it joined through events); None otherwise, without
/// asking the driver.
fn current_if_capturing(index: usize) -> Result<Option<Arc<CudaStream>>> {
    if CAPTURES.load(Ordering::Relaxed) == 0 {
        return Ok(None);
    }
    stream::current(index).map(Some)
}

/// `f` of the graph of device `index` whose capture has driver id `id`, under the graphs' lock;
/// None when no graph of ferrotorch's runs that capture.
fn with_capture<R>(index: usize, id: u64, f: impl FnOnce(&mut Graph) -> R) -> Option<R> {
    let mut graphs = GRAPHS.lock().unwrap_or_else(|e| e.into_inner());
    graphs.get_or_insert_with(HashMap::new).values_mut().find(|g| g.device == index && g.capture_id == Some(id)).map(f)
}

/// The draw of generator `generator` (of device `index`) when this thread's current stream of
/// that device takes part in a graph's capture: its place among the graph's draws from that
/// generator, and the device pair the graph's replays write; None when nothing is captured.
pub fn captured_draw(index: usize, generator: &Generator) -> Result<Option<PhiloxDraw>> {
    let Some(current) = current_if_capturing(index)? else { return Ok(None) };
    let Some(id) = capture_of(&current)? else { return Ok(None) };
    let mut state = None;
    loop {
        let drawn = with_capture(index, id, |graph| {
            if let Some(state) = state.take() {
                graph.drawn.push(Drawn { generator: generator.clone(), state, draws: 0 });
            }
            graph.drawn.iter_mut().find(|d| d.generator.same(generator)).map(|d| {
                d.draws += 1;
                PhiloxDraw { seed: 0, offset: d.draws - 1, state: d.state.storage().address() as u64 }
            })
        });
        match drawn {
            None => bail!(Runtime, "Random number generation inside a CUDA graph capture that is not a ferrotorch CUDAGraph's is not supported"),
            Some(Some(draw)) => return Ok(Some(draw)),
            // The generator's first draw in this capture: its pair, allocated outside the lock
            // (allocations look captures up under it) from the graph's pool, kept with the graph.
            Some(None) => state = Some(Tensor::uninit_on(&[2], DType::I64, Device::Cuda(index))?),
        }
    }
}

/// The driver's id of the capture stream `s` takes part in, if it does.
fn capture_of(s: &CudaStream) -> Result<Option<u64>> {
    let (mut status, mut id) = (CUstreamCaptureStatus::CU_STREAM_CAPTURE_STATUS_NONE, 0u64);
    let (mut graph, mut deps, mut edges, mut count) = (std::ptr::null_mut(), std::ptr::null(), std::ptr::null(), 0usize);
    // SAFETY: a live stream; every out-pointer is valid for its write.
    let result = guarded("cuStreamGetCaptureInfo", || {
        Ok(unsafe { cudarc::driver::sys::cuStreamGetCaptureInfo_v3(s.cu_stream(), &mut status, &mut id, &mut graph, &mut deps, &mut edges, &mut count) })
    })?;
    if result != cudarc::driver::sys::CUresult::CUDA_SUCCESS {
        return Err(driver_error(cudarc::driver::DriverError(result)));
    }
    Ok((status == CUstreamCaptureStatus::CU_STREAM_CAPTURE_STATUS_ACTIVE).then_some(id))
}

/// Holds `buffer` with the graph whose capture this thread's current stream of device `index`
/// takes part in, if any (memory its replays will use).
pub fn keep_with_capture(index: usize, buffer: &Arc<DeviceBuffer>) -> Result<()> {
    let Some(current) = current_if_capturing(index)? else { return Ok(()) };
    if let Ok(Some(id)) = capture_of(&current) {
        with_capture(index, id, |g| {
            if !g.held.iter().any(|b| Arc::ptr_eq(b, buffer)) {
                g.held.push(buffer.clone());
            }
        });
    }
    Ok(())
}

/// The private pool that serves allocations for work on this thread's current stream of device
/// `index` while that stream takes part in one of ferrotorch's captures: the capturing stream
/// itself or a stream joined to it through events (PyTorch keys its pools by capture id for
/// that reason: addresses a joined stream takes are replayed too). None outside captures.
pub fn capture_pool(index: usize) -> Result<Option<u64>> {
    let Some(current) = current_if_capturing(index)? else { return Ok(None) };
    // A failed query: the stream is treated as not joined (the allocator still redirects the
    // capturing stream itself).
    let Ok(Some(id)) = capture_of(&current) else { return Ok(None) };
    Ok(with_capture(index, id, |g| g.pool).flatten())
}

/// Refuses work that a replay would repeat wrongly (sampling on the host) while it is captured.
pub fn refuse_in_capture(index: usize, what: &str) -> Result<()> {
    if is_current_stream_capturing(index)? {
        bail!(Runtime, "{what} inside a CUDA graph capture is not supported by ferrotorch yet: a replay would draw the same numbers again");
    }
    Ok(())
}
