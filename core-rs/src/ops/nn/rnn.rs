//! The element-wise part of an LSTM step fused into one pass (PyTorch fuses it too,
//! `_thnn_fused_lstm_cell`): the gates' activations, the new cell and the new hidden state,
//! and the matching backward pass.

use crate::cpu::map::vectorized;
use crate::cpu::real::Real;
use crate::dtype::{promote_types, DType, Element};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, with_real_dtype};

#[inline(always)]
pub(super) fn sigmoid<R: Real>(x: R) -> R {
    R::of(1.0) / (R::of(1.0) + (-x).exp())
}

/// Checks `gates` (B, 4H) against `c` (B, H); returns (B, H) and the result dtype.
fn check(gates: &Tensor, c: &Tensor) -> Result<(usize, usize, DType)> {
    let dtype = promote_types(gates.dtype(), c.dtype());
    if !dtype.is_float() {
        bail!(Runtime, "lstm_cell: expected floating-point gates and cell, got {:?} and {:?}", gates.dtype(), c.dtype());
    }
    if gates.ndim() != 2 || c.ndim() != 2 || gates.shape()[1] != 4 * c.shape()[1] || gates.shape()[0] != c.shape()[0] {
        bail!(
            Runtime,
            "lstm_cell: expected gates of shape [B, 4 * H] and a cell of shape [B, H], got gates {:?} and cell {:?}",
            gates.shape(),
            c.shape()
        );
    }
    Ok((c.shape()[0], c.shape()[1], dtype))
}

/// The four gate quarters (i, f, g, o) of one row of `gates`.
#[inline(always)]
pub(super) fn quarters<R>(row: &[R], h: usize) -> (&[R], &[R], &[R], &[R]) {
    let (i, rest) = row.split_at(h);
    let (f, rest) = rest.split_at(h);
    let (g, o) = rest.split_at(h);
    (i, f, g, o)
}

/// Rows of `gates` and `c` into `hy` and `cy`.
#[inline(always)]
fn forward<R: Real + Element>(gates: &[R], c: &[R], hy: &mut [R], cy: &mut [R], h: usize) {
    // Zipped slices (no indexing) let the inner loops vectorize; `vecmath`'s exp/tanh are
    // branch-free.
    let rows = gates.chunks(4 * h).zip(c.chunks(h)).zip(hy.chunks_mut(h).zip(cy.chunks_mut(h)));
    for ((g, cprev), (hrow, crow)) in rows {
        let (gi, gf, gg, go) = quarters(g, h);
        let ins = gi.iter().zip(gf).zip(gg.iter().zip(go)).zip(cprev);
        for ((((&i, &f), (&g, &o)), &cp), (hv, cv)) in ins.zip(hrow.iter_mut().zip(crow.iter_mut())) {
            let cn = sigmoid(f) * cp + sigmoid(i) * g.tanh();
            *cv = cn;
            *hv = sigmoid(o) * cn.tanh();
        }
    }
}

/// Gradients of `forward` with respect to the gates (pre-activation) and the previous cell.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward<R: Real + Element>(gates: &[R], c: &[R], cy: &[R], dh: &[R], dcy: &[R], dgates: &mut [R], dc: &mut [R], h: usize) {
    let one = R::of(1.0);
    let state = c.chunks(h).zip(cy.chunks(h)).zip(dh.chunks(h).zip(dcy.chunks(h)));
    let rows = gates.chunks(4 * h).zip(state).zip(dgates.chunks_mut(4 * h).zip(dc.chunks_mut(h)));
    for ((g, ((c, cy), (dh, dcy))), (dg, dcrow)) in rows {
        let (gi, gf, gg, go) = quarters(g, h);
        let (di, rest) = dg.split_at_mut(h);
        let (df, rest) = rest.split_at_mut(h);
        let (dgg, d_o) = rest.split_at_mut(h);
        let ins = gi.iter().zip(gf).zip(gg.iter().zip(go)).zip(c.iter().zip(cy).zip(dh.iter().zip(dcy)));
        let outs = di.iter_mut().zip(df.iter_mut()).zip(dgg.iter_mut().zip(d_o.iter_mut())).zip(dcrow.iter_mut());
        for ((((&i, &f), (&g, &o)), ((&cp, &cn), (&dhj, &dcn))), (((di, df), (dgg, d_o)), dcp)) in ins.zip(outs) {
            let (i, f, g, o) = (sigmoid(i), sigmoid(f), g.tanh(), sigmoid(o));
            let tc = cn.tanh();
            let dcell = dcn + dhj * o * (one - tc * tc);
            *di = dcell * g * i * (one - i);
            *df = dcell * cp * f * (one - f);
            *dgg = dcell * i * (one - g * g);
            *d_o = dhj * tc * o * (one - o);
            *dcp = dcell * f;
        }
    }
}

