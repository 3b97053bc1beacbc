//! Convolutions through cuDNN, as PyTorch's `cudnn_convolution`: the forward convolution
//! (`cudnnConvolutionForward`), its adjoint — the transposed convolution and the input
//! gradient — (`cudnnConvolutionBackwardData`) and the weight gradient
//! (`cudnnConvolutionBackwardFilter`). Every convolution is one of these three over one
//! [`Geometry`]: an *image* side (the normal convolution's input) and a *blocks* side (its output,
//! one position per window).
//!
//! cuDNN is optional. It is loaded at first use like the other libraries (`libs.rs`: the loader
//! path, `CUDA_HOME`, the `nvidia-cudnn-cu13` wheel); where it is missing, switched off
//! (`backends.cudnn.enabled = False`), or cannot express a window (asymmetric padding, sizes past
//! `i32`, an integer dtype), [`forward`] and [`weight_grad`] answer `None` and the caller takes
//! im2col + cuBLAS (`ops/nn/conv/columns.rs`).
//!
//! Algorithms are cuDNN's heuristic ranking (`cudnnGet*Algorithm_v7`) or, under
//! `backends.cudnn.benchmark`, its timed search (`cudnnFind*Algorithm`); under
//! `backends.cudnn.deterministic` or `use_deterministic_algorithms(True)` only deterministic ones.
//! The choice is cached per geometry (PyTorch's `BenchmarkCache`); one whose workspace cannot be
//! allocated gives way to the next; where none can run, the caller falls back. Float32 runs in
//! TF32 only when `backends.cudnn.allow_tf32` says so (cuDNN's FMA math otherwise), half and
//! bfloat16 on tensor cores with float accumulation.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use cudarc::cudnn::result as cudnn;
use cudarc::cudnn::sys::{
    self, cudnnConvolutionBwdDataAlgo_t, cudnnConvolutionBwdFilterAlgo_t, cudnnConvolutionFwdAlgo_t, cudnnDataType_t, cudnnDeterminism_t, cudnnHandle_t,
    cudnnMathType_t, cudnnStatus_t,
};

use super::dispatch::address;
use super::libs::{ensure_loaded, CudaLibrary};
use super::handles::Handles;
use super::{device, guarded};
use crate::cpu::im2col::Window;
use crate::device::Device;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, err};

/// `backends.cudnn.enabled`.
static ENABLED: AtomicBool = AtomicBool::new(true);
/// `backends.cudnn.benchmark`: time the algorithms instead of trusting the heuristics.
static BENCHMARK: AtomicBool = AtomicBool::new(false);
/// `backends.cudnn.deterministic`.
static DETERMINISTIC: AtomicBool = AtomicBool::new(false);
/// `use_deterministic_algorithms(True)`, which asks cuDNN for the same as `deterministic`.
static DETERMINISTIC_ALGORITHMS: AtomicBool = AtomicBool::new(false);

/// One of cuDNN's switches, by its `backends.cudnn` name (plus `deterministic_algorithms`, the
/// global switch of `use_deterministic_algorithms`).
fn flag(name: &str) -> Result<&'static AtomicBool> {
    Ok(match name {
        "enabled" => &ENABLED,
        "benchmark" => &BENCHMARK,
        "deterministic" => &DETERMINISTIC,
        "deterministic_algorithms" => &DETERMINISTIC_ALGORITHMS,
        _ => bail!(Value, "unknown cuDNN flag {name:?}"),
    })
}

/// Sets one of cuDNN's switches (see [`flag`] for the names).
pub fn set_flag(name: &str, value: bool) -> Result<()> {
    flag(name)?.store(value, Ordering::Relaxed);
    Ok(())
}

/// One of cuDNN's switches.
pub fn get_flag(name: &str) -> Result<bool> {
    Ok(flag(name)?.load(Ordering::Relaxed))
}

/// Whether the cuDNN library loads (PyTorch: whether it was built with cuDNN). No GPU needed.
/// Asked once: every convolution asks, and a missing library would be searched for each time.
pub fn is_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| ensure_loaded(CudaLibrary::Cudnn).is_ok())
}

/// cuDNN's version number (91300 for 9.13.0: major * 10000 + minor * 100 + patch), when it loads.
pub fn version() -> Option<usize> {
    ensure_loaded(CudaLibrary::Cudnn).ok()?;
    guarded("cudnnGetVersion", || Ok(cudnn::get_version())).ok()
}

/// A convolution as cuDNN is told it, in NCHW (NCDHW) order: 1-d windows become 2-d ones of
/// height 1, as PyTorch does, since cuDNN's descriptors start at 4 dims.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    /// `(N, C, *spatial)` of the image side: a normal convolution's input.
    pub image: Vec<i32>,
    /// `(N, C, *spatial)` of the blocks side: a normal convolution's output.
    pub blocks: Vec<i32>,
    /// `(C_blocks, C_image / groups, *kernel)`: the weight of either kind of convolution.
    pub filter: Vec<i32>,
    pub padding: Vec<i32>,
    pub stride: Vec<i32>,
    pub dilation: Vec<i32>,
    pub groups: i32,
}

