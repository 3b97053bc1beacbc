//! A whole LSTM layer, one direction, as one op: the time loop and its backward (BPTT) run
//! here rather than as one Python step and one graph node per time step, as PyTorch's native
//! `lstm` runs them. Each step is one product of the hidden state with `W_hh` and one fused
//! pass over the gates; the backward pass mirrors it and forms `W_hh`'s gradient with a
//! single product over all steps at the end. The schedule over packed-layout input and the
//! thread split are `recurrence.rs`'s, shared with the GRU layer; CUDA operands take
//! `cuda/recurrence.rs`, the same loop over the device's buffers.

use std::ops::Range;

use crate::cpu::gemm::GemmElement;
use crate::cpu::iter::SendPtr;
use crate::cpu::map::vectorized;
use crate::cpu::real::Real;
use crate::dtype::{DType, Element};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::with_real_dtype;

use super::recurrence::{over_parts, owned, product, product_over_steps, ptr, row, Operands, Recurrence};
use super::rnn::{quarters, sigmoid};

/// What the backward pass needs from the forward pass, one row per sequence and step
/// (packed layout): the activated gates (i, f, g, o), the previous cell, tanh of the new
/// cell and the previous hidden state.
pub struct Workspace {
    pub gates: Tensor,
    pub c_prev: Tensor,
    pub tanh_c: Tensor,
    pub h_prev: Tensor,
}

/// The four gate quarters (i, f, g, o) of one row of gates, writable (`rnn::quarters` reads).
#[inline(always)]
fn quarters_mut<R>(row: &mut [R], h: usize) -> (&mut [R], &mut [R], &mut [R], &mut [R]) {
    let (i, rest) = row.split_at_mut(h);
    let (f, rest) = rest.split_at_mut(h);
    let (g, o) = rest.split_at_mut(h);
    (i, f, g, o)
}

/// The forward pass's buffers in the compute type. `h` and `c` (B, H) hold the initial
/// states and end as the final ones; `gates` (N, 4H) starts as the projected input and ends
/// as the activated gates; `out` (N, H) receives every step's hidden state; `saved`, when
/// the backward pass needs them, receives the previous cell, tanh of the new cell and the
/// previous hidden state of every row.
#[derive(Clone, Copy)]
struct Forward<R> {
    gates: SendPtr<R>,
    h: SendPtr<R>,
    c: SendPtr<R>,
    out: SendPtr<R>,
    saved: Option<[SendPtr<R>; 3]>,
}

/// The forward loop over batch rows `rows` (one part's sequences).
///
/// # Safety
/// Buffers sized as `Forward` says; parts run over disjoint `rows`.
unsafe fn forward_rows<R: GemmElement + Real + Element>(rec: &Recurrence, w: &[R], b: Forward<R>, rows: Range<usize>) {
    let hid = rec.dims().1;
    let mut scratch = vec![R::of(0.0); hid];
    for (off, lo, hi) in rec.steps(rows, false) {
        // gates += h @ W_hh^T; W_hh is (4H, H) row-major, so its transpose has strides (1, H).
        let g = b.gates.get().add((off + lo) * 4 * hid);
        product(hi - lo, 4 * hid, hid, (g, 4 * hid, 1), (b.h.get().add(lo * hid), hid, 1), (w.as_ptr(), 1, hid), true);
        vectorized(|| {
            for r in lo..hi {
                let (n, hr, cr) = (off + r, row(b.h, r, hid), row(b.c, r, hid));
                let tanh_c = match b.saved {
                    Some([c_prev, tanh_c, h_prev]) => {
                        row(c_prev, n, hid).copy_from_slice(cr);
                        row(h_prev, n, hid).copy_from_slice(hr);
                        row(tanh_c, n, hid)
                    }
                    None => &mut scratch[..],
                };
                // Zipped slices (no indexing) let the loop vectorize; `vecmath`'s exp and
                // tanh are branch-free.
                let (gi, gf, gg, go) = quarters_mut(row(b.gates, n, 4 * hid), hid);
                let gate = gi.iter_mut().zip(gf.iter_mut()).zip(gg.iter_mut().zip(go.iter_mut()));
                for (((i, f), (gv, o)), ((cv, hv), tc)) in gate.zip(cr.iter_mut().zip(hr.iter_mut()).zip(tanh_c.iter_mut())) {
                    (*i, *f, *gv, *o) = (sigmoid(*i), sigmoid(*f), gv.tanh(), sigmoid(*o));
                    *cv = *f * *cv + *i * *gv;
                    *tc = cv.tanh();
                    *hv = *o * *tc;
                }
                row(b.out, n, hid).copy_from_slice(hr);
            }
        });
    }
}

