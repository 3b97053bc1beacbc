//! A caching allocator for device memory, as PyTorch's: `cuMemAlloc`/`cuMemFree` synchronise
//! the device and cost tens of microseconds, so freed blocks are kept by size class and handed
//! out again. Out of memory empties the cache and retries once before raising PyTorch's
//! "CUDA out of memory" error, after which the allocator is still usable.
//!
//! The policy is written against [`DeviceMemory`] so it is tested without a GPU; the CUDA
//! implementation of that trait is `memory.rs`. Blocks are pooled per stream, as PyTorch's: a
//! freed block is handed out again only for work on the stream it was allocated for, whose
//! order makes the reuse safe without waiting. Block splitting is a later step: a block is
//! reused whole, for the same size class (small blocks) or a request at most a quarter smaller
//! (large blocks).

use std::collections::{BTreeMap, HashMap};

use crate::err;
use crate::error::{Error, Result};

/// Raw device memory: what the allocator asks of the driver.
pub trait DeviceMemory {
    /// Allocates `bytes` (> 0); `None` when the device is out of memory.
    fn allocate(&mut self, bytes: usize) -> Option<u64>;
    /// Frees a pointer `allocate` returned.
    fn release(&mut self, ptr: u64, bytes: usize);
    /// `(free, total)` bytes of the device, for the out-of-memory message.
    fn free_and_total(&self) -> (usize, usize);
}

/// Requests up to this size are "small": rounded to [`SMALL_GRANULE`] and reused only for the
/// same rounded size.
pub const SMALL_LIMIT: usize = 1 << 20;
/// The rounding of small requests (PyTorch's 512 bytes).
pub const SMALL_GRANULE: usize = 512;
/// The rounding of large requests (PyTorch's 2 MiB).
pub const LARGE_GRANULE: usize = 2 << 20;

/// The size class of a request of `bytes`.
pub fn round_size(bytes: usize) -> usize {
    let granule = if bytes <= SMALL_LIMIT { SMALL_GRANULE } else { LARGE_GRANULE };
    bytes.max(1).div_ceil(granule).saturating_mul(granule)
}

/// A block handed out by the allocator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    pub ptr: u64,
    /// The block's size class (at least the requested size).
    pub size: usize,
}

/// The counters behind `torch.cuda.memory_allocated()` and friends, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryStats {
    pub allocated: usize,
    pub reserved: usize,
    pub peak_allocated: usize,
    pub peak_reserved: usize,
    /// Calls to the driver's allocation (cache misses).
    pub device_allocations: usize,
    /// Out-of-memory errors raised.
    pub ooms: usize,
}

/// The caching allocator of one device.
pub struct CachingAllocator<M: DeviceMemory> {
    device: usize,
    memory: M,
    /// Free blocks by (stream, size).
    cached: BTreeMap<(u64, usize), Vec<u64>>,
    /// Sizes and streams of the blocks in use.
    in_use: HashMap<u64, (usize, u64)>,
    stats: MemoryStats,
}

impl<M: DeviceMemory> CachingAllocator<M> {
    /// An empty allocator for device `device` over `memory`.
    pub fn new(device: usize, memory: M) -> Self {
        CachingAllocator { device, memory, cached: BTreeMap::new(), in_use: HashMap::new(), stats: MemoryStats::default() }
    }

    /// A block of at least `bytes` for work on `stream` (an id; 0 is the default stream), from
    /// that stream's cache when one fits, else from the device.
    pub fn allocate(&mut self, bytes: usize, stream: u64) -> Result<Block> {
        let size = round_size(bytes);
        let block = match self.take_cached(size, stream) {
            Some(block) => block,
            None => self.allocate_on_device(bytes, size)?,
        };
        self.in_use.insert(block.ptr, (block.size, stream));
        self.stats.allocated += block.size;
        self.stats.peak_allocated = self.stats.peak_allocated.max(self.stats.allocated);
        Ok(block)
    }

    /// Returns a block to the cache. Freeing an unknown pointer is an error, not a panic.
    pub fn free(&mut self, ptr: u64) -> Result<()> {
        let Some((size, stream)) = self.in_use.remove(&ptr) else {
            return Err(err!(Runtime, "CUDA caching allocator: pointer {ptr:#x} was not allocated here"));
        };
        self.stats.allocated -= size;
        self.cached.entry((stream, size)).or_default().push(ptr);
        Ok(())
    }

    /// Hands the blocks of a stream being destroyed (whose work has finished) to the default
    /// stream's pool, so a later stream that gets the same id starts with none of them.
    pub fn retire_stream(&mut self, stream: u64) {
        let moved: Vec<(usize, Vec<u64>)> =
            self.cached.range((stream, 0)..=(stream, usize::MAX)).map(|(&(_, size), ptrs)| (size, ptrs.clone())).collect();
        for (size, ptrs) in moved {
            self.cached.remove(&(stream, size));
            self.cached.entry((0, size)).or_default().extend(ptrs);
        }
        for (_, tag) in self.in_use.values_mut().filter(|(_, tag)| *tag == stream) {
            *tag = 0;
        }
    }

