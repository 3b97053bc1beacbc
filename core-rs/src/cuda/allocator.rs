//! A caching allocator for device memory, as PyTorch's: `cuMemAlloc`/`cuMemFree` synchronise
//! the device and cost tens of microseconds, so memory is taken from the driver in segments and
//! kept. Out of memory empties the cache and retries once before raising PyTorch's "CUDA out of
//! memory" error, after which the allocator is still usable.
//!
//! PyTorch's shape: requests round up to 512 bytes; those of at most 1 MiB come from 2 MiB
//! segments of a small pool, larger ones from a large pool (20 MiB segments below 10 MiB, else
//! their size rounded up to 2 MiB). The best-fitting free block is split when what is left is
//! worth keeping (at least 512 bytes in the small pool, more than 1 MiB in the large one), a
//! freed block merges with its free neighbours, and `empty_cache` gives back wholly free
//! segments. Every block of a segment belongs to the stream the segment was allocated for and is
//! handed out only for work on that stream, whose order makes the reuse safe without waiting.
//! A block also used on other streams is marked so (`Tensor.record_stream`): when freed, it waits
//! out of the cache until events recorded on those streams at the free have passed (PyTorch's
//! `stream_uses`); without the mark, such use is the caller's to order, as in PyTorch.
//!
//! CUDA graphs need memory of their own (PyTorch's private pools): while a stream is captured,
//! its requests are served from the graph's pool, an owner id in place of the stream's, so the
//! addresses the graph replays are never handed to other work. Its segments are kept through
//! `empty_cache` until the pool is released, and even then serve no other owner: `empty_cache`
//! gives them back to the driver (`cuMemFree` waits for the device, so a replay still running is
//! not cut short). Nothing is given back while a capture is underway (`cuMemFree` would break it).
//!
//! The policy is written against [`DeviceMemory`] so it is tested without a GPU; the CUDA
//! implementation of that trait is `memory.rs`.

use std::collections::{BTreeSet, HashMap};

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
    /// Whether memory may be given back now: not while a CUDA graph is being captured anywhere
    /// in the process (`cuMemFree` would invalidate the capture).
    fn may_release(&self) -> bool {
        true
    }
    /// Records an event on stream `stream` (an allocator stream id); `None` when the stream's
    /// work has already finished (an implementation that cannot record waits for the stream).
    fn record_event(&mut self, stream: u64) -> Option<u64>;
    /// Whether the work before `event` has finished; a finished event is destroyed.
    fn event_done(&mut self, event: u64) -> bool;
    /// Waits for `event`, then destroys it.
    fn wait_event(&mut self, event: u64);
}

/// Every request rounds up to a multiple of this (PyTorch's `kMinBlockSize`).
pub const MIN_BLOCK: usize = 512;
/// Requests up to this size are served by the small pool (PyTorch's `kSmallSize`).
pub const SMALL_LIMIT: usize = 1 << 20;
/// The segment size of the small pool (`kSmallBuffer`).
pub const SMALL_SEGMENT: usize = 2 << 20;
/// Large requests below this share a [`LARGE_SEGMENT`] (`kMinLargeAlloc`).
pub const LARGE_SHARED_LIMIT: usize = 10 << 20;
/// The segment size for large requests below [`LARGE_SHARED_LIMIT`] (`kLargeBuffer`).
pub const LARGE_SEGMENT: usize = 20 << 20;
/// The rounding of segments for larger requests (`kRoundLarge`).
pub const LARGE_GRANULE: usize = 2 << 20;

/// The size of the block that serves a request of `bytes`.
pub fn round_size(bytes: usize) -> usize {
    bytes.max(1).div_ceil(MIN_BLOCK).saturating_mul(MIN_BLOCK)
}

/// The size of the segment taken from the device when no cached block serves a block of `size`.
pub fn segment_size(size: usize) -> usize {
    if size <= SMALL_LIMIT {
        SMALL_SEGMENT
    } else if size < LARGE_SHARED_LIMIT {
        LARGE_SEGMENT
    } else {
        size.div_ceil(LARGE_GRANULE).saturating_mul(LARGE_GRANULE)
    }
}

/// A block handed out by the allocator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    pub ptr: u64,
    /// The block's size (at least the requested size).
    pub size: usize,
}

/// The counters behind `torch.cuda.memory_allocated()` and friends; sizes in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Bytes of the blocks in use.
    pub allocated: usize,
    /// Bytes of the segments held (in use or cached).
    pub reserved: usize,
    pub peak_allocated: usize,
    pub peak_reserved: usize,
    /// Blocks in use.
    pub allocations: usize,
    /// Segments held.
    pub segments: usize,
    /// Bytes of free blocks in segments that also hold other blocks (PyTorch's
    /// `inactive_split_bytes`): the memory splitting keeps from `empty_cache`.
    pub inactive_split: usize,
    /// Calls to the driver's allocation (cache misses) and release.
    pub device_allocations: usize,
    pub device_releases: usize,
    /// Failed device allocations retried after emptying the cache.
    pub alloc_retries: usize,
    /// Out-of-memory errors raised.
    pub ooms: usize,
}

/// Which pool a block belongs to: blocks of at most [`SMALL_LIMIT`] never share a segment with
/// larger ones, so small tensors do not pin large segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Pool {
    Small,
    Large,
}

impl Pool {
    fn of(size: usize) -> Pool {
        if size <= SMALL_LIMIT { Pool::Small } else { Pool::Large }
    }

    /// Whether a free block of `block` bytes is split to serve `size`: the rest must be worth
    /// caching (PyTorch's `should_split`).
    fn splits(self, block: usize, size: usize) -> bool {
        let rest = block - size;
        match self {
            Pool::Small => rest >= MIN_BLOCK,
            Pool::Large => rest > SMALL_LIMIT,
        }
    }
}

/// A block of a segment: the segment's blocks tile it, linked by address.
#[derive(Clone, Copy, Debug)]
struct BlockState {
    size: usize,
    pool: Pool,
    stream: u64,
    in_use: bool,
    /// The blocks before and after this one in its segment.
    prev: Option<u64>,
    next: Option<u64>,
}

