//! Kernel functions ready to launch: the module of a kernel is compiled for the device's
//! architecture (through `compile`'s caches) and loaded into the device's context once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cudarc::driver::{CudaFunction, CudaModule};
use cudarc::nvrtc::Ptx;

use super::kernels::{module_of, modules, KernelModule};
use super::{compile, device, driver_error, guarded};
use crate::err;
use crate::error::Result;

/// Loaded modules, by (device, module name).
static LOADED: Mutex<Option<HashMap<(usize, String), Arc<CudaModule>>>> = Mutex::new(None);

/// Functions already looked up, by (device, kernel name): a launch then costs one map lookup,
/// not a driver call.
static FUNCTIONS: Mutex<Option<HashMap<(usize, String), CudaFunction>>> = Mutex::new(None);

/// The kernel `name` on device `index`, compiling and loading its module at first use.
pub fn kernel(index: usize, name: &str) -> Result<CudaFunction> {
    let key = (index, name.to_string());
    if let Some(f) = FUNCTIONS.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new).get(&key) {
        return Ok(f.clone());
    }
    let module = loaded_module(index, &module_of(name))?;
    let function =
        guarded("cuModuleGetFunction", || module.load_function(name).map_err(|e| err!(Runtime, "CUDA kernel {name}: {}", driver_error(e))))?;
    FUNCTIONS.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new).insert(key, function.clone());
    Ok(function)
}

fn loaded_module(index: usize, name: &str) -> Result<Arc<CudaModule>> {
    let key = (index, name.to_string());
    if let Some(m) = LOADED.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new).get(&key) {
        return Ok(m.clone());
    }
    let source = find_module(name)?;
    let arch = device::properties(index)?.arch();
    let ptx = compile::compile(&source, &arch)?;
    let ctx = device::context(index)?;
    let module = guarded("cuModuleLoadData", || ctx.load_module(Ptx::from_src(ptx.as_str())).map_err(driver_error))?;
    LOADED.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new).insert(key, module.clone());
    Ok(module)
}

fn find_module(name: &str) -> Result<KernelModule> {
    modules().into_iter().find(|m| m.name == name).ok_or_else(|| err!(Runtime, "no CUDA kernel module named {name}"))
}