    /// Gives every cached block back to the device (`torch.cuda.empty_cache()`).
    pub fn empty_cache(&mut self) {
        for ((_, size), ptrs) in std::mem::take(&mut self.cached) {
            for ptr in ptrs {
                self.memory.release(ptr, size);
                self.stats.reserved -= size;
            }
        }
    }

    /// The counters.
    pub fn stats(&self) -> MemoryStats {
        self.stats
    }

    /// Resets the peaks to the current values (`torch.cuda.reset_peak_memory_stats()`).
    pub fn reset_peak_stats(&mut self) {
        self.stats.peak_allocated = self.stats.allocated;
        self.stats.peak_reserved = self.stats.reserved;
    }

    /// The smallest block cached for `stream` that serves `size`: the same class for small
    /// requests, at most a quarter larger for large ones (a whole block is handed out, so more
    /// would waste).
    fn take_cached(&mut self, size: usize, stream: u64) -> Option<Block> {
        let limit = if size <= SMALL_LIMIT { size } else { size + size / 4 };
        let (&found, _) = self.cached.range((stream, size)..=(stream, limit)).next()?;
        let ptrs = self.cached.get_mut(&found)?;
        let ptr = ptrs.pop()?;
        if ptrs.is_empty() {
            self.cached.remove(&found);
        }
        Some(Block { ptr, size: found.1 })
    }

    fn allocate_on_device(&mut self, bytes: usize, size: usize) -> Result<Block> {
        let ptr = match self.memory.allocate(size) {
            Some(ptr) => ptr,
            None => {
                // Cached blocks may be what is missing: give them back and try once more.
                self.empty_cache();
                match self.memory.allocate(size) {
                    Some(ptr) => ptr,
                    None => {
                        self.stats.ooms += 1;
                        return Err(self.out_of_memory(bytes));
                    }
                }
            }
        };
        self.stats.device_allocations += 1;
        self.stats.reserved += size;
        self.stats.peak_reserved = self.stats.peak_reserved.max(self.stats.reserved);
        Ok(Block { ptr, size })
    }

    /// PyTorch's message.
    fn out_of_memory(&self, bytes: usize) -> Error {
        let (free, total) = self.memory.free_and_total();
        let unallocated = self.stats.reserved - self.stats.allocated;
        err!(
            Runtime,
            "CUDA out of memory. Tried to allocate {}. GPU {} has a total capacity of {} of which {} is free. Of the allocated memory {} is allocated by PyTorch, and {} is reserved by PyTorch but unallocated.",
            format_size(bytes),
            self.device,
            format_size(total),
            format_size(free),
            format_size(self.stats.allocated),
            format_size(unallocated)
        )
    }
}