impl BlockState {
    /// The free-index key of this block at `ptr`.
    fn key(&self, ptr: u64) -> FreeKey {
        (self.pool, self.stream, self.size, ptr)
    }

    /// Whether this block is its whole segment.
    fn is_segment(&self) -> bool {
        self.prev.is_none() && self.next.is_none()
    }
}

/// Free blocks ordered for best fit: by pool, stream, then size and address.
type FreeKey = (Pool, u64, usize, u64);

/// One segment as `torch.cuda.memory_snapshot()` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    pub address: u64,
    pub total_size: usize,
    pub stream: u64,
    /// From the small pool (blocks of at most 1 MiB).
    pub small: bool,
    /// The blocks tiling the segment in address order: `(size, in use)`.
    pub blocks: Vec<(usize, bool)>,
}

/// The low bits of a private pool's owner ids that tell its streams apart.
const SLOT_BITS: u32 = 24;

/// The owner id of private pool `n` (CUDA graphs): the top bit keeps it apart from stream ids,
/// which are handle values (user-space addresses). Each stream allocating from the pool owns its
/// blocks under this id plus a slot number in the low bits (the first stream: slot 0), so that
/// a block one stream of a capture frees is not handed to another stream of it, which the graph
/// does not order after the first (PyTorch's private pools keep blocks per stream too).
pub fn private_pool(n: u64) -> u64 {
    (1 << 63) | (n << SLOT_BITS)
}

/// The number `n` of the private pool `owner` belongs to.
pub fn pool_number(owner: u64) -> u64 {
    (owner & !(1 << 63)) >> SLOT_BITS
}

/// The pool an owner id belongs to: its private pool, or the owner itself (a stream).
fn pool_of(owner: u64) -> u64 {
    if owner >> 63 == 1 { owner & !((1 << SLOT_BITS) - 1) } else { owner }
}

/// The caching allocator of one device.
pub struct CachingAllocator<M: DeviceMemory> {
    device: usize,
    memory: M,
    /// Every block, free or in use, by address.
    blocks: HashMap<u64, BlockState>,
    /// The free blocks.
    free: BTreeSet<FreeKey>,
    stats: MemoryStats,
    /// The most bytes the segments may hold (`set_per_process_memory_fraction`), if limited.
    limit: Option<usize>,
    /// Streams being captured, with the private pool their requests are served from.
    captures: HashMap<u64, u64>,
    /// Private pools in use, with how many graphs use each: their segments are kept.
    kept: HashMap<u64, usize>,
    /// The owner id of each (private pool, stream) that has allocated from the pool.
    slots: HashMap<(u64, u64), u64>,
    /// Blocks in use and the other streams that use them (`record_stream`).
    uses: HashMap<u64, Vec<u64>>,
    /// Freed blocks waiting for the events recorded on their other streams.
    pending: Vec<(u64, Vec<u64>)>,
    /// Freed blocks with other streams, freed during a capture: their events are recorded once
    /// no capture runs (recording would join the capture).
    deferred: Vec<(u64, Vec<u64>)>,
}

impl<M: DeviceMemory> CachingAllocator<M> {
    /// An empty allocator for device `device` over `memory`.
    pub fn new(device: usize, memory: M) -> Self {
        CachingAllocator {
            device,
            memory,
            blocks: HashMap::new(),
            free: BTreeSet::new(),
            stats: MemoryStats::default(),
            limit: None,
            captures: HashMap::new(),
            kept: HashMap::new(),
            slots: HashMap::new(),
            uses: HashMap::new(),
            pending: Vec::new(),
            deferred: Vec::new(),
        }
    }

    /// From now until [`end_capture`](Self::end_capture), requests for work on `stream` are
    /// served from private pool `pool` (a [`private_pool`] id), which one more graph now uses.
    /// A stream already being captured is an error (its capture keeps its pool).
    pub fn begin_capture(&mut self, stream: u64, pool: u64) -> Result<()> {
        if self.captures.contains_key(&stream) {
            return Err(err!(Runtime, "this stream is already being captured into a CUDA graph"));
        }
        self.captures.insert(stream, pool);
        *self.kept.entry(pool).or_insert(0) += 1;
        Ok(())
    }

    /// Ends the capture of `stream`: its requests go back to its own pool.
    pub fn end_capture(&mut self, stream: u64) {
        self.captures.remove(&stream);
    }

    /// Whether a capture is underway on this device.
    pub fn capturing(&self) -> bool {
        !self.captures.is_empty()
    }

    /// One graph fewer uses private pool `pool`; when none does, `empty_cache` may give its
    /// wholly free segments back to the driver (they serve no other owner meanwhile).
    pub fn release_pool(&mut self, pool: u64) {
        match self.kept.get_mut(&pool) {
            Some(users) if *users > 1 => *users -= 1,
            Some(_) => {
                self.kept.remove(&pool);
            }
            None => {}
        }
    }

    /// A block of at least `bytes` for work on `stream` (an id; 0 is the default stream): the
    /// smallest free block of that stream's pool (of the graph's pool while the stream is
    /// captured) that fits, else a new segment, split when the rest is worth keeping.
    pub fn allocate(&mut self, bytes: usize, stream: u64) -> Result<Block> {
        match self.captures.get(&stream).copied() {
            Some(pool) => self.allocate_in_pool(bytes, stream, pool),
            None => self.allocate_for(bytes, stream),
        }
    }

    /// A block of at least `bytes` from private pool `pool` for work on `stream` (a stream
    /// joined to a capture that allocates from the pool).
    pub fn allocate_in_pool(&mut self, bytes: usize, stream: u64, pool: u64) -> Result<Block> {
        let owner = match self.slots.get(&(pool, stream)) {
            Some(&owner) => owner,
            None => {
                // The pool's next slot: one more than its streams so far.
                let owner = pool | self.slots.keys().filter(|(p, _)| *p == pool).count() as u64;
                self.slots.insert((pool, stream), owner);
                owner
            }
        };
        self.allocate_for(bytes, owner)
    }

