//! Reduction kernels. Every reduction is a fold of the `r` middle elements of a contiguous
//! `[o, r, k]` block into `o * k` results: `k == 1` folds contiguous rows (pairwise, so float
//! sums stay accurate), `k > 1` folds rows of columns, vectorised across the columns and
//! cascaded across the rows for the same reason. Both split across threads when large.

use rayon::prelude::*;

use crate::cpu::arith::Arith;
use crate::cpu::iter::{SendPtr, GRAIN};
use crate::dtype::Element;
use half::{bf16, f16};

pub mod reducers;
pub mod scan;
pub mod softmax;

/// A reduction: how elements fold into an accumulator and what the accumulator yields.
pub trait Reducer: Sync {
    type In: Element;
    type Acc: Copy + Send + Sync;
    type Out: Copy + Send + Sync;
    /// The longest run `pairwise` folds with one `fold_slice` call: reducers whose
    /// `fold_slice` is itself accurate over long runs raise it, saving per-call overhead.
    const LEAF: usize = LEAF;
    /// The accumulator of no elements; `combine(identity, a) == a`.
    fn identity(&self) -> Self::Acc;
    /// Folds element `x`, at position `i` along the reduced extent, into `acc`.
    fn step(&self, acc: Self::Acc, x: Self::In, i: usize) -> Self::Acc;
    /// Merges two accumulators; `a` covers positions before those of `b`.
    fn combine(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc;
    /// The result of a reduction over `n` elements.
    fn finish(&self, acc: Self::Acc, n: usize) -> Self::Out;
    /// Folds a contiguous run whose first element is at position `start` (reducers override
    /// this with vectorisable loops).
    fn fold_slice(&self, acc: Self::Acc, xs: &[Self::In], start: usize) -> Self::Acc {
        let mut a = acc;
        for (j, &x) in xs.iter().enumerate() {
            a = self.step(a, x, start + j);
        }
        a
    }
}

/// Elements folded sequentially before pairwise combination takes over (unless a reducer
/// sets its own `Reducer::LEAF`); runs are split at multiples of it.
pub const LEAF: usize = 1024;
/// Rows of columns folded into one accumulator row before it joins the cascade.
const CASCADE: usize = 32;
/// Columns folded together in the `k > 1` kernel: long contiguous runs stream well, and a
/// few levels of accumulators still fit in L2.
const COLS: usize = 2048;

/// `fold_slice` compiled for AVX2 and FMA: the wheel targets baseline x86-64 (SSE2), and
/// wider vectors double the throughput of the leaf loops on machines that have them.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fold_slice_avx2<R: Reducer>(rd: &R, xs: &[R::In], start: usize) -> R::Acc {
    rd.fold_slice(rd.identity(), xs, start)
}

/// Folds a leaf run with the widest vector instructions this CPU has.
#[inline]
fn fold_leaf<R: Reducer>(rd: &R, xs: &[R::In], start: usize) -> R::Acc {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        return unsafe { fold_slice_avx2(rd, xs, start) };
    }
    rd.fold_slice(rd.identity(), xs, start)
}

/// Pairwise fold of a contiguous run: the error of a float sum grows with `log n`.
pub fn pairwise<R: Reducer>(rd: &R, xs: &[R::In], start: usize) -> R::Acc {
    if xs.len() <= R::LEAF {
        return fold_leaf(rd, xs, start);
    }
    let half = (xs.len() / 2).div_ceil(LEAF) * LEAF;
    let (a, b) = xs.split_at(half);
    rd.combine(pairwise(rd, a, start), pairwise(rd, b, start + half))
}

/// Reduces the contiguous `[o, r, k]` block at `src` into the `[o, k]` block at `out`.
///
/// # Safety
/// `src` must be valid for `o * r * k` reads and `out` for `o * k` writes.
pub unsafe fn reduce<R: Reducer>(rd: &R, src: *const R::In, o: usize, r: usize, k: usize, out: *mut R::Out) {
    let (src, out) = (SendPtr(src as *mut R::In), SendPtr(out));
    if o * k == 0 {
        return;
    }
    if r == 0 {
        let v = rd.finish(rd.identity(), 0);
        for i in 0..o * k {
            *out.get().add(i) = v;
        }
    } else if k == 1 {
        reduce_rows(rd, src, o, r, out);
    } else {
        reduce_columns(rd, src, o, r, k, out);
    }
}

