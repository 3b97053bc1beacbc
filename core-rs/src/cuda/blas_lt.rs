//! Products with a vector bias added in the epilogue, through cuBLASLt (`cublasLtMatmul` with
//! `CUBLASLT_EPILOGUE_BIAS`): PyTorch's path for `addmm` with a bias vector, which `linear`
//! takes. The bias is added as the product's tiles are stored, where the plain cuBLAS route
//! first copies the bias into every row of the output and has the product read it back: two
//! passes over the output saved, a third of a small layer's product time.
//!
//! The same column-major reading as `blas.rs`: the row-major `out (m, n) = a (m, k) @ b (k, n)`
//! is `outᵀ = bᵀ aᵀ`, so cuBLASLt's A is `b`, its B is `a`, and the bias, one value per row of
//! `outᵀ`, is one per output column: a `linear` layer's bias. Anything cuBLASLt declines (no
//! algorithm for the shapes or alignments) falls back to the cuBLAS route.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};

use cudarc::cublaslt::result as lt;
use cudarc::cublaslt::sys::{self, cublasComputeType_t, cublasLtEpilogue_t, cublasLtHandle_t, cublasLtMatmulDescAttributes_t as Desc, cublasLtMatmulPreferenceAttributes_t as Pref, cudaDataType};

use super::blas::{stream_workspace, tf32_allowed, Operand};
use super::handles::Handles;
use super::libs::{ensure_loaded, CudaLibrary};
use super::guarded;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

static HANDLES: Handles<cublasLtHandle_t> = Handles::new();

static RUNS: AtomicU64 = AtomicU64::new(0);

/// How many products cuBLASLt has queued in this process (tests check the route is taken).
pub fn runs() -> u64 {
    RUNS.load(Ordering::Relaxed)
}

/// The largest power of two (up to 256) dividing `address`: cuBLASLt picks kernels by the
/// operands' alignment, as PyTorch tells it (`_getAlignment`).
fn alignment(address: u64) -> u32 {
    let mut a = 256u32;
    while address % a as u64 != 0 {
        a /= 2;
    }
    a
}

/// Destroys cuBLASLt descriptors when the call is done, whichever way it ends.
struct Descriptors {
    desc: sys::cublasLtMatmulDesc_t,
    layouts: Vec<sys::cublasLtMatrixLayout_t>,
    pref: sys::cublasLtMatmulPreference_t,
}

impl Drop for Descriptors {
    fn drop(&mut self) {
        // SAFETY: each was created by this call and is destroyed once, here.
        unsafe {
            if !self.pref.is_null() {
                let _ = lt::destroy_matmul_pref(self.pref);
            }
            for &l in &self.layouts {
                let _ = lt::destroy_matrix_layout(l);
            }
            if !self.desc.is_null() {
                let _ = lt::destroy_matmul_desc(self.desc);
            }
        }
    }
}

/// Sets one attribute of a descriptor from a plain value.
///
/// # Safety
/// `set` must be a cuBLASLt attribute setter for a live descriptor, and `T` the attribute's type.
unsafe fn attribute<D, A, T>(set: unsafe fn(D, A, *const c_void, usize) -> std::result::Result<(), lt::CublasError>, d: D, attr: A, value: T) -> std::result::Result<(), lt::CublasError> {
    set(d, attr, &value as *const T as *const c_void, std::mem::size_of::<T>())
}

fn create_handle() -> Result<cublasLtHandle_t> {
    guarded("cublasLtCreate", || lt::create_handle().map_err(|e| crate::err!(Runtime, "CUDA error: cublasLtCreate failed: {e}")))
}

/// `out = alpha * a @ b + bias` (bias broadcast over rows) for the dense row-major CUDA output
/// `out (m, n)` of `a`'s float dtype and the operands as `blas::product` reads them; false (and
/// nothing queued) when cuBLASLt declines or cannot run here, for the caller's cuBLAS route.
pub(super) fn product_with_bias(out: &Tensor, lhs: &Operand, rhs: &Operand, bias: &Tensor, alpha: f64, (m, k, n): (usize, usize, usize), index: usize) -> bool {
    let kind = match out.dtype() {
        DType::F16 => cudaDataType::CUDA_R_16F,
        DType::BF16 => cudaDataType::CUDA_R_16BF,
        DType::F32 => cudaDataType::CUDA_R_32F,
        _ => return false,
    };
    if ensure_loaded(CudaLibrary::CublasLt).is_err() {
        return false;
    }
    let compute = if out.dtype() == DType::F32 && tf32_allowed() { cublasComputeType_t::CUBLAS_COMPUTE_32F_FAST_TF32 } else { cublasComputeType_t::CUBLAS_COMPUTE_32F };
    // cuBLASLt takes the stream and workspace with each product: those of the stream the handle
    // table binds the handle to, as cuBLAS's.
    let bound = std::cell::Cell::new(None);
    let attach = |_, s: &cudarc::driver::CudaStream| {
        bound.set(Some((s.cu_stream() as sys::cudaStream_t, stream_workspace(index, s)?)));
        Ok(())
    };
    let queue = |handle| {
        let (cu_stream, buffer) = bound.take().expect("attach ran first");
        let addresses = [rhs.address(), lhs.address(), super::dispatch::address(out, out.offset()), super::dispatch::address(bias, bias.offset())];
        guarded("cublasLtMatmul", || {
            // SAFETY: the descriptors describe the operands' layouts (leading dims from
            // `Operand`, the output dense with rows n apart), every pointer addresses live
            // device memory of this device, alpha and beta outlive the call, and the
            // workspace is this stream's.
            Ok(unsafe { matmul(handle, kind, compute, lhs, rhs, addresses, alpha, (m, k, n), (buffer.ptr(), buffer.bytes()), cu_stream) }.is_ok())
        })
    };
    // No handle, stream or workspace: the cuBLAS route serves, and reports what it meets.
    let queued = HANDLES.with(index, create_handle, attach, queue).unwrap_or(false);
    if queued {
        RUNS.fetch_add(1, Ordering::Relaxed);
    }
    queued
}

