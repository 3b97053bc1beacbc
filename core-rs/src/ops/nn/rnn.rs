//! The element-wise parts of LSTM and GRU steps fused into one pass each (PyTorch fuses them
//! too, `_thnn_fused_lstm_cell` and `_thnn_fused_gru_cell`): the gates' activations and the
//! new states, and the matching backward passes.

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

/// Checks a GRU step's `gi`, `gh` (B, 3H) against `h` (B, H); returns (B, H) and the dtype.
fn check_gru(gi: &Tensor, gh: &Tensor, h: &Tensor) -> Result<(usize, usize, DType)> {
    let dtype = promote_types(promote_types(gi.dtype(), gh.dtype()), h.dtype());
    if !dtype.is_float() {
        bail!(Runtime, "gru_cell: expected floating-point gates and state, got {:?}, {:?} and {:?}", gi.dtype(), gh.dtype(), h.dtype());
    }
    let (b, hid) = if h.ndim() == 2 { (h.shape()[0], h.shape()[1]) } else { (0, 0) };
    if h.ndim() != 2 || gi.shape() != [b, 3 * hid] || gh.shape() != [b, 3 * hid] {
        bail!(
            Runtime,
            "gru_cell: expected input and hidden gates of shape [B, 3 * H] and a state of shape [B, H], got {:?}, {:?} and {:?}",
            gi.shape(),
            gh.shape(),
            h.shape()
        );
    }
    Ok((b, hid, dtype))
}

/// Rows of the input gates `gi` and hidden gates `gh` (r, z, n thirds) and the state `hp` into
/// `hy = n + z * (h - n)`, with `r, z = sigmoid(gi + gh)` and `n = tanh(gi_n + r * gh_n)`.
#[inline(always)]
fn gru_forward<R: Real + Element>(gi: &[R], gh: &[R], hp: &[R], hy: &mut [R], h: usize) {
    for (((xi, xh), hrow), out) in gi.chunks(3 * h).zip(gh.chunks(3 * h)).zip(hp.chunks(h)).zip(hy.chunks_mut(h)) {
        for j in 0..h {
            let r = sigmoid(xi[j] + xh[j]);
            let z = sigmoid(xi[h + j] + xh[h + j]);
            let n = (xi[2 * h + j] + r * xh[2 * h + j]).tanh();
            out[j] = n + z * (hrow[j] - n);
        }
    }
}

/// Gradients of `gru_forward` with respect to `gi`, `gh` and `hp` from `dhy`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn gru_backward<R: Real + Element>(gi: &[R], gh: &[R], hp: &[R], dhy: &[R], dgi: &mut [R], dgh: &mut [R], dh: &mut [R], h: usize) {
    let one = R::of(1.0);
    let ins = gi.chunks(3 * h).zip(gh.chunks(3 * h)).zip(hp.chunks(h).zip(dhy.chunks(h)));
    let outs = dgi.chunks_mut(3 * h).zip(dgh.chunks_mut(3 * h)).zip(dh.chunks_mut(h));
    for (((xi, xh), (hrow, dy)), ((di, dg), dhrow)) in ins.zip(outs) {
        for j in 0..h {
            let r = sigmoid(xi[j] + xh[j]);
            let z = sigmoid(xi[h + j] + xh[h + j]);
            let n = (xi[2 * h + j] + r * xh[2 * h + j]).tanh();
            let dn = dy[j] * (one - z) * (one - n * n);
            let dr = dn * xh[2 * h + j] * r * (one - r);
            let dz = dy[j] * (hrow[j] - n) * z * (one - z);
            (di[j], di[h + j], di[2 * h + j]) = (dr, dz, dn);
            (dg[j], dg[h + j], dg[2 * h + j]) = (dr, dz, dn * r);
            dhrow[j] = dy[j] * z;
        }
    }
}

impl Tensor {
    /// One GRU step's element-wise part: from the input gates `self` (B, 3H: `x W_ih^T + b_ih`,
    /// thirds r, z, n), the hidden gates `gh` (B, 3H: `h W_hh^T + b_hh`) and the state `h`
    /// (B, H), the new state `(1 - z) * n + z * h`.
    pub fn gru_cell(&self, gh: &Tensor, h: &Tensor) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self, gh, h]) {
            return crate::autograd::formulas::nn::rnn::gru_cell(self, gh, h);
        }
        let (b, hid, dtype) = check_gru(self, gh, h)?;
        let compute = dtype.compute_type();
        let (gi, ghc, hc) = (self.contiguous_as(compute)?, gh.contiguous_as(compute)?, h.contiguous_as(compute)?);
        if gi.is_cuda() || ghc.is_cuda() || hc.is_cuda() {
            return crate::cuda::nn::gru_cell(&gi, &ghc, &hc)?.to_dtype(dtype);
        }
        let hy = Tensor::uninit(&[b, hid], compute)?;
        with_real_dtype!(compute, R => {
            let (a, g, hp, out) = unsafe { (gi.as_slice::<R>()?, ghc.as_slice::<R>()?, hc.as_slice::<R>()?, hy.as_mut_slice::<R>()?) };
            vectorized(|| gru_forward::<R>(a, g, hp, out, hid))
        });
        hy.to_dtype(dtype)
    }

    /// The gradients `(d gi, d gh, d h)` of `gru_cell` from that of its output. Not recorded:
    /// the autograd formula uses it only when no graph of the backward pass is wanted.
    pub fn gru_cell_backward(&self, gh: &Tensor, h: &Tensor, dhy: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let (b, hid, dtype) = check_gru(self, gh, h)?;
        let compute = dtype.compute_type();
        let dense = |t: &Tensor| t.contiguous_as(compute);
        let dy = dhy.expand(&[b as i64, hid as i64])?.contiguous_as(compute)?;
        let (gi, ghc, hc) = (dense(self)?, dense(gh)?, dense(h)?);
        if gi.is_cuda() {
            let (dgi, dgh, dh) = crate::cuda::nn::gru_cell_backward(&gi, &ghc, &hc, &dy)?;
            return Ok((dgi.to_dtype(dtype)?, dgh.to_dtype(dtype)?, dh.to_dtype(dtype)?));
        }
        let (dgi, dgh, dh) = (Tensor::uninit(&[b, 3 * hid], compute)?, Tensor::uninit(&[b, 3 * hid], compute)?, Tensor::uninit(&[b, hid], compute)?);
        with_real_dtype!(compute, R => {
            let ins = unsafe { [gi.as_slice::<R>()?, ghc.as_slice::<R>()?, hc.as_slice::<R>()?, dy.as_slice::<R>()?] };
            let outs = unsafe { (dgi.as_mut_slice::<R>()?, dgh.as_mut_slice::<R>()?, dh.as_mut_slice::<R>()?) };
            vectorized(|| gru_backward::<R>(ins[0], ins[1], ins[2], ins[3], outs.0, outs.1, outs.2, hid))
        });
        Ok((dgi.to_dtype(dtype)?, dgh.to_dtype(dtype)?, dh.to_dtype(dtype)?))
    }

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