/// The backward pass's buffers in the compute type: the workspace (`gates`, `c_prev`,
/// `tanh_c`, as `Forward` leaves them), the outputs' gradient `d_out` (N, H), the state
/// gradients `dh`, `dc` (B, H: the final states' on entry, the initial states' on exit) and
/// the gates' gradient `d_gates` (N, 4H).
#[derive(Clone, Copy)]
struct Backward<R> {
    gates: SendPtr<R>,
    c_prev: SendPtr<R>,
    tanh_c: SendPtr<R>,
    d_out: SendPtr<R>,
    dh: SendPtr<R>,
    dc: SendPtr<R>,
    d_gates: SendPtr<R>,
}

/// BPTT over batch rows `rows`. `W_hh`'s gradient is `d_gates^T @ h_prev`, formed by the
/// caller in one product over all steps.
///
/// # Safety
/// As `forward_rows`.
unsafe fn backward_rows<R: GemmElement + Real + Element>(rec: &Recurrence, w: &[R], b: Backward<R>, rows: Range<usize>) {
    let hid = rec.dims().1;
    let one = R::of(1.0);
    for (off, lo, hi) in rec.steps(rows, true) {
        vectorized(|| {
            for r in lo..hi {
                let n = off + r;
                let (cp, tc, dout) = (row(b.c_prev, n, hid), row(b.tanh_c, n, hid), row(b.d_out, n, hid));
                let (dhr, dcr) = (row(b.dh, r, hid), row(b.dc, r, hid));
                let (gi, gf, gg, go) = quarters(row(b.gates, n, 4 * hid), hid);
                let (di, df, dgg, d_o) = quarters_mut(row(b.d_gates, n, 4 * hid), hid);
                let gate = gi.iter().zip(gf.iter()).zip(gg.iter().zip(go.iter()));
                let state = cp.iter().zip(tc.iter()).zip(dout.iter().zip(dhr.iter()));
                let grads = di.iter_mut().zip(df.iter_mut()).zip(dgg.iter_mut().zip(d_o.iter_mut())).zip(dcr.iter_mut());
                for ((((&i, &f), (&gv, &o)), ((&cp, &tc), (&dout, &dhr))), (((di, df), (dgg, d_o)), dcv)) in gate.zip(state).zip(grads) {
                    let dhj = dhr + dout;
                    let dcell = *dcv + dhj * o * (one - tc * tc);
                    *di = dcell * gv * i * (one - i);
                    *df = dcell * cp * f * (one - f);
                    *dgg = dcell * i * (one - gv * gv);
                    *d_o = dhj * tc * o * (one - o);
                    *dcv = dcell * f;
                }
            }
        });
        // dh_prev = d_gates @ W_hh, over this part's rows of the step.
        let dg = b.d_gates.get().add((off + lo) * 4 * hid);
        product(hi - lo, hid, 4 * hid, (b.dh.get().add(lo * hid), hid, 1), (dg, 4 * hid, 1), (w.as_ptr(), hid, 1), false);
    }
}

