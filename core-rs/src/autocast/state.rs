//! The thread-local autocast state: per device type whether it is on and its fast dtype, the
//! weight-cache switch, the nesting depth of autocast regions, and the exclusion that keeps an
//! op's inner ops from being cast again.

use std::cell::Cell;

use crate::dtype::DType;
use crate::error::Result;
use crate::{bail, Device};

/// The device types autocast keeps state for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceType {
    Cpu,
    Cuda,
}

/// Every device type PyTorch's device strings name, in its error message's order.
const TORCH_DEVICE_TYPES: &[&str] = &[
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla", "lazy",
    "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
];

impl DeviceType {
    /// The device type a string such as `"cpu"` or `"cuda:1"` names: `None` for a type PyTorch
    /// knows but ferrotorch has no autocast for, an error (PyTorch's) for any other string.
    pub fn parse(s: &str) -> Result<Option<DeviceType>> {
        let name = s.split(':').next().unwrap_or("");
        match name {
            "cpu" => Ok(Some(DeviceType::Cpu)),
            "cuda" => Ok(Some(DeviceType::Cuda)),
            _ if TORCH_DEVICE_TYPES.contains(&name) => Ok(None),
            _ => bail!(Runtime, "Expected one of {} device type at start of device string: {}", TORCH_DEVICE_TYPES.join(", "), s),
        }
    }

    /// The device type of a tensor's device.
    pub fn of(device: Device) -> DeviceType {
        match device {
            Device::Cpu => DeviceType::Cpu,
            Device::Cuda(_) => DeviceType::Cuda,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// `torch.amp.is_autocast_available(device_type)`: whether autocast has state for it.
pub fn is_available(device_type: &str) -> Result<bool> {
    Ok(DeviceType::parse(device_type)?.is_some())
}

#[derive(Clone, Copy)]
struct State {
    enabled: [bool; 2],
    dtype: [DType; 2],
    cache_enabled: bool,
    nesting: i64,
    excluded: bool,
}

thread_local! {
    static STATE: Cell<State> = const {
        Cell::new(State { enabled: [false; 2], dtype: [DType::BF16, DType::F16], cache_enabled: true, nesting: 0, excluded: false })
    };
}

fn read() -> State {
    STATE.with(|s| s.get())
}

fn update<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| {
        let mut st = s.get();
        let r = f(&mut st);
        s.set(st);
        r
    })
}

/// `torch.is_autocast_enabled(device_type)`.
pub fn is_enabled(device: DeviceType) -> bool {
    read().enabled[device.index()]
}

/// `torch.set_autocast_enabled(device_type, enabled)`.
pub fn set_enabled(device: DeviceType, on: bool) {
    update(|s| s.enabled[device.index()] = on)
}

/// `torch.get_autocast_dtype(device_type)`: the fast dtype (CPU bfloat16, CUDA float16 by
/// default).
pub fn dtype(device: DeviceType) -> DType {
    read().dtype[device.index()]
}

/// `torch.set_autocast_dtype(device_type, dtype)`.
pub fn set_dtype(device: DeviceType, dtype: DType) {
    update(|s| s.dtype[device.index()] = dtype)
}

/// `torch.is_autocast_cache_enabled()`.
pub fn is_cache_enabled() -> bool {
    read().cache_enabled
}

/// `torch.set_autocast_cache_enabled(enabled)`.
pub fn set_cache_enabled(on: bool) {
    update(|s| s.cache_enabled = on)
}

/// `torch.autocast_increment_nesting()`: entering a region; returns the new depth.
pub fn increment_nesting() -> i64 {
    update(|s| {
        s.nesting += 1;
        s.nesting
    })
}

/// `torch.autocast_decrement_nesting()`: leaving a region; returns the new depth (0 when the
/// outermost region ends, which is when the weight cache is dropped).
pub fn decrement_nesting() -> i64 {
    update(|s| {
        s.nesting -= 1;
        s.nesting
    })
}

/// Whether an op is running its body under autocast, where its inner ops are not cast again
/// (PyTorch's excluded autocast dispatch key).
pub fn is_excluded() -> bool {
    read().excluded
}

/// Whether some op would be cast now: autocast is on for some device and not excluded.
pub fn any_active() -> bool {
    let s = read();
    (s.enabled[0] || s.enabled[1]) && !s.excluded
}

/// Turns autocast off for ops run while it lives (an autocast op's body, or a Python composite
/// op that cast its inputs itself); restores the previous exclusion when dropped.
pub struct ExcludeGuard(bool);

impl ExcludeGuard {
    pub fn new() -> ExcludeGuard {
        ExcludeGuard(set_excluded(true))
    }
}

/// Sets the exclusion (for callers that cannot hold an [`ExcludeGuard`], such as Python's
/// `with` blocks); returns the previous value, to be restored.
pub fn set_excluded(on: bool) -> bool {
    update(|s| std::mem::replace(&mut s.excluded, on))
}

impl Default for ExcludeGuard {
    fn default() -> Self {
        ExcludeGuard::new()
    }
}

impl Drop for ExcludeGuard {
    fn drop(&mut self) {
        set_excluded(self.0);
    }
}
