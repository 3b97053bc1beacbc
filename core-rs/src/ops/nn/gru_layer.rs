//! A whole GRU layer, one direction, as one op, as `lstm_layer.rs` runs LSTM layers: the time
//! loop and its backward (BPTT) in Rust, one graph node per layer. Each step is one product of
//! the hidden state with `W_hh` (plus `b_hh`, which must stay inside the reset gate) and one
//! fused pass over the gates; the backward pass mirrors it and forms `W_hh`'s and `b_hh`'s
//! gradients over all steps at the end. CUDA operands take `cuda/recurrence.rs`.

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
use super::rnn::sigmoid;

/// Checks a GRU layer's operands (see `gru_layer`).
pub fn check(x: &Tensor, h0: &Tensor, w_hh: &Tensor, b_hh: Option<&Tensor>, batch_sizes: &[i64], reverse: bool) -> Result<(Recurrence, DType)> {
    let operands = Operands { op: "gru_layer", gates: 3, x, states: &[("h0", h0)], w_hh, b_hh };
    Recurrence::check(&operands, batch_sizes, reverse)
}

/// What the backward pass needs from the forward pass, one row per sequence and step (packed
/// layout): the activated gates (r, z, n), the new-gate third of the hidden gates
/// (`h W_hn^T + b_hn`) and the previous hidden state.
pub struct Workspace {
    pub gates: Tensor,
    pub gh_n: Tensor,
    pub h_prev: Tensor,
}

/// The three thirds (r, z, n) of one row of gates, writable.
#[inline(always)]
fn thirds_mut<R>(row: &mut [R], h: usize) -> (&mut [R], &mut [R], &mut [R]) {
    let (r, rest) = row.split_at_mut(h);
    let (z, n) = rest.split_at_mut(h);
    (r, z, n)
}

/// The forward pass's buffers in the compute type. `h` (B, H) holds the initial state and
/// ends as the final one; `gates` (N, 3H) starts as the projected input and ends as the
/// activated gates; `out` (N, H) receives every step's hidden state; `saved`, when the
/// backward pass needs them, receives `gh_n` and the previous hidden state of every row.
#[derive(Clone, Copy)]
struct Forward<R> {
    gates: SendPtr<R>,
    h: SendPtr<R>,
    out: SendPtr<R>,
    saved: Option<[SendPtr<R>; 2]>,
}

/// The forward loop over batch rows `rows` (one part's sequences).
///
/// # Safety
/// Buffers sized as `Forward` says; parts run over disjoint `rows`.
unsafe fn forward_rows<R: GemmElement + Real + Element>(rec: &Recurrence, w: &[R], bias: Option<&[R]>, b: Forward<R>, rows: Range<usize>) {
    let hid = rec.dims().1;
    // This part's hidden gates of one step, `h W_hh^T + b_hh`.
    let mut gh = vec![R::of(0.0); rows.len() * 3 * hid];
    for (off, lo, hi) in rec.steps(rows, false) {
        if let Some(bias) = bias {
            gh.chunks_mut(3 * hid).take(hi - lo).for_each(|r| r.copy_from_slice(bias));
        }
        // gh = (b_hh +) h @ W_hh^T; W_hh is (3H, H) row-major, so its transpose has strides (1, H).
        product(hi - lo, 3 * hid, hid, (gh.as_mut_ptr(), 3 * hid, 1), (b.h.get().add(lo * hid), hid, 1), (w.as_ptr(), 1, hid), bias.is_some());
        vectorized(|| {
            for r in lo..hi {
                let (n, hr) = (off + r, row(b.h, r, hid));
                let (xh_r, xh_z, xh_n) = thirds_mut(&mut gh[(r - lo) * 3 * hid..(r - lo + 1) * 3 * hid], hid);
                if let Some([gh_n, h_prev]) = b.saved {
                    row(gh_n, n, hid).copy_from_slice(xh_n);
                    row(h_prev, n, hid).copy_from_slice(hr);
                }
                // Zipped slices (no indexing) let the loop vectorize; `vecmath`'s exp and
                // tanh are branch-free.
                let (gr, gz, gn) = thirds_mut(row(b.gates, n, 3 * hid), hid);
                let gate = gr.iter_mut().zip(gz.iter_mut()).zip(gn.iter_mut());
                let hidden = xh_r.iter().zip(xh_z.iter()).zip(xh_n.iter()).zip(hr.iter_mut());
                for (((r, z), nv), (((&xr, &xz), &xn), hv)) in gate.zip(hidden) {
                    (*r, *z) = (sigmoid(*r + xr), sigmoid(*z + xz));
                    *nv = (*nv + *r * xn).tanh();
                    *hv = *nv + *z * (*hv - *nv);
                }
                row(b.out, n, hid).copy_from_slice(hr);
            }
        });
    }
}

