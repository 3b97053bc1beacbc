//! `ferrotorch._C` functions behind `ferrotorch.cuda`: library discovery, device queries,
//! streams and events, and the NVRTC compile check. All work is in `ferrotorch_core::cuda`.

use ferrotorch_core::cuda::{compile, device, graphs, kernels, libs, stream};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::IntoPy;
use crate::tensor::PyTensor;

/// Registers folders that may hold the CUDA libraries (the pip-installed NVIDIA wheels'
/// `lib` folders, found by `ferrotorch/cuda/_libs.py`); searched after the loader path and
/// `$CUDA_HOME`/`$CUDA_PATH`.
#[pyfunction]
fn _cuda_add_library_dirs(dirs: Vec<std::path::PathBuf>) {
    libs::add_search_dirs(dirs);
}

/// Where a CUDA library was loaded from after loading it: `"loader path"`, a folder, or None
/// when it cannot be loaded. `name` is one of `cuda`, `nvrtc`, `cublas`, `cublasLt`, `cudnn`.
#[pyfunction]
fn _cuda_library_location(name: &str) -> PyResult<Option<String>> {
    let library = match name {
        "cuda" => libs::CudaLibrary::Driver,
        "nvrtc" => libs::CudaLibrary::Nvrtc,
        "cublas" => libs::CudaLibrary::Cublas,
        "cublasLt" => libs::CudaLibrary::CublasLt,
        "cudnn" => libs::CudaLibrary::Cudnn,
        _ => return Err(pyo3::exceptions::PyValueError::new_err(format!("unknown CUDA library {name:?}"))),
    };
    Ok(libs::ensure_loaded(library).ok().map(|location| match location {
        libs::Location::LoaderPath => "loader path".to_string(),
        libs::Location::Folder(dir) => dir.display().to_string(),
    }))
}

#[pyfunction]
fn _cuda_is_available() -> bool {
    device::is_available()
}

#[pyfunction]
fn _cuda_device_count() -> usize {
    device::device_count()
}

/// Initialises CUDA or raises PyTorch's error saying why it cannot be used.
#[pyfunction]
fn _cuda_init() -> PyResult<()> {
    device::init().py().map(drop)
}

#[pyfunction]
fn _cuda_current_device() -> PyResult<usize> {
    device::current_device().py()
}

#[pyfunction]
fn _cuda_set_device(index: usize) -> PyResult<()> {
    device::set_device(index).py()
}

/// Waits for device `index`; other Python threads run meanwhile (PyTorch releases the GIL in its
/// waits too), and a watchdog thread can still end a wait that never returns.
#[pyfunction]
fn _cuda_synchronize(py: Python<'_>, index: usize) -> PyResult<()> {
    py.detach(|| device::synchronize(index)).py()
}

/// The properties of device `index` as a dict (the Python side wraps it).
#[pyfunction]
fn _cuda_get_device_properties(py: Python<'_>, index: usize) -> PyResult<Bound<'_, PyDict>> {
    let p = device::properties(index).py()?;
    let d = PyDict::new(py);
    d.set_item("name", p.name.clone())?;
    d.set_item("major", p.major)?;
    d.set_item("minor", p.minor)?;
    d.set_item("total_memory", p.total_memory)?;
    d.set_item("multi_processor_count", p.multi_processor_count)?;
    d.set_item("warp_size", p.warp_size)?;
    d.set_item("max_threads_per_multi_processor", p.max_threads_per_multi_processor)?;
    d.set_item("L2_cache_size", p.l2_cache_size)?;
    d.set_item("arch", p.arch())?;
    Ok(d)
}

/// `(major, minor)` of the NVRTC that loads; raises when none does.
#[pyfunction]
fn _cuda_nvrtc_version() -> PyResult<(i32, i32)> {
    compile::nvrtc_version().py()
}

/// The names of every kernel module.
#[pyfunction]
fn _cuda_kernel_modules() -> Vec<String> {
    kernels::modules().into_iter().map(|m| m.name).collect()
}

/// `(source, kernels)` of the kernel module `name`: the CUDA C that NVRTC compiles and the
/// kernels it defines (the tests run these sources on the host: tests/cuda/kernel_emulator.py).
#[pyfunction]
fn _cuda_kernel_module(name: &str) -> PyResult<(String, Vec<String>)> {
    kernels::modules()
        .into_iter()
        .find(|m| m.name == name)
        .map(|m| (m.source, m.kernels))
        .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(format!("no kernel module named {name:?}")))
}

