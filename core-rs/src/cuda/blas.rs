//! Matrix products on CUDA tensors through cuBLAS (`cublasGemmStridedBatchedEx`): every float
//! dtype, batched and broadcast, with float32 products in TF32 when
//! `backends.cuda.matmul.allow_tf32` / `set_float32_matmul_precision` allow it, or, for the
//! products of a convolution, when `backends.cudnn.allow_tf32` does (PyTorch's default: yes).
//!
//! cuBLAS is column-major: the row-major product `C = A @ B` is computed as `Cᵀ = Bᵀ Aᵀ`, which
//! reads each row-major operand as its column-major transpose without copying. An operand whose
//! last two dims are transposed (a `.t()` view) is passed with `CUBLAS_OP_T` instead.
//!
//! One handle serves each device; like PyTorch, it gets a workspace of its own for every stream
//! it runs on (cuBLAS's default workspace is one per handle, which products running at once on
//! two streams would share). Products with a bias vector (`linear`) go through cuBLASLt's bias
//! epilogue where it takes them (`blas_lt.rs`), with the same workspaces.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cudarc::cublas::result as cublas;
use cudarc::cublas::sys as cublas_sys;
use cudarc::cublas::sys::{cublasComputeType_t, cublasGemmAlgo_t, cublasHandle_t, cublasOperation_t, cudaDataType};

use super::libs::{ensure_loaded, CudaLibrary};
use super::dispatch::address;
use super::guarded;
use super::memory::DeviceBuffer;
use super::handles::Handles;
use crate::device::Device;
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, err};

/// Whether float32 products may use TF32 tensor cores (PyTorch's default precision "highest"
/// says no).
static ALLOW_TF32: AtomicBool = AtomicBool::new(false);

/// Sets `torch.backends.cuda.matmul.allow_tf32`.
pub fn set_allow_tf32(allow: bool) {
    ALLOW_TF32.store(allow, Ordering::Relaxed);
}

/// Whether the float32 products of convolutions may use TF32: PyTorch's
/// `backends.cudnn.allow_tf32`, on by default (cuDNN's convolutions use TF32 unless told not to).
static CONV_ALLOW_TF32: AtomicBool = AtomicBool::new(true);

/// Sets `torch.backends.cudnn.allow_tf32`.
pub fn set_conv_allow_tf32(allow: bool) {
    CONV_ALLOW_TF32.store(allow, Ordering::Relaxed);
}

/// `torch.backends.cudnn.allow_tf32`.
pub fn conv_allow_tf32() -> bool {
    CONV_ALLOW_TF32.load(Ordering::Relaxed)
}

thread_local! {
    /// Set while this thread runs a convolution's products (see `in_convolution`).
    static IN_CONVOLUTION: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, a convolution's products by columns, under cuDNN's TF32 switch instead of
/// cuBLAS's: the products are a convolution's, whatever library computes them.
pub fn in_convolution<R>(f: impl FnOnce() -> R) -> R {
    /// Puts the outer value back, also when `f` unwinds.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            IN_CONVOLUTION.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(IN_CONVOLUTION.with(|c| c.replace(true)));
    f()
}

/// Whether the float32 product about to run may use TF32.
pub(super) fn tf32_allowed() -> bool {
    let flag = if IN_CONVOLUTION.with(|c| c.get()) { &CONV_ALLOW_TF32 } else { &ALLOW_TF32 };
    flag.load(Ordering::Relaxed)
}

static HANDLES: Handles<cublasHandle_t> = Handles::new();

/// The cuBLAS workspace of each (device, stream id), allocated at the stream's first product.
/// A graph that captured products on a stream holds its workspace too (the replays use it).
static WORKSPACES: Mutex<Vec<((usize, u64), Arc<DeviceBuffer>)>> = Mutex::new(Vec::new());

/// PyTorch's default workspace size (`CUBLAS_WORKSPACE_CONFIG` unset: `:4096:8` from compute
/// capability 9.0, else `:4096:2:16:8`): 32 MiB, else 8 MiB plus 128 KiB.
fn workspace_bytes(index: usize) -> usize {
    let hopper = super::device::context(index).and_then(|c| c.compute_capability().map_err(super::driver_error)).is_ok_and(|(major, _)| major >= 9);
    if hopper { 32 << 20 } else { (8 << 20) + (128 << 10) }
}

/// The workspace of `stream` on device `index` for a product about to be queued there (cuBLAS's
/// and cuBLASLt's alike), held by the graph capturing the stream, if any: its replays use it.
pub(super) fn stream_workspace(index: usize, stream: &cudarc::driver::CudaStream) -> Result<Arc<DeviceBuffer>> {
    let buffer = workspace(index, stream.cu_stream() as u64)?;
    super::graphs::keep_with_capture(index, &buffer)?;
    Ok(buffer)
}

/// The workspace of device `index`'s stream `stream`.
fn workspace(index: usize, stream: u64) -> Result<Arc<DeviceBuffer>> {
    let mut all = WORKSPACES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, buffer)) = all.iter().find(|(key, _)| *key == (index, stream)) {
        return Ok(buffer.clone());
    }
    // From the stream's own pool (or a capturing graph's).
    let buffer = Arc::new(DeviceBuffer::allocate(index, workspace_bytes(index))?);
    all.push(((index, stream), buffer.clone()));
    Ok(buffer)
}