/// Runs the layer: `(output (N, H), h_n, c_n)` and, when `keep` is set, the workspace for
/// `lstm_layer_backward` (in the compute type).
pub fn lstm_layer_forward(rec: &Recurrence, dtype: DType, x: &Tensor, h0: &Tensor, c0: &Tensor, w_hh: &Tensor, keep: bool) -> Result<(Vec<Tensor>, Option<Workspace>)> {
    if x.is_cuda() {
        return crate::cuda::recurrence::lstm_forward(rec, dtype, x, h0, c0, w_hh, keep);
    }
    let compute = dtype.compute_type();
    let (rows, hid) = (rec.rows(), rec.dims().1);
    let (gates, h, c, w) = (owned(x, compute)?, owned(h0, compute)?, owned(c0, compute)?, w_hh.contiguous_as(compute)?);
    let out = Tensor::uninit(&[rows, hid], compute)?;
    let ws = if keep {
        let buf = || Tensor::uninit(&[rows, hid], compute);
        Some(Workspace { gates: gates.clone(), c_prev: buf()?, tanh_c: buf()?, h_prev: buf()? })
    } else {
        None
    };
    with_real_dtype!(compute, R => unsafe {
        let saved = ws.as_ref().map(|ws| Ok::<_, crate::error::Error>([ptr(&ws.c_prev)?, ptr(&ws.tanh_c)?, ptr(&ws.h_prev)?])).transpose()?;
        let buffers = Forward { gates: ptr(&gates)?, h: ptr(&h)?, c: ptr(&c)?, out: ptr(&out)?, saved };
        let w = w.as_slice::<R>()?;
        over_parts(rec, 4, |rows| forward_rows(rec, w, buffers, rows));
    });
    let outs = [out, h, c].iter().map(|t| t.to_dtype(dtype)).collect::<Result<Vec<_>>>()?;
    Ok((outs, ws))
}

/// Gradients `(d x, d h0, d c0, d W_hh)` of `lstm_layer_forward` from those of its outputs.
pub fn lstm_layer_backward(rec: &Recurrence, dtype: DType, ws: &Workspace, w_hh: &Tensor, d_out: &Tensor, d_hn: &Tensor, d_cn: &Tensor) -> Result<[Tensor; 4]> {
    if ws.gates.is_cuda() {
        return crate::cuda::recurrence::lstm_backward(rec, dtype, ws, w_hh, d_out, d_hn, d_cn);
    }
    let compute = dtype.compute_type();
    let (rows, hid) = (rec.rows(), rec.dims().1);
    let w = w_hh.contiguous_as(compute)?;
    let (d_out, dh, dc) = (d_out.contiguous_as(compute)?, owned(d_hn, compute)?, owned(d_cn, compute)?);
    let d_gates = Tensor::uninit(&[rows, 4 * hid], compute)?;
    let d_w = Tensor::uninit(&[4 * hid, hid], compute)?;
    with_real_dtype!(compute, R => unsafe {
        let buffers = Backward {
            gates: ptr(&ws.gates)?, c_prev: ptr(&ws.c_prev)?, tanh_c: ptr(&ws.tanh_c)?,
            d_out: ptr(&d_out)?, dh: ptr(&dh)?, dc: ptr(&dc)?, d_gates: ptr(&d_gates)?,
        };
        let w = w.as_slice::<R>()?;
        over_parts(rec, 4, |rows| backward_rows(rec, w, buffers, rows));
        // d W_hh = d_gates^T (4H, N) @ h_prev (N, H), every step in one product.
        product_over_steps(4 * hid, hid, rows, d_w.as_mut_slice::<R>()?, d_gates.as_slice::<R>()?, ws.h_prev.as_slice::<R>()?);
    });
    let grads = [d_gates, dh, dc, d_w].map(|t| t.to_dtype(dtype));
    let [a, b, c, d] = grads;
    Ok([a?, b?, c?, d?])
}

/// One LSTM layer over packed-layout input: `x` (N, 4H) is the projected input with both
/// biases added (gates in PyTorch's order i, f, g, o), `h0`/`c0` (B, H) the initial states,
/// `w_hh` (4H, H); steps run in reverse when `reverse`. Returns the hidden state of every
/// step (N, H) and the final `h_n`, `c_n` (B, H).
pub fn lstm_layer(x: &Tensor, h0: &Tensor, c0: &Tensor, w_hh: &Tensor, batch_sizes: &[i64], reverse: bool) -> Result<(Tensor, Tensor, Tensor)> {
    let operands = Operands { op: "lstm_layer", gates: 4, x, states: &[("h0", h0), ("c0", c0)], w_hh, b_hh: None };
    let (rec, dtype) = Recurrence::check(&operands, batch_sizes, reverse)?;
    let mut outs = if crate::autograd::needs_grad(&[x, h0, c0, w_hh]) {
        crate::autograd::formulas::nn::rnn::lstm_layer(rec, dtype, x, h0, c0, w_hh)?
    } else {
        lstm_layer_forward(&rec, dtype, x, h0, c0, w_hh, false)?.0
    };
    let c = outs.pop().expect("three outputs");
    let h = outs.pop().expect("three outputs");
    Ok((outs.pop().expect("three outputs"), h, c))
}