/// A byte count as PyTorch prints it: `512 bytes`, `1.50 KiB`, `20.00 MiB`, `2.00 GiB`.
pub fn format_size(bytes: usize) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes <= 1024 {
        format!("{bytes} bytes")
    } else if b <= KIB * KIB {
        format!("{:.2} KiB", b / KIB)
    } else if b <= KIB * KIB * KIB {
        format!("{:.2} MiB", b / (KIB * KIB))
    } else {
        format!("{:.2} GiB", b / (KIB * KIB * KIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Device memory with a capacity; pointers count up from 0x1000.
    struct FakeMemory {
        capacity: usize,
        used: usize,
        next: u64,
        calls: usize,
    }

    impl FakeMemory {
        fn new(capacity: usize) -> Self {
            FakeMemory { capacity, used: 0, next: 0x1000, calls: 0 }
        }
    }

    impl DeviceMemory for FakeMemory {
        fn allocate(&mut self, bytes: usize) -> Option<u64> {
            self.calls += 1;
            if self.used + bytes > self.capacity {
                return None;
            }
            self.used += bytes;
            self.next += bytes as u64;
            Some(self.next)
        }

        fn release(&mut self, _ptr: u64, bytes: usize) {
            self.used -= bytes;
        }

        fn free_and_total(&self) -> (usize, usize) {
            (self.capacity - self.used, self.capacity)
        }
    }

    fn allocator(capacity: usize) -> CachingAllocator<FakeMemory> {
        CachingAllocator::new(0, FakeMemory::new(capacity))
    }

    #[test]
    fn sizes_round_to_512_bytes_then_2_mib() {
        assert_eq!(round_size(0), 512);
        assert_eq!(round_size(1), 512);
        assert_eq!(round_size(513), 1024);
        assert_eq!(round_size(SMALL_LIMIT), SMALL_LIMIT);
        assert_eq!(round_size(SMALL_LIMIT + 1), LARGE_GRANULE);
        assert_eq!(round_size(5 << 20), 6 << 20);
        assert_eq!(round_size(usize::MAX), usize::MAX, "saturates instead of overflowing");
    }

    #[test]
    fn a_freed_block_is_reused_without_a_device_call() {
        let mut a = allocator(1 << 30);
        let first = a.allocate(1000, 0).unwrap();
        a.free(first.ptr).unwrap();
        let second = a.allocate(900, 0).unwrap();
        assert_eq!(second, first);
        assert_eq!(a.stats().device_allocations, 1);
    }

    #[test]
    fn small_blocks_are_reused_only_for_their_size_class() {
        let mut a = allocator(1 << 30);
        let big = a.allocate(4096, 0).unwrap();
        a.free(big.ptr).unwrap();
        assert_ne!(a.allocate(512, 0).unwrap().ptr, big.ptr);
    }

    #[test]
    fn large_blocks_serve_requests_at_most_a_quarter_smaller() {
        let mut a = allocator(1 << 30);
        let block = a.allocate(10 << 20, 0).unwrap();
        a.free(block.ptr).unwrap();
        assert_eq!(a.allocate(9 << 20, 0).unwrap().ptr, block.ptr);
        a.free(block.ptr).unwrap();
        assert_ne!(a.allocate(4 << 20, 0).unwrap().ptr, block.ptr);
    }

    #[test]
    fn stats_track_allocated_reserved_and_peaks() {
        let mut a = allocator(1 << 30);
        let x = a.allocate(1 << 20, 0).unwrap();
        let y = a.allocate(3 << 20, 0).unwrap();
        a.free(x.ptr).unwrap();
        let s = a.stats();
        assert_eq!((s.allocated, s.reserved), (4 << 20, 5 << 20));
        assert_eq!((s.peak_allocated, s.peak_reserved), (5 << 20, 5 << 20));
        a.reset_peak_stats();
        assert_eq!(a.stats().peak_allocated, 4 << 20);
        a.free(y.ptr).unwrap();
        a.empty_cache();
        let s = a.stats();
        assert_eq!((s.allocated, s.reserved), (0, 0));
    }

    #[test]
    fn out_of_memory_empties_the_cache_and_retries() {
        let mut a = allocator(8 << 20);
        let x = a.allocate(6 << 20, 0).unwrap();
        a.free(x.ptr).unwrap();
        // 6 MiB are cached; 4 MiB more only fit once the cache is given back.
        let y = a.allocate(3 << 20, 0).unwrap();
        assert_eq!(y.size, 4 << 20);
        assert_eq!(a.stats().reserved, 4 << 20);
    }

    #[test]
    fn out_of_memory_raises_pytorchs_message_and_the_allocator_recovers() {
        let mut a = allocator(8 << 20);
        let x = a.allocate(6 << 20, 0).unwrap();
        let e = a.allocate(4 << 20, 0).unwrap_err();
        assert!(e.message.starts_with("CUDA out of memory. Tried to allocate 4.00 MiB. GPU 0 has a total capacity of 8.00 MiB"), "{}", e.message);
        assert_eq!(a.stats().ooms, 1);
        a.free(x.ptr).unwrap();
        assert!(a.allocate(4 << 20, 0).is_ok());
    }

    #[test]
    fn blocks_are_reused_only_for_the_stream_they_were_allocated_for() {
        let mut a = allocator(64 << 20);
        let on_side = a.allocate(1000, 7).unwrap();
        a.free(on_side.ptr).unwrap();
        let on_default = a.allocate(1000, 0).unwrap();
        assert_ne!(on_default.ptr, on_side.ptr);
        assert_eq!(a.allocate(1000, 7).unwrap().ptr, on_side.ptr);
        a.free(on_default.ptr).unwrap();
        a.empty_cache();
        assert_eq!(a.stats().reserved, 1024);
    }

    #[test]
    fn a_retired_streams_blocks_go_to_the_default_pool() {
        let mut a = allocator(64 << 20);
        let cached = a.allocate(1000, 7).unwrap();
        let live = a.allocate(5000, 7).unwrap();
        a.free(cached.ptr).unwrap();
        a.retire_stream(7);
        assert_eq!(a.allocate(1000, 0).unwrap().ptr, cached.ptr);
        a.free(live.ptr).unwrap();
        assert_eq!(a.allocate(5000, 0).unwrap().ptr, live.ptr);
        assert_ne!(a.allocate(5000, 7).unwrap().ptr, live.ptr);
    }

    #[test]
    fn freeing_an_unknown_pointer_is_an_error() {
        let mut a = allocator(1 << 20);
        assert!(a.free(0xdead).is_err());
        let x = a.allocate(10, 0).unwrap();
        a.free(x.ptr).unwrap();
        assert!(a.free(x.ptr).is_err(), "double free");
    }

    #[test]
    fn sizes_format_as_pytorch_prints_them() {
        assert_eq!(format_size(512), "512 bytes");
        assert_eq!(format_size(1536), "1.50 KiB");
        assert_eq!(format_size(20 << 20), "20.00 MiB");
        assert_eq!(format_size(2 << 30), "2.00 GiB");
    }
}
