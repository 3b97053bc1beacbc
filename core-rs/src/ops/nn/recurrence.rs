//! What the native recurrent layers (`lstm_layer`, `gru_layer`) share: the checked step
//! schedule over packed-layout input, the split of a batch's sequences across threads, and the
//! single-threaded products and row views their time loops are made of.
//!
//! Sequences are in packed layout: step `t` holds the `batch_sizes[t]` sequences still
//! running (rows `offsets[t]..` of the input), a non-increasing count. The states live in
//! `(B, H)` buffers of which each step updates the first `batch_sizes[t]` rows in place, so
//! a sequence that has ended keeps its final state (forward direction) and one that has not
//! started yet keeps its initial state (reverse direction) with no bookkeeping.

use std::ops::Range;

use rayon::prelude::*;

use crate::bail;
use crate::cpu::gemm::{self, GemmElement, MatPtr};
use crate::cpu::iter::SendPtr;
use crate::cpu::real::Real;
use crate::dtype::{promote_types, DType};
use crate::error::Result;
use crate::tensor::Tensor;

/// The layer's sizes and step order, checked once.
#[derive(Clone, Debug)]
pub struct Recurrence {
    /// `(first row, rows)` of every step, in the order the forward pass runs them.
    schedule: Vec<(usize, usize)>,
    batch: usize,
    hidden: usize,
}

/// A recurrent layer's operands as `Recurrence::check` reads them: the projected input `x`
/// (N, gates * H), the named initial states (B, H each), `weight_hh` (gates * H, H) and an
/// optional hidden bias (gates * H).
pub struct Operands<'a> {
    pub op: &'static str,
    pub gates: usize,
    pub x: &'a Tensor,
    pub states: &'a [(&'static str, &'a Tensor)],
    pub w_hh: &'a Tensor,
    pub b_hh: Option<&'a Tensor>,
}

impl Recurrence {
    /// Checks the operands against `batch_sizes`; returns the recurrence and the dtype of the
    /// result.
    pub fn check(ops: &Operands, batch_sizes: &[i64], reverse: bool) -> Result<(Recurrence, DType)> {
        let Operands { op, gates, x, states, w_hh, b_hh } = *ops;
        let all = || [x, w_hh].into_iter().chain(states.iter().map(|(_, s)| *s)).chain(b_hh);
        let dtype = all().fold(x.dtype(), |d, t| promote_types(d, t.dtype()));
        if !dtype.is_float() {
            bail!(Runtime, "{}: expected floating-point inputs, got {:?}", op, dtype);
        }
        let h0 = states[0].1;
        let shapes_ok = x.ndim() == 2 && h0.ndim() == 2 && states.iter().all(|(_, s)| s.shape() == h0.shape()) && w_hh.ndim() == 2 && {
            let (batch, hidden) = (h0.shape()[0], h0.shape()[1]);
            x.shape()[1] == gates * hidden && w_hh.shape() == [gates * hidden, hidden] && batch > 0 && b_hh.is_none_or(|b| b.shape() == [gates * hidden])
        };
        if !shapes_ok {
            let named = states.iter().map(|(name, s)| format!("{} {:?}", name, s.shape())).collect::<Vec<_>>().join(", ");
            let (bias_want, bias_got) = match b_hh {
                Some(b) => (format!(", bias_hh [{} * H]", gates), format!(", bias_hh {:?}", b.shape())),
                None => (String::new(), String::new()),
            };
            bail!(
                Runtime,
                "{}: expected input [N, {g} * H], states [B, H] and weight_hh [{g} * H, H]{}, got input {:?}, {} and weight_hh {:?}{}",
                op,
                bias_want,
                x.shape(),
                named,
                w_hh.shape(),
                bias_got,
                g = gates
            );
        }
        let (batch, hidden) = (h0.shape()[0], h0.shape()[1]);
        let sizes_ok = batch_sizes.iter().all(|&s| s > 0 && s as usize <= batch) && batch_sizes.windows(2).all(|w| w[1] <= w[0]);
        let total: i64 = batch_sizes.iter().sum();
        if !sizes_ok || total != x.shape()[0] as i64 {
            bail!(
                Runtime,
                "{}: batch_sizes must be positive, non-increasing, at most the batch size {} and sum to the input's {} rows, got {:?}",
                op,
                batch,
                x.shape()[0],
                batch_sizes
            );
        }
        let mut schedule: Vec<(usize, usize)> =
            batch_sizes.iter().scan(0, |at, &s| Some((std::mem::replace(at, *at + s as usize), s as usize))).collect();
        if reverse {
            schedule.reverse();
        }
        Ok((Recurrence { schedule, batch, hidden }, dtype))
    }

    /// `(first row, rows)` of every step, in the order the forward pass runs them.
    pub fn schedule(&self) -> &[(usize, usize)] {
        &self.schedule
    }

