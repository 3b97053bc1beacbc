//! The reducers the reduction ops are built from.

use std::marker::PhantomData;

use super::{is_nan, Bounded, Reducer};
use crate::cpu::real::Real;
use crate::dtype::Element;

/// Lanes of independent accumulators in `Fold::fold_slice`: enough for the compiler to keep
/// several vector registers busy, and they shorten float error chains 16-fold.
const LANES: usize = 16;
/// Elements `Fold::fold_slice` folds straight into its lanes before they join the pairwise
/// cascade: each lane's sequential chain is `BLOCK / LANES` elements long.
const BLOCK: usize = 1024;
/// Levels of `Fold::fold_slice`'s cascade: it is exactly pairwise over up to `2^LEVELS` blocks.
const LEVELS: usize = 8;

/// `fin(op(...op(init, map(x0)), map(x1))...)`: a map and an associative, commutative
/// operation (sum, product, max, all, ...).
pub struct Fold<T, A, O, M, P, F> {
    init: A,
    map: M,
    op: P,
    fin: F,
    _types: PhantomData<fn(T) -> O>,
}

/// Builds a [`Fold`].
pub fn fold<T, A, O, M, P, F>(init: A, map: M, op: P, fin: F) -> Fold<T, A, O, M, P, F>
where
    M: Fn(T) -> A,
    P: Fn(A, A) -> A,
    F: Fn(A, usize) -> O,
{
    Fold { init, map, op, fin, _types: PhantomData }
}

impl<T, A, O, M, P, F> Reducer for Fold<T, A, O, M, P, F>
where
    T: Element,
    A: Copy + Send + Sync,
    O: Copy + Send + Sync,
    M: Fn(T) -> A + Sync,
    P: Fn(A, A) -> A + Sync,
    F: Fn(A, usize) -> O + Sync,
{
    type In = T;
    type Acc = A;
    type Out = O;

    #[inline]
    fn identity(&self) -> A {
        self.init
    }

    #[inline]
    fn step(&self, acc: A, x: T, _i: usize) -> A {
        (self.op)(acc, (self.map)(x))
    }

    #[inline]
    fn combine(&self, a: A, b: A) -> A {
        (self.op)(a, b)
    }

    #[inline]
    fn finish(&self, acc: A, n: usize) -> O {
        (self.fin)(acc, n)
    }

    /// The whole cascade runs in lanes, with no call or horizontal reduction per block, so
    /// `pairwise` hands it long runs.
    const LEAF: usize = BLOCK << LEVELS;

    // Always inlined, so that it is compiled inside `fold_slice_avx2` with AVX2 enabled
    // (left out of line, it is built for baseline x86-64 only).
    #[inline(always)]
    fn fold_slice(&self, acc: A, xs: &[T], _start: usize) -> A {
        // One unbroken stream of loads, which the hardware prefetcher keeps up with (software
        // prefetching, needed when each 1024-element leaf ended in a horizontal sum, measured
        // slower here). Pairwise over blocks as a binary counter: `levels[j]` holds the sum of
        // `2^j` blocks while bit `j` of the count of blocks done is set (the top level takes
        // any excess).
        let mut levels = [[self.init; LANES]; LEVELS];
        let mut blocks = xs.chunks_exact(BLOCK);
        for (n, block) in (&mut blocks).enumerate() {
            let mut carry = [self.init; LANES];
            self.fold_into(&mut carry, block);
            let mut j = 0;
            while j + 1 < LEVELS && (n >> j) & 1 == 1 {
                self.merge(&mut carry, &levels[j]);
                levels[j] = [self.init; LANES];
                j += 1;
            }
            self.merge(&mut levels[j], &carry);
        }
        let mut lanes = [self.init; LANES];
        self.fold_into(&mut lanes, blocks.remainder());
        for level in &levels {
            self.merge(&mut lanes, level);
        }
        let mut w = LANES / 2;
        while w > 0 {
            for l in 0..w {
                lanes[l] = (self.op)(lanes[l], lanes[l + w]);
            }
            w /= 2;
        }
        (self.op)(acc, lanes[0])
    }
}