/// The backward pass's buffers in the compute type: the workspace (`gates`, `gh_n`,
/// `h_prev`), the outputs' gradient `d_out` (N, H), the state gradient `dh` (B, H: the final
/// state's on entry, the initial state's on exit) and the gates' gradients `d_gi`, `d_gh`
/// (N, 3H; they differ in the new-gate third only).
#[derive(Clone, Copy)]
struct Backward<R> {
    gates: SendPtr<R>,
    gh_n: SendPtr<R>,
    h_prev: SendPtr<R>,
    d_out: SendPtr<R>,
    dh: SendPtr<R>,
    d_gi: SendPtr<R>,
    d_gh: SendPtr<R>,
}

/// BPTT over batch rows `rows`. `W_hh`'s gradient is `d_gh^T @ h_prev`, formed by the caller
/// in one product over all steps.
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
                let (gr, gz, gn) = thirds_mut(row(b.gates, n, 3 * hid), hid);
                let (hp, ghn, dout, dh) = (row(b.h_prev, n, hid), row(b.gh_n, n, hid), row(b.d_out, n, hid), row(b.dh, r, hid));
                let (di_r, di_z, di_n) = thirds_mut(row(b.d_gi, n, 3 * hid), hid);
                let (dh_r, dh_z, dh_n) = thirds_mut(row(b.d_gh, n, 3 * hid), hid);
                let gate = gr.iter().zip(gz.iter()).zip(gn.iter());
                let state = hp.iter().zip(ghn.iter()).zip(dout.iter().zip(dh.iter_mut()));
                let d_in = di_r.iter_mut().zip(di_z.iter_mut()).zip(di_n.iter_mut());
                let d_hid = dh_r.iter_mut().zip(dh_z.iter_mut()).zip(dh_n.iter_mut());
                for ((((&rv, &z), &nv), ((&hp, &ghn), (&dout, dhv))), (((dir, diz), din), ((dhr, dhz), dhn))) in gate.zip(state).zip(d_in.zip(d_hid)) {
                    let dy = *dhv + dout;
                    let dn = dy * (one - z) * (one - nv * nv);
                    let dz = dy * (hp - nv) * z * (one - z);
                    let dr = dn * ghn * rv * (one - rv);
                    (*dir, *diz, *din) = (dr, dz, dn);
                    (*dhr, *dhz, *dhn) = (dr, dz, dn * rv);
                    *dhv = dy * z;
                }
            }
        });
        // dh_prev += d_gh @ W_hh, over this part's rows of the step.
        let dg = b.d_gh.get().add((off + lo) * 3 * hid);
        product(hi - lo, hid, 3 * hid, (b.dh.get().add(lo * hid), hid, 1), (dg, 3 * hid, 1), (w.as_ptr(), hid, 1), true);
    }
}

/// Runs the layer: `(output (N, H), h_n)` and, when `keep` is set, the workspace for
/// `gru_layer_backward` (in the compute type).
pub fn gru_layer_forward(rec: &Recurrence, dtype: DType, x: &Tensor, h0: &Tensor, w_hh: &Tensor, b_hh: Option<&Tensor>, keep: bool) -> Result<(Vec<Tensor>, Option<Workspace>)> {
    if x.is_cuda() {
        return crate::cuda::recurrence::gru_forward(rec, dtype, x, h0, w_hh, b_hh, keep);
    }
    let compute = dtype.compute_type();
    let (rows, hid) = (rec.rows(), rec.dims().1);
    let (gates, h, w) = (owned(x, compute)?, owned(h0, compute)?, w_hh.contiguous_as(compute)?);
    let bias = b_hh.map(|b| b.contiguous_as(compute)).transpose()?;
    let out = Tensor::uninit(&[rows, hid], compute)?;
    let ws = if keep {
        let buf = || Tensor::uninit(&[rows, hid], compute);
        Some(Workspace { gates: gates.clone(), gh_n: buf()?, h_prev: buf()? })
    } else {
        None
    };
    with_real_dtype!(compute, R => unsafe {
        let saved = ws.as_ref().map(|ws| Ok::<_, crate::error::Error>([ptr(&ws.gh_n)?, ptr(&ws.h_prev)?])).transpose()?;
        let buffers = Forward { gates: ptr(&gates)?, h: ptr(&h)?, out: ptr(&out)?, saved };
        let (w, bias) = (w.as_slice::<R>()?, bias.as_ref().map(|b| b.as_slice::<R>()).transpose()?);
        over_parts(rec, 3, |rows| forward_rows(rec, w, bias, buffers, rows));
    });
    let outs = [out, h].iter().map(|t| t.to_dtype(dtype)).collect::<Result<Vec<_>>>()?;
    Ok((outs, ws))
}