impl Tensor {
    /// One LSTM step's element-wise part: from the pre-activation `self` (B, 4H; gates in
    /// PyTorch's order i, f, g, o) and the previous cell `c` (B, H), the new hidden state
    /// `o * tanh(c')` and cell `c' = f * c + i * g`.
    pub fn lstm_cell(&self, c: &Tensor) -> Result<(Tensor, Tensor)> {
        if crate::autograd::needs_grad(&[self, c]) {
            return crate::autograd::formulas::nn::rnn::lstm_cell(self, c);
        }
        let (b, h, dtype) = check(self, c)?;
        let compute = dtype.compute_type();
        let (g, cc) = (self.contiguous_as(compute)?, c.contiguous_as(compute)?);
        if g.is_cuda() || cc.is_cuda() {
            let (hy, cy) = crate::cuda::nn::lstm_cell(&g, &cc)?;
            return Ok((hy.to_dtype(dtype)?, cy.to_dtype(dtype)?));
        }
        let (hy, cy) = (Tensor::uninit(&[b, h], compute)?, Tensor::uninit(&[b, h], compute)?);
        with_real_dtype!(compute, R => {
            let (gs, cs, hs, ys) = unsafe { (g.as_slice::<R>()?, cc.as_slice::<R>()?, hy.as_mut_slice::<R>()?, cy.as_mut_slice::<R>()?) };
            vectorized(|| forward::<R>(gs, cs, hs, ys, h))
        });
        Ok((hy.to_dtype(dtype)?, cy.to_dtype(dtype)?))
    }

    /// The gradients `(d gates, d c)` of `lstm_cell` from those of its outputs (`dh`, `dcy`),
    /// given its inputs and the cell `cy` it returned. Not recorded: the autograd formula uses
    /// it only when no graph of the backward pass is wanted.
    pub fn lstm_cell_backward(&self, c: &Tensor, cy: &Tensor, dh: &Tensor, dcy: &Tensor) -> Result<(Tensor, Tensor)> {
        let (b, h, dtype) = check(self, c)?;
        let compute = dtype.compute_type();
        let dense = |t: &Tensor| t.expand(&[b as i64, h as i64]).and_then(|t| t.contiguous_as(compute));
        let (g, cc, cyc, dhc, dcyc) = (self.contiguous_as(compute)?, dense(c)?, dense(cy)?, dense(dh)?, dense(dcy)?);
        if g.is_cuda() {
            let (dg, dc) = crate::cuda::nn::lstm_cell_backward(&g, &cc, &cyc, &dhc, &dcyc)?;
            return Ok((dg.to_dtype(dtype)?, dc.to_dtype(dtype)?));
        }
        let (dg, dc) = (Tensor::uninit(&[b, 4 * h], compute)?, Tensor::uninit(&[b, h], compute)?);
        with_real_dtype!(compute, R => {
            let ins = unsafe { [g.as_slice::<R>()?, cc.as_slice::<R>()?, cyc.as_slice::<R>()?, dhc.as_slice::<R>()?, dcyc.as_slice::<R>()?] };
            let (dgs, dcs) = unsafe { (dg.as_mut_slice::<R>()?, dc.as_mut_slice::<R>()?) };
            vectorized(|| backward::<R>(ins[0], ins[1], ins[2], ins[3], ins[4], dgs, dcs, h))
        });
        Ok((dg.to_dtype(dtype)?, dc.to_dtype(dtype)?))
    }
}