impl<T, A, O, M, P, F> Fold<T, A, O, M, P, F>
where
    T: Copy,
    A: Copy,
    M: Fn(T) -> A,
    P: Fn(A, A) -> A,
{
    /// Folds `xs` into `lanes`, element `j` of each run of `LANES` into lane `j`.
    #[inline(always)]
    fn fold_into(&self, lanes: &mut [A; LANES], xs: &[T]) {
        let mut chunks = xs.chunks_exact(LANES);
        for c in &mut chunks {
            for (a, &x) in lanes.iter_mut().zip(c) {
                *a = (self.op)(*a, (self.map)(x));
            }
        }
        for (a, &x) in lanes.iter_mut().zip(chunks.remainder()) {
            *a = (self.op)(*a, (self.map)(x));
        }
    }

    /// `into[j] = op(into[j], from[j])` for every lane.
    #[inline(always)]
    fn merge(&self, into: &mut [A; LANES], from: &[A; LANES]) {
        for (a, &b) in into.iter_mut().zip(from) {
            *a = (self.op)(*a, b);
        }
    }
}

/// The position and value of the largest (`MAX`) or smallest element: the first one, or the
/// first NaN (NaN wins over every number, as in PyTorch).
pub struct ArgFold<T, const MAX: bool>(PhantomData<fn(T)>);

impl<T, const MAX: bool> ArgFold<T, MAX> {
    pub fn new() -> Self {
        ArgFold(PhantomData)
    }
}

impl<T, const MAX: bool> Default for ArgFold<T, MAX> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Bounded, const MAX: bool> ArgFold<T, MAX> {
    #[inline]
    fn better(a: T, b: T) -> bool {
        !is_nan(a) && (is_nan(b) || if MAX { b > a } else { b < a })
    }
}

impl<T: Bounded, const MAX: bool> Reducer for ArgFold<T, MAX> {
    type In = T;
    type Acc = (T, usize);
    type Out = (T, i64);

    fn identity(&self) -> (T, usize) {
        // Index 0 is right even when nothing beats the identity: then every element equals
        // it, and the first is at 0.
        (if MAX { T::lowest() } else { T::highest() }, 0)
    }

    #[inline]
    fn step(&self, acc: (T, usize), x: T, i: usize) -> (T, usize) {
        if Self::better(acc.0, x) { (x, i) } else { acc }
    }

    #[inline]
    fn combine(&self, a: (T, usize), b: (T, usize)) -> (T, usize) {
        if Self::better(a.0, b.0) { b } else { a }
    }

    fn finish(&self, acc: (T, usize), _n: usize) -> (T, i64) {
        (acc.0, acc.1 as i64)
    }
}

/// Count, mean and sum of squared deviations in float64 (Welford/Chan), yielding
/// `(variance, mean)` with `correction` subtracted from the count.
pub struct Moments<T> {
    pub correction: f64,
    _t: PhantomData<fn(T)>,
}

impl<T> Moments<T> {
    pub fn new(correction: f64) -> Self {
        Moments { correction, _t: PhantomData }
    }
}

impl<T: Element> Reducer for Moments<T> {
    type In = T;
    type Acc = (f64, f64, f64);
    type Out = (f64, f64);

    fn identity(&self) -> Self::Acc {
        (0.0, 0.0, 0.0)
    }

    #[inline]
    fn step(&self, (n, mean, m2): Self::Acc, x: T, _i: usize) -> Self::Acc {
        let x = x.to_f64();
        let n = n + 1.0;
        let d = x - mean;
        let mean = mean + d / n;
        (n, mean, m2 + d * (x - mean))
    }

