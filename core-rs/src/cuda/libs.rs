//! Finding and loading the CUDA libraries before cudarc touches them.
//!
//! cudarc's dynamic loading opens each library by bare name (`libnvrtc.so.13`, ...) on first
//! use and panics when none of its candidate names loads. So before any cudarc call we load the
//! library ourselves, in this order:
//!
//! 1. the loader path (`LD_LIBRARY_PATH`, the ld.so cache): a plain `dlopen(soname)`;
//! 2. `$CUDA_HOME` and `$CUDA_PATH` (their `lib64` and `lib` folders);
//! 3. folders registered with [`add_search_dirs`]: the Python package registers the library
//!    folders of pip-installed NVIDIA wheels (`site-packages/nvidia/cu13/lib`,
//!    `site-packages/nvidia/cudnn/lib`, ...), because only
//!    Python knows where site-packages is.
//!
//! A library found in a folder is opened by full path with `RTLD_GLOBAL` and kept open forever.
//! glibc then answers cudarc's later `dlopen("libnvrtc.so.13")` with that already-loaded copy,
//! since it matches loaded objects by their SONAME (PyTorch's `torch/__init__.py` preloads its
//! pip-installed CUDA libraries the same way). Companion libraries are loaded first from the
//! same folder: NVRTC opens `libnvrtc-builtins.so.13.<minor>` (its own minor version) by name
//! when it compiles, cuBLAS needs `libcublasLt.so.13` at load time, and cuDNN's shim opens its
//! sub-libraries by name. cuDNN's engines also open cuBLASLt and NVRTC by name at run time, from
//! a RUNPATH that names the CUDA 12 wheels' layout, so those two are loaded before cuDNN.
//!
//! The driver, libcuda, is only taken from the loader path: toolkits and wheels ship a stub
//! `libcuda.so` that loads but cannot talk to a GPU.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::Result;
use crate::err;

/// A CUDA library the backend loads on demand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CudaLibrary {
    /// The driver API (`libcuda.so.1`), installed with the NVIDIA driver.
    Driver,
    /// The runtime compiler, from the toolkit or the `nvidia-cuda-nvrtc` wheel.
    Nvrtc,
    /// cuBLAS, from the toolkit or the `nvidia-cublas` wheel.
    Cublas,
    /// cuBLASLt, shipped beside cuBLAS.
    CublasLt,
    /// cuDNN 9 (optional: convolutions fall back to im2col + cuBLAS without it), from a system
    /// install or the `nvidia-cudnn-cu13` wheel.
    Cudnn,
}

impl CudaLibrary {
    /// Every library, in the order of this enum.
    pub const ALL: [CudaLibrary; 5] = [CudaLibrary::Driver, CudaLibrary::Nvrtc, CudaLibrary::Cublas, CudaLibrary::CublasLt, CudaLibrary::Cudnn];

    /// The file name (and SONAME) we load: one of cudarc's candidate names for CUDA 13, so its
    /// bare-name `dlopen` finds our copy.
    pub fn soname(self) -> &'static str {
        match self {
            CudaLibrary::Driver => "libcuda.so.1",
            CudaLibrary::Nvrtc => "libnvrtc.so.13",
            CudaLibrary::Cublas => "libcublas.so.13",
            CudaLibrary::CublasLt => "libcublasLt.so.13",
            CudaLibrary::Cudnn => "libcudnn.so.9",
        }
    }

    /// Libraries of the same folder to load before this one (see the module comment); a name
    /// ending in `*` stands for every file of the folder it begins.
    pub fn companions(self) -> &'static [&'static str] {
        match self {
            CudaLibrary::Nvrtc => &["libnvrtc-builtins.so.13.*"],
            CudaLibrary::Cublas => &["libcublasLt.so.13"],
            // libcudnn.so.9 is a shim that opens these by name when first needed; the graph
            // library first, as the others link against it (the RNN/attention one is not used).
            CudaLibrary::Cudnn => &[
                "libcudnn_graph.so.9",
                "libcudnn_ops.so.9",
                "libcudnn_cnn.so.9",
                "libcudnn_heuristic.so.9",
                "libcudnn_engines_precompiled.so.9",
                "libcudnn_engines_runtime_compiled.so.9",
            ],
            CudaLibrary::Driver | CudaLibrary::CublasLt => &[],
        }
    }

    /// Other libraries to load first, wherever they are found (missing ones are no error here).
    fn prerequisites(self) -> &'static [CudaLibrary] {
        match self {
            CudaLibrary::Cudnn => &[CudaLibrary::Nvrtc, CudaLibrary::CublasLt],
            _ => &[],
        }
    }

    /// Whether the library may come from a folder rather than the loader path.
    fn searched_in_folders(self) -> bool {
        self != CudaLibrary::Driver
    }

    /// The pip package that provides the library, for the error message.
    fn pip_package(self) -> Option<&'static str> {
        match self {
            CudaLibrary::Driver => None,
            CudaLibrary::Nvrtc => Some("nvidia-cuda-nvrtc"),
            CudaLibrary::Cublas | CudaLibrary::CublasLt => Some("nvidia-cublas"),
            CudaLibrary::Cudnn => Some("nvidia-cudnn-cu13"),
        }
    }
}

