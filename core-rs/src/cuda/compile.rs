//! NVRTC compilation of the kernel modules to PTX, cached in memory and on disk.
//!
//! A module takes NVRTC a second or more, so its PTX is kept per process and written to
//! `$XDG_CACHE_HOME/ferrotorch/kernels` (or `~/.cache/ferrotorch/kernels`) under a name that
//! hashes the source, the architecture, the options and the NVRTC version: a changed kernel or
//! a new NVRTC never reuses stale PTX. Disk caching is best effort: any I/O failure just means
//! compiling again.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cudarc::nvrtc::{compile_ptx_with_opts, CompileError, CompileOptions};

use super::guarded;
use super::kernels::KernelModule;
use super::libs::{ensure_loaded, CudaLibrary};
use crate::error::Result;
use crate::{bail, err};

/// The version of the loaded NVRTC, `(major, minor)`.
pub fn nvrtc_version() -> Result<(i32, i32)> {
    ensure_loaded(CudaLibrary::Nvrtc)?;
    guarded("nvrtcVersion", || {
        let (mut major, mut minor) = (0, 0);
        // SAFETY: libnvrtc is loaded and both pointers are to locals.
        let status = unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) };
        if status != cudarc::nvrtc::sys::nvrtcResult::NVRTC_SUCCESS {
            bail!(Runtime, "nvrtcVersion failed: {status:?}");
        }
        Ok((major, minor))
    })
}

/// Checks an architecture name such as `sm_90` or `compute_80`.
pub fn check_arch(arch: &str) -> Result<()> {
    let digits = arch.strip_prefix("sm_").or_else(|| arch.strip_prefix("compute_"));
    match digits {
        Some(d) if !d.is_empty() && d.len() <= 4 && d.chars().next().is_some_and(|c| c.is_ascii_digit()) && d.chars().all(|c| c.is_ascii_alphanumeric()) => Ok(()),
        _ => bail!(Value, "invalid CUDA architecture {arch:?}: expected a name like \"sm_90\" or \"compute_80\""),
    }
}

/// The NVRTC options for `arch`: C++17, every function on the device (no `__device__` noise
/// in the sources), and the target architecture.
pub fn options(arch: &str) -> Vec<String> {
    vec!["--std=c++17".into(), "-default-device".into(), format!("--gpu-architecture={arch}")]
}

/// Compiles `module` for `arch` with NVRTC, bypassing every cache. Compile errors come back as
/// RuntimeError with NVRTC's log.
pub fn compile_uncached(module: &KernelModule, arch: &str) -> Result<String> {
    check_arch(arch)?;
    ensure_loaded(CudaLibrary::Nvrtc)?;
    let opts = CompileOptions { options: options(arch), name: Some(format!("{}.cu", module.name)), ..Default::default() };
    guarded("NVRTC compile", || match compile_ptx_with_opts(&module.source, opts) {
        Ok(ptx) => Ok(ptx.to_src()),
        Err(CompileError::CompileError { log, .. }) => Err(err!(
            Runtime,
            "NVRTC failed to compile the CUDA kernel module '{}' for {arch}:\n{}",
            module.name,
            log.to_string_lossy()
        )),
        Err(e) => Err(err!(Runtime, "NVRTC failed on the CUDA kernel module '{}' for {arch}: {e}", module.name)),
    })
}

/// Compiles `modules` for `arch` in parallel (NVRTC programs are independent), uncached, in
/// order; the first error wins.
pub fn compile_all_uncached(modules: &[KernelModule], arch: &str) -> Result<Vec<String>> {
    use rayon::prelude::*;
    modules.par_iter().map(|m| compile_uncached(m, arch)).collect()
}

/// The PTX of `module` for `arch`, from the memory cache, the disk cache or NVRTC.
pub fn compile(module: &KernelModule, arch: &str) -> Result<Arc<String>> {
    static MEMORY: Mutex<Option<HashMap<String, Arc<String>>>> = Mutex::new(None);
    check_arch(arch)?;
    let key = cache_key(module, arch, nvrtc_version()?);
    if let Some(ptx) = MEMORY.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new).get(&key) {
        return Ok(ptx.clone());
    }
    let path = cache_dir().map(|dir| dir.join(format!("{key}.ptx")));
    let cached = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).filter(|ptx| !ptx.is_empty());
    let ptx = match cached {
        Some(ptx) => ptx,
        None => {
            let ptx = compile_uncached(module, arch)?;
            if let Some(path) = &path {
                store(path, &ptx);
            }
            ptx
        }
    };
    let ptx = Arc::new(ptx);
    MEMORY.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new).insert(key, ptx.clone());
    Ok(ptx)
}