impl Geometry {
    /// The geometry of `win` with `image_channels` and `blocks_channels` channels over a batch of
    /// `n`, or None where cuDNN does not apply: positions other than the ones cuDNN's output-size
    /// formula gives (asymmetric padding such as `padding='same'` with an even kernel), a tensor
    /// of 2^31 elements or more, or nothing to compute.
    pub fn new(n: usize, image_channels: usize, blocks_channels: usize, win: &Window, groups: usize) -> Option<Geometry> {
        // The last two of the window's three dims for 1-d and 2-d windows, all three for 3-d.
        let first = if win.dims == 3 { 0 } else { 1 };
        let spatial = first..3;
        for d in spatial.clone() {
            let reach = win.dilation[d] * (win.kernel[d] - 1) + 1;
            let padded = win.image[d] + 2 * win.padding[d];
            if padded < reach || (padded - reach) / win.stride[d] + 1 != win.blocks[d] {
                return None;
            }
        }
        let side = |channels: usize, sizes: &[usize; 3]| -> Vec<usize> { [n, channels].into_iter().chain(sizes[spatial.clone()].iter().copied()).collect() };
        let image = side(image_channels, &win.image);
        let blocks = side(blocks_channels, &win.blocks);
        let filter = side(image_channels / groups.max(1), &win.kernel);
        let filter = std::iter::once(blocks_channels).chain(filter[1..].iter().copied()).collect::<Vec<_>>();
        let sizes = [&image, &blocks, &filter];
        if sizes.iter().any(|s| s.iter().product::<usize>() == 0) || image_channels == 0 {
            return None;
        }
        if sizes.iter().any(|s| s.iter().try_fold(1usize, |acc, &v| acc.checked_mul(v)).is_none_or(|p| p > i32::MAX as usize)) {
            return None;
        }
        let ints = |v: &[usize]| v.iter().map(|&x| i32::try_from(x).ok()).collect::<Option<Vec<i32>>>();
        Some(Geometry {
            image: ints(&image)?,
            blocks: ints(&blocks)?,
            filter: ints(&filter)?,
            padding: ints(&win.padding[spatial.clone()])?,
            stride: ints(&win.stride[spatial.clone()])?,
            dilation: ints(&win.dilation[spatial])?,
            groups: i32::try_from(groups).ok()?,
        })
    }
}

/// The three convolutions cuDNN runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Direction {
    /// image -> blocks: the normal convolution.
    Forward,
    /// blocks -> image: the transposed convolution, the input gradient.
    BackwardData,
    /// image and blocks -> filter: the weight gradient.
    BackwardFilter,
}

/// A chosen algorithm of one direction, with the math type it runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Algo {
    Forward(cudnnConvolutionFwdAlgo_t),
    BackwardData(cudnnConvolutionBwdDataAlgo_t),
    BackwardFilter(cudnnConvolutionBwdFilterAlgo_t),
}

/// An algorithm cuDNN offered: what it is, whether it is deterministic, its math type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Candidate {
    algo: Algo,
    deterministic: bool,
    math: cudnnMathType_t,
}

/// cuDNN's name for an element type, and the type it accumulates in.
fn data_types(dtype: DType) -> Option<(cudnnDataType_t, cudnnDataType_t)> {
    use cudnnDataType_t::*;
    Some(match dtype {
        DType::F16 => (CUDNN_DATA_HALF, CUDNN_DATA_FLOAT),
        DType::BF16 => (CUDNN_DATA_BFLOAT16, CUDNN_DATA_FLOAT),
        DType::F32 => (CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT),
        DType::F64 => (CUDNN_DATA_DOUBLE, CUDNN_DATA_DOUBLE),
        _ => return None,
    })
}

/// The math type asked for: tensor cores for half (as PyTorch asks) and bfloat16 (PyTorch's v8
/// path asks for default math with a bfloat16 compute type; cuDNN's float-accumulating
/// configuration is used here), FMA for float32 unless TF32 is allowed, default otherwise.
fn math_type(dtype: DType) -> cudnnMathType_t {
    match dtype {
        DType::F16 | DType::BF16 => cudnnMathType_t::CUDNN_TENSOR_OP_MATH,
        DType::F32 if !super::blas::conv_allow_tf32() => cudnnMathType_t::CUDNN_FMA_MATH,
        _ => cudnnMathType_t::CUDNN_DEFAULT_MATH,
    }
}

/// A cuDNN call's status as ferrotorch's error, naming the call and the geometry.
fn check(call: &str, geometry: &Geometry, status: cudnnStatus_t) -> Result<()> {
    status.result().map_err(|e| cudnn_error(call, geometry, e))
}

fn cudnn_error(call: &str, geometry: &Geometry, e: cudnn::CudnnError) -> crate::error::Error {
    err!(
        Runtime,
        "cuDNN error: {:?} in {call} (input {:?}, output {:?}, weight {:?}, padding {:?}, stride {:?}, dilation {:?}, groups {}); \
         setting torch.backends.cudnn.enabled = False runs convolutions without cuDNN",
        e.0,
        geometry.image,
        geometry.blocks,
        geometry.filter,
        geometry.padding,
        geometry.stride,
        geometry.dilation,
        geometry.groups
    )
}

