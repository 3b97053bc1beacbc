//! Storage: one block of memory that tensors view. It is either owned (allocated here, 64-byte
//! aligned), foreign (a NumPy array or DLPack buffer kept alive by an owner handle), or on a
//! CUDA device (a block of the device's caching allocator). Host code reaches the memory only
//! through [`Storage::typed_ptr`], which refuses device memory.
//! Views share a storage, so writes through one are seen by all: like PyTorch, access is not
//! synchronised beyond that; the Python GIL orders the ops.

use std::alloc::{alloc, alloc_zeroed, dealloc, Layout as AllocLayout};
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::device::Device;
use crate::dtype::DType;
use crate::error::Result;

const ALIGN: usize = 64;

/// Blocks from this size up are cached when freed: glibc serves allocations from 128 KiB up
/// with fresh mmaps, which pay a page fault per 4 KiB on first touch and cost more than the
/// kernel that fills them (a training step frees and reallocates the same sizes every time).
const CACHE_MIN_BYTES: usize = 128 << 10;
/// Upper bound on memory held by the cache.
const CACHE_MAX_BYTES: usize = 2 << 30;

/// Freed large blocks by size, reused by the next allocation of that size.
struct BlockCache {
    free: HashMap<usize, Vec<usize>>,
    bytes: usize,
}

static CACHE: Mutex<Option<BlockCache>> = Mutex::new(None);

/// The size actually allocated for a request of `nbytes`.
fn block_size(nbytes: usize) -> usize {
    if nbytes >= CACHE_MIN_BYTES {
        // Rounded up to 1/16 of the size's power of two, so that similar sizes share blocks
        // while wasting at most 1/16.
        let rounding = nbytes.next_power_of_two() / 16;
        nbytes.div_ceil(rounding) * rounding
    } else {
        nbytes
    }
}

fn take_cached(size: usize) -> Option<*mut u8> {
    if size < CACHE_MIN_BYTES {
        return None;
    }
    let mut guard = CACHE.lock().ok()?;
    let cache = guard.as_mut()?;
    let ptr = cache.free.get_mut(&size)?.pop()?;
    cache.bytes -= size;
    Some(ptr as *mut u8)
}

/// Keeps a freed block for reuse; returns false when it should be released instead.
fn give_cached(ptr: *mut u8, size: usize) -> bool {
    if size < CACHE_MIN_BYTES {
        return false;
    }
    let Ok(mut guard) = CACHE.lock() else { return false };
    let cache = guard.get_or_insert_with(|| BlockCache { free: HashMap::new(), bytes: 0 });
    if cache.bytes + size > CACHE_MAX_BYTES {
        return false;
    }
    cache.bytes += size;
    cache.free.entry(size).or_default().push(ptr as usize);
    true
}

/// Releases every cached block to the system allocator.
pub fn empty_cpu_cache() {
    let Ok(mut guard) = CACHE.lock() else { return };
    if let Some(cache) = guard.as_mut() {
        for (size, ptrs) in cache.free.drain() {
            for p in ptrs {
                unsafe { dealloc(p as *mut u8, AllocLayout::from_size_align_unchecked(size, ALIGN)) }
            }
        }
        cache.bytes = 0;
    }
}

enum Owner {
    /// Allocated here; holds the block size it was allocated with.
    Owned(usize),
    /// Memory belonging to someone else, released when this handle drops.
    Foreign(#[allow(dead_code)] Box<dyn Any + Send + Sync>),
    /// Device memory, returned to the device's allocator when this handle drops.
    Cuda(crate::cuda::memory::DeviceBuffer),
    /// Page-locked host memory (`pin_memory()`).
    Pinned(crate::cuda::pinned::PinnedBuffer),
}

/// A block of CPU or device memory holding elements of one dtype.
pub struct Storage {
    ptr: *mut u8,
    nbytes: usize,
    dtype: DType,
    owner: Owner,
    /// Bumped by every in-place write, so autograd can detect modified saved tensors.
    version: AtomicU64,
}

// The pointer is only dereferenced through tensor ops; ordering is the caller's (GIL) job.
unsafe impl Send for Storage {}
unsafe impl Sync for Storage {}

impl Storage {
    fn allocate(numel: usize, dtype: DType, zeroed: bool) -> Result<Storage> {
        let nbytes = numel
            .checked_mul(dtype.size())
            .filter(|&n| n <= isize::MAX as usize / 2)
            .ok_or_else(|| crate::err!(Runtime, "Storage size calculation overflowed: {} elements of {}", numel, dtype))?;
        if nbytes == 0 {
            return Ok(Storage {
                ptr: ALIGN as *mut u8,
                nbytes: 0,
                dtype,
                owner: Owner::Owned(0),
                version: AtomicU64::new(0),
            });
        }
        let size = block_size(nbytes);
        let layout = AllocLayout::from_size_align(size, ALIGN).expect("checked size");
        let ptr = match take_cached(size) {
            Some(p) => {
                if zeroed {
                    unsafe { std::ptr::write_bytes(p, 0, nbytes) };
                }
                p
            }
            None => unsafe { if zeroed { alloc_zeroed(layout) } else { alloc(layout) } },
        };
        if ptr.is_null() {
            crate::bail!(
                Runtime,
                "[enforce fail at alloc_cpu.cpp] . DefaultCPUAllocator: not enough memory: you tried to allocate {} bytes.",
                nbytes
            );
        }
        Ok(Storage { ptr, nbytes, dtype, owner: Owner::Owned(size), version: AtomicU64::new(0) })
    }