    /// A block for owner `stream` (a stream id, or a private pool's owner id).
    fn allocate_for(&mut self, bytes: usize, stream: u64) -> Result<Block> {
        // Event queries are not allowed in a capture (PyTorch skips them too).
        if !self.capture_underway() {
            self.process_events();
        }
        let size = round_size(bytes);
        let pool = Pool::of(size);
        let ptr = match self.take_free(pool, stream, size) {
            Some(ptr) => ptr,
            None => self.new_segment(size, pool, stream)?,
        };
        let block = self.blocks.get_mut(&ptr).expect("a free block is indexed");
        if pool.splits(block.size, size) {
            let rest_ptr = ptr + size as u64;
            let rest = BlockState { size: block.size - size, prev: Some(ptr), in_use: false, ..*block };
            block.size = size;
            block.next = Some(rest_ptr);
            if let Some(after) = rest.next {
                self.blocks.get_mut(&after).expect("a linked block exists").prev = Some(rest_ptr);
            }
            self.free.insert(rest.key(rest_ptr));
            self.blocks.insert(rest_ptr, rest);
        }
        let block = self.blocks.get_mut(&ptr).expect("the block exists");
        block.in_use = true;
        let size = block.size;
        self.stats.allocated += size;
        self.stats.allocations += 1;
        self.stats.peak_allocated = self.stats.peak_allocated.max(self.stats.allocated);
        Ok(Block { ptr, size })
    }

    /// Marks block `ptr` (in use) as used by work on `stream` besides its own stream's, so its
    /// free waits for that work (`Tensor.record_stream`).
    pub fn record_stream(&mut self, ptr: u64, stream: u64) -> Result<()> {
        let Some(block) = self.blocks.get(&ptr).filter(|b| b.in_use && !self.is_waiting(ptr)) else {
            return Err(err!(Runtime, "CUDA caching allocator: pointer {ptr:#x} is not a block in use"));
        };
        if stream != block.stream {
            let uses = self.uses.entry(ptr).or_default();
            if !uses.contains(&stream) {
                uses.push(stream);
            }
        }
        Ok(())
    }

    /// Returns a block to the cache, merged with its free neighbours; a block used on other
    /// streams returns once their work queued so far has finished. Its bytes count as free at
    /// once (PyTorch's statistics). Freeing an unknown pointer is an error, not a panic.
    pub fn free(&mut self, ptr: u64) -> Result<()> {
        let Some(block) = self.blocks.get(&ptr).filter(|b| b.in_use && !self.is_waiting(ptr)) else {
            return Err(err!(Runtime, "CUDA caching allocator: pointer {ptr:#x} was not allocated here"));
        };
        self.stats.allocated -= block.size;
        self.stats.allocations -= 1;
        match self.uses.remove(&ptr) {
            None => self.release_block(ptr),
            Some(streams) if self.capture_underway() => self.deferred.push((ptr, streams)),
            Some(streams) => self.await_streams(ptr, &streams),
        }
        Ok(())
    }

    /// Whether a freed block is still waiting for other streams.
    fn is_waiting(&self, ptr: u64) -> bool {
        self.pending.iter().chain(&self.deferred).any(|&(p, _)| p == ptr)
    }

    /// Whether a capture runs on this device or anywhere in the process.
    fn capture_underway(&self) -> bool {
        self.capturing() || !self.memory.may_release()
    }

    /// Events on `streams` for freed block `ptr`: it returns to the cache once they pass.
    fn await_streams(&mut self, ptr: u64, streams: &[u64]) {
        let events: Vec<u64> = streams.iter().filter_map(|&s| self.memory.record_event(s)).collect();
        if events.is_empty() {
            self.release_block(ptr);
        } else {
            self.pending.push((ptr, events));
        }
    }