/// Where a library was loaded from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// Found by the dynamic loader from its SONAME.
    LoaderPath,
    /// Loaded by full path from this folder.
    Folder(PathBuf),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::LoaderPath => f.write_str("the loader path"),
            Location::Folder(dir) => write!(f, "{}", dir.display()),
        }
    }
}

/// Folders registered by the Python package (pip-installed NVIDIA wheels).
static EXTRA_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Libraries loaded so far, with where they came from. Their handles are kept open forever
/// (`Library` values live here and are never dropped), so cudarc's by-name lookups keep working.
static LOADED: Mutex<Vec<(CudaLibrary, Location, Vec<libloading::Library>)>> = Mutex::new(Vec::new());

/// Adds folders to search after the loader path and `$CUDA_HOME`/`$CUDA_PATH`, in the given
/// order; folders already registered are skipped.
pub fn add_search_dirs(dirs: impl IntoIterator<Item = PathBuf>) {
    let mut extra = EXTRA_DIRS.lock().unwrap_or_else(|e| e.into_inner());
    for dir in dirs {
        if !extra.contains(&dir) {
            extra.push(dir);
        }
    }
}

/// The folders searched after the loader path, in order: `$CUDA_HOME` and `$CUDA_PATH` (each
/// `lib64` then `lib`), then the registered folders.
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = toolkit_dirs(["CUDA_HOME", "CUDA_PATH"].iter().filter_map(|var| std::env::var_os(var)).map(PathBuf::from));
    dirs.extend(EXTRA_DIRS.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned());
    dirs
}

/// The library folders of toolkit roots.
pub fn toolkit_dirs(roots: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    roots.into_iter().filter(|root| !root.as_os_str().is_empty()).flat_map(|root| [root.join("lib64"), root.join("lib")]).collect()
}

/// The first folder of `dirs` that holds a file named `file`.
pub fn find_in(dirs: &[PathBuf], file: &str) -> Option<PathBuf> {
    dirs.iter().find(|dir| dir.join(file).is_file()).cloned()
}

/// Where `library` was loaded from, if it has been.
pub fn location(library: CudaLibrary) -> Option<Location> {
    let loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    loaded.iter().find(|(lib, _, _)| *lib == library).map(|(_, location, _)| location.clone())
}

/// Loads `library` (once; later calls return where it came from) so that cudarc's own loading of
/// it cannot fail. A missing library is a RuntimeError naming what was searched.
pub fn ensure_loaded(library: CudaLibrary) -> Result<Location> {
    let known = |loaded: &[(CudaLibrary, Location, Vec<libloading::Library>)]| loaded.iter().find(|(lib, _, _)| *lib == library).map(|(_, location, _)| location.clone());
    if let Some(location) = known(&LOADED.lock().unwrap_or_else(|e| e.into_inner())) {
        return Ok(location);
    }
    // Before the first load only (each takes the lock itself).
    for &first in library.prerequisites() {
        let _ = ensure_loaded(first);
    }
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(location) = known(&loaded) {
        return Ok(location);
    }
    let mut failures = Vec::new();
    // SAFETY (all `open` calls): loading a CUDA library runs its initialisers, which have no
    // preconditions on our side.
    match unsafe { libloading::Library::new(library.soname()) } {
        Ok(handle) => {
            loaded.push((library, Location::LoaderPath, vec![handle]));
            return Ok(Location::LoaderPath);
        }
        Err(e) => failures.push(format!("loader path: {e}")),
    }
    let dirs = if library.searched_in_folders() { search_dirs() } else { Vec::new() };
    for dir in dirs.iter().filter(|dir| dir.join(library.soname()).is_file()) {
        match open_with_companions(dir, library) {
            Ok(handles) => {
                let location = Location::Folder(dir.clone());
                loaded.push((library, location.clone(), handles));
                return Ok(location);
            }
            Err(e) => failures.push(format!("{}: {e}", dir.display())),
        }
    }
    Err(missing(library, &dirs, &failures))
}

/// Opens the companions of `library` found in `dir`, then the library, all with `RTLD_GLOBAL`.
fn open_with_companions(dir: &Path, library: CudaLibrary) -> std::result::Result<Vec<libloading::Library>, String> {
    let mut handles = Vec::new();
    for companion in companion_files(dir, library) {
        handles.push(open_global(&companion)?);
    }
    handles.push(open_global(&dir.join(library.soname()))?);
    Ok(handles)
}