/// Drops this table's hold on the workspace of stream `stream` of device `index` (the stream is
/// being destroyed; graphs that captured products on it keep theirs).
pub fn forget_stream(index: usize, stream: u64) {
    WORKSPACES.lock().unwrap_or_else(|e| e.into_inner()).retain(|(key, _)| *key != (index, stream));
}

/// Runs `f` with device `index`'s cuBLAS handle, on the thread's current stream with that
/// stream's workspace.
fn with_handle<R>(index: usize, f: impl FnOnce(cublasHandle_t) -> Result<R>) -> Result<R> {
    ensure_loaded(CudaLibrary::Cublas)?;
    let create = || guarded("cublasCreate", || cublas::create_handle().map_err(|e| err!(Runtime, "CUDA error: cublasCreate failed: {e}")));
    let attach = |handle, stream: &cudarc::driver::CudaStream| {
        // SAFETY: a live handle and a stream of its device's context.
        guarded("cublasSetStream", || unsafe { cublas::set_stream(handle, stream.cu_stream() as _) }.map_err(|e| err!(Runtime, "CUDA error: cublasSetStream failed: {e}")))?;
        let buffer = stream_workspace(index, stream)?;
        // SAFETY: device memory of this handle's device, kept until the stream is destroyed
        // and every graph that captured a product on it is gone.
        let status = guarded("cublasSetWorkspace", || Ok(unsafe { cublas_sys::cublasSetWorkspace_v2(handle, buffer.ptr() as *mut _, buffer.bytes()) }))?;
        if status != cublas_sys::cublasStatus_t::CUBLAS_STATUS_SUCCESS {
            bail!(Runtime, "CUDA error: cublasSetWorkspace failed: {status:?}");
        }
        Ok(())
    };
    HANDLES.with(index, create, attach, f)
}

/// A batch of row-major matrices as cuBLAS reads them: the tensor to pass, whether cuBLAS must
/// transpose it, its leading dimension and the stride between matrices (0 when broadcast).
pub(super) struct Operand {
    t: Tensor,
    pub(super) transpose: bool,
    pub(super) ld: i64,
    batch_stride: i64,
}

impl Operand {
    /// `t` expanded to `batch + [rows, cols]`.
    fn new(t: &Tensor, batch: &[usize], rows: usize, cols: usize) -> Result<Operand> {
        let t = t.expand_to(&matrices(batch, rows, cols))?;
        let nd = t.ndim();
        let size = (rows * cols) as i64;
        // Dense row-major or column-major (transposed) matrices whose batch dims step by one
        // stride (0: one matrix shared by the whole batch) are passed as they are; anything
        // else is copied dense.
        let st = &t.strides()[nd - 2..];
        let row_major = (st[1] == 1 || cols == 1) && (st[0] == cols || rows == 1);
        let col_major = (st[0] == 1 || rows == 1) && (st[1] == rows || cols == 1);
        let step = batch_step(&t.shape()[..nd - 2], &t.strides()[..nd - 2]);
        let (t, transpose, step) = match step {
            Some(step) if row_major => (t, false, step),
            Some(step) if col_major => (t, true, step),
            _ => (t.contiguous()?, false, size as usize),
        };
        let ld = if transpose { rows } else { cols }.max(1) as i64;
        Ok(Operand { t, transpose, ld, batch_stride: step as i64 })
    }

    fn op(&self) -> cublasOperation_t {
        if self.transpose { cublasOperation_t::CUBLAS_OP_T } else { cublasOperation_t::CUBLAS_OP_N }
    }

    pub(super) fn address(&self) -> u64 {
        address(&self.t, self.t.offset())
    }
}

/// The shape of a batch of `rows x cols` matrices.
fn matrices(batch: &[usize], rows: usize, cols: usize) -> Vec<usize> {
    batch.iter().copied().chain([rows, cols]).collect()
}

