//! Strided iteration: the loops every CPU kernel is built on. Dims that are contiguous with
//! respect to each other are merged first, so a contiguous tensor is one flat row.

use crate::layout::Layout;
use rayon::prelude::*;

/// Elements below which a kernel runs on one thread: splitting costs more than it saves.
pub const GRAIN: usize = 32 * 1024;

/// Calls `f(offsets, len, inner_strides)` for every run of elements along the innermost
/// (coalesced) dim of `shape`, walking `K` operands together. `offsets[k]` is operand k's
/// storage offset of the run's first element. Runs in parallel when `shape` is large.
pub fn for_each_row<const K: usize, F>(shape: &[usize], operands: [(&[usize], usize); K], f: F)
where
    F: Fn([usize; K], usize, [usize; K]) + Sync,
{
    let numel: usize = shape.iter().product();
    if numel == 0 {
        return;
    }
    let strides: Vec<&[usize]> = operands.iter().map(|o| o.0).collect();
    let (cshape, cstrides) = Layout::coalesce(shape, &strides);
    let base: [usize; K] = std::array::from_fn(|k| operands[k].1);
    if cshape.is_empty() {
        f(base, 1, [0; K]);
        return;
    }
    let walk = |start: usize, end: usize| walk_range(&cshape, &cstrides, base, start, end, &f);
    if numel < GRAIN {
        walk(0, numel);
        return;
    }
    crate::cpu::threads::install(|| {
        let threads = rayon::current_num_threads();
        let chunks = (numel / GRAIN).min(threads * 4).max(1);
        let per = numel.div_ceil(chunks);
        (0..chunks).into_par_iter().for_each(|c| walk(c * per, ((c + 1) * per).min(numel)));
    });
}

fn walk_range<const K: usize, F>(
    shape: &[usize],
    strides: &[Vec<usize>],
    base: [usize; K],
    start: usize,
    end: usize,
    f: &F,
) where
    F: Fn([usize; K], usize, [usize; K]),
{
    let nd = shape.len();
    let inner = shape[nd - 1];
    let inner_strides: [usize; K] = std::array::from_fn(|k| strides[k][nd - 1]);
    let mut idx = vec![0usize; nd];
    let mut rem = start;
    for d in (0..nd).rev() {
        idx[d] = rem % shape[d];
        rem /= shape[d];
    }
    let mut pos = start;
    while pos < end {
        let len = (inner - idx[nd - 1]).min(end - pos);
        let offsets: [usize; K] = std::array::from_fn(|k| {
            base[k] + idx.iter().zip(&strides[k]).map(|(i, s)| i * s).sum::<usize>()
        });
        f(offsets, len, inner_strides);
        pos += len;
        idx[nd - 1] += len;
        let mut d = nd - 1;
        while idx[d] == shape[d] && d > 0 {
            idx[d] = 0;
            d -= 1;
            idx[d] += 1;
        }
    }
}

/// Calls `f(offset)` for each element of `layout` in row-major order, on this thread.
pub fn for_each_offset(layout: &Layout, mut f: impl FnMut(usize)) {
    if layout.numel() == 0 {
        return;
    }
    let (cshape, cstrides) = Layout::coalesce(&layout.shape, &[&layout.strides]);
    if cshape.is_empty() {
        f(layout.offset);
        return;
    }
    let nd = cshape.len();
    let st = &cstrides[0];
    let mut idx = vec![0usize; nd];
    let mut off = layout.offset;
    loop {
        for i in 0..cshape[nd - 1] {
            f(off + i * st[nd - 1]);
        }
        let mut d = nd - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            off += st[d];
            if idx[d] < cshape[d] {
                break;
            }
            off -= st[d] * cshape[d];
            idx[d] = 0;
        }
    }
}

/// A raw pointer that may cross threads; kernels guarantee disjoint writes.
#[derive(Clone, Copy)]
pub struct SendPtr<T>(pub *mut T);
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    #[inline]
    pub fn get(self) -> *mut T {
        self.0
    }
}