    /// Uninitialised memory for `numel` elements; the caller writes every element.
    pub fn uninit(numel: usize, dtype: DType) -> Result<Storage> {
        Self::allocate(numel, dtype, false)
    }

    /// Zero-filled memory for `numel` elements.
    pub fn zeros(numel: usize, dtype: DType) -> Result<Storage> {
        Self::allocate(numel, dtype, true)
    }

    /// Uninitialised memory for `numel` elements on CUDA device `index`.
    pub fn cuda_uninit(numel: usize, dtype: DType, index: usize) -> Result<Storage> {
        let nbytes = numel
            .checked_mul(dtype.size())
            .ok_or_else(|| crate::err!(Runtime, "Storage size calculation overflowed: {} elements of {}", numel, dtype))?;
        let buffer = crate::cuda::memory::DeviceBuffer::allocate(index, nbytes)?;
        Ok(Storage { ptr: buffer.ptr() as *mut u8, nbytes, dtype, owner: Owner::Cuda(buffer), version: AtomicU64::new(0) })
    }

    /// Uninitialised page-locked host memory for `numel` elements (needs a GPU).
    pub fn pinned_uninit(numel: usize, dtype: DType) -> Result<Storage> {
        let nbytes = numel
            .checked_mul(dtype.size())
            .ok_or_else(|| crate::err!(Runtime, "Storage size calculation overflowed: {} elements of {}", numel, dtype))?;
        let buffer = crate::cuda::pinned::PinnedBuffer::allocate(nbytes)?;
        Ok(Storage { ptr: buffer.ptr(), nbytes, dtype, owner: Owner::Pinned(buffer), version: AtomicU64::new(0) })
    }

    /// The device block behind this storage, if it is one.
    pub fn device_buffer(&self) -> Option<&crate::cuda::memory::DeviceBuffer> {
        match &self.owner {
            Owner::Cuda(buffer) => Some(buffer),
            _ => None,
        }
    }

    /// The page-locked block behind this storage, if it is one.
    pub fn pinned(&self) -> Option<&crate::cuda::pinned::PinnedBuffer> {
        match &self.owner {
            Owner::Pinned(buffer) => Some(buffer),
            _ => None,
        }
    }

    /// Uninitialised memory for `numel` elements on `device`.
    pub fn uninit_on(numel: usize, dtype: DType, device: Device) -> Result<Storage> {
        match device {
            Device::Cpu => Self::uninit(numel, dtype),
            Device::Cuda(index) => Self::cuda_uninit(numel, dtype, index),
        }
    }

    /// Wraps memory owned elsewhere. `owner` keeps it alive for as long as this storage lives.
    ///
    /// # Safety
    /// `ptr` must be valid for reads and writes of `nbytes` bytes, aligned for `dtype`, for the
    /// lifetime of `owner`.
    pub unsafe fn from_foreign(
        ptr: *mut u8,
        nbytes: usize,
        dtype: DType,
        owner: Box<dyn Any + Send + Sync>,
    ) -> Storage {
        Storage { ptr, nbytes, dtype, owner: Owner::Foreign(owner), version: AtomicU64::new(0) }
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn nbytes(&self) -> usize {
        self.nbytes
    }

    pub fn numel(&self) -> usize {
        self.nbytes / self.dtype.size()
    }

    /// Where the memory lives.
    pub fn device(&self) -> Device {
        match &self.owner {
            Owner::Cuda(buffer) => Device::Cuda(buffer.device()),
            _ => Device::Cpu,
        }
    }

    /// The address of byte 0: a host pointer, or a device pointer for CUDA storage (for the
    /// CUDA backend and `data_ptr()`, never dereferenced by host code).
    pub fn address(&self) -> usize {
        self.ptr as usize
    }

    /// Host pointer to byte 0; an error for device memory.
    pub fn as_ptr(&self) -> Result<*mut u8> {
        if let Owner::Cuda(buffer) = &self.owner {
            // With RUST_BACKTRACE=1 the message names the op that reached for host memory.
            let trace = std::backtrace::Backtrace::capture();
            let trace = if trace.status() == std::backtrace::BacktraceStatus::Captured { format!("\n{trace}") } else { String::new() };
            crate::bail!(
                NotImplemented,
                "this operation is not implemented for CUDA tensors yet (tensor on cuda:{}); move it to the CPU with .cpu() first{}",
                buffer.device(),
                trace
            );
        }
        Ok(self.ptr)
    }

    /// Typed host pointer to element 0; an error for device memory. Panics (a bug, not a
    /// user error) on a dtype mismatch.
    pub fn typed_ptr<T: crate::dtype::Element>(&self) -> Result<*mut T> {
        assert_eq!(T::DTYPE, self.dtype, "storage dtype mismatch");
        Ok(self.as_ptr()? as *mut T)
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    pub fn bump_version(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Owner::Owned(size) = self.owner {
            if size > 0 && !give_cached(self.ptr, size) {
                unsafe { dealloc(self.ptr, AllocLayout::from_size_align_unchecked(size, ALIGN)) }
            }
        }
    }
}