/// A tensor, filter and convolution descriptor for one geometry and dtype, destroyed on drop.
pub struct Descriptors {
    image: sys::cudnnTensorDescriptor_t,
    blocks: sys::cudnnTensorDescriptor_t,
    filter: sys::cudnnFilterDescriptor_t,
    conv: sys::cudnnConvolutionDescriptor_t,
}

impl Drop for Descriptors {
    fn drop(&mut self) {
        // SAFETY: each descriptor was created once by `Descriptors::new` (null when its creation
        // failed part-way) and is destroyed only here. Errors on destruction have no remedy.
        unsafe {
            if !self.image.is_null() {
                let _ = cudnn::destroy_tensor_descriptor(self.image);
            }
            if !self.blocks.is_null() {
                let _ = cudnn::destroy_tensor_descriptor(self.blocks);
            }
            if !self.filter.is_null() {
                let _ = cudnn::destroy_filter_descriptor(self.filter);
            }
            if !self.conv.is_null() {
                let _ = cudnn::destroy_convolution_descriptor(self.conv);
            }
        }
    }
}

/// Contiguous strides of `dims`.
fn packed_strides(dims: &[i32]) -> Vec<i32> {
    let mut strides = vec![1i32; dims.len()];
    for d in (0..dims.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * dims[d + 1].max(1);
    }
    strides
}

impl Descriptors {
    /// The descriptors of `geometry` over `dtype` (a float type) in math type `math`. Needs the
    /// library, not a GPU.
    pub fn new(geometry: &Geometry, dtype: DType, math: cudnnMathType_t) -> Result<Descriptors> {
        let (data, compute) = data_types(dtype).ok_or_else(|| err!(Runtime, "cuDNN has no convolution for {dtype:?}"))?;
        ensure_loaded(CudaLibrary::Cudnn)?;
        let mut d = Descriptors { image: std::ptr::null_mut(), blocks: std::ptr::null_mut(), filter: std::ptr::null_mut(), conv: std::ptr::null_mut() };
        let e = |call: &'static str| move |e| cudnn_error(call, geometry, e);
        guarded("cudnnCreateTensorDescriptor", || {
            d.image = cudnn::create_tensor_descriptor().map_err(e("cudnnCreateTensorDescriptor"))?;
            d.blocks = cudnn::create_tensor_descriptor().map_err(e("cudnnCreateTensorDescriptor"))?;
            d.filter = cudnn::create_filter_descriptor().map_err(e("cudnnCreateFilterDescriptor"))?;
            d.conv = cudnn::create_convolution_descriptor().map_err(e("cudnnCreateConvolutionDescriptor"))?;
            Ok(())
        })?;
        let nd = geometry.image.len() as i32;
        guarded("cudnnSetTensorNdDescriptor", || {
            // SAFETY: live descriptors; the arrays hold `nd` (or `nd - 2`) entries each.
            unsafe {
                for (desc, dims) in [(d.image, &geometry.image), (d.blocks, &geometry.blocks)] {
                    let strides = packed_strides(dims);
                    cudnn::set_tensornd_descriptor(desc, data, nd, dims.as_ptr(), strides.as_ptr()).map_err(e("cudnnSetTensorNdDescriptor"))?;
                }
                cudnn::set_filternd_descriptor(d.filter, data, sys::cudnnTensorFormat_t::CUDNN_TENSOR_NCHW, nd, geometry.filter.as_ptr())
                    .map_err(e("cudnnSetFilterNdDescriptor"))?;
                cudnn::set_convolutionnd_descriptor(
                    d.conv,
                    nd - 2,
                    geometry.padding.as_ptr(),
                    geometry.stride.as_ptr(),
                    geometry.dilation.as_ptr(),
                    sys::cudnnConvolutionMode_t::CUDNN_CROSS_CORRELATION,
                    compute,
                )
                .map_err(e("cudnnSetConvolutionNdDescriptor"))?;
                cudnn::set_convolution_group_count(d.conv, geometry.groups).map_err(e("cudnnSetConvolutionGroupCount"))?;
                cudnn::set_convolution_math_type(d.conv, math).map_err(e("cudnnSetConvolutionMathType"))?;
            }
            Ok(())
        })?;
        Ok(d)
    }

    /// The blocks side's shape as cuDNN computes it from the image, filter and convolution
    /// (`cudnnGetConvolutionNdForwardOutputDim`): equal to the geometry's when both agree on the
    /// convolution. Needs the library, not a GPU.
    pub fn forward_output_dims(&self, geometry: &Geometry) -> Result<Vec<i32>> {
        let mut dims = vec![0i32; geometry.image.len()];
        guarded("cudnnGetConvolutionNdForwardOutputDim", || {
            // SAFETY: live descriptors and room for one entry per dim.
            check("cudnnGetConvolutionNdForwardOutputDim", geometry, unsafe {
                sys::cudnnGetConvolutionNdForwardOutputDim(self.conv, self.image, self.filter, dims.len() as i32, dims.as_mut_ptr())
            })
        })?;
        Ok(dims)
    }
}