/// The one stride that steps through batch dims of `shape` and `strides` in row-major order
/// (size-1 dims ignored; 0 when the batch is one matrix or broadcast), or None when they do not
/// collapse to one.
fn batch_step(shape: &[usize], strides: &[usize]) -> Option<usize> {
    let dims: Vec<(usize, usize)> = shape.iter().zip(strides).filter(|(&n, _)| n != 1).map(|(&n, &s)| (n, s)).collect();
    let Some(&(inner_n, inner_s)) = dims.last() else { return Some(0) };
    let mut expected = inner_s * inner_n;
    for &(n, s) in dims.iter().rev().skip(1) {
        if s != expected {
            return None;
        }
        expected = s * n;
    }
    Some(inner_s)
}

fn data_type(dtype: DType) -> Result<cudaDataType> {
    Ok(match dtype {
        DType::F16 => cudaDataType::CUDA_R_16F,
        DType::BF16 => cudaDataType::CUDA_R_16BF,
        DType::F32 => cudaDataType::CUDA_R_32F,
        DType::F64 => cudaDataType::CUDA_R_64F,
        other => bail!(Runtime, "\"addmm_cuda\" not implemented for '{}'", crate::dtype::title(other)),
    })
}

/// `alpha * a @ b + beta * bias` for CUDA operands: `a` is `(..., m, k)`, `b` `(..., k, n)`,
/// `batch` the broadcast batch shape, `bias` (already checked) broadcasts to the result.
pub fn product(a: &Tensor, b: &Tensor, bias: Option<(&Tensor, Scalar)>, alpha: Scalar, batch: &[usize], (m, k, n): (usize, usize, usize)) -> Result<Tensor> {
    if let Some((t, beta)) = bias {
        if let Some(out) = with_bias_epilogue(a, b, t, beta, alpha, batch, (m, k, n))? {
            return Ok(out);
        }
    }
    let shape = matrices(batch, m, n);
    let out = match bias {
        Some((t, _)) => t.expand_to(&shape)?.clone_contiguous()?,
        None => Tensor::uninit_on(&shape, a.dtype(), a.device())?,
    };
    let beta = bias.map_or(0.0, |(_, beta)| beta.to_f64());
    product_into(&out, a, b, alpha.to_f64(), beta, batch, (m, k, n))?;
    Ok(out)
}

/// The cuBLASLt route of [`product`] (`blas_lt.rs`), on PyTorch's conditions for it: one
/// matrix, beta 1, a bias vector along the output's rows (16-byte aligned), every size above 1
/// (cuBLASLt mishandles some size-1 products), a half or float32 product; None otherwise or
/// when cuBLASLt declines.
fn with_bias_epilogue(a: &Tensor, b: &Tensor, bias: &Tensor, beta: Scalar, alpha: Scalar, batch: &[usize], (m, k, n): (usize, usize, usize)) -> Result<Option<Tensor>> {
    let Device::Cuda(index) = a.device() else { return Ok(None) };
    if !epilogue_takes(a.dtype(), bias, beta, batch, (m, k, n))? {
        return Ok(None);
    }
    let (lhs, rhs) = (Operand::new(&a.reshape(&[m as i64, k as i64])?, &[], m, k)?, Operand::new(&b.reshape(&[k as i64, n as i64])?, &[], k, n)?);
    let shape = matrices(batch, m, n);
    let out = Tensor::uninit_on(&shape, a.dtype(), a.device())?;
    Ok(super::blas_lt::product_with_bias(&out, &lhs, &rhs, bias, alpha.to_f64(), (m, k, n), index).then_some(out))
}

/// Whether a product of `dtype` over `batch + (m, k, n)` with `beta * bias` meets the cuBLASLt
/// route's conditions (see [`with_bias_epilogue`]).
fn epilogue_takes(dtype: DType, bias: &Tensor, beta: Scalar, batch: &[usize], (m, k, n): (usize, usize, usize)) -> Result<bool> {
    let shapes = batch.iter().all(|&d| d == 1) && m > 1 && k > 1 && n > 1 && bias.ndim() <= 2;
    if !shapes || beta.to_f64() != 1.0 || !matches!(dtype, DType::F16 | DType::BF16 | DType::F32) {
        return Ok(false);
    }
    Ok(bias.expand_to(&[m, n])?.strides() == [0, 1] && address(bias, bias.offset()) % 16 == 0)
}