/// Gradients `(d x, d h0, d W_hh, d b_hh)` of `gru_layer_forward` from those of its outputs
/// (`d b_hh` only when the layer has the bias).
pub fn gru_layer_backward(rec: &Recurrence, dtype: DType, ws: &Workspace, w_hh: &Tensor, has_bias: bool, d_out: &Tensor, d_hn: &Tensor) -> Result<Vec<Tensor>> {
    if ws.gates.is_cuda() {
        return crate::cuda::recurrence::gru_backward(rec, dtype, ws, w_hh, has_bias, d_out, d_hn);
    }
    let compute = dtype.compute_type();
    let (rows, hid) = (rec.rows(), rec.dims().1);
    let w = w_hh.contiguous_as(compute)?;
    let (d_out, dh) = (d_out.contiguous_as(compute)?, owned(d_hn, compute)?);
    let (d_gi, d_gh) = (Tensor::uninit(&[rows, 3 * hid], compute)?, Tensor::uninit(&[rows, 3 * hid], compute)?);
    let d_w = Tensor::uninit(&[3 * hid, hid], compute)?;
    with_real_dtype!(compute, R => unsafe {
        let buffers = Backward {
            gates: ptr(&ws.gates)?, gh_n: ptr(&ws.gh_n)?, h_prev: ptr(&ws.h_prev)?,
            d_out: ptr(&d_out)?, dh: ptr(&dh)?, d_gi: ptr(&d_gi)?, d_gh: ptr(&d_gh)?,
        };
        let w = w.as_slice::<R>()?;
        over_parts(rec, 3, |rows| backward_rows(rec, w, buffers, rows));
        // d W_hh = d_gh^T (3H, N) @ h_prev (N, H), every step in one product.
        product_over_steps(3 * hid, hid, rows, d_w.as_mut_slice::<R>()?, d_gh.as_slice::<R>()?, ws.h_prev.as_slice::<R>()?);
    });
    let mut grads = vec![d_gi, dh, d_w];
    if has_bias {
        grads.push(d_gh.sum(Some(&[0]), false, None)?);
    }
    grads.iter().map(|t| t.to_dtype(dtype)).collect()
}

/// One GRU layer over packed-layout input: `x` (N, 3H) is the projected input `x W_ih^T +
/// b_ih` (gates in PyTorch's order r, z, n), `h0` (B, H) the initial state, `w_hh` (3H, H) and
/// `b_hh` (3H) the hidden weights; steps run in reverse when `reverse`. Returns the hidden
/// state of every step (N, H) and the final `h_n` (B, H).
pub fn gru_layer(x: &Tensor, h0: &Tensor, w_hh: &Tensor, b_hh: Option<&Tensor>, batch_sizes: &[i64], reverse: bool) -> Result<(Tensor, Tensor)> {
    let (rec, dtype) = check(x, h0, w_hh, b_hh, batch_sizes, reverse)?;
    let inputs: Vec<&Tensor> = [x, h0, w_hh].into_iter().chain(b_hh).collect();
    let mut outs = if crate::autograd::needs_grad(&inputs) {
        crate::autograd::formulas::nn::rnn::gru_layer(rec, dtype, x, h0, w_hh, b_hh)?
    } else {
        gru_layer_forward(&rec, dtype, x, h0, w_hh, b_hh, false)?.0
    };
    let h = outs.pop().expect("two outputs");
    Ok((outs.pop().expect("two outputs"), h))
}