/// The companions of `library` present in `dir`, in the order `companions` lists them (the
/// files a `*` name matches in name order).
fn companion_files(dir: &Path, library: CudaLibrary) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for companion in library.companions() {
        match companion.strip_suffix('*') {
            Some(prefix) => {
                let Ok(entries) = std::fs::read_dir(dir) else { continue };
                let mut matched: Vec<PathBuf> =
                    entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix))).collect();
                matched.sort();
                files.extend(matched);
            }
            None if dir.join(companion).is_file() => files.push(dir.join(companion)),
            None => {}
        }
    }
    files
}

#[cfg(unix)]
fn open_global(path: &Path) -> std::result::Result<libloading::Library, String> {
    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
    // SAFETY: see `ensure_loaded`.
    unsafe { Library::open(Some(path), RTLD_NOW | RTLD_GLOBAL) }.map(Into::into).map_err(|e| e.to_string())
}

#[cfg(not(unix))]
fn open_global(path: &Path) -> std::result::Result<libloading::Library, String> {
    // SAFETY: see `ensure_loaded`.
    unsafe { libloading::Library::new(path) }.map_err(|e| e.to_string())
}

fn missing(library: CudaLibrary, dirs: &[PathBuf], failures: &[String]) -> crate::error::Error {
    let searched = if dirs.is_empty() {
        String::new()
    } else {
        format!(" and in {}", dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "))
    };
    let hint = match library.pip_package() {
        Some(package) => format!("install the CUDA 13 toolkit and set CUDA_HOME, or `pip install {package}`"),
        None => "install an NVIDIA driver for CUDA 13".to_string(),
    };
    err!(Runtime, "could not load {} (searched the loader path{searched}): {hint}. Details: {}", library.soname(), failures.join("; "))
}

/// Checks that `library` can be loaded, for callers that only need a yes/no.
pub fn is_present(library: CudaLibrary) -> bool {
    ensure_loaded(library).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_tree(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("ferrotorch-libs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        root
    }

    #[test]
    fn toolkit_dirs_lists_lib64_before_lib() {
        let dirs = toolkit_dirs([PathBuf::from("/opt/cuda"), PathBuf::new()]);
        assert_eq!(dirs, vec![PathBuf::from("/opt/cuda/lib64"), PathBuf::from("/opt/cuda/lib")]);
    }

    #[test]
    fn find_in_returns_the_first_folder_holding_the_file() {
        let root = fake_tree("find");
        let (a, b, c) = (root.join("a"), root.join("b"), root.join("c"));
        for dir in [&a, &b, &c] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(b.join("libnvrtc.so.13"), b"").unwrap();
        std::fs::write(c.join("libnvrtc.so.13"), b"").unwrap();
        assert_eq!(find_in(&[a.clone(), b.clone(), c.clone()], "libnvrtc.so.13"), Some(b));
        assert_eq!(find_in(&[a], "libnvrtc.so.13"), None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_file_that_is_not_a_library_is_an_error_not_a_panic() {
        let root = fake_tree("bad");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("libcublas.so.13"), b"not an ELF file").unwrap();
        assert!(open_with_companions(&root, CudaLibrary::Cublas).is_err());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn nvrtc_takes_its_builtins_of_any_minor_version() {
        let root = fake_tree("builtins");
        std::fs::create_dir_all(&root).unwrap();
        for name in ["libnvrtc.so.13", "libnvrtc-builtins.so.13.2", "libnvrtc-builtins.so.12.9", "libcudnn_ops.so.9"] {
            std::fs::write(root.join(name), b"").unwrap();
        }
        assert_eq!(companion_files(&root, CudaLibrary::Nvrtc), vec![root.join("libnvrtc-builtins.so.13.2")]);
        assert_eq!(companion_files(&root, CudaLibrary::Cudnn), vec![root.join("libcudnn_ops.so.9")]);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn missing_library_message_names_the_search_and_the_package() {
        let e = missing(CudaLibrary::Nvrtc, &[PathBuf::from("/x/lib")], &["loader path: nope".into()]);
        assert!(e.message.contains("libnvrtc.so.13"));
        assert!(e.message.contains("/x/lib"));
        assert!(e.message.contains("pip install nvidia-cuda-nvrtc"));
    }

    #[test]
    fn the_driver_is_never_searched_in_folders() {
        assert!(!CudaLibrary::Driver.searched_in_folders());
        assert!(CudaLibrary::ALL.iter().filter(|l| **l != CudaLibrary::Driver).all(|l| l.searched_in_folders()));
    }
}