/// `out = alpha * a @ b + beta * out` in place, for CUDA operands shaped as in [`product`] and
/// `out` dense row-major `batch + [m, n]` (a run of rows of a contiguous matrix qualifies).
pub fn product_into(out: &Tensor, a: &Tensor, b: &Tensor, alpha: f64, beta: f64, batch: &[usize], (m, k, n): (usize, usize, usize)) -> Result<()> {
    let dtype = a.dtype();
    let kind = data_type(dtype)?;
    let Device::Cuda(index) = a.device() else { bail!(Runtime, "expected CUDA operands") };
    let shape = matrices(batch, m, n);
    // cuBLAS writes rows n apart and matrices m * n apart: a contiguous output.
    if out.shape() != shape || out.dtype() != dtype || !out.is_contiguous() {
        bail!(Runtime, "product_into: expected a dense {:?} output of {}, got {:?} of {} with strides {:?}", shape, dtype, out.shape(), out.dtype(), out.strides());
    }
    if out.numel() == 0 {
        return Ok(());
    }
    if k == 0 {
        // An empty sum: beta * out (zeros when beta is 0, whatever out held).
        return if beta == 0.0 { out.fill_(Scalar::Int(0)) } else { out.binary_(crate::ops::binary::BinaryOp::Mul, &crate::ops::binary::Operand::Scalar(Scalar::Float(beta))) };
    }
    let (lhs, rhs) = (Operand::new(a, batch, m, k)?, Operand::new(b, batch, k, n)?);
    let count: usize = batch.iter().product();
    let compute = match dtype {
        DType::F64 => cublasComputeType_t::CUBLAS_COMPUTE_64F,
        DType::F32 if tf32_allowed() => cublasComputeType_t::CUBLAS_COMPUTE_32F_FAST_TF32,
        _ => cublasComputeType_t::CUBLAS_COMPUTE_32F,
    };
    // alpha and beta live on the host, in the compute type's precision.
    let (alpha64, beta64) = (alpha, beta);
    let (alpha32, beta32) = (alpha64 as f32, beta64 as f32);
    let (pa, pb): (*const std::ffi::c_void, *const std::ffi::c_void) = if dtype == DType::F64 {
        (&alpha64 as *const f64 as _, &beta64 as *const f64 as _)
    } else {
        (&alpha32 as *const f32 as _, &beta32 as *const f32 as _)
    };
    let c = address(out, out.offset());
    let int = |v: usize| i32::try_from(v).map_err(|_| err!(Runtime, "matrix size {v} is too large for cuBLAS"));
    let (mi, ni, ki, batches) = (int(m)?, int(n)?, int(k)?, int(count)?);
    with_handle(index, |handle| {
        guarded("cublasGemmStridedBatchedEx", || {
            // SAFETY: the pointers address device memory holding the operands as described
            // (leading dims and batch strides computed from their layouts) and the dense
            // output of `count * m * n` elements; alpha and beta outlive the call.
            unsafe {
                cublas::gemm_strided_batched_ex(
                    handle,
                    rhs.op(),
                    lhs.op(),
                    ni,
                    mi,
                    ki,
                    pa,
                    rhs.address() as *const _,
                    kind,
                    rhs.ld as i32,
                    rhs.batch_stride,
                    lhs.address() as *const _,
                    kind,
                    lhs.ld as i32,
                    lhs.batch_stride,
                    pb,
                    c as *mut _,
                    kind,
                    ni.max(1),
                    (m * n) as i64,
                    batches.max(1),
                    compute,
                    cublasGemmAlgo_t::CUBLAS_GEMM_DFALT,
                )
            }
            .map_err(|e| err!(Runtime, "CUDA error: {e} when calling `cublasGemmStridedBatchedEx`"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::from_slice(&(0..n).map(|i| i as f32).collect::<Vec<_>>(), shape).unwrap()
    }

    #[test]
    fn the_bias_epilogue_takes_what_pytorchs_addmm_route_takes() {
        let one = Scalar::Float(1.0);
        let vector = matrix(&[8]);
        let takes = |bias: &Tensor, beta: Scalar, dtype: DType, batch: &[usize], mkn: (usize, usize, usize)| epilogue_takes(dtype, bias, beta, batch, mkn).unwrap();
        assert!(takes(&vector, one, DType::F32, &[], (5, 3, 8)));
        assert!(takes(&vector, one, DType::BF16, &[1], (5, 3, 8)));
        assert!(takes(&matrix(&[1, 8]), one, DType::F16, &[], (5, 3, 8)), "a row broadcast over the rows");
        assert!(!takes(&matrix(&[5, 8]), one, DType::F32, &[], (5, 3, 8)), "a matrix bias");
        assert!(!takes(&matrix(&[2, 5, 8]), one, DType::F32, &[2], (5, 3, 8)), "baddbmm's batched bias");
        assert!(!takes(&matrix(&[9]).narrow(0, 1, 8).unwrap(), one, DType::F32, &[], (5, 3, 8)), "4 bytes past alignment");
        assert!(!takes(&vector, Scalar::Float(0.5), DType::F32, &[], (5, 3, 8)));
        assert!(!takes(&vector, one, DType::F64, &[], (5, 3, 8)));
        for mkn in [(1, 3, 8), (5, 1, 8)] {
            assert!(!takes(&vector, one, DType::F32, &[], mkn), "a size of 1");
        }
    }

    #[test]
    fn the_recurrent_layers_operands_take_no_copies() {
        // d_gates^T (4H, N) for W_hh's gradient: transposed, leading dim 4H; a run of rows of
        // the gates for a step's product: row-major with the full row as leading dim.
        let d_gates = matrix(&[6, 8]);
        let op = Operand::new(&d_gates.transpose(0, 1).unwrap(), &[], 8, 6).unwrap();
        assert!(op.transpose && op.ld == 8 && op.t.shares_storage(&d_gates));
        let op = Operand::new(&d_gates.narrow(0, 2, 3).unwrap(), &[], 3, 8).unwrap();
        assert!(!op.transpose && op.ld == 8 && op.t.shares_storage(&d_gates));
    }

    #[test]
    fn row_major_operands_pass_as_they_are() {
        let a = matrix(&[2, 3, 4]);
        let op = Operand::new(&a, &[2], 3, 4).unwrap();
        assert!(!op.transpose && op.t.shares_storage(&a));
        assert_eq!((op.ld, op.batch_stride), (4, 12));
    }

    #[test]
    fn transposed_views_use_op_t_without_a_copy() {
        let a = matrix(&[4, 3]);
        let t = a.transpose(0, 1).unwrap();
        let op = Operand::new(&t, &[], 3, 4).unwrap();
        assert!(op.transpose && op.t.shares_storage(&a));
        assert_eq!(op.ld, 3);
        // A batch of transposed matrices, each dense.
        let b = matrix(&[2, 5, 3]).transpose(1, 2).unwrap();
        let op = Operand::new(&b, &[2], 3, 5).unwrap();
        assert!(op.transpose);
        assert_eq!((op.ld, op.batch_stride), (3, 15));
    }

    #[test]
    fn a_matrix_broadcast_over_the_batch_has_stride_zero() {
        let a = matrix(&[3, 4]);
        let op = Operand::new(&a, &[5], 3, 4).unwrap();
        assert!(!op.transpose && op.t.shares_storage(&a));
        assert_eq!((op.ld, op.batch_stride), (4, 0));
    }

    #[test]
    fn a_strided_batch_of_dense_matrices_keeps_its_stride() {
        // Rows 2..5 of every (8, 4) matrix of a (3, 8, 4) batch: dense (3, 4) matrices 32 apart.
        let a = matrix(&[3, 8, 4]);
        let op = Operand::new(&a.narrow(1, 2, 3).unwrap(), &[3], 3, 4).unwrap();
        assert!(!op.transpose && op.t.shares_storage(&a));
        assert_eq!((op.ld, op.batch_stride), (4, 32));
        // Batch dims that collapse: (2, 3) matrices of a (2, 3, 4, 5) tensor; and a size-1 dim.
        assert_eq!(batch_step(&[2, 3], &[60, 20]), Some(20));
        assert_eq!(batch_step(&[2, 1, 3], &[60, 7, 20]), Some(20));
        assert_eq!(batch_step(&[5, 1], &[0, 9]), Some(0));
        assert_eq!(batch_step(&[2, 3], &[0, 20]), None);
    }

    #[test]
    fn other_layouts_are_copied_dense() {
        let a = matrix(&[2, 6, 8]);
        let every_other = a.slice(2, None, None, 2).unwrap();
        let op = Operand::new(&every_other, &[2], 6, 4).unwrap();
        assert!(!op.transpose && !op.t.shares_storage(&a) && op.t.is_contiguous());
        assert_eq!((op.ld, op.batch_stride), (4, 24));
    }

    #[test]
    fn integer_products_raise_pytorchs_cuda_error() {
        let e = data_type(DType::I64).unwrap_err();
        assert!(e.message.contains("\"addmm_cuda\" not implemented for 'Long'"), "{}", e.message);
        assert!(data_type(DType::BF16).is_ok());
    }
}