/// Compiles kernel modules for `arch` with NVRTC, in parallel and without any cache (CI's
/// compile check; it needs libnvrtc, not a GPU). Returns `(module, PTX bytes, kernels defined,
/// PTX entry points)` per module. `modules` picks some by name; None compiles all.
#[pyfunction]
#[pyo3(signature = (arch, modules=None))]
fn _cuda_compile_kernels(py: Python<'_>, arch: &str, modules: Option<Vec<String>>) -> PyResult<Vec<(String, usize, usize, usize)>> {
    let selected: Vec<_> =
        kernels::modules().into_iter().filter(|m| modules.as_ref().is_none_or(|names| names.contains(&m.name))).collect();
    let arch = arch.to_string();
    py.detach(|| {
        let ptxs = compile::compile_all_uncached(&selected, &arch)?;
        Ok(selected
            .into_iter()
            .zip(ptxs)
            .map(|(m, ptx)| {
                let entries = ptx.lines().filter(|l| l.contains(".entry ")).count();
                (m.name, ptx.len(), m.kernels.len(), entries)
            })
            .collect())
    })
    .py()
}

/// The bytes of the element-wise kernels' `Shape` argument for `sizes` (with its 32-bit
/// division constants), for the tests' host emulator of the kernels.
#[pyfunction]
fn _cuda_kernel_shape(py: Python<'_>, sizes: Vec<usize>) -> PyResult<Bound<'_, pyo3::types::PyBytes>> {
    let shape = ferrotorch_core::cuda::launch_layout::KernelShape::new(&sizes).py()?;
    // SAFETY: a `#[repr(C)]` struct of integers, read as its bytes.
    let bytes = unsafe { std::slice::from_raw_parts((&shape as *const _) as *const u8, std::mem::size_of_val(&shape)) };
    Ok(pyo3::types::PyBytes::new(py, bytes))
}

/// Runs the kernel self test on device `index` (compile, load, launch, compare with the CPU);
/// returns the names of the checks that passed, raises on the first failure.
#[pyfunction]
fn _cuda_self_test(py: Python<'_>, index: usize) -> PyResult<Vec<&'static str>> {
    py.detach(|| ferrotorch_core::cuda::selftest::self_test(index)).py()
}

/// Whether float32 matrix products on CUDA may use TF32 (`set_float32_matmul_precision`).
#[pyfunction]
fn _cuda_set_allow_tf32(allow: bool) {
    ferrotorch_core::cuda::blas::set_allow_tf32(allow);
}

/// Whether float32 convolutions on CUDA may use TF32 (`backends.cudnn.allow_tf32`).
#[pyfunction]
fn _cuda_set_conv_allow_tf32(allow: bool) {
    ferrotorch_core::cuda::blas::set_conv_allow_tf32(allow);
}

#[pyfunction]
fn _cuda_conv_allow_tf32() -> bool {
    ferrotorch_core::cuda::blas::conv_allow_tf32()
}

/// Whether the cuDNN library loads (`backends.cudnn.is_available`).
#[pyfunction]
fn _cudnn_is_available() -> bool {
    ferrotorch_core::cuda::cudnn::is_available()
}

/// cuDNN's version number, or None when it does not load (`backends.cudnn.version`).
#[pyfunction]
fn _cudnn_version() -> Option<usize> {
    ferrotorch_core::cuda::cudnn::version()
}

/// Sets one of cuDNN's switches: `enabled`, `benchmark`, `deterministic`, or
/// `deterministic_algorithms` (`use_deterministic_algorithms`).
#[pyfunction]
fn _cudnn_set_flag(name: &str, value: bool) -> PyResult<()> {
    ferrotorch_core::cuda::cudnn::set_flag(name, value).py()
}

/// How many convolutions cuDNN has run in this process (tests check it was used).
#[pyfunction]
fn _cudnn_runs() -> u64 {
    ferrotorch_core::cuda::cudnn::runs()
}

/// How many products cuBLASLt has run in this process (its bias epilogue: tests check it was used).
#[pyfunction]
fn _cublaslt_runs() -> u64 {
    ferrotorch_core::cuda::blas_lt::runs()
}

/// One of cuDNN's switches (see `_cudnn_set_flag`).
#[pyfunction]
fn _cudnn_flag(name: &str) -> PyResult<bool> {
    ferrotorch_core::cuda::cudnn::get_flag(name).py()
}

/// For tests without a GPU: the output dims of a convolution as the core's geometry has them and
/// as cuDNN computes them from its descriptors (None where cuDNN does not apply).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn _cudnn_output_dims(
    image: Vec<usize>,
    weight: Vec<usize>,
    stride: Vec<usize>,
    padding: Vec<usize>,
    dilation: Vec<usize>,
    groups: usize,
    dtype: &Bound<'_, PyAny>,
) -> PyResult<Option<(Vec<i32>, Vec<i32>)>> {
    let dtype = crate::dtype::extract_dtype(dtype)?;
    ferrotorch_core::cuda::cudnn::output_dims(&image, &weight, &stride, &padding, &dilation, groups, dtype).py()
}

/// A new CUDA graph on device `index`; returns its id (`torch.cuda.CUDAGraph`).
#[pyfunction]
fn _cuda_graph_create(index: usize) -> PyResult<u64> {
    graphs::create(index).py()
}

/// Starts capturing the current stream of device `index` into graph `id` (allocating from
/// `pool`, or a new pool).
#[pyfunction]
#[pyo3(signature = (id, index, pool, mode))]
fn _cuda_graph_capture_begin(id: u64, index: usize, pool: Option<u64>, mode: &str) -> PyResult<()> {
    graphs::capture_begin(id, index, pool, mode).py()
}

/// Ends the capture of graph `id` and instantiates it.
#[pyfunction]
fn _cuda_graph_capture_end(id: u64) -> PyResult<()> {
    graphs::capture_end(id).py()
}

/// Launches graph `id` on the current stream.
#[pyfunction]
fn _cuda_graph_replay(id: u64) -> PyResult<()> {
    graphs::replay(id).py()
}

/// Empties graph `id`, releasing its memory pool.
#[pyfunction]
fn _cuda_graph_reset(id: u64) -> PyResult<()> {
    graphs::reset(id).py()
}

/// Forgets graph `id` (its Python object is gone).
#[pyfunction]
fn _cuda_graph_destroy(id: u64) -> PyResult<()> {
    graphs::destroy(id).py()
}

/// The memory pool graph `id` allocates from, once a capture began.
#[pyfunction]
fn _cuda_graph_pool(id: u64) -> PyResult<Option<u64>> {
    graphs::pool_of(id).py()
}

/// A new memory pool id for graphs to share (`torch.cuda.graph_pool_handle()`).
#[pyfunction]
fn _cuda_graph_pool_handle() -> u64 {
    graphs::pool_handle()
}

/// Whether this thread's current stream of device `index` is being captured.
#[pyfunction]
fn _cuda_is_current_stream_capturing(index: usize) -> PyResult<bool> {
    graphs::is_current_stream_capturing(index).py()
}

/// The caching allocator's counters of device `index`, in bytes, as a dict.
#[pyfunction]
fn _cuda_memory_stats(py: Python<'_>, index: usize) -> PyResult<Bound<'_, PyDict>> {
    let s = ferrotorch_core::cuda::memory::stats(index).py()?;
    let d = PyDict::new(py);
    for (key, value) in [
        ("allocated_bytes.all.current", s.allocated),
        ("allocated_bytes.all.peak", s.peak_allocated),
        ("reserved_bytes.all.current", s.reserved),
        ("reserved_bytes.all.peak", s.peak_reserved),
        ("allocation.all.current", s.allocations),
        ("segment.all.current", s.segments),
        ("inactive_split_bytes.all.current", s.inactive_split),
        ("num_device_alloc", s.device_allocations),
        ("num_device_free", s.device_releases),
        ("num_alloc_retries", s.alloc_retries),
        ("num_ooms", s.ooms),
    ] {
        d.set_item(key, value)?;
    }
    Ok(d)
}

/// `(free, total)` bytes of device `index` (`torch.cuda.mem_get_info`).
#[pyfunction]
fn _cuda_mem_get_info(index: usize) -> PyResult<(usize, usize)> {
    ferrotorch_core::cuda::memory::free_and_total(index).py()
}

/// Caps device `index`'s caching allocator at `fraction` of its memory.
#[pyfunction]
fn _cuda_set_memory_fraction(index: usize, fraction: f64) -> PyResult<()> {
    ferrotorch_core::cuda::memory::set_memory_fraction(index, fraction).py()
}

/// The segments of device `index` as `torch.cuda.memory_snapshot()` lists them.
#[pyfunction]
fn _cuda_memory_snapshot(py: Python<'_>, index: usize) -> PyResult<Vec<Bound<'_, PyDict>>> {
    let segments = ferrotorch_core::cuda::memory::snapshot(index).py()?;
    segments
        .into_iter()
        .map(|s| {
            let d = PyDict::new(py);
            let allocated: usize = s.blocks.iter().filter(|b| b.1).map(|b| b.0).sum();
            d.set_item("device", index)?;
            d.set_item("address", s.address)?;
            d.set_item("total_size", s.total_size)?;
            d.set_item("allocated_size", allocated)?;
            d.set_item("active_size", allocated)?;
            d.set_item("stream", s.stream)?;
            d.set_item("segment_type", if s.small { "small" } else { "large" })?;
            let mut address = s.address;
            let blocks = s
                .blocks
                .iter()
                .map(|&(size, in_use)| {
                    let b = PyDict::new(py);
                    b.set_item("address", address)?;
                    b.set_item("size", size)?;
                    b.set_item("state", if in_use { "active_allocated" } else { "inactive" })?;
                    address += size as u64;
                    Ok(b)
                })
                .collect::<PyResult<Vec<_>>>()?;
            d.set_item("blocks", blocks)?;
            Ok(d)
        })
        .collect()
}

/// Gives the cached blocks of device `index` back to the driver.
#[pyfunction]
fn _cuda_empty_cache(index: usize) -> PyResult<()> {
    ferrotorch_core::cuda::memory::empty_cache(index).py()
}

/// Resets the peak counters of device `index`.
#[pyfunction]
fn _cuda_reset_peak_memory_stats(index: usize) -> PyResult<()> {
    ferrotorch_core::cuda::memory::reset_peak_stats(index).py()
}

/// The folder of the on-disk PTX cache, or None when no cache home is known.
#[pyfunction]
fn _cuda_kernel_cache_dir() -> Option<String> {
    compile::cache_dir().map(|d| d.display().to_string())
}

/// A new stream on device `index`; returns its id (its `cuda_stream` value).
#[pyfunction]
fn _cuda_stream_create(index: usize, priority: i32) -> PyResult<u64> {
    stream::create(index, priority).py()
}

#[pyfunction]
fn _cuda_stream_release(id: u64) -> PyResult<()> {
    stream::release(id).py()
}

/// This thread's current stream on device `index` (0: the default stream).
#[pyfunction]
fn _cuda_current_stream(index: usize) -> PyResult<u64> {
    device::check_device(index).py()?;
    Ok(stream::current_id(index))
}

/// Makes stream `id` current on device `index`; returns the previous one.
#[pyfunction]
fn _cuda_set_stream(index: usize, id: u64) -> PyResult<u64> {
    stream::set_current(index, id).py()
}

#[pyfunction]
fn _cuda_stream_synchronize(py: Python<'_>, index: usize, id: u64) -> PyResult<()> {
    py.detach(|| stream::synchronize(index, id)).py()
}

#[pyfunction]
fn _cuda_stream_query(index: usize, id: u64) -> PyResult<bool> {
    stream::query(index, id).py()
}

/// `tensor.record_stream(stream)`: the tensor's memory waits, once freed, for the work queued
/// by then on stream `id` of device `index`.
#[pyfunction]
fn _cuda_record_stream(tensor: &PyTensor, index: usize, id: u64) -> PyResult<()> {
    stream::record_stream(&tensor.t, index, id).py()
}

/// Makes stream `id` wait for the work queued so far on stream `other`.
#[pyfunction]
fn _cuda_stream_wait_stream(index: usize, id: u64, other: u64) -> PyResult<()> {
    stream::wait_stream(index, id, other).py()
}

/// A new event on device `index`; returns its id (its `cuda_event` value).
#[pyfunction]
fn _cuda_event_create(index: usize, enable_timing: bool) -> PyResult<u64> {
    stream::create_event(index, enable_timing).py()
}

#[pyfunction]
fn _cuda_event_release(id: u64) {
    stream::release_event(id)
}

#[pyfunction]
fn _cuda_event_record(id: u64, stream_id: u64) -> PyResult<()> {
    stream::record(id, stream_id).py()
}

#[pyfunction]
fn _cuda_event_wait(id: u64, stream_id: u64) -> PyResult<()> {
    stream::wait_event(id, stream_id).py()
}

#[pyfunction]
fn _cuda_event_synchronize(py: Python<'_>, id: u64) -> PyResult<()> {
    py.detach(|| stream::event_synchronize(id)).py()
}

#[pyfunction]
fn _cuda_event_query(id: u64) -> PyResult<bool> {
    stream::event_query(id).py()
}

/// Milliseconds between two recorded timing events.
#[pyfunction]
fn _cuda_event_elapsed_time(start: u64, end: u64) -> PyResult<f32> {
    stream::elapsed_ms(start, end).py()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for f in [
        wrap_pyfunction!(_cuda_stream_create, m)?,
        wrap_pyfunction!(_cuda_stream_release, m)?,
        wrap_pyfunction!(_cuda_current_stream, m)?,
        wrap_pyfunction!(_cuda_set_stream, m)?,
        wrap_pyfunction!(_cuda_stream_synchronize, m)?,
        wrap_pyfunction!(_cuda_stream_query, m)?,
        wrap_pyfunction!(_cuda_stream_wait_stream, m)?,
        wrap_pyfunction!(_cuda_record_stream, m)?,
        wrap_pyfunction!(_cuda_event_create, m)?,
        wrap_pyfunction!(_cuda_event_release, m)?,
        wrap_pyfunction!(_cuda_event_record, m)?,
        wrap_pyfunction!(_cuda_event_wait, m)?,
        wrap_pyfunction!(_cuda_event_synchronize, m)?,
        wrap_pyfunction!(_cuda_event_query, m)?,
        wrap_pyfunction!(_cuda_event_elapsed_time, m)?,
    ] {
        m.add_function(f)?;
    }
    m.add_function(wrap_pyfunction!(_cuda_add_library_dirs, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_library_location, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_is_available, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_device_count, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_init, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_current_device, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_set_device, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_synchronize, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_get_device_properties, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_set_allow_tf32, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_set_conv_allow_tf32, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_conv_allow_tf32, m)?)?;
    m.add_function(wrap_pyfunction!(_cudnn_is_available, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_graph_create, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_graph_capture_begin, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_graph_capture_end, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_graph_replay, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_graph_reset, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_graph_destroy, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_graph_pool, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_graph_pool_handle, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_is_current_stream_capturing, m)?)?;
    m.add_function(wrap_pyfunction!(_cudnn_version, m)?)?;
    m.add_function(wrap_pyfunction!(_cudnn_runs, m)?)?;
    m.add_function(wrap_pyfunction!(_cublaslt_runs, m)?)?;
    m.add_function(wrap_pyfunction!(_cudnn_set_flag, m)?)?;
    m.add_function(wrap_pyfunction!(_cudnn_flag, m)?)?;
    m.add_function(wrap_pyfunction!(_cudnn_output_dims, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_memory_stats, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_mem_get_info, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_set_memory_fraction, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_memory_snapshot, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_empty_cache, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_reset_peak_memory_stats, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_nvrtc_version, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_kernel_modules, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_kernel_module, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_kernel_shape, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_compile_kernels, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_kernel_cache_dir, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_self_test, m)?)?;
    Ok(())
}