unsafe fn reduce_rows<R: Reducer>(rd: &R, src: SendPtr<R::In>, o: usize, r: usize, out: SendPtr<R::Out>) {
    crate::cpu::threads::install_if(o.saturating_mul(r), || {
    let threads = rayon::current_num_threads();
    let row = |i: usize| std::slice::from_raw_parts(src.get().add(i * r) as *const R::In, r);
    let one = |i: usize| *out.get().add(i) = rd.finish(pairwise(rd, row(i), 0), r);
    if o * r < GRAIN || threads == 1 {
        (0..o).for_each(one);
    } else if o >= threads * 4 || r < GRAIN {
        (0..o).into_par_iter().with_min_len((GRAIN / r).max(1)).for_each(one);
    } else {
        // Few long rows: split each row, keeping chunk order when combining.
        let per = r.div_ceil((r / GRAIN).clamp(1, threads * 4)).div_ceil(LEAF) * LEAF;
        for i in 0..o {
            let xs = row(i);
            let accs: Vec<R::Acc> = (0..r.div_ceil(per))
                .into_par_iter()
                .map(|c| pairwise(rd, &xs[c * per..((c + 1) * per).min(r)], c * per))
                .collect();
            let acc = accs.into_iter().fold(rd.identity(), |a, b| rd.combine(a, b));
            *out.get().add(i) = rd.finish(acc, r);
        }
    }
})
}

fn combine_into<R: Reducer>(rd: &R, older: &mut [R::Acc], newer: &[R::Acc]) {
    for (a, &b) in older.iter_mut().zip(newer) {
        *a = rd.combine(*a, b);
    }
}

/// Folds rows `r0..r1` of the `w` columns starting at `src` (row stride `k`). Rows are
/// summed `CASCADE` at a time, and those partial rows combined in a cascade of levels, so a
/// float column sum has error `O(CASCADE * log n)` rather than `O(n)`.
unsafe fn fold_columns<R: Reducer>(rd: &R, src: SendPtr<R::In>, k: usize, r0: usize, r1: usize, w: usize) -> Vec<R::Acc> {
    let id = rd.identity();
    let mut cur = vec![id; w];
    let mut levels: Vec<(Vec<R::Acc>, usize)> = Vec::new();
    let mut r = r0;
    while r < r1 {
        let end = (r + CASCADE).min(r1);
        for rr in r..end {
            let xs = std::slice::from_raw_parts(src.get().add(rr * k) as *const R::In, w);
            for (a, &x) in cur.iter_mut().zip(xs) {
                *a = rd.step(*a, x, rr);
            }
        }
        if levels.is_empty() {
            levels.push((vec![id; w], 0));
        }
        combine_into(rd, &mut levels[0].0, &cur);
        levels[0].1 += 1;
        cur.fill(id);
        let mut l = 0;
        while levels[l].1 == CASCADE {
            if l + 1 == levels.len() {
                levels.push((vec![id; w], 0));
            }
            let (lower, upper) = levels.split_at_mut(l + 1);
            combine_into(rd, &mut upper[0].0, &lower[l].0);
            upper[0].1 += 1;
            lower[l].0.fill(id);
            lower[l].1 = 0;
            l += 1;
        }
        r = end;
    }
    // Higher levels hold earlier rows; `cur` holds nothing (it was just pushed).
    let mut acc = vec![id; w];
    for (buf, _) in levels.iter().rev() {
        combine_into(rd, &mut acc, buf);
    }
    acc
}

