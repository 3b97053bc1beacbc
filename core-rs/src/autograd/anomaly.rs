//! Anomaly detection support: where a forward op ran, so a NaN in backward can name it.
//! The core knows no Python; the bindings install a function that formats the Python stack.

use std::sync::OnceLock;

static TRACE: OnceLock<fn() -> Option<String>> = OnceLock::new();

/// Installs the function that describes the current call stack.
pub fn set_trace_provider(f: fn() -> Option<String>) {
    let _ = TRACE.set(f);
}

/// The current call stack, if a provider is installed.
pub fn current_trace() -> Option<String> {
    TRACE.get().and_then(|f| f())
}