/// The blocks side of the normal convolution of an input shaped `image` (`(N, C, *spatial)`) by
/// a weight shaped `weight`, as the geometry has it and as cuDNN computes it from the descriptors;
/// None where cuDNN does not apply. Needs the library, not a GPU: the check, where no GPU is at
/// hand, that the descriptors say what the geometry says.
pub fn output_dims(image: &[usize], weight: &[usize], stride: &[usize], padding: &[usize], dilation: &[usize], groups: usize, dtype: DType) -> Result<Option<(Vec<i32>, Vec<i32>)>> {
    let dims = image.len().saturating_sub(2);
    if !(1..=3).contains(&dims) || weight.len() != image.len() || [stride, padding, dilation].iter().any(|v| v.len() != dims) {
        bail!(Value, "expected 3-d to 5-d shapes and one stride, padding and dilation per spatial dim");
    }
    if stride.contains(&0) || dilation.contains(&0) || weight[2..].contains(&0) || groups == 0 {
        bail!(Value, "strides, dilations, kernel sizes and groups must be positive");
    }
    let blocks: Vec<usize> = (0..dims)
        .map(|d| (image[2 + d] + 2 * padding[d]).checked_sub(dilation[d] * (weight[2 + d] - 1) + 1).map_or(0, |r| r / stride[d] + 1))
        .collect();
    let win = Window::new(&image[2..], &blocks, &weight[2..], stride, padding, dilation);
    let Some(geometry) = Geometry::new(image[0], image[1], weight[0], &win, groups) else { return Ok(None) };
    let d = Descriptors::new(&geometry, dtype, math_type(dtype))?;
    Ok(Some((geometry.blocks.clone(), d.forward_output_dims(&geometry)?)))
}

static HANDLES: Handles<cudnnHandle_t> = Handles::new();

/// Runs `f` with device `index`'s cuDNN handle, on the thread's current stream; the handle's
/// lock is held throughout, as cuDNN's handles are not to be shared by concurrent calls.
fn with_handle<R>(index: usize, f: impl FnOnce(cudnnHandle_t) -> Result<R>) -> Result<R> {
    ensure_loaded(CudaLibrary::Cudnn)?;
    let create = || guarded("cudnnCreate", || cudnn::create_handle().map_err(|e| err!(Runtime, "cuDNN error: cudnnCreate failed: {:?}", e.0)));
    // SAFETY: a live handle and a stream of its device's context.
    let attach = |handle, stream: &cudarc::driver::CudaStream| {
        guarded("cudnnSetStream", || unsafe { cudnn::set_stream(handle, stream.cu_stream() as sys::cudaStream_t) }.map_err(|e| err!(Runtime, "cuDNN error: cudnnSetStream failed: {:?}", e.0)))
    };
    HANDLES.with(index, create, attach, f)
}

/// What picks an algorithm: the geometry, the direction, the dtype and the switches in force.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    device: usize,
    direction: Direction,
    dtype: DType,
    geometry: Geometry,
    math: cudnnMathType_t,
    deterministic: bool,
    benchmark: bool,
}

/// Chosen algorithms, PyTorch's `BenchmarkCache`.
static CHOSEN: Mutex<Option<HashMap<Key, Candidate>>> = Mutex::new(None);

/// How many results the ranking queries ask for: more than any direction has algorithms.
const MAX_ALGOS: usize = 16;

/// Keeps the perf results cuDNN reported as usable, in its order.
macro_rules! usable {
    ($perfs:expr, $count:expr, $variant:ident) => {
        $perfs[..($count.max(0) as usize).min(MAX_ALGOS)]
            .iter()
            // Read as the integer cuDNN wrote (the macro runs inside `ranked`'s unsafe block:
            // `status` is a C enum, a 32-bit integer in the struct): a newer cuDNN 9 may report
            // a status the bindings' enum lacks. 0 is CUDNN_STATUS_SUCCESS.
            .filter(|p| std::ptr::addr_of!(p.status).cast::<u32>().read() == 0)
            .map(|p| Candidate { algo: Algo::$variant(p.algo), deterministic: p.determinism == cudnnDeterminism_t::CUDNN_DETERMINISTIC, math: p.mathType })
            .collect::<Vec<_>>()
    };
}