/// The cuBLASLt calls of `product_with_bias`: descriptors, the heuristic's first algorithm,
/// the product; an error before the product means nothing was queued.
///
/// # Safety
/// As at the call in `product_with_bias`.
#[allow(clippy::too_many_arguments)]
unsafe fn matmul(
    handle: cublasLtHandle_t,
    kind: cudaDataType,
    compute: cublasComputeType_t,
    lhs: &Operand,
    rhs: &Operand,
    [a, b, d, bias]: [u64; 4],
    alpha: f64,
    (m, k, n): (usize, usize, usize),
    (space, space_bytes): (u64, usize),
    stream: sys::cudaStream_t,
) -> std::result::Result<(), lt::CublasError> {
    let mut held = Descriptors { desc: std::ptr::null_mut(), layouts: Vec::new(), pref: std::ptr::null_mut() };
    held.desc = lt::create_matmul_desc(compute, cudaDataType::CUDA_R_32F)?;
    let op = |transpose: bool| -> i32 { i32::from(transpose) }; // CUBLAS_OP_N = 0, CUBLAS_OP_T = 1
    attribute(lt::set_matmul_desc_attribute, held.desc, Desc::CUBLASLT_MATMUL_DESC_TRANSA, op(rhs.transpose))?;
    attribute(lt::set_matmul_desc_attribute, held.desc, Desc::CUBLASLT_MATMUL_DESC_TRANSB, op(lhs.transpose))?;
    attribute(lt::set_matmul_desc_attribute, held.desc, Desc::CUBLASLT_MATMUL_DESC_EPILOGUE, cublasLtEpilogue_t::CUBLASLT_EPILOGUE_BIAS)?;
    attribute(lt::set_matmul_desc_attribute, held.desc, Desc::CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias as *const c_void)?;
    // Layouts as stored (before the op): cuBLASLt's A is `b`, (n, k) column-major, or its
    // transpose (k, n) when stored the other way; B is `a`, (k, m) or (m, k); D is (n, m).
    let (m, k, n) = (m as u64, k as u64, n as u64);
    let a_dims = if rhs.transpose { (k, n) } else { (n, k) };
    let b_dims = if lhs.transpose { (m, k) } else { (k, m) };
    for (rows, cols, ld) in [(a_dims.0, a_dims.1, rhs.ld), (b_dims.0, b_dims.1, lhs.ld), (n, m, n as i64)] {
        held.layouts.push(lt::create_matrix_layout(kind, rows, cols, ld)?);
    }
    held.pref = lt::create_matmul_pref()?;
    attribute(lt::set_matmul_pref_attribute, held.pref, Pref::CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, space_bytes as u64)?;
    let prefs = [Pref::CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, Pref::CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, Pref::CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, Pref::CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES];
    for (pref, address) in prefs.into_iter().zip([a, b, d, d]) {
        attribute(lt::set_matmul_pref_attribute, held.pref, pref, alignment(address))?;
    }
    let (la, lb, ld) = (held.layouts[0], held.layouts[1], held.layouts[2]);
    let heuristic = lt::get_matmul_algo_heuristic(handle, held.desc, la, lb, ld, ld, held.pref)?;
    if heuristic.workspaceSize > space_bytes {
        return Err(lt::CublasError(sys::cublasStatus_t::CUBLAS_STATUS_NOT_SUPPORTED));
    }
    let (alpha, beta) = (alpha as f32, 0.0f32);
    let (pa, pb) = (&alpha as *const f32 as *const c_void, &beta as *const f32 as *const c_void);
    lt::matmul(handle, held.desc, pa, pb, a as *const c_void, la, b as *const c_void, lb, d as *const c_void, ld, d as *mut c_void, ld, &heuristic.algo, space as *mut c_void, space_bytes, stream)
}
