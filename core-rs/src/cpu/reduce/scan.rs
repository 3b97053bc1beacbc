//! Inclusive scans (`cumsum`, `cummax`, ...) along the middle dim of an `[o, r, k]` block.

use rayon::prelude::*;

use crate::cpu::iter::{SendPtr, GRAIN};
use crate::dtype::Element;

/// Columns scanned together when `k > 1`.
const COLS: usize = 512;

/// For each position `(i, j, l)` in row-major order along `j`, folds `x[i, j, l]` into the
/// running accumulator of `(i, l)` with `step(acc, x, j)` and passes the flat index and the
/// new accumulator to `emit`.
///
/// # Safety
/// `src` must be valid for `o * r * k` reads; `emit` must be safe to call concurrently for
/// distinct indices.
pub unsafe fn scan<T: Element, A: Copy + Send + Sync>(
    src: *const T,
    o: usize,
    r: usize,
    k: usize,
    init: A,
    step: impl Fn(A, T, usize) -> A + Sync,
    emit: impl Fn(usize, A) + Sync,
) {
    let src = SendPtr(src as *mut T);
    crate::cpu::threads::install_if(o.saturating_mul(r).saturating_mul(k), || {
    let blocks = k.div_ceil(COLS);
    let unit = |u: usize| {
        let (oi, col) = (u / blocks, (u % blocks) * COLS);
        let (base, w) = (oi * r * k + col, COLS.min(k - col));
        let mut acc = vec![init; w];
        for j in 0..r {
            let row = base + j * k;
            for (l, a) in acc.iter_mut().enumerate() {
                *a = step(*a, *src.get().add(row + l), j);
                emit(row + l, *a);
            }
        }
    };
    let units = o * blocks;
    if o * r * k < GRAIN || rayon::current_num_threads() == 1 {
        (0..units).for_each(unit);
    } else {
        (0..units).into_par_iter().for_each(unit);
    }
})
}
