//! Fused, numerically stable softmax and log-softmax along the middle dim of `[o, r, k]`, and
//! the log-sum-exp of contiguous rows.

use crate::cpu::iter::SendPtr;
use crate::cpu::real::Real;
use crate::dtype::Element;

/// One contiguous row (`k == 1`), over slices so that the exp and scaling loops vectorize
/// (`Real::exp` is branch-free); the same operations, in the same order, as the strided path.
#[inline(always)]
fn row<R: Real>(x: &[R], y: &mut [R], log: bool) {
    let max = x.iter().fold(R::of(f64::NEG_INFINITY), |m, &v| if v > m || v.is_nan() { v } else { m });
    for (e, &v) in y.iter_mut().zip(x) {
        *e = (v - max).exp();
    }
    let sum = y.iter().fold(R::of(0.0), |s, &e| s + e);
    if log {
        let ln_sum = sum.ln();
        for (o, &v) in y.iter_mut().zip(x) {
            *o = v - max - ln_sum;
        }
    } else {
        for p in y.iter_mut() {
            *p = *p / sum;
        }
    }
}

/// `log(sum(exp(x)))` of one row: the maximum, then `exp(x - max)` in chunks that vectorize,
/// summed in order. An infinite or NaN maximum is the result (+inf stays, all -inf gives -inf,
/// NaN sticks), as the online reducer gives.
#[inline(always)]
fn row_logsumexp<R: Real>(x: &[R]) -> R {
    const CHUNK: usize = 64;
    let max = x.iter().fold(R::of(f64::NEG_INFINITY), |m, &v| if v > m || v.is_nan() { v } else { m });
    if max.is_nan() || max.is_infinite() {
        return max;
    }
    let (mut buf, mut sum) = ([R::of(0.0); CHUNK], R::of(0.0));
    for chunk in x.chunks(CHUNK) {
        for (e, &v) in buf.iter_mut().zip(chunk) {
            *e = (v - max).exp();
        }
        sum = buf[..chunk.len()].iter().fold(sum, |s, &e| s + e);
    }
    max + sum.ln()
}

/// `logsumexp` of each of the `rows` contiguous rows of `r` elements into `out`.
///
/// # Safety
/// `src` valid for `rows * r` reads, `out` for `rows` writes.
pub unsafe fn logsumexp_rows<R: Real + Element>(src: *const R, out: *mut R, rows: usize, r: usize) {
    if r == 0 {
        // Empty rows (whose data pointer may dangle): the log of an empty sum.
        (0..rows).for_each(|i| *out.add(i) = R::of(f64::NEG_INFINITY));
        return;
    }
    let (src, out) = (SendPtr(src as *mut R), SendPtr(out));
    let unit = |i: usize| {
        let x = std::slice::from_raw_parts(src.get().add(i * r), r);
        *out.get().add(i) = crate::cpu::map::vectorized(|| row_logsumexp(x));
    };
    crate::cpu::threads::for_units(rows, r, unit);
}

/// Columns handled together when `k > 1`.
const COLS: usize = 256;

/// `out = exp(x - max) / sum(exp(x - max))` (or its log) along `r`, with the maximum taken
/// first so that `exp` never overflows.
///
/// # Safety
/// `src` must be valid for `o * r * k` reads and `out` for as many writes; they must not overlap.
pub unsafe fn softmax<R: Real + Element>(src: *const R, out: *mut R, o: usize, r: usize, k: usize, log: bool) {
    let (src, out) = (SendPtr(src as *mut R), SendPtr(out));
    let blocks = k.div_ceil(COLS);
    let unit = |u: usize| {
        if k == 1 {
            let (x, y) = (std::slice::from_raw_parts(src.get().add(u * r), r), std::slice::from_raw_parts_mut(out.get().add(u * r), r));
            return crate::cpu::map::vectorized(|| row(x, y, log));
        }
        let (oi, col) = (u / blocks, (u % blocks) * COLS);
        let (base, w) = (oi * r * k + col, COLS.min(k - col));
        let at = |j: usize, l: usize| base + j * k + l;
        let mut max = vec![R::of(f64::NEG_INFINITY); w];
        for j in 0..r {
            for (l, m) in max.iter_mut().enumerate() {
                let x = *src.get().add(at(j, l));
                if x > *m || x.is_nan() {
                    *m = x;
                }
            }
        }
        let mut sum = vec![R::of(0.0); w];
        for j in 0..r {
            for l in 0..w {
                let e = (*src.get().add(at(j, l)) - max[l]).exp();
                sum[l] = sum[l] + e;
                if !log {
                    *out.get().add(at(j, l)) = e;
                }
            }
        }
        for j in 0..r {
            for l in 0..w {
                let p = out.get().add(at(j, l));
                if log {
                    *p = *src.get().add(at(j, l)) - max[l] - sum[l].ln();
                } else {
                    *p = *p / sum[l];
                }
            }
        }
    };
    crate::cpu::threads::for_units(o * blocks, r * k.min(COLS), unit);
}
