//! Strided matrix multiplication: `dst = alpha * lhs @ rhs (+ beta * dst)`, batched.
//! f32/f64 go to the `gemm` crate with the operands' strides passed as they are (transposed and
//! broadcast views are never copied); integers use a plain loop with wrapping arithmetic.

use rayon::prelude::*;

use crate::cpu::arith::Arith;
use crate::cpu::iter::SendPtr;

/// Below this many multiply-adds per matrix, a batch is split across threads instead of
/// each product.
const SMALL_PRODUCT: usize = 64 * 64 * 64;

/// A strided matrix operand: element `(i, j)` is at `ptr + i * rs + j * cs`.
#[derive(Clone, Copy)]
pub struct MatPtr<T> {
    pub ptr: SendPtr<T>,
    pub rs: isize,
    pub cs: isize,
}

impl<T> MatPtr<T> {
    pub fn new(ptr: *mut T, rs: usize, cs: usize) -> Self {
        MatPtr { ptr: SendPtr(ptr), rs: rs as isize, cs: cs as isize }
    }

    fn at(self, offset: usize) -> Self {
        MatPtr { ptr: SendPtr(unsafe { self.ptr.get().add(offset) }), ..self }
    }
}

/// One product's sizes and scaling: `dst = alpha * lhs @ rhs`, plus `beta * dst` when
/// `accumulate` (when not, `dst` is never read, so NaN there does not leak in).
#[derive(Clone, Copy)]
pub struct Product<T> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub alpha: T,
    pub beta: T,
    pub accumulate: bool,
}

/// Element types with a matrix-multiply kernel.
pub trait GemmElement: Arith {
    /// Runs one product on `threads` threads.
    ///
    /// # Safety
    /// Pointers must be valid for the sizes and strides; `dst` must not overlap the inputs.
    unsafe fn gemm(p: &Product<Self>, dst: MatPtr<Self>, lhs: MatPtr<Self>, rhs: MatPtr<Self>, threads: usize) {
        let _ = threads;
        naive_gemm(p, dst, lhs, rhs)
    }
}

/// The reference loop, used for integer types (PyTorch's CPU matmul accepts them).
unsafe fn naive_gemm<T: Arith>(p: &Product<T>, dst: MatPtr<T>, lhs: MatPtr<T>, rhs: MatPtr<T>) {
    let (d, a, b) = (dst.ptr.get(), lhs.ptr.get(), rhs.ptr.get());
    for i in 0..p.m as isize {
        for j in 0..p.n as isize {
            let mut acc = T::default();
            for l in 0..p.k as isize {
                acc = acc.add((*a.offset(i * lhs.rs + l * lhs.cs)).mul(*b.offset(l * rhs.rs + j * rhs.cs)));
            }
            let out = d.offset(i * dst.rs + j * dst.cs);
            let v = p.alpha.mul(acc);
            *out = if p.accumulate { p.beta.mul(*out).add(v) } else { v };
        }
    }
}

macro_rules! crate_gemm {
    ($($t:ty),*) => {$(
        impl GemmElement for $t {
            unsafe fn gemm(p: &Product<Self>, dst: MatPtr<Self>, lhs: MatPtr<Self>, rhs: MatPtr<Self>, threads: usize) {
                let par = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
                // The crate computes dst = alpha * dst + beta * lhs @ rhs (names swapped).
                gemm::gemm(
                    p.m, p.n, p.k,
                    dst.ptr.get(), dst.cs, dst.rs, p.accumulate,
                    lhs.ptr.get(), lhs.cs, lhs.rs,
                    rhs.ptr.get(), rhs.cs, rhs.rs,
                    p.beta, p.alpha, false, false, false, par,
                );
            }
        }
    )*};
}
crate_gemm!(f32, f64);

impl GemmElement for bool {}
impl GemmElement for u8 {}
impl GemmElement for i8 {}
impl GemmElement for i16 {}
impl GemmElement for i32 {}
impl GemmElement for i64 {}

/// One unscaled product `dst = lhs @ rhs`, or `dst += lhs @ rhs` when `accumulate`, on
/// `threads` threads (more than one only inside the kernel pool, `threads::install`).
///
/// # Safety
/// As `GemmElement::gemm`.
pub unsafe fn product<T: GemmElement>(m: usize, n: usize, k: usize, dst: MatPtr<T>, lhs: MatPtr<T>, rhs: MatPtr<T>, accumulate: bool, threads: usize) {
    let p = Product { m, n, k, alpha: T::from_f64(1.0), beta: T::from_f64(1.0), accumulate };
    T::gemm(&p, dst, lhs, rhs, threads)
}

/// Where each matrix of a batch starts, per operand (element offsets from each base pointer).
pub struct BatchOffsets {
    pub dst: Vec<usize>,
    pub lhs: Vec<usize>,
    pub rhs: Vec<usize>,
}

/// Runs the product for every matrix of a batch: matrix `b` of each operand starts at its
/// offset in `offsets`.
///
/// # Safety
/// As `GemmElement::gemm`, for every batch entry; distinct entries write disjoint `dst` blocks.
pub unsafe fn batched_gemm<T: GemmElement>(
    p: &Product<T>,
    dst: MatPtr<T>,
    lhs: MatPtr<T>,
    rhs: MatPtr<T>,
    offsets: &BatchOffsets,
) {
    let batch = offsets.dst.len();
    let work = p.m.saturating_mul(p.n).saturating_mul(p.k.max(1));
    let run = |b: usize, threads: usize| {
        T::gemm(p, dst.at(offsets.dst[b]), lhs.at(offsets.lhs[b]), rhs.at(offsets.rhs[b]), threads)
    };
    if work.saturating_mul(batch) < SMALL_PRODUCT {
        (0..batch).for_each(|b| run(b, 1));
        return;
    }
    crate::cpu::threads::install(|| {
        let threads = rayon::current_num_threads();
        if batch > 1 && work < SMALL_PRODUCT && threads > 1 {
            (0..batch).into_par_iter().for_each(|b| run(b, 1));
        } else {
            let per = if work >= SMALL_PRODUCT / 4 { threads } else { 1 };
            (0..batch).for_each(|b| run(b, per));
        }
    })
}