unsafe fn reduce_columns<R: Reducer>(rd: &R, src: SendPtr<R::In>, o: usize, r: usize, k: usize, out: SendPtr<R::Out>) {
    crate::cpu::threads::install_if(o.saturating_mul(r).saturating_mul(k), || {
    let threads = rayon::current_num_threads();
    let blocks = k.div_ceil(COLS);
    let units = o * blocks;
    let unit = |u: usize| {
        let (oi, b) = (u / blocks, u % blocks);
        let col = b * COLS;
        (oi * r * k + col, oi * k + col, COLS.min(k - col))
    };
    let total = o * r * k;
    let split = if total >= 2 * GRAIN && threads > 1 && units < threads * 2 { (threads * 4 / units).clamp(1, (r / CASCADE).max(1)) } else { 1 };
    if split <= 1 {
        let one = |u: usize| {
            let (base, dst, w) = unit(u);
            let accs = fold_columns(rd, SendPtr(src.get().add(base)), k, 0, r, w);
            for (j, a) in accs.into_iter().enumerate() {
                *out.get().add(dst + j) = rd.finish(a, r);
            }
        };
        if total < GRAIN || threads == 1 {
            (0..units).for_each(one);
        } else {
            (0..units).into_par_iter().for_each(one);
        }
        return;
    }
    let per = r.div_ceil(split);
    let parts: Vec<Vec<R::Acc>> = (0..units * split)
        .into_par_iter()
        .map(|t| {
            let (u, c) = (t / split, t % split);
            let (base, _, w) = unit(u);
            fold_columns(rd, SendPtr(src.get().add(base)), k, c * per, ((c + 1) * per).min(r), w)
        })
        .collect();
    for (u, chunk) in parts.chunks(split).enumerate() {
        let (_, dst, w) = unit(u);
        let mut acc = vec![rd.identity(); w];
        for p in chunk {
            combine_into(rd, &mut acc, p);
        }
        for (j, a) in acc.into_iter().enumerate() {
            *out.get().add(dst + j) = rd.finish(a, r);
        }
    }
})
}

/// Calls `f(i, row)` for each of the `o` contiguous rows of length `r` at `src`, in parallel
/// when large (for reductions that need a whole row at once: medians, quantiles).
///
/// # Safety
/// `src` must be valid for `o * r` reads.
pub unsafe fn for_each_row<T: Element>(src: *const T, o: usize, r: usize, f: impl Fn(usize, &[T]) + Sync) {
    let src = SendPtr(src as *mut T);
    crate::cpu::threads::for_units(o, r, |i| f(i, std::slice::from_raw_parts(src.get().add(i * r) as *const T, r)));
}

/// The type an element type accumulates sums and products in, as PyTorch: integers and
/// bool in int64, half types in float32.
pub trait Accumulate: Element {
    type Acc: Element + Arith;
    /// What `sum`/`prod` return: int64 for integers and bool, the input type for floats.
    type SumOut: Element;
}

macro_rules! accumulate {
    ($($t:ty => $acc:ty, $out:ty);*) => {$(
        impl Accumulate for $t { type Acc = $acc; type SumOut = $out; }
    )*};
}
accumulate!(bool => i64, i64; u8 => i64, i64; i8 => i64, i64; i16 => i64, i64; i32 => i64, i64; i64 => i64, i64;
    f16 => f32, f16; bf16 => f32, bf16; f32 => f32, f32; f64 => f64, f64);

/// The smallest and largest values of a type (infinities for floats): identities of max/min.
pub trait Bounded: Element {
    fn lowest() -> Self;
    fn highest() -> Self;
}

macro_rules! bounded {
    ($($t:ty => $lo:expr, $hi:expr);*) => {$(
        impl Bounded for $t {
            #[inline] fn lowest() -> Self { $lo }
            #[inline] fn highest() -> Self { $hi }
        }
    )*};
}
bounded!(bool => false, true; u8 => u8::MIN, u8::MAX; i8 => i8::MIN, i8::MAX; i16 => i16::MIN, i16::MAX;
    i32 => i32::MIN, i32::MAX; i64 => i64::MIN, i64::MAX; f16 => f16::NEG_INFINITY, f16::INFINITY;
    bf16 => bf16::NEG_INFINITY, bf16::INFINITY; f32 => f32::NEG_INFINITY, f32::INFINITY;
    f64 => f64::NEG_INFINITY, f64::INFINITY);

/// NaN test for any element type (only floats are ever unequal to themselves).
#[inline]
#[allow(clippy::eq_op)]
pub fn is_nan<T: PartialEq>(x: T) -> bool {
    x != x
}

/// The larger of two values, NaN if either is NaN (`MAX`), or the smaller (`!MAX`).
#[inline]
pub fn pick<T: PartialOrd + Copy, const MAX: bool>(a: T, b: T) -> T {
    let better = if MAX { b > a } else { b < a };
    if better || is_nan(b) { b } else { a }
}
