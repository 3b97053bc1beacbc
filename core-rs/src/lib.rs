//! ferrotorch-core: tensors, CPU kernels and autograd. Pure Rust; the Python bindings live in
//! the `ferrotorch-py` crate.

pub mod autocast;
pub mod autograd;
pub mod cpu;
pub mod cuda;
pub mod device;
pub mod dtype;
pub mod error;
pub mod layout;
pub mod ops;
pub mod optim;
pub mod storage;
pub mod tensor;
#[cfg(test)]
mod testing;

pub use device::Device;
pub use dtype::{DType, Element, Scalar};
pub use error::{Error, ErrorKind, Result};
pub use layout::Layout;
pub use tensor::Tensor;

use std::sync::atomic::{AtomicU8, Ordering};

static DEFAULT_DTYPE: AtomicU8 = AtomicU8::new(DType::F32 as u8);

/// The dtype of new floating-point tensors (`torch.get_default_dtype()`).
pub fn default_dtype() -> DType {
    DType::ALL[DEFAULT_DTYPE.load(Ordering::Relaxed) as usize]
}

/// `torch.set_default_dtype`: only floating-point types are allowed.
pub fn set_default_dtype(dtype: DType) -> Result<()> {
    if !dtype.is_float() {
        bail!(Type, "only floating-point types are supported as the default type");
    }
    DEFAULT_DTYPE.store(dtype as u8, Ordering::Relaxed);
    Ok(())
}