/// cuDNN's algorithms for `direction` over `d`, best first: its heuristics, or its timings when
/// `benchmark` (which runs every algorithm once on scratch memory cuDNN allocates).
fn ranked(handle: cudnnHandle_t, direction: Direction, geometry: &Geometry, d: &Descriptors, benchmark: bool) -> Result<Vec<Candidate>> {
    let mut count = 0i32;
    let n = MAX_ALGOS as i32;
    // SAFETY (each arm): live handle and descriptors; `perfs` has room for `n` results, and an
    // all-zero perf struct is a valid value of each (algorithm 0, success, non-deterministic).
    unsafe {
        match direction {
            Direction::Forward => {
                let mut perfs: [sys::cudnnConvolutionFwdAlgoPerf_t; MAX_ALGOS] = std::mem::zeroed();
                let (call, status) = if benchmark {
                    ("cudnnFindConvolutionForwardAlgorithm", sys::cudnnFindConvolutionForwardAlgorithm(handle, d.image, d.filter, d.conv, d.blocks, n, &mut count, perfs.as_mut_ptr()))
                } else {
                    ("cudnnGetConvolutionForwardAlgorithm_v7", sys::cudnnGetConvolutionForwardAlgorithm_v7(handle, d.image, d.filter, d.conv, d.blocks, n, &mut count, perfs.as_mut_ptr()))
                };
                check(call, geometry, status)?;
                Ok(usable!(perfs, count, Forward))
            }
            Direction::BackwardData => {
                let mut perfs: [sys::cudnnConvolutionBwdDataAlgoPerf_t; MAX_ALGOS] = std::mem::zeroed();
                let (call, status) = if benchmark {
                    ("cudnnFindConvolutionBackwardDataAlgorithm", sys::cudnnFindConvolutionBackwardDataAlgorithm(handle, d.filter, d.blocks, d.conv, d.image, n, &mut count, perfs.as_mut_ptr()))
                } else {
                    ("cudnnGetConvolutionBackwardDataAlgorithm_v7", sys::cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, d.filter, d.blocks, d.conv, d.image, n, &mut count, perfs.as_mut_ptr()))
                };
                check(call, geometry, status)?;
                Ok(usable!(perfs, count, BackwardData))
            }
            Direction::BackwardFilter => {
                let mut perfs: [sys::cudnnConvolutionBwdFilterAlgoPerf_t; MAX_ALGOS] = std::mem::zeroed();
                let (call, status) = if benchmark {
                    ("cudnnFindConvolutionBackwardFilterAlgorithm", sys::cudnnFindConvolutionBackwardFilterAlgorithm(handle, d.image, d.blocks, d.conv, d.filter, n, &mut count, perfs.as_mut_ptr()))
                } else {
                    ("cudnnGetConvolutionBackwardFilterAlgorithm_v7", sys::cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, d.image, d.blocks, d.conv, d.filter, n, &mut count, perfs.as_mut_ptr()))
                };
                check(call, geometry, status)?;
                Ok(usable!(perfs, count, BackwardFilter))
            }
        }
    }
}

/// The workspace `algo` needs, in bytes (the convolution descriptor carries its math type).
fn workspace_size(handle: cudnnHandle_t, geometry: &Geometry, d: &Descriptors, algo: Algo) -> Result<usize> {
    let mut size = 0usize;
    // SAFETY: live handle and descriptors; `size` is written once.
    let (call, status) = unsafe {
        match algo {
            Algo::Forward(a) => ("cudnnGetConvolutionForwardWorkspaceSize", sys::cudnnGetConvolutionForwardWorkspaceSize(handle, d.image, d.filter, d.conv, d.blocks, a, &mut size)),
            Algo::BackwardData(a) => ("cudnnGetConvolutionBackwardDataWorkspaceSize", sys::cudnnGetConvolutionBackwardDataWorkspaceSize(handle, d.filter, d.blocks, d.conv, d.image, a, &mut size)),
            Algo::BackwardFilter(a) => ("cudnnGetConvolutionBackwardFilterWorkspaceSize", sys::cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, d.image, d.blocks, d.conv, d.filter, a, &mut size)),
        }
    };
    check(call, geometry, status)?;
    Ok(size)
}

/// The device buffers of one call: the image, blocks and filter sides (one of them written).
struct Buffers<'a> {
    image: &'a Tensor,
    blocks: &'a Tensor,
    filter: &'a Tensor,
}

/// Queues `algo` on the handle's stream, writing (`beta = 0`) the side its direction produces.
fn launch(handle: cudnnHandle_t, geometry: &Geometry, d: &Descriptors, algo: Algo, dtype: DType, b: &Buffers, workspace: Option<&Tensor>, bytes: usize) -> Result<()> {
    let ptr = |t: &Tensor| address(t, t.offset()) as *mut c_void;
    let ws = workspace.map_or(std::ptr::null_mut(), ptr);
    // alpha and beta are read in the accumulation type: double for float64, float otherwise.
    let (one64, zero64, one32, zero32) = (1.0f64, 0.0f64, 1.0f32, 0.0f32);
    let (alpha, beta): (*const c_void, *const c_void) = if dtype == DType::F64 {
        (&one64 as *const f64 as _, &zero64 as *const f64 as _)
    } else {
        (&one32 as *const f32 as _, &zero32 as *const f32 as _)
    };
    // SAFETY: live handle and descriptors matching the buffers' shapes and dtype (the callers
    // make them contiguous), a workspace of `bytes` bytes, all on the handle's device.
    let (call, status) = unsafe {
        match algo {
            Algo::Forward(a) => ("cudnnConvolutionForward", sys::cudnnConvolutionForward(handle, alpha, d.image, ptr(b.image), d.filter, ptr(b.filter), d.conv, a, ws, bytes, beta, d.blocks, ptr(b.blocks))),
            Algo::BackwardData(a) => (
                "cudnnConvolutionBackwardData",
                sys::cudnnConvolutionBackwardData(handle, alpha, d.filter, ptr(b.filter), d.blocks, ptr(b.blocks), d.conv, a, ws, bytes, beta, d.image, ptr(b.image)),
            ),
            Algo::BackwardFilter(a) => (
                "cudnnConvolutionBackwardFilter",
                sys::cudnnConvolutionBackwardFilter(handle, alpha, d.image, ptr(b.image), d.blocks, ptr(b.blocks), d.conv, a, ws, bytes, beta, d.filter, ptr(b.filter)),
            ),
        }
    };
    check(call, geometry, status)
}

