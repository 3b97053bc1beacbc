//! The CUDA backend, through cudarc with dynamic loading: nothing CUDA is needed to build or to
//! import ferrotorch, and every entry point first checks that the library it needs is present,
//! because cudarc panics on a missing library.
//!
//! - `allocator`: the caching allocator's policy (size classes, reuse, out-of-memory retry).
//! - `blas`: matrix products through cuBLAS.
//! - `cudnn`: convolutions through cuDNN, when it is present.
//! - `libs`: finds and loads libcuda, libnvrtc, libcublas and libcudnn (loader path, CUDA_HOME/CUDA_PATH,
//!   pip-installed NVIDIA packages) before any cudarc call.
//! - `device`: availability, device count, the current device, properties, synchronize.
//! - `dispatch`: tensor ops on CUDA tensors (element-wise kernels, copies, reductions).
//! - `graphs`: CUDA graph capture and replay.
//! - `handles`: the per-device handles of cuBLAS and cuDNN.
//! - `faults`: each device's fault word, where index kernels report values out of range.
//! - `index`: the gather and scatter loops of the index ops on CUDA tensors.
//! - `kernels`: the CUDA C sources, generated from the same op tables as the CPU kernels.
//! - `compile`: NVRTC compilation of those sources, cached in memory and on disk.
//! - `launch_layout`: the shape and strides structs passed to the kernels by value.
//! - `loader`: kernels ready to launch (compiled for the device, loaded once per context).
//! - `memory`: device memory for tensors (a caching allocator per device).
//! - `nn`: the nn ops' kernels (activations, layer normalization, im2col/col2im).
//! - `optim`: fused optimizer updates.
//! - `pinned`: page-locked host memory and `non_blocking` copies from it.
//! - `pool`: pooling windows (max with indices, mean and its adjoint).
//! - `random`: random fills from the device generator's Philox stream.
//! - `selftest`: an end-to-end kernel check for a machine with a GPU.
//! - `stream`: the current stream per device and thread; streams and events.

pub mod allocator;
pub mod attention;
pub mod batch_norm;
pub mod blas;
pub mod blas_lt;
pub mod compile;
pub mod cudnn;
pub mod device;
pub mod dispatch;
pub mod faults;
pub mod graphs;
mod handles;
pub mod index;
pub mod kernels;
pub mod launch_layout;
pub mod libs;
pub mod loader;
pub mod memory;
pub mod nn;
pub mod optim;
pub mod pinned;
pub mod pool;
pub mod random;
pub mod recurrence;
pub mod selftest;
pub mod sort;
pub mod stream;

use crate::error::{Error, Result};
use crate::err;

/// Runs a cudarc call, turning a panic inside it into a RuntimeError. cudarc panics when a symbol
/// is missing from a library that did load (an older driver than the bindings expect): that must
/// reach Python as an error, never as a crash.
pub(crate) fn guarded<T>(what: &str, call: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
        Ok(result) => result,
        Err(payload) => {
            let detail = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            Err(err!(Runtime, "CUDA call {what} failed: {detail}"))
        }
    }
}

/// A driver error as PyTorch words it: `CUDA error: <description>`.
pub(crate) fn driver_error(e: cudarc::driver::DriverError) -> Error {
    let description = e.error_string().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|_| format!("{e:?}"));
    err!(Runtime, "CUDA error: {description}")
}