/// `<module>-<arch>-<hash>`: the hash covers the source, the options and the NVRTC version.
pub fn cache_key(module: &KernelModule, arch: &str, nvrtc: (i32, i32)) -> String {
    let mut hash = Fnv128::new();
    hash.write(module.source.as_bytes());
    for option in options(arch) {
        hash.write(b"\0");
        hash.write(option.as_bytes());
    }
    hash.write(format!("\0nvrtc {}.{}", nvrtc.0, nvrtc.1).as_bytes());
    format!("{}-{arch}-{:032x}", module.name, hash.0)
}

/// The on-disk kernel cache folder, when a cache home is known.
pub fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("ferrotorch").join("kernels"))
}

/// Writes `ptx` to a temporary file and renames it into place, so a concurrent reader never
/// sees a partial file. Failures are ignored: the cache is an optimisation.
fn store(path: &std::path::Path, ptx: &str) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = dir.join(format!(".{}.{}.tmp", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(), std::process::id()));
    if std::fs::write(&tmp, ptx).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// FNV-1a, 128 bits: stable across Rust versions and platforms, unlike `DefaultHasher`.
struct Fnv128(u128);

impl Fnv128 {
    fn new() -> Self {
        Fnv128(0x6c62272e07bb014262b821756295c58d)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u128;
            self.0 = self.0.wrapping_mul(0x0000000001000000000000000000013B);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(source: &str) -> KernelModule {
        KernelModule { name: "test".into(), source: source.into(), kernels: vec![] }
    }

    #[test]
    fn architectures_are_validated() {
        for ok in ["sm_80", "sm_90", "sm_90a", "compute_80", "sm_120"] {
            assert!(check_arch(ok).is_ok(), "{ok}");
        }
        for bad in ["", "sm_", "90", "sm_x0", "sm_90 --foo", "sm_80;rm"] {
            assert!(check_arch(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cache_key_changes_with_source_arch_and_nvrtc_version() {
        let a = cache_key(&module("a"), "sm_80", (13, 0));
        assert_eq!(a, cache_key(&module("a"), "sm_80", (13, 0)));
        assert_ne!(a, cache_key(&module("b"), "sm_80", (13, 0)));
        assert_ne!(a, cache_key(&module("a"), "sm_90", (13, 0)));
        assert_ne!(a, cache_key(&module("a"), "sm_80", (13, 1)));
        assert!(a.starts_with("test-sm_80-"));
    }

    #[test]
    fn store_writes_through_a_temporary_file() {
        let dir = std::env::temp_dir().join(format!("ferrotorch-ptx-{}", std::process::id()));
        let path = dir.join("k.ptx");
        store(&path, "// ptx");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "// ptx");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Runs NVRTC for real where it can be loaded (e.g. with the nvidia-cuda-nvrtc wheel's
    /// folder on LD_LIBRARY_PATH); the Python suite runs the same check in CI.
    #[test]
    fn every_module_compiles_where_nvrtc_is_present() {
        if !crate::cuda::libs::is_present(CudaLibrary::Nvrtc) {
            eprintln!("libnvrtc not found: skipping");
            return;
        }
        let modules = crate::cuda::kernels::modules();
        let ptxs = compile_all_uncached(&modules, "sm_80").unwrap_or_else(|e| panic!("{}", e.message));
        for (m, ptx) in modules.iter().zip(ptxs) {
            let entries = ptx.lines().filter(|l| l.contains(".entry ")).count();
            assert_eq!(entries, m.kernels.len(), "{}", m.name);
        }
    }

    #[test]
    fn a_compile_error_returns_the_nvrtc_log() {
        if !crate::cuda::libs::is_present(CudaLibrary::Nvrtc) {
            return;
        }
        let e = compile_uncached(&module("this is not C++"), "sm_80").unwrap_err();
        assert!(e.message.contains("NVRTC failed to compile") && e.message.contains("error"), "{}", e.message);
    }
}