/// Convolutions cuDNN has run, for tests that check it was used.
static RUNS: AtomicU64 = AtomicU64::new(0);

/// How many convolutions (of any direction) cuDNN has run in this process.
pub fn runs() -> u64 {
    RUNS.load(Ordering::Relaxed)
}

/// Whether the deterministic switches are on.
fn deterministic() -> bool {
    DETERMINISTIC.load(Ordering::Relaxed) || DETERMINISTIC_ALGORITHMS.load(Ordering::Relaxed)
}

/// cuDNN's usable algorithms for `direction`, best first, under the switches.
fn candidates(handle: cudnnHandle_t, direction: Direction, geometry: &Geometry, d: &Descriptors, math: cudnnMathType_t, benchmark: bool) -> Result<Vec<Candidate>> {
    // The ranking depends on the descriptor's math type, which a failed attempt may have left
    // at another algorithm's (PyTorch's note on cudnnFind and cudnnGet).
    // SAFETY: a live convolution descriptor.
    guarded("cudnnSetConvolutionMathType", || unsafe { cudnn::set_convolution_math_type(d.conv, math) }.map_err(|e| cudnn_error("cudnnSetConvolutionMathType", geometry, e)))?;
    // The timed search allocates its buffers outside the caching allocator; where that fails,
    // the heuristics rank the algorithms instead (and their choice is cached like the search's,
    // so the search is not retried at every call).
    let ranking = match guarded("cudnn algorithm ranking", || ranked(handle, direction, geometry, d, benchmark)) {
        Ok(r) => r,
        Err(_) if benchmark => guarded("cudnn algorithm ranking", || ranked(handle, direction, geometry, d, false))?,
        Err(e) => return Err(e),
    };
    let deterministic = deterministic();
    let usable = ranking
        .into_iter()
        .filter(|c| !deterministic || c.deterministic)
        // FMA math was asked for: an algorithm cuDNN would run in TF32 is not taken.
        .filter(|c| math != cudnnMathType_t::CUDNN_FMA_MATH || c.math == cudnnMathType_t::CUDNN_FMA_MATH)
        .collect();
    Ok(usable)
}

/// Tries `candidate`: sets its math type, allocates its workspace, queues it. An error means
/// this algorithm cannot run now (not supported here, no memory for its workspace).
fn attempt(handle: cudnnHandle_t, geometry: &Geometry, d: &Descriptors, candidate: Candidate, dtype: DType, device: Device, buffers: &Buffers) -> Result<()> {
    // The math type goes with the algorithm (cuDNN decides tensor-core use by both).
    // SAFETY: a live convolution descriptor.
    guarded("cudnnSetConvolutionMathType", || unsafe { cudnn::set_convolution_math_type(d.conv, candidate.math) }.map_err(|e| cudnn_error("cudnnSetConvolutionMathType", geometry, e)))?;
    let bytes = guarded("cudnn workspace size", || workspace_size(handle, geometry, d, candidate.algo))?;
    let workspace = if bytes == 0 { None } else { Some(Tensor::uninit_on(&[bytes], DType::U8, device)?) };
    guarded("cudnn convolution", || launch(handle, geometry, d, candidate.algo, dtype, buffers, workspace.as_ref(), bytes))
}

/// Runs `direction` over `geometry` on `buffers` and answers true, or answers false when cuDNN
/// cannot (no algorithm suits the switches, none can run, no handle): the caller falls back.
/// The algorithm is the cached one, else (or when it cannot run now, e.g. its workspace does
/// not fit) the first of cuDNN's ranking that runs, which is then cached, as PyTorch's
/// `AlgoIterator::try_all` does.
fn run(direction: Direction, geometry: &Geometry, dtype: DType, device: Device, buffers: &Buffers) -> Result<bool> {
    let Device::Cuda(index) = device else { bail!(Runtime, "cuDNN runs on CUDA tensors") };
    let math = math_type(dtype);
    // The timed search allocates, frees and waits, which a CUDA graph capture anywhere in the
    // process forbids: the heuristics rank then (PyTorch refuses the search there).
    let benchmark = BENCHMARK.load(Ordering::Relaxed) && !super::graphs::any_capture();
    let key = Key { device: index, direction, dtype, geometry: geometry.clone(), math, deterministic: deterministic(), benchmark };
    let Ok(d) = Descriptors::new(geometry, dtype, math) else { return Ok(false) };
    let ran = with_handle(index, |handle| {
        let cached = CHOSEN.lock().unwrap_or_else(|e| e.into_inner()).as_ref().and_then(|m| m.get(&key).copied());
        if let Some(c) = cached {
            if attempt(handle, geometry, &d, c, dtype, device, buffers).is_ok() {
                return Ok(true);
            }
        }
        let ranking = candidates(handle, direction, geometry, &d, math, benchmark)?;
        for c in ranking.into_iter().filter(|c| Some(*c) != cached) {
            if attempt(handle, geometry, &d, c, dtype, device, buffers).is_ok() {
                CHOSEN.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new).insert(key.clone(), c);
                return Ok(true);
            }
        }
        Ok(false)
    });
    // A handle cuDNN cannot create (a driver it does not support) means no cuDNN here.
    let ran = ran.unwrap_or(false);
    if ran {
        RUNS.fetch_add(1, Ordering::Relaxed);
    }
    Ok(ran)
}