    /// Returns the freed blocks whose other streams have finished to the cache, and records
    /// the events of blocks freed during a capture. Only while no capture runs: event queries
    /// and records are not allowed in one.
    fn process_events(&mut self) {
        for (ptr, streams) in std::mem::take(&mut self.deferred) {
            self.await_streams(ptr, &streams);
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.retain_mut(|(ptr, events)| {
            events.retain(|&e| !self.memory.event_done(e));
            if events.is_empty() {
                self.release_block(*ptr);
            }
            !events.is_empty()
        });
        self.pending = pending;
    }

    /// Waits for every pending block's streams and returns the blocks to the cache (before
    /// memory goes back to the device).
    fn wait_pending(&mut self) {
        for (ptr, events) in std::mem::take(&mut self.pending) {
            for e in events {
                self.memory.wait_event(e);
            }
            self.release_block(ptr);
        }
    }

    /// Puts block `ptr` (no longer used) back in the free index, merged with free neighbours.
    fn release_block(&mut self, ptr: u64) {
        let block = self.blocks.get_mut(&ptr).expect("a block being freed exists");
        block.in_use = false;
        let mut merged = *block;
        let mut start = ptr;
        if let Some(before) = merged.prev.filter(|p| !self.blocks[p].in_use) {
            let b = self.unlink(before);
            merged.size += b.size;
            merged.prev = b.prev;
            self.blocks.remove(&start);
            start = before;
        }
        if let Some(after) = merged.next.filter(|p| !self.blocks[p].in_use) {
            let b = self.unlink(after);
            merged.size += b.size;
            merged.next = b.next;
            self.blocks.remove(&after);
        }
        if let Some(after) = merged.next {
            self.blocks.get_mut(&after).expect("a linked block exists").prev = Some(start);
        }
        self.free.insert(merged.key(start));
        self.blocks.insert(start, merged);
    }

    /// Hands the segments of a stream being destroyed (whose work has finished) to the default
    /// stream, so a later stream that gets the same id starts with none of them.
    pub fn retire_stream(&mut self, stream: u64) {
        // Its work is done, and its handle is about to dangle: no free waits for it.
        for uses in self.uses.values_mut() {
            uses.retain(|&s| s != stream);
        }
        let mut released = Vec::new();
        self.deferred.retain_mut(|(ptr, streams)| {
            streams.retain(|&s| s != stream);
            if streams.is_empty() {
                released.push(*ptr);
            }
            !streams.is_empty()
        });
        for ptr in released {
            self.release_block(ptr);
        }
        for (&ptr, block) in self.blocks.iter_mut().filter(|(_, b)| b.stream == stream) {
            if !block.in_use {
                self.free.remove(&block.key(ptr));
            }
            block.stream = 0;
            if !block.in_use {
                self.free.insert(block.key(ptr));
            }
        }
    }

    /// Gives every wholly free segment back to the device (`torch.cuda.empty_cache()`);
    /// segments with a block in use stay, as do those of private pools in use, and nothing is
    /// released while a capture is underway.
    pub fn empty_cache(&mut self) {
        if self.capture_underway() {
            return;
        }
        self.process_events();
        self.wait_pending();
        let whole: Vec<FreeKey> =
            self.free.iter().filter(|&&(_, owner, _, ptr)| self.blocks[&ptr].is_segment() && !self.kept.contains_key(&pool_of(owner))).copied().collect();
        for key in whole {
            let (.., size, ptr) = key;
            self.free.remove(&key);
            self.blocks.remove(&ptr);
            self.memory.release(ptr, size);
            self.stats.reserved -= size;
            self.stats.segments -= 1;
            self.stats.device_releases += 1;
        }
    }

    /// The counters.
    pub fn stats(&self) -> MemoryStats {
        let inactive_split = self.free.iter().filter(|&&(.., ptr)| !self.blocks[&ptr].is_segment()).map(|&(_, _, size, _)| size).sum();
        MemoryStats { inactive_split, ..self.stats }
    }

    /// Caps the bytes the segments may hold at `fraction` of the device's memory
    /// (`torch.cuda.set_per_process_memory_fraction`); a request past it is out of memory.
    pub fn set_memory_fraction(&mut self, fraction: f64) {
        let total = self.memory.free_and_total().1;
        self.limit = Some((total as f64 * fraction) as usize);
    }

    /// The segments and their blocks, by address (`torch.cuda.memory_snapshot()`).
    pub fn snapshot(&self) -> Vec<SegmentInfo> {
        let mut heads: Vec<u64> = self.blocks.iter().filter(|(_, b)| b.prev.is_none()).map(|(&p, _)| p).collect();
        heads.sort_unstable();
        heads
            .into_iter()
            .map(|address| {
                let head = self.blocks[&address];
                let mut blocks = Vec::new();
                let mut at = Some(address);
                while let Some(ptr) = at {
                    let b = self.blocks[&ptr];
                    blocks.push((b.size, b.in_use));
                    at = b.next;
                }
                let total_size = blocks.iter().map(|&(size, _)| size).sum();
                SegmentInfo { address, total_size, stream: head.stream, small: head.pool == Pool::Small, blocks }
            })
            .collect()
    }

    /// Resets the peaks to the current values (`torch.cuda.reset_peak_memory_stats()`).
    pub fn reset_peak_stats(&mut self) {
        self.stats.peak_allocated = self.stats.allocated;
        self.stats.peak_reserved = self.stats.reserved;
    }

    /// Takes the smallest free block of `pool` and `stream` of at least `size` off the free
    /// index.
    fn take_free(&mut self, pool: Pool, stream: u64, size: usize) -> Option<u64> {
        let key = *self.free.range((pool, stream, size, 0)..=(pool, stream, usize::MAX, u64::MAX)).next()?;
        self.free.remove(&key);
        Some(key.3)
    }

    /// Removes the free block at `ptr` from the index and the table, returning it.
    fn unlink(&mut self, ptr: u64) -> BlockState {
        let block = self.blocks.remove(&ptr).expect("a linked block exists");
        self.free.remove(&block.key(ptr));
        block
    }

    /// A new segment for a block of `size`, entered as one free block but not indexed: the
    /// caller takes it.
    fn new_segment(&mut self, size: usize, pool: Pool, stream: u64) -> Result<u64> {
        let segment = segment_size(size);
        let ptr = match self.device_allocate(segment) {
            Some(ptr) => ptr,
            None => {
                // Cached segments may be what is missing: give them back and try once more.
                self.stats.alloc_retries += 1;
                self.empty_cache();
                match self.device_allocate(segment) {
                    Some(ptr) => ptr,
                    None => {
                        self.stats.ooms += 1;
                        return Err(self.out_of_memory(segment));
                    }
                }
            }
        };
        self.stats.device_allocations += 1;
        self.stats.segments += 1;
        self.stats.reserved += segment;
        self.stats.peak_reserved = self.stats.peak_reserved.max(self.stats.reserved);
        self.blocks.insert(ptr, BlockState { size: segment, pool, stream, in_use: false, prev: None, next: None });
        Ok(ptr)
    }
    /// A segment from the device, unless it would take the segments past the limit.
    fn device_allocate(&mut self, segment: usize) -> Option<u64> {
        if self.limit.is_some_and(|limit| self.stats.reserved.checked_add(segment).is_none_or(|total| total > limit)) {
            return None;
        }
        self.memory.allocate(segment)
    }

    /// PyTorch's message, which names the segment it tried to take (`alloc_size`), not the request.
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

    const MIB: usize = 1 << 20;

    /// Device memory with a capacity; segments are laid out one after another from 0x1000 and
    /// each release must name a live segment and its size. Streams in `busy` have unfinished
    /// work: an event recorded on one passes once the test takes it out (or waits for it).
    struct FakeMemory {
        capacity: usize,
        next: u64,
        live: HashMap<u64, usize>,
        busy: std::collections::HashSet<u64>,
        /// Live events and the stream each was recorded on.
        events: HashMap<u64, u64>,
        next_event: u64,
        /// Whether a capture runs elsewhere in the process.
        capture_elsewhere: bool,
    }

    impl FakeMemory {
        fn new(capacity: usize) -> Self {
            FakeMemory { capacity, next: 0x1000, live: HashMap::new(), busy: Default::default(), events: HashMap::new(), next_event: 1, capture_elsewhere: false }
        }

        fn used(&self) -> usize {
            self.live.values().sum()
        }
    }

    impl DeviceMemory for FakeMemory {
        fn allocate(&mut self, bytes: usize) -> Option<u64> {
            if self.used() + bytes > self.capacity {
                return None;
            }
            let ptr = self.next;
            self.next += bytes as u64;
            self.live.insert(ptr, bytes);
            Some(ptr)
        }

        fn release(&mut self, ptr: u64, bytes: usize) {
            assert_eq!(self.live.remove(&ptr), Some(bytes), "released {ptr:#x} of {bytes} bytes: not a live segment");
        }

        fn free_and_total(&self) -> (usize, usize) {
            (self.capacity - self.used(), self.capacity)
        }

        fn may_release(&self) -> bool {
            !self.capture_elsewhere
        }

        fn record_event(&mut self, stream: u64) -> Option<u64> {
            if !self.busy.contains(&stream) {
                return None;
            }
            self.next_event += 1;
            self.events.insert(self.next_event, stream);
            Some(self.next_event)
        }

        fn event_done(&mut self, event: u64) -> bool {
            let done = !self.busy.contains(&self.events[&event]);
            if done {
                self.events.remove(&event);
            }
            done
        }

        fn wait_event(&mut self, event: u64) {
            let stream = self.events.remove(&event).expect("a live event");
            self.busy.remove(&stream);
        }
    }

    fn allocator(capacity: usize) -> CachingAllocator<FakeMemory> {
        CachingAllocator::new(0, FakeMemory::new(capacity))
    }

    #[test]
    fn requests_round_to_512_bytes_and_segments_by_pytorchs_rules() {
        assert_eq!(round_size(0), 512);
        assert_eq!(round_size(1), 512);
        assert_eq!(round_size(513), 1024);
        assert_eq!(round_size(5 * MIB + 1), 5 * MIB + 512);
        assert_eq!(round_size(usize::MAX), usize::MAX, "saturates instead of overflowing");
        assert_eq!(segment_size(512), 2 * MIB);
        assert_eq!(segment_size(MIB), 2 * MIB);
        assert_eq!(segment_size(MIB + 512), 20 * MIB);
        assert_eq!(segment_size(10 * MIB - 512), 20 * MIB);
        assert_eq!(segment_size(10 * MIB), 10 * MIB);
        assert_eq!(segment_size(11 * MIB), 12 * MIB);
    }

    #[test]
    fn small_blocks_are_cut_from_one_two_mib_segment() {
        let mut a = allocator(1 << 30);
        let x = a.allocate(1000, 0).unwrap();
        let y = a.allocate(3000, 0).unwrap();
        assert_eq!((x.size, y.size), (1024, 3072));
        assert_eq!(y.ptr, x.ptr + 1024, "the second block is the first's remainder");
        let s = a.stats();
        assert_eq!((s.device_allocations, s.segments, s.reserved, s.allocated), (1, 1, 2 * MIB, 4096));
        assert_eq!(s.inactive_split, 2 * MIB - 4096);
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
    fn large_blocks_split_only_when_more_than_a_mib_is_left() {
        let mut a = allocator(1 << 30);
        let x = a.allocate(3 * MIB, 0).unwrap();
        assert_eq!(x.size, 3 * MIB, "a 20 MiB segment split");
        let y = a.allocate(16 * MIB + 512, 0).unwrap();
        assert_eq!(y.ptr, x.ptr + (3 * MIB) as u64);
        assert_eq!(y.size, 17 * MIB, "the rest (512 KiB) is not worth a block");
        assert_eq!(a.stats().device_allocations, 1);
        assert_eq!(a.stats().allocated, 20 * MIB);
    }

    #[test]
    fn small_and_large_requests_never_share_a_segment() {
        let mut a = allocator(1 << 30);
        let big = a.allocate(2 * MIB, 0).unwrap();
        a.free(big.ptr).unwrap();
        let small = a.allocate(4096, 0).unwrap();
        assert!(small.ptr >= big.ptr + (20 * MIB) as u64, "a small segment of its own");
        assert_eq!(a.stats().segments, 2);
    }

    #[test]
    fn the_best_fitting_free_block_is_taken() {
        let mut a = allocator(1 << 30);
        let blocks: Vec<Block> = [4096, 512, 2048, 512, 8192, 512].iter().map(|&n| a.allocate(n, 0).unwrap()).collect();
        a.free(blocks[0].ptr).unwrap();
        a.free(blocks[2].ptr).unwrap();
        a.free(blocks[4].ptr).unwrap();
        let got = a.allocate(1500, 0).unwrap();
        assert_eq!(got.ptr, blocks[2].ptr, "the 2 KiB hole, not the 4 KiB or 8 KiB one");
        assert_eq!(got.size, 1536, "split: the 512 bytes left are a block");
    }

    #[test]
    fn freed_neighbours_merge_and_a_whole_segment_goes_back_on_empty_cache() {
        let mut a = allocator(1 << 30);
        let (x, y, z) = (a.allocate(1000, 0).unwrap(), a.allocate(1000, 0).unwrap(), a.allocate(1000, 0).unwrap());
        a.free(x.ptr).unwrap();
        a.free(z.ptr).unwrap();
        a.empty_cache();
        assert_eq!(a.stats().reserved, 2 * MIB, "y keeps its segment");
        a.free(y.ptr).unwrap();
        let s = a.stats();
        assert_eq!((s.inactive_split, s.allocated), (0, 0), "the three blocks and the rest are one again");
        let whole = a.allocate(SMALL_LIMIT, 0).unwrap();
        assert_eq!((whole.ptr, a.stats().device_allocations), (x.ptr, 1));
        a.free(whole.ptr).unwrap();
        a.empty_cache();
        let s = a.stats();
        assert_eq!((s.reserved, s.segments, s.device_releases), (0, 0, 1));
    }

    #[test]
    fn a_merged_block_serves_a_request_larger_than_its_parts() {
        let mut a = allocator(1 << 30);
        let parts: Vec<Block> = (0..4).map(|_| a.allocate(3 * MIB, 0).unwrap()).collect();
        for p in &parts[..3] {
            a.free(p.ptr).unwrap();
        }
        let big = a.allocate(9 * MIB, 0).unwrap();
        assert_eq!(big.ptr, parts[0].ptr);
        assert_eq!(a.stats().device_allocations, 1);
    }

    #[test]
    fn stats_track_allocated_reserved_and_peaks() {
        let mut a = allocator(1 << 30);
        let x = a.allocate(MIB, 0).unwrap();
        let y = a.allocate(3 * MIB, 0).unwrap();
        a.free(x.ptr).unwrap();
        let s = a.stats();
        assert_eq!((s.allocated, s.reserved, s.allocations), (3 * MIB, 22 * MIB, 1));
        assert_eq!((s.peak_allocated, s.peak_reserved), (4 * MIB, 22 * MIB));
        a.reset_peak_stats();
        assert_eq!(a.stats().peak_allocated, 3 * MIB);
        a.free(y.ptr).unwrap();
        a.empty_cache();
        let s = a.stats();
        assert_eq!((s.allocated, s.reserved, s.segments), (0, 0, 0));
        assert!(a.memory.live.is_empty());
    }

    #[test]
    fn out_of_memory_empties_the_cache_and_retries() {
        let mut a = allocator(21 * MIB);
        let x = a.allocate(1000, 0).unwrap();
        a.free(x.ptr).unwrap();
        // The cached small segment is what stands in the way of a 20 MiB one.
        let y = a.allocate(19 * MIB, 0).unwrap();
        assert_eq!(y.size, 20 * MIB, "the 1 MiB left of its segment is not split off");
        let s = a.stats();
        assert_eq!((s.reserved, s.segments, s.alloc_retries, s.ooms), (20 * MIB, 1, 1, 0));
    }

    #[test]
    fn out_of_memory_raises_pytorchs_message_and_the_allocator_recovers() {
        let mut a = allocator(24 * MIB);
        let x = a.allocate(6 * MIB, 0).unwrap();
        let e = a.allocate(15 * MIB, 0).unwrap_err();
        assert!(e.message.starts_with("CUDA out of memory. Tried to allocate 16.00 MiB. GPU 0 has a total capacity of 24.00 MiB"), "{}", e.message);
        assert!(e.message.contains("6.00 MiB is allocated by PyTorch, and 14.00 MiB is reserved by PyTorch but unallocated"), "{}", e.message);
        assert_eq!(a.stats().ooms, 1);
        a.free(x.ptr).unwrap();
        assert!(a.allocate(15 * MIB, 0).is_ok());
    }

    #[test]
    fn blocks_are_reused_only_for_the_stream_they_were_allocated_for() {
        let mut a = allocator(64 * MIB);
        let on_side = a.allocate(1000, 7).unwrap();
        a.free(on_side.ptr).unwrap();
        let on_default = a.allocate(1000, 0).unwrap();
        assert_ne!(on_default.ptr, on_side.ptr);
        assert_eq!(a.stats().segments, 2, "a stream's segment is not cut for another");
        assert_eq!(a.allocate(1000, 7).unwrap().ptr, on_side.ptr);
        a.free(on_default.ptr).unwrap();
        a.empty_cache();
        assert_eq!(a.stats().reserved, 2 * MIB);
    }

    #[test]
    fn a_retired_streams_segments_go_to_the_default_stream() {
        let mut a = allocator(64 * MIB);
        let cached = a.allocate(1000, 7).unwrap();
        let live = a.allocate(5000, 7).unwrap();
        a.free(cached.ptr).unwrap();
        a.retire_stream(7);
        assert_eq!(a.allocate(1000, 0).unwrap().ptr, cached.ptr);
        a.free(live.ptr).unwrap();
        assert_eq!(a.allocate(5000, 0).unwrap().ptr, live.ptr);
        let fresh = a.allocate(5000, 7).unwrap();
        assert_eq!(a.stats().segments, 2, "stream 7 starts a segment of its own: {fresh:?}");
    }

    #[test]
    fn a_captured_stream_is_served_from_the_graphs_pool_only() {
        let mut a = allocator(64 * MIB);
        let pool = private_pool(1);
        let cached = a.allocate(1000, 7).unwrap();
        a.free(cached.ptr).unwrap();
        a.begin_capture(7, pool).unwrap();
        assert!(a.capturing());
        // The stream's cached block may be reused by eager work between replays: not taken.
        let in_graph = a.allocate(1000, 7).unwrap();
        assert_ne!(in_graph.ptr, cached.ptr);
        let temporary = a.allocate(3000, 7).unwrap();
        a.free(temporary.ptr).unwrap();
        // A block freed during the capture serves the capture again (the graph orders it).
        assert_eq!(a.allocate(3000, 7).unwrap().ptr, temporary.ptr);
        // Other streams keep their own pools.
        assert_eq!(a.allocate(1000, 9).unwrap().ptr, a.snapshot().iter().find(|s| s.stream == 9).unwrap().address);
        a.end_capture(7);
        assert!(!a.capturing());
        assert_eq!(a.allocate(1000, 7).unwrap().ptr, cached.ptr, "after the capture the stream's own pool serves it");
        // The graph's freed blocks are not handed to eager work on any stream.
        a.free(in_graph.ptr).unwrap();
        for stream in [0, 7, 9] {
            assert_ne!(a.allocate(1000, stream).unwrap().ptr, in_graph.ptr);
        }
    }

    #[test]
    fn streams_of_one_capture_share_its_pool_but_not_their_blocks() {
        let mut a = allocator(64 * MIB);
        let pool = private_pool(2);
        a.begin_capture(7, pool).unwrap();
        let on_main = a.allocate(1000, 7).unwrap();
        // Stream 9 joined the capture: it allocates from the pool, under a slot of its own.
        let joined = a.allocate_in_pool(1000, 9, pool).unwrap();
        let owners: Vec<u64> = [on_main.ptr, joined.ptr].iter().map(|p| a.snapshot().iter().find(|s| s.address <= *p && *p < s.address + s.total_size as u64).unwrap().stream).collect();
        assert_eq!(owners[0], pool);
        assert_ne!(owners[1], pool);
        assert_eq!(pool_of(owners[1]), pool);
        assert_eq!(pool_number(owners[1]), 2);
        a.free(joined.ptr).unwrap();
        assert_ne!(a.allocate(1000, 7).unwrap().ptr, joined.ptr, "stream 7 is not ordered after stream 9's use");
        assert_eq!(a.allocate_in_pool(1000, 9, pool).unwrap().ptr, joined.ptr);
        a.end_capture(7);
        // The joined stream's segment belongs to the pool: kept through empty_cache.
        a.empty_cache();
        assert_eq!(a.stats().segments, 2);
        a.release_pool(pool);
    }

    #[test]
    fn a_private_pool_is_kept_until_its_last_graph_releases_it() {
        let mut a = allocator(64 * MIB);
        let pool = private_pool(3);
        a.begin_capture(7, pool).unwrap();
        let block = a.allocate(2 * MIB + 1, 7).unwrap();
        // Nothing goes back to the driver during a capture, not even other streams' segments.
        let other = a.allocate(1000, 0).unwrap();
        a.free(other.ptr).unwrap();
        a.empty_cache();
        assert_eq!(a.stats().segments, 2);
        a.end_capture(7);
        // A second graph shares the pool.
        a.begin_capture(8, pool).unwrap();
        a.end_capture(8);
        a.free(block.ptr).unwrap();
        a.empty_cache();
        assert_eq!(a.snapshot().iter().filter(|s| s.stream == pool).count(), 1, "the pool's segment is kept");
        a.release_pool(pool);
        a.empty_cache();
        assert_eq!(a.snapshot().len(), 1, "one graph still uses it");
        a.release_pool(pool);
        // Released, the pool still serves no one else; empty_cache gives it back.
        assert_ne!(a.allocate(2 * MIB + 1, 0).unwrap().ptr, block.ptr);
        a.empty_cache();
        assert!(a.snapshot().iter().all(|s| s.stream == 0), "the pool's segment went back to the driver");
        a.release_pool(pool);
    }

    #[test]
    fn a_stream_is_captured_once_at_a_time() {
        let mut a = allocator(64 * MIB);
        a.begin_capture(7, private_pool(1)).unwrap();
        assert!(a.begin_capture(7, private_pool(2)).is_err());
        let block = a.allocate(1000, 7).unwrap();
        assert_eq!(a.snapshot().iter().find(|s| s.address == block.ptr).unwrap().stream, private_pool(1), "the first capture keeps its pool");
    }

    #[test]
    fn nothing_is_released_while_the_memory_says_a_capture_runs_elsewhere() {
        let mut a = allocator(64 * MIB);
        a.memory.capture_elsewhere = true;
        let block = a.allocate(1000, 0).unwrap();
        a.free(block.ptr).unwrap();
        a.empty_cache();
        assert_eq!(a.stats().segments, 1);
    }

    #[test]
    fn a_block_used_on_another_stream_waits_for_it_before_reuse() {
        let mut a = allocator(64 * MIB);
        let x = a.allocate(1000, 0).unwrap();
        a.record_stream(x.ptr, 7).unwrap();
        a.record_stream(x.ptr, 0).unwrap(); // its own stream: nothing to wait for
        a.memory.busy.insert(7);
        a.free(x.ptr).unwrap();
        assert_eq!(a.stats().allocated, 0, "freed bytes count as free at once, as PyTorch's");
        assert!(a.free(x.ptr).is_err(), "a block waiting for its streams is not freed twice");
        let y = a.allocate(1000, 0).unwrap();
        assert_ne!(y.ptr, x.ptr, "stream 7 may still be reading x");
        a.memory.busy.remove(&7);
        a.free(y.ptr).unwrap();
        let z = a.allocate(1000, 0).unwrap();
        assert_eq!(z.ptr, x.ptr, "stream 7 finished: the best fit is x's block again");
        assert!(a.memory.events.is_empty(), "finished events are destroyed");
        // Freed when the other stream has nothing queued: no event, back at once.
        a.record_stream(z.ptr, 9).unwrap();
        a.free(z.ptr).unwrap();
        assert_eq!(a.allocate(1000, 0).unwrap().ptr, x.ptr);
        assert!(a.record_stream(0xdead, 7).is_err());
    }

    #[test]
    fn empty_cache_waits_for_pending_blocks_and_captures_defer_their_events() {
        let mut a = allocator(64 * MIB);
        let x = a.allocate(1000, 0).unwrap();
        a.record_stream(x.ptr, 7).unwrap();
        a.memory.busy.insert(7);
        a.free(x.ptr).unwrap();
        a.empty_cache();
        assert_eq!((a.stats().segments, a.memory.busy.len()), (0, 0), "waited for stream 7, then released the segment");

        let y = a.allocate(1000, 0).unwrap();
        a.record_stream(y.ptr, 7).unwrap();
        a.memory.busy.insert(7);
        a.memory.capture_elsewhere = true;
        a.free(y.ptr).unwrap();
        assert!(a.memory.events.is_empty(), "no event recorded during a capture");
        let during = a.allocate(1000, 0).unwrap();
        assert_ne!(during.ptr, y.ptr);
        a.memory.capture_elsewhere = false;
        a.free(during.ptr).unwrap();
        assert_ne!(a.allocate(1000, 0).unwrap().ptr, y.ptr, "the event is recorded after the capture, on busy stream 7");
        assert_eq!(a.memory.events.len(), 1);
        a.memory.busy.clear();
        assert_eq!(a.allocate(1000, 0).unwrap().ptr, y.ptr);
        check_layout(&a);
    }

    #[test]
    fn out_of_memory_during_a_capture_releases_nothing() {
        let mut a = allocator(4 * MIB);
        let cached = a.allocate(1000, 0).unwrap();
        a.free(cached.ptr).unwrap();
        a.begin_capture(7, private_pool(1)).unwrap();
        a.allocate(1000, 7).unwrap();
        let e = a.allocate(3 * MIB, 7).unwrap_err();
        assert!(e.message.contains("CUDA out of memory"), "{}", e.message);
        assert_eq!(a.stats().segments, 2, "the default stream's free segment is still there");
    }

    #[test]
    fn freeing_an_unknown_pointer_is_an_error() {
        let mut a = allocator(64 * MIB);
        assert!(a.free(0xdead).is_err());
        let x = a.allocate(10, 0).unwrap();
        let y = a.allocate(10, 0).unwrap();
        a.free(x.ptr).unwrap();
        assert!(a.free(x.ptr).is_err(), "double free");
        assert!(a.free(y.ptr + 8).is_err(), "an address inside a block");
        a.free(y.ptr).unwrap();
        assert_eq!(a.stats().allocations, 0);
    }

    /// Random allocations and frees over two streams keep the layout sound: the blocks of a
    /// segment tile it in address order, no two free neighbours are left unmerged, blocks in
    /// use never overlap, and the counters match the table.
    #[test]
    fn random_use_keeps_the_segments_tiled_and_merged() {
        let mut a = allocator(1 << 34);
        let mut live: Vec<(Block, usize)> = Vec::new();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for step in 0..4000 {
            if live.is_empty() || next() % 5 < 3 {
                let bytes = match next() % 4 {
                    0 => (next() % 4096) as usize,
                    1 => (next() % (SMALL_LIMIT as u64)) as usize + 1,
                    2 => (next() % (12 * MIB as u64)) as usize + SMALL_LIMIT,
                    _ => (next() % (40 * MIB as u64)) as usize,
                };
                let block = a.allocate(bytes, next() % 2).unwrap();
                assert!(block.size >= bytes);
                if next() % 4 == 0 {
                    a.record_stream(block.ptr, 5).unwrap();
                }
                live.push((block, bytes));
            } else {
                let (block, _) = live.swap_remove((next() % live.len() as u64) as usize);
                a.free(block.ptr).unwrap();
            }
            if step % 500 == 499 {
                a.empty_cache();
            }
            // Stream 5's work runs for a while, then finishes.
            match next() % 50 {
                0 => drop(a.memory.busy.insert(5)),
                1 => drop(a.memory.busy.remove(&5)),
                _ => {}
            }
            check_layout(&a);
        }
        for (block, _) in live.drain(..) {
            a.free(block.ptr).unwrap();
        }
        a.empty_cache();
        assert_eq!(a.stats().reserved, 0);
        assert!(a.memory.live.is_empty());
    }

    fn check_layout(a: &CachingAllocator<FakeMemory>) {
        let (mut allocated, mut walked) = (0, 0);
        for (&base, &segment) in &a.memory.live {
            let (mut at, mut prev) = (base, None);
            let mut prev_free = false;
            let head = a.blocks[&base];
            while at < base + segment as u64 {
                let b = a.blocks.get(&at).unwrap_or_else(|| panic!("no block at {at:#x} in segment {base:#x}"));
                assert_eq!(b.prev, prev);
                assert_eq!((b.stream, b.pool), (head.stream, head.pool), "a segment has one stream and pool");
                assert!(!(prev_free && !b.in_use), "two free neighbours at {at:#x}");
                assert_eq!(a.free.contains(&b.key(at)), !b.in_use);
                if b.in_use && !a.is_waiting(at) {
                    allocated += b.size;
                }
                prev_free = !b.in_use;
                prev = Some(at);
                walked += 1;
                at += b.size as u64;
                assert_eq!(b.next, (at < base + segment as u64).then_some(at));
            }
            assert_eq!(at, base + segment as u64, "the blocks tile the segment");
        }
        assert_eq!(walked, a.blocks.len(), "every block lies in a segment");
        let s = a.stats();
        assert_eq!(s.allocated, allocated);
        assert_eq!(s.reserved, a.memory.used());
        assert_eq!(s.segments, a.memory.live.len());
    }

    #[test]
    fn a_memory_fraction_caps_the_segments() {
        let mut a = allocator(100 * MIB);
        a.set_memory_fraction(0.25);
        let x = a.allocate(20 * MIB, 0).unwrap();
        let e = a.allocate(6 * MIB, 0).unwrap_err();
        assert!(e.message.starts_with("CUDA out of memory. Tried to allocate 20.00 MiB"), "{}", e.message);
        a.free(x.ptr).unwrap();
        assert!(a.allocate(24 * MIB, 0).is_ok(), "the cached segment went back, leaving room under the cap");
        a.set_memory_fraction(1.0);
        assert!(a.allocate(60 * MIB, 0).is_ok());
    }

    #[test]
    fn snapshots_list_segments_and_their_blocks_by_address() {
        let mut a = allocator(1 << 30);
        let x = a.allocate(1000, 0).unwrap();
        let _y = a.allocate(3000, 0).unwrap();
        let big = a.allocate(3 * MIB, 5).unwrap();
        a.free(x.ptr).unwrap();
        let s = a.snapshot();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].total_size, s[0].small, s[0].stream), (2 * MIB, true, 0));
        assert_eq!(s[0].blocks, vec![(1024, false), (3072, true), (2 * MIB - 4096, false)]);
        assert_eq!((s[1].address, s[1].total_size, s[1].small, s[1].stream), (big.ptr, 20 * MIB, false, 5));
        assert_eq!(s[1].blocks, vec![(3 * MIB, true), (17 * MIB, false)]);
    }

    #[test]
    fn sizes_format_as_pytorch_prints_them() {
        assert_eq!(format_size(512), "512 bytes");
        assert_eq!(format_size(1536), "1.50 KiB");
        assert_eq!(format_size(20 << 20), "20.00 MiB");
        assert_eq!(format_size(2 << 30), "2.00 GiB");
    }
}
