//! Storage: one block of memory that tensors view. It is either owned (allocated here, 64-byte
//! aligned) or foreign (a NumPy array or DLPack buffer kept alive by an owner handle).
//! Views share a storage, so writes through one are seen by all: like PyTorch, access is not
//! synchronised beyond that; the Python GIL orders the ops.

use std::alloc::{alloc, alloc_zeroed, dealloc, Layout as AllocLayout};
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::dtype::DType;
use crate::error::Result;

const ALIGN: usize = 64;

enum Owner {
    /// Allocated by `Storage::new`; freed with this size.
    Owned(usize),
    /// Memory belonging to someone else, released when this handle drops.
    Foreign(#[allow(dead_code)] Box<dyn Any + Send + Sync>),
}

/// A block of CPU memory holding elements of one dtype.
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
        let layout = AllocLayout::from_size_align(nbytes, ALIGN).expect("checked size");
        let ptr = unsafe { if zeroed { alloc_zeroed(layout) } else { alloc(layout) } };
        if ptr.is_null() {
            crate::bail!(
                Runtime,
                "[enforce fail at alloc_cpu.cpp] . DefaultCPUAllocator: not enough memory: you tried to allocate {} bytes.",
                nbytes
            );
        }
        Ok(Storage { ptr, nbytes, dtype, owner: Owner::Owned(nbytes), version: AtomicU64::new(0) })
    }

    /// Uninitialised memory for `numel` elements; the caller writes every element.
    pub fn uninit(numel: usize, dtype: DType) -> Result<Storage> {
        Self::allocate(numel, dtype, false)
    }

    /// Zero-filled memory for `numel` elements.
    pub fn zeros(numel: usize, dtype: DType) -> Result<Storage> {
        Self::allocate(numel, dtype, true)
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

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// Typed pointer to element 0. Panics (a bug, not a user error) on a dtype mismatch.
    pub fn typed_ptr<T: crate::dtype::Element>(&self) -> *mut T {
        assert_eq!(T::DTYPE, self.dtype, "storage dtype mismatch");
        self.ptr as *mut T
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
        if let Owner::Owned(n) = self.owner {
            if n > 0 {
                unsafe { dealloc(self.ptr, AllocLayout::from_size_align_unchecked(n, ALIGN)) }
            }
        }
    }
}
