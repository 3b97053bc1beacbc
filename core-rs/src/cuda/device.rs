//! CUDA devices: whether any is usable, how many, the current one, their properties and
//! contexts. Every query goes through [`driver_state`], which loads libcuda and initialises the
//! driver once, so a machine without a driver answers "no GPU" instead of panicking in cudarc.

use std::cell::Cell;
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::sys::{CUdevice_attribute, CUresult};
use cudarc::driver::{result as driver, CudaContext};

use super::libs::{ensure_loaded, CudaLibrary};
use super::{driver_error, guarded};
use crate::{bail, err};
use crate::error::{Error, Result};

/// PyTorch's message when libcuda cannot be loaded.
pub const NO_DRIVER: &str = "Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver from http://www.nvidia.com/Download/index.aspx";

/// PyTorch's message when the driver loads but sees no GPU.
pub const NO_GPU: &str = "No CUDA GPUs are available";

/// The driver as found at first use: the number of devices, or why CUDA cannot be used.
fn driver_state() -> &'static std::result::Result<usize, Error> {
    static STATE: OnceLock<std::result::Result<usize, Error>> = OnceLock::new();
    STATE.get_or_init(|| {
        if ensure_loaded(CudaLibrary::Driver).is_err() {
            return Err(err!(Runtime, "{NO_DRIVER}"));
        }
        guarded("cuInit", || match driver::init() {
            Ok(()) => {
                // Kernels are compiled by NVRTC 13 to PTX that older drivers cannot load.
                match driver_version() {
                    Some(v) if v < 13000 => bail!(
                        Runtime,
                        "The NVIDIA driver on your system is too old (found version {v}). Please update your GPU driver by downloading and installing a new version from the URL: http://www.nvidia.com/Download/index.aspx"
                    ),
                    _ => {}
                }
                let count = driver::device::get_count().map_err(driver_error)?;
                Ok(usize::try_from(count).unwrap_or(0))
            }
            Err(e) if e.0 == CUresult::CUDA_ERROR_NO_DEVICE => Ok(0),
            Err(e) => Err(driver_error(e)),
        })
    })
}

fn driver_version() -> Option<i32> {
    let mut version = 0;
    // SAFETY: libcuda is loaded (checked by the caller) and the pointer is to a local.
    let status = unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut version) };
    (status == CUresult::CUDA_SUCCESS).then_some(version)
}

/// Whether at least one CUDA device can be used (`torch.cuda.is_available()`).
pub fn is_available() -> bool {
    matches!(driver_state(), Ok(n) if *n > 0)
}

/// The number of CUDA devices; 0 when the driver is missing or broken.
pub fn device_count() -> usize {
    *driver_state().as_ref().unwrap_or(&0)
}

/// Initialises CUDA, or says why it cannot be used, with PyTorch's messages.
pub fn init() -> Result<usize> {
    match driver_state() {
        Err(e) => Err(e.clone()),
        Ok(0) => Err(err!(Runtime, "{NO_GPU}")),
        Ok(n) => Ok(*n),
    }
}

/// Checks that device `index` exists.
pub fn check_device(index: usize) -> Result<()> {
    if index >= init()? {
        return Err(err!(Runtime, "CUDA error: invalid device ordinal"));
    }
    Ok(())
}

thread_local! {
    /// The current device of this thread, as PyTorch keeps it per thread.
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

/// The current device of this thread (`torch.cuda.current_device()`).
pub fn current_device() -> Result<usize> {
    init()?;
    Ok(CURRENT.with(Cell::get))
}

/// Makes `index` the current device of this thread.
pub fn set_device(index: usize) -> Result<()> {
    check_device(index)?;
    CURRENT.with(|c| c.set(index));
    Ok(())
}

/// What `torch.cuda.get_device_properties` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceProperties {
    pub name: String,
    pub major: i32,
    pub minor: i32,
    pub total_memory: usize,
    pub multi_processor_count: i32,
    pub warp_size: i32,
    pub max_threads_per_multi_processor: i32,
    pub l2_cache_size: i32,
}

impl DeviceProperties {
    /// The NVRTC architecture of the device, e.g. `sm_90`.
    pub fn arch(&self) -> String {
        format!("sm_{}{}", self.major, self.minor)
    }
}

/// The properties of device `index`.
pub fn properties(index: usize) -> Result<DeviceProperties> {
    let ctx = context(index)?;
    guarded("device properties", || {
        let attribute = |a: CUdevice_attribute| ctx.attribute(a).map_err(driver_error);
        let (major, minor) = ctx.compute_capability().map_err(driver_error)?;
        Ok(DeviceProperties {
            name: ctx.name().map_err(driver_error)?,
            major,
            minor,
            total_memory: ctx.total_mem().map_err(driver_error)?,
            multi_processor_count: attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?,
            warp_size: attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_WARP_SIZE)?,
            max_threads_per_multi_processor: attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR)?,
            l2_cache_size: attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE)?,
        })
    })
}

/// The primary context of device `index`, created at first use and kept for the process.
pub fn context(index: usize) -> Result<Arc<CudaContext>> {
    static CONTEXTS: Mutex<Vec<Option<Arc<CudaContext>>>> = Mutex::new(Vec::new());
    check_device(index)?;
    let mut contexts = CONTEXTS.lock().unwrap_or_else(|e| e.into_inner());
    if contexts.len() <= index {
        contexts.resize(index + 1, None);
    }
    if let Some(ctx) = &contexts[index] {
        return Ok(ctx.clone());
    }
    let ctx = guarded("cuDevicePrimaryCtxRetain", || CudaContext::new(index).map_err(driver_error))?;
    contexts[index] = Some(ctx.clone());
    Ok(ctx)
}

/// Makes device `index`'s primary context current on this thread: the driver calls that take
/// no context (allocation, copies, cuBLAS) act on the current one.
pub fn bind(index: usize) -> Result<()> {
    let ctx = context(index)?;
    guarded("cuCtxSetCurrent", || ctx.bind_to_thread().map_err(driver_error))
}

/// Waits for all work queued on device `index`.
pub fn synchronize(index: usize) -> Result<()> {
    let (ctx, ticket) = (context(index)?, super::faults::ticket());
    guarded("cuCtxSynchronize", || ctx.synchronize().map_err(driver_error))?;
    super::faults::raise_pending(super::faults::Waited::Device(index, ticket))
}