/// Whether cuDNN takes convolutions over `t` right now: a CUDA tensor of a float dtype it has
/// kernels for on the device (bfloat16 from compute capability 8.0, as PyTorch checks), cuDNN
/// enabled and loaded.
fn takes(t: &Tensor) -> bool {
    let Device::Cuda(index) = t.device() else { return false };
    if data_types(t.dtype()).is_none() || !ENABLED.load(Ordering::Relaxed) || !is_available() {
        return false;
    }
    t.dtype() != DType::BF16 || device::context(index).and_then(|c| c.compute_capability().map_err(super::driver_error)).is_ok_and(|(major, _)| major >= 8)
}

/// Whether cuDNN should run `geometry`: not a dilated convolution under the deterministic
/// switches ("cudnn doesn't support deterministic dilated convolution fully yet", says PyTorch).
fn suits(geometry: &Geometry) -> bool {
    !(deterministic() && geometry.dilation.iter().any(|&d| d != 1))
}

/// `t` dense, at an address aligned for cuDNN's vector loads (16 bytes): a narrowed tensor's
/// data may start anywhere, so it is copied.
fn dense_aligned(t: &Tensor) -> Result<Tensor> {
    let t = t.contiguous()?;
    if address(&t, t.offset()) % 16 == 0 {
        Ok(t)
    } else {
        t.clone_contiguous()
    }
}

/// `kernel::forward` through cuDNN, or None where cuDNN does not apply (see the module comment).
/// Normal: `x` is the image side and the result the blocks side; transposed: the reverse.
/// Operands share a CUDA device (checked by the caller).
pub fn forward(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, win: &Window, transposed: bool, groups: usize) -> Result<Option<Tensor>> {
    if !takes(x) || w.dtype() != x.dtype() || bias.is_some_and(|b| b.dtype() != x.dtype()) {
        return Ok(None);
    }
    let (n, c_x) = (x.shape()[0], x.shape()[1]);
    let c_out = if transposed { w.shape()[1] * groups } else { w.shape()[0] };
    let (image_channels, blocks_channels) = if transposed { (c_out, c_x) } else { (c_x, c_out) };
    let Some(geometry) = Geometry::new(n, image_channels, blocks_channels, win, groups).filter(suits) else { return Ok(None) };
    let (x, w) = (dense_aligned(x)?, dense_aligned(w)?);
    let mut out_shape = vec![n, c_out];
    out_shape.extend_from_slice(if transposed { win.image_shape() } else { win.blocks_shape() });
    let out = Tensor::uninit_on(&out_shape, x.dtype(), x.device())?;
    let (direction, buffers) = if transposed {
        (Direction::BackwardData, Buffers { image: &out, blocks: &x, filter: &w })
    } else {
        (Direction::Forward, Buffers { image: &x, blocks: &out, filter: &w })
    };
    if !run(direction, &geometry, x.dtype(), x.device(), &buffers)? {
        return Ok(None);
    }
    if let Some(b) = bias {
        let mut view = vec![1i64, c_out as i64];
        view.extend(std::iter::repeat_n(1, win.dims));
        out.binary_(crate::ops::binary::BinaryOp::Add, &crate::ops::binary::Operand::Tensor(b.reshape(&view)?))?;
    }
    Ok(Some(out))
}

/// `kernel::weight_grad` through cuDNN (`a` spans the blocks side, `b` the image side), or None
/// where cuDNN does not apply.
pub fn weight_grad(a: &Tensor, b: &Tensor, win: &Window, groups: usize, weight_shape: &[usize]) -> Result<Option<Tensor>> {
    if !takes(a) || b.dtype() != a.dtype() {
        return Ok(None);
    }
    let Some(geometry) = Geometry::new(a.shape()[0], b.shape()[1], a.shape()[1], win, groups).filter(suits) else { return Ok(None) };
    if geometry.filter.iter().map(|&v| v as usize).ne(filter_of(weight_shape, win)) {
        return Ok(None);
    }
    let (a, b) = (dense_aligned(a)?, dense_aligned(b)?);
    let out = Tensor::uninit_on(weight_shape, a.dtype(), a.device())?;
    let ran = run(Direction::BackwardFilter, &geometry, a.dtype(), a.device(), &Buffers { image: &b, blocks: &a, filter: &out })?;
    Ok(ran.then_some(out))
}

