//! The fault word of each device: where index kernels report the first index value out of
//! range they meet (`ops::index::fault`), so that no index op waits for the device to check its
//! index on the host. The host reads the word when it next waits for the device (copies to the
//! host, synchronize) and raises the fault there, as PyTorch's device-side asserts surface at a
//! later call; unlike an assert, the device stays usable. Only the first fault is reported.
//!
//! The word is four int64 in memory of its own, outside the caching allocator (it is not a
//! tensor's and lives as long as the process): the fault's code, its value, the dim size, and
//! the claim a faulting thread takes first. The code is written last, so a nonzero code means a
//! whole fault.

use std::sync::Mutex;

use cudarc::driver::result as driver;

use super::{device, driver_error, guarded};
use crate::error::Result;
use crate::ops::index::fault::Fault;

const WORD_BYTES: usize = 4 * 8;

/// Each device's word address, created at first use.
static WORDS: Mutex<Vec<Option<u64>>> = Mutex::new(Vec::new());

/// The (device, stream, ticket) of kernels which may fault, queued since the host last waited
/// for them. A wait reads the word while any stream of its device is armed (a wait on one
/// stream may follow another through `wait_stream`), and disarms the streams it waited for,
/// but only for kernels queued before the wait began (`ticket`): another thread may queue one
/// meanwhile.
static ARMED: Mutex<Vec<(usize, u64, u64)>> = Mutex::new(Vec::new());

/// The last ticket handed out.
static TICKETS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The ticket a wait takes before it waits: kernels queued up to it are waited for.
pub(crate) fn ticket() -> u64 {
    TICKETS.load(std::sync::atomic::Ordering::SeqCst)
}

/// What the host has just waited for, with the `ticket` taken before the wait.
#[derive(Clone, Copy)]
pub(crate) enum Waited {
    /// The given streams of a device (a synchronous copy waits for the default stream, 0).
    Streams(usize, [u64; 2], u64),
    /// All work of a device.
    Device(usize, u64),
}

/// The address of device `index`'s fault word, for a kernel's arguments.
pub(crate) fn word(index: usize) -> Result<u64> {
    let mut words = WORDS.lock().unwrap_or_else(|e| e.into_inner());
    if words.len() <= index {
        words.resize(index + 1, None);
    }
    if let Some(p) = words[index] {
        return Ok(p);
    }
    device::bind(index)?;
    // SAFETY: the context is current; the word is zeroed before any kernel reads it.
    let p = guarded("cuMemAlloc", || unsafe { driver::malloc_sync(WORD_BYTES) }.map_err(driver_error))?;
    clear(index, p)?;
    words[index] = Some(p);
    Ok(p)
}

/// Marks the current stream of device `index` as running a kernel that may write the word
/// (called once the kernel is queued).
pub(crate) fn arm(index: usize) {
    let ticket = TICKETS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    let stream = super::stream::current_id(index);
    let mut arms = ARMED.lock().unwrap_or_else(|e| e.into_inner());
    match arms.iter_mut().find(|(i, s, _)| (*i, *s) == (index, stream)) {
        Some(arm) => arm.2 = ticket,
        None => arms.push((index, stream, ticket)),
    }
}

/// Forgets stream `id` of device `index` (released: the host waited for it without reading).
pub(crate) fn forget(index: usize, id: u64) {
    ARMED.lock().unwrap_or_else(|e| e.into_inner()).retain(|&(i, s, _)| (i, s) != (index, id));
}

/// Raises the fault reported on the device the host has just `waited` for, clearing the word.
/// A fault still being written by a stream not waited for stays for a later wait.
pub(crate) fn raise_pending(waited: Waited) -> Result<()> {
    let (index, upto) = match waited {
        Waited::Streams(index, _, t) | Waited::Device(index, t) => (index, t),
    };
    {
        let mut arms = ARMED.lock().unwrap_or_else(|e| e.into_inner());
        if !arms.iter().any(|&(i, _, _)| i == index) {
            return Ok(());
        }
        arms.retain(|&(i, s, t)| {
            let waited_for = match waited {
                Waited::Streams(_, ids, _) => ids.contains(&s),
                Waited::Device(..) => true,
            };
            i != index || !waited_for || t > upto
        });
    }
    let Some(ptr) = WORDS.lock().unwrap_or_else(|e| e.into_inner()).get(index).copied().flatten() else { return Ok(()) };
    device::bind(index)?;
    if read(ptr)?[0] == 0 {
        return Ok(());
    }
    // A fault: let every stream finish (the code is written last, but a writer on a stream not
    // waited for may still be under way), read it whole and clear the word.
    let ctx = device::context(index)?;
    guarded("cuCtxSynchronize", || ctx.synchronize().map_err(driver_error))?;
    let [code, value, size, _claim] = read(ptr)?;
    clear(index, ptr)?;
    match Fault::from_code(code) {
        Some(f) => Err(f.error(value, size as usize)),
        None => Ok(()),
    }
}

/// The word at `ptr` (its device's context current).
fn read(ptr: u64) -> Result<[i64; 4]> {
    let mut word = [0i64; 4];
    // SAFETY: `ptr` holds WORD_BYTES bytes on the current device.
    guarded("cuMemcpyDtoH", || unsafe { driver::memcpy_dtoh_sync(&mut word, ptr) }.map_err(driver_error))?;
    Ok(word)
}

/// Zeroes the word at `ptr` on device `index`, with all its work finished before and after: the
/// memsets are ordered on the legacy stream only. The code, value and size are zeroed before
/// the claim, so a new fault can only claim a clean word.
fn clear(index: usize, ptr: u64) -> Result<()> {
    let ctx = device::context(index)?;
    guarded("cuCtxSynchronize", || ctx.synchronize().map_err(driver_error))?;
    // SAFETY: `ptr` holds WORD_BYTES bytes on this device, whose context is current.
    guarded("cuMemsetD8", || unsafe { driver::memset_d8_sync(ptr, 0, WORD_BYTES - 8) }.map_err(driver_error))?;
    guarded("cuCtxSynchronize", || ctx.synchronize().map_err(driver_error))?;
    guarded("cuMemsetD8", || unsafe { driver::memset_d8_sync(ptr + (WORD_BYTES - 8) as u64, 0, 8) }.map_err(driver_error))?;
    guarded("cuCtxSynchronize", || ctx.synchronize().map_err(driver_error))
}