    fn combine(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc {
        if a.0 == 0.0 {
            return b;
        }
        if b.0 == 0.0 {
            return a;
        }
        let n = a.0 + b.0;
        let d = b.1 - a.1;
        (n, a.1 + d * (b.0 / n), a.2 + b.2 + d * d * (a.0 * b.0 / n))
    }

    #[inline]
    fn fold_slice(&self, acc: Self::Acc, xs: &[T], _start: usize) -> Self::Acc {
        if xs.is_empty() {
            return acc;
        }
        // Two passes over a short run are exact enough and avoid a division per element.
        let n = xs.len() as f64;
        let mean = xs.iter().map(|x| x.to_f64()).sum::<f64>() / n;
        let m2 = xs.iter().map(|x| (x.to_f64() - mean) * (x.to_f64() - mean)).sum::<f64>();
        self.combine(acc, (n, mean, m2))
    }

    fn finish(&self, (n, mean, m2): Self::Acc, _n: usize) -> (f64, f64) {
        if n == 0.0 {
            return (f64::NAN, f64::NAN);
        }
        (m2 / (n - self.correction).max(0.0), mean)
    }
}

/// `log(sum(exp(x)))` in one stable pass: the accumulator is the running maximum `m` and
/// `sum(exp(x - m))`.
pub struct LogSumExp<T, A>(PhantomData<fn(T) -> A>);

impl<T, A> LogSumExp<T, A> {
    pub fn new() -> Self {
        LogSumExp(PhantomData)
    }
}

impl<T, A> Default for LogSumExp<T, A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Element, A: Real + Element> Reducer for LogSumExp<T, A> {
    type In = T;
    type Acc = (A, A);
    type Out = A;

    fn identity(&self) -> (A, A) {
        (A::of(f64::NEG_INFINITY), A::of(0.0))
    }

    #[inline]
    fn step(&self, (m, s): (A, A), x: T, _i: usize) -> (A, A) {
        let x: A = x.cast();
        if x.is_nan() || m.is_nan() {
            (if x.is_nan() { x } else { m }, s)
        } else if x > m {
            let rescaled = if m == A::of(f64::NEG_INFINITY) { A::of(0.0) } else { s * (m - x).exp() };
            (x, rescaled + A::of(1.0))
        } else if x == m {
            (m, s + A::of(1.0))
        } else {
            (m, s + (x - m).exp())
        }
    }

    fn combine(&self, a: (A, A), b: (A, A)) -> (A, A) {
        if a.0.is_nan() || b.0.is_nan() {
            return if a.0.is_nan() { a } else { b };
        }
        let (hi, lo) = if a.0 >= b.0 { (a, b) } else { (b, a) };
        if lo.0 == A::of(f64::NEG_INFINITY) {
            hi
        } else if hi.0 == lo.0 {
            (hi.0, hi.1 + lo.1)
        } else {
            (hi.0, hi.1 + lo.1 * (lo.0 - hi.0).exp())
        }
    }

    fn finish(&self, (m, s): (A, A), _n: usize) -> A {
        if m.is_nan() || m.is_infinite() {
            m
        } else {
            m + s.ln()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::reduce::pairwise;

    #[test]
    fn fold_slice_cascade_covers_every_element() {
        let sum = fold(0i64, |x: i64| x, |a, b| a + b, |a, _| a);
        let ones = fold(0f32, |x: f32| x, |a, b| a + b, |a, _| a);
        let big = BLOCK << LEVELS;
        for n in [0, 1, LANES - 1, LANES + 3, BLOCK - 1, BLOCK, 3 * BLOCK + 17, big - 5, big, 2 * big + BLOCK + 9] {
            let xs: Vec<i64> = (0..n as i64).collect();
            let want = (n as i64) * (n as i64 - 1) / 2;
            // Called directly past `LEAF`, the top level takes the excess; via `pairwise`, not.
            assert_eq!(sum.fold_slice(7, &xs, 0), 7 + want, "n = {n}");
            assert_eq!(pairwise(&sum, &xs, 0), want, "n = {n}");
            assert_eq!(pairwise(&ones, &vec![1.0; n], 0), n as f32, "n = {n}");
        }
    }
}