    /// Rows of all steps.
    pub fn rows(&self) -> usize {
        self.schedule.iter().map(|&(_, rows)| rows).sum()
    }

    /// `(batch, hidden)`.
    pub fn dims(&self) -> (usize, usize) {
        (self.batch, self.hidden)
    }

    /// The steps batch rows `rows` (one part's sequences) take part in, in the forward pass's
    /// order or, with `backward`, the reverse: `(first row of the step, lo, hi)`, the part's
    /// rows of the step being `lo..hi` of the batch.
    pub fn steps(&self, rows: Range<usize>, backward: bool) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let order: Box<dyn Iterator<Item = &(usize, usize)>> =
            if backward { Box::new(self.schedule.iter().rev()) } else { Box::new(self.schedule.iter()) };
        order.filter_map(move |&(off, size)| {
            let (lo, hi) = (rows.start, rows.end.min(size));
            (lo < hi).then_some((off, lo, hi))
        })
    }
}

/// How many parts the batch's sequences split into for a layer of `gates` gates. Sequences
/// never mix within a layer, so each part runs the whole time loop over its own rows with no
/// synchronisation between steps (a step's product is too small to split across threads
/// profitably). Parts keep at least 8 rows, so each step's product stays worth its packing.
fn parts(rec: &Recurrence, gates: usize) -> usize {
    let work = rec.rows() * gates * rec.hidden * rec.hidden;
    if work < 1 << 20 {
        return 1;
    }
    crate::cpu::threads::num_threads().min(rec.batch / 8).max(1)
}

/// Runs `task(rows)` for each part's range of batch rows, in parallel when there are several.
pub fn over_parts(rec: &Recurrence, gates: usize, task: impl Fn(Range<usize>) + Sync + Send) {
    let (n, batch) = (parts(rec, gates), rec.batch);
    if n == 1 {
        return task(0..batch);
    }
    crate::cpu::threads::install(|| (0..n).into_par_iter().for_each(|k| task(k * batch / n..(k + 1) * batch / n)));
}

/// `dst (m, n) (+)= lhs (m, k) @ rhs (k, n)` on one thread, operands given by pointer, row
/// stride and column stride.
///
/// # Safety
/// Every operand must be in bounds for its strides, and `dst` must not overlap the others.
pub unsafe fn product<R: GemmElement>(m: usize, n: usize, k: usize, dst: (*mut R, usize, usize), lhs: (*const R, usize, usize), rhs: (*const R, usize, usize), accumulate: bool) {
    let mat = |(ptr, rs, cs): (*const R, usize, usize)| MatPtr::new(ptr as *mut R, rs, cs);
    gemm::product(m, n, k, MatPtr::new(dst.0, dst.1, dst.2), mat(lhs), mat(rhs), accumulate, 1)
}

/// `dst (m, n) = lhsᵀ @ rhs` for `lhs` (k, m) and `rhs` (k, n), both dense, on every thread:
/// a weight's gradient over all steps at once.
///
/// # Safety
/// The slices must hold `k * m`, `k * n` and `m * n` elements.
pub unsafe fn product_over_steps<R: GemmElement + Real>(m: usize, n: usize, k: usize, dst: &mut [R], lhs: &[R], rhs: &[R]) {
    if k == 0 {
        return dst.fill(R::of(0.0));
    }
    let (dst, lhs, rhs) = (MatPtr::new(dst.as_mut_ptr(), n, 1), MatPtr::new(lhs.as_ptr() as *mut R, 1, m), MatPtr::new(rhs.as_ptr() as *mut R, n, 1));
    crate::cpu::threads::install(|| gemm::product(m, n, k, dst, lhs, rhs, false, crate::cpu::threads::num_threads()));
}

/// Row `n` of a `width`-wide matrix at `p`.
///
/// # Safety
/// The row must be in bounds, and no other live reference may overlap it.
#[inline(always)]
pub unsafe fn row<'a, R>(p: SendPtr<R>, n: usize, width: usize) -> &'a mut [R] {
    std::slice::from_raw_parts_mut(p.get().add(n * width), width)
}

/// A dense copy of `t` in `dtype`, a fresh tensor the kernels may write.
pub fn owned(t: &Tensor, dtype: DType) -> Result<Tensor> {
    let c = t.contiguous_as(dtype)?;
    if c.is_same(t) {
        c.clone_contiguous()
    } else {
        Ok(c)
    }
}

/// A raw pointer to `t`'s elements of type `R`, for the time loops.
///
/// # Safety
/// `t` must be dense, of element type `R`, and outlive every use of the pointer.
pub unsafe fn ptr<R: crate::dtype::Element>(t: &Tensor) -> Result<SendPtr<R>> {
    Ok(SendPtr(t.as_mut_slice::<R>()?.as_mut_ptr()))
}
