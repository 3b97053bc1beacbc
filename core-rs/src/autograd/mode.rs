//! Grad modes: whether ops record history. Thread-local, as in PyTorch.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
    static INFERENCE: Cell<bool> = const { Cell::new(false) };
    static ANOMALY: Cell<bool> = const { Cell::new(false) };
}

/// `torch.is_grad_enabled()`.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// `torch.set_grad_enabled(on)`; returns the previous mode.
pub fn set_grad_enabled(on: bool) -> bool {
    GRAD_ENABLED.with(|g| g.replace(on))
}

/// `torch.is_inference_mode_enabled()`.
pub fn is_inference_mode_enabled() -> bool {
    INFERENCE.with(|g| g.get())
}

/// Enters or leaves inference mode (which also disables grad); returns the previous state.
pub fn set_inference_mode(on: bool) -> bool {
    INFERENCE.with(|g| g.replace(on))
}

/// `torch.is_anomaly_enabled()`: nodes remember where they were made, and backward checks
/// every gradient for NaN.
pub fn is_anomaly_enabled() -> bool {
    ANOMALY.with(|g| g.get())
}

/// `torch.autograd.set_detect_anomaly(on)`; returns the previous state.
pub fn set_anomaly_enabled(on: bool) -> bool {
    ANOMALY.with(|g| g.replace(on))
}

/// Restores the grad mode when dropped.
pub struct GradModeGuard(bool);

impl GradModeGuard {
    pub fn new(on: bool) -> Self {
        GradModeGuard(set_grad_enabled(on))
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.0);
    }
}

/// Runs `f` with recording turned off (`with torch.no_grad():`).
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _g = GradModeGuard::new(false);
    f()
}