/// `weight_shape` as cuDNN's filter: a 1-d kernel gains a unit height.
fn filter_of(weight_shape: &[usize], win: &Window) -> Vec<usize> {
    let mut dims = weight_shape[..2].to_vec();
    if win.dims == 1 {
        dims.push(1);
    }
    dims.extend_from_slice(&weight_shape[2..]);
    dims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(image: &[usize], kernel: &[usize], stride: &[usize], padding: &[usize], dilation: &[usize]) -> Window {
        let blocks: Vec<usize> = (0..image.len()).map(|d| (image[d] + 2 * padding[d] - dilation[d] * (kernel[d] - 1) - 1) / stride[d] + 1).collect();
        Window::new(image, &blocks, kernel, stride, padding, dilation)
    }

    #[test]
    fn a_2d_window_keeps_its_dims() {
        let win = window(&[9, 8], &[3, 2], &[2, 1], &[1, 0], &[1, 2]);
        let g = Geometry::new(4, 6, 10, &win, 2).unwrap();
        assert_eq!(g.image, vec![4, 6, 9, 8]);
        assert_eq!(g.blocks, vec![4, 10, 5, 6]);
        assert_eq!(g.filter, vec![10, 3, 3, 2]);
        assert_eq!((g.padding, g.stride, g.dilation, g.groups), (vec![1, 0], vec![2, 1], vec![1, 2], 2));
    }

    #[test]
    fn a_1d_window_becomes_a_2d_one_of_height_one() {
        let win = window(&[20], &[5], &[3], &[2], &[1]);
        let g = Geometry::new(2, 3, 4, &win, 1).unwrap();
        assert_eq!(g.image, vec![2, 3, 1, 20]);
        assert_eq!(g.blocks, vec![2, 4, 1, 7]);
        assert_eq!(g.filter, vec![4, 3, 1, 5]);
        assert_eq!((g.padding, g.stride, g.dilation), (vec![0, 2], vec![1, 3], vec![1, 1]));
        assert_eq!(filter_of(&[4, 3, 5], &win), vec![4, 3, 1, 5]);
    }

    #[test]
    fn a_3d_window_uses_5d_tensors() {
        let win = window(&[4, 5, 6], &[2, 3, 3], &[1, 2, 1], &[0, 1, 1], &[1, 1, 2]);
        let g = Geometry::new(1, 2, 2, &win, 1).unwrap();
        assert_eq!(g.image, vec![1, 2, 4, 5, 6]);
        assert_eq!(g.blocks.len(), 5);
        assert_eq!(g.filter, vec![2, 2, 2, 3, 3]);
    }

    #[test]
    fn asymmetric_padding_and_empty_work_are_left_to_the_fallback() {
        // padding='same' with an even kernel: 8 positions over 8 elements, not cuDNN's 9 or 7.
        let same = Window::new(&[8], &[8], &[2], &[1], &[1], &[1]);
        assert!(Geometry::new(1, 1, 1, &same, 1).is_none());
        let win = window(&[8, 8], &[3, 3], &[1, 1], &[1, 1], &[1, 1]);
        assert!(Geometry::new(0, 3, 4, &win, 1).is_none());
        assert!(Geometry::new(2, 0, 4, &win, 1).is_none());
        assert!(Geometry::new(2, 3, 0, &win, 1).is_none());
        // 2^31 elements on one side.
        let big = window(&[1 << 16, 1 << 15], &[1, 1], &[1, 1], &[0, 0], &[1, 1]);
        assert!(Geometry::new(1, 1, 1, &big, 1).is_none());
        assert!(Geometry::new(1, 1, 1, &window(&[1 << 15, 1 << 15], &[1, 1], &[1, 1], &[0, 0], &[1, 1]), 1).is_some());
    }

    #[test]
    fn packed_strides_are_row_major() {
        assert_eq!(packed_strides(&[2, 3, 4, 5]), vec![60, 20, 5, 1]);
        assert_eq!(packed_strides(&[2, 0, 4]), vec![4, 4, 1]);
    }

    #[test]
    fn flags_are_set_by_name() {
        assert!(get_flag("enabled").unwrap());
        set_flag("benchmark", true).unwrap();
        assert!(get_flag("benchmark").unwrap());
        set_flag("benchmark", false).unwrap();
        assert!(set_flag("fast", true).is_err());
    }

    /// Where libcudnn loads (no GPU needed), cuDNN accepts the descriptors and computes the
    /// geometry's output size from them.
    #[test]
    fn cudnn_agrees_on_the_output_size_where_it_loads() {
        if !is_available() {
            return;
        }
        let cases = [
            (window(&[9, 8], &[3, 2], &[2, 1], &[1, 0], &[1, 2]), 2),
            (window(&[20], &[5], &[3], &[2], &[1]), 1),
            (window(&[4, 5, 6], &[2, 3, 3], &[1, 2, 1], &[0, 1, 1], &[1, 1, 2]), 1),
        ];
        for (win, groups) in cases {
            let g = Geometry::new(3, 4, 6, &win, groups).unwrap();
            for dtype in [DType::F16, DType::BF16, DType::F32, DType::F64] {
                let d = Descriptors::new(&g, dtype, math_type(dtype)).unwrap();
                assert_eq!(d.forward_output_dims(&g).unwrap(), g.blocks, "{win:?} {dtype:?}");
            }
        }
    }
}
