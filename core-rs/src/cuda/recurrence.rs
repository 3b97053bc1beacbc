//! Whole LSTM and GRU layers on the GPU, the CUDA forms of ops/nn/lstm_layer.rs and
//! gru_layer.rs with the same buffers and workspaces: each step is one cuBLAS product of the
//! hidden state with `W_hh` (for the LSTM added straight into the step's rows of the gates) and
//! one launch of rnn.cu's layer step, which applies the cell in place on the layer's state
//! buffers. The backward passes mirror them (one launch and one product a step) and form
//! `W_hh`'s gradient with a single product over all steps. Nothing waits for the device and no
//! autograd node is made per step: the Python loop of per-step ops this replaces queued five to
//! eight launches a step each way.

use super::blas::product_into;
use super::dispatch::{address, index_of, launch, threads_for};
use super::kernels::suffix;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::nn::{gru_layer, lstm_layer};
use crate::ops::nn::recurrence::{owned, Recurrence};
use crate::tensor::Tensor;

/// The element offset `at` into the dense `t`, as a device address.
fn at(t: &Tensor, at: usize) -> u64 {
    address(t, t.offset() + at)
}

/// `lstm_layer_forward` for CUDA operands (one device): `(output (N, H), h_n, c_n)` and, when
/// `keep` is set, the workspace for [`lstm_backward`] (in the compute type).
pub fn lstm_forward(rec: &Recurrence, dtype: DType, x: &Tensor, h0: &Tensor, c0: &Tensor, w_hh: &Tensor, keep: bool) -> Result<(Vec<Tensor>, Option<lstm_layer::Workspace>)> {
    let device = crate::device::common_device(&[x, h0, c0, w_hh])?;
    let (compute, index) = (dtype.compute_type(), index_of(x)?);
    let (rows, hid) = (rec.rows(), rec.dims().1);
    let (gates, h, c, w) = (owned(x, compute)?, owned(h0, compute)?, owned(c0, compute)?, w_hh.contiguous_as(compute)?);
    let out = Tensor::uninit_on(&[rows, hid], compute, device)?;
    let ws = if keep {
        let buf = || Tensor::uninit_on(&[rows, hid], compute, device);
        Some(lstm_layer::Workspace { gates: gates.clone(), c_prev: buf()?, tanh_c: buf()?, h_prev: buf()? })
    } else {
        None
    };
    if hid > 0 {
        let (name, w_t, hh) = (format!("rnn_lstm_layer_step_{}", suffix(compute)), w.transpose(0, 1)?, hid as i64);
        for &(off, size) in rec.schedule() {
            // gates[off..off + size] += h[..size] @ W_hh^T
            product_into(&gates.narrow(0, off as i64, size as i64)?, &h.narrow(0, 0, size as i64)?, &w_t, 1.0, 1.0, &[], (size, hid, 4 * hid))?;
            let saved = ws.as_ref().map_or([0; 3], |ws| [&ws.c_prev, &ws.tanh_c, &ws.h_prev].map(|t| at(t, off * hid)));
            let (n, g, hs, cs, o) = (size as i64, at(&gates, off * 4 * hid), at(&h, 0), at(&c, 0), at(&out, off * hid));
            launch!(index, name, threads_for(size * hid); &n, &hh, &g, &hs, &cs, &o, &saved[0], &saved[1], &saved[2])?;
        }
    }
    let outs = [out, h, c].iter().map(|t| t.to_dtype(dtype)).collect::<Result<Vec<_>>>()?;
    Ok((outs, ws))
}

/// `lstm_layer_backward` for CUDA operands: gradients `(d x, d h0, d c0, d W_hh)` from the
/// workspace of [`lstm_forward`] and the gradients of its outputs.
pub fn lstm_backward(rec: &Recurrence, dtype: DType, ws: &lstm_layer::Workspace, w_hh: &Tensor, d_out: &Tensor, d_hn: &Tensor, d_cn: &Tensor) -> Result<[Tensor; 4]> {
    let device = crate::device::common_device(&[&ws.gates, w_hh, d_out, d_hn, d_cn])?;
    let (compute, index) = (dtype.compute_type(), index_of(w_hh)?);
    let (rows, hid) = (rec.rows(), rec.dims().1);
    let w = w_hh.contiguous_as(compute)?;
    let (d_out, dh, dc) = (d_out.contiguous_as(compute)?, owned(d_hn, compute)?, owned(d_cn, compute)?);
    let d_gates = Tensor::uninit_on(&[rows, 4 * hid], compute, device)?;
    if hid > 0 {
        let (name, hh) = (format!("rnn_lstm_layer_step_backward_{}", suffix(compute)), hid as i64);
        for &(off, size) in rec.schedule().iter().rev() {
            let (n, g, cp, tc) = (size as i64, at(&ws.gates, off * 4 * hid), at(&ws.c_prev, off * hid), at(&ws.tanh_c, off * hid));
            let (dout, dhp, dcp, dg) = (at(&d_out, off * hid), at(&dh, 0), at(&dc, 0), at(&d_gates, off * 4 * hid));
            launch!(index, name, threads_for(size * hid); &n, &hh, &g, &cp, &tc, &dout, &dhp, &dcp, &dg)?;
            // dh[..size] = d_gates[off..off + size] @ W_hh
            product_into(&dh.narrow(0, 0, size as i64)?, &d_gates.narrow(0, off as i64, size as i64)?, &w, 1.0, 0.0, &[], (size, 4 * hid, hid))?;
        }
    }
    // d W_hh = d_gates^T (4H, N) @ h_prev (N, H), every step in one product.
    let d_w = Tensor::uninit_on(&[4 * hid, hid], compute, device)?;
    product_into(&d_w, &d_gates.transpose(0, 1)?, &ws.h_prev, 1.0, 0.0, &[], (4 * hid, rows, hid))?;
    let [a, b, c, d] = [d_gates, dh, dc, d_w].map(|t| t.to_dtype(dtype));
    Ok([a?, b?, c?, d?])
}

/// `gru_layer_forward` for CUDA operands (one device): `(output (N, H), h_n)` and, when `keep`
/// is set, the workspace for [`gru_backward`] (in the compute type).
pub fn gru_forward(rec: &Recurrence, dtype: DType, x: &Tensor, h0: &Tensor, w_hh: &Tensor, b_hh: Option<&Tensor>, keep: bool) -> Result<(Vec<Tensor>, Option<gru_layer::Workspace>)> {
    let operands: Vec<&Tensor> = [x, h0, w_hh].into_iter().chain(b_hh).collect();
    let device = crate::device::common_device(&operands)?;
    let (compute, index) = (dtype.compute_type(), index_of(x)?);
    let (rows, (batch, hid)) = (rec.rows(), rec.dims());
    let (gates, h, w) = (owned(x, compute)?, owned(h0, compute)?, w_hh.contiguous_as(compute)?);
    let bias = b_hh.map(|b| b.contiguous_as(compute)).transpose()?;
    let out = Tensor::uninit_on(&[rows, hid], compute, device)?;
    let ws = if keep {
        let buf = || Tensor::uninit_on(&[rows, hid], compute, device);
        Some(gru_layer::Workspace { gates: gates.clone(), gh_n: buf()?, h_prev: buf()? })
    } else {
        None
    };
    if hid > 0 {
        // One step's hidden gates h @ W_hh^T (the step adds b_hh inside its reset gate).
        let gh = Tensor::uninit_on(&[batch, 3 * hid], compute, device)?;
        let (name, w_t, hh) = (format!("rnn_gru_layer_step_{}", suffix(compute)), w.transpose(0, 1)?, hid as i64);
        let b = bias.as_ref().map_or(0, |b| at(b, 0));
        for &(off, size) in rec.schedule() {
            product_into(&gh.narrow(0, 0, size as i64)?, &h.narrow(0, 0, size as i64)?, &w_t, 1.0, 0.0, &[], (size, hid, 3 * hid))?;
            let saved = ws.as_ref().map_or([0; 2], |ws| [&ws.gh_n, &ws.h_prev].map(|t| at(t, off * hid)));
            let (n, g, ghp, hs, o) = (size as i64, at(&gates, off * 3 * hid), at(&gh, 0), at(&h, 0), at(&out, off * hid));
            launch!(index, name, threads_for(size * hid); &n, &hh, &g, &ghp, &b, &hs, &o, &saved[0], &saved[1])?;
        }
    }
    let outs = [out, h].iter().map(|t| t.to_dtype(dtype)).collect::<Result<Vec<_>>>()?;
    Ok((outs, ws))
}

/// `gru_layer_backward` for CUDA operands: gradients `(d x, d h0, d W_hh, d b_hh)` (`d b_hh`
/// only when the layer has the bias) from the workspace of [`gru_forward`] and the gradients
/// of its outputs.
pub fn gru_backward(rec: &Recurrence, dtype: DType, ws: &gru_layer::Workspace, w_hh: &Tensor, has_bias: bool, d_out: &Tensor, d_hn: &Tensor) -> Result<Vec<Tensor>> {
    let device = crate::device::common_device(&[&ws.gates, w_hh, d_out, d_hn])?;
    let (compute, index) = (dtype.compute_type(), index_of(w_hh)?);
    let (rows, hid) = (rec.rows(), rec.dims().1);
    let w = w_hh.contiguous_as(compute)?;
    let (d_out, dh) = (d_out.contiguous_as(compute)?, owned(d_hn, compute)?);
    let (d_gi, d_gh) = (Tensor::uninit_on(&[rows, 3 * hid], compute, device)?, Tensor::uninit_on(&[rows, 3 * hid], compute, device)?);
    if hid > 0 {
        let (name, hh) = (format!("rnn_gru_layer_step_backward_{}", suffix(compute)), hid as i64);
        for &(off, size) in rec.schedule().iter().rev() {
            let (n, g, ghn, hp) = (size as i64, at(&ws.gates, off * 3 * hid), at(&ws.gh_n, off * hid), at(&ws.h_prev, off * hid));
            let (dout, dhp, dgi, dgh) = (at(&d_out, off * hid), at(&dh, 0), at(&d_gi, off * 3 * hid), at(&d_gh, off * 3 * hid));
            launch!(index, name, threads_for(size * hid); &n, &hh, &g, &ghn, &hp, &dout, &dhp, &dgi, &dgh)?;
            // dh[..size] += d_gh[off..off + size] @ W_hh
            product_into(&dh.narrow(0, 0, size as i64)?, &d_gh.narrow(0, off as i64, size as i64)?, &w, 1.0, 1.0, &[], (size, 3 * hid, hid))?;
        }
    }
    // d W_hh = d_gh^T (3H, N) @ h_prev (N, H), every step in one product.
    let d_w = Tensor::uninit_on(&[3 * hid, hid], compute, device)?;
    product_into(&d_w, &d_gh.transpose(0, 1)?, &ws.h_prev, 1.0, 0.0, &[], (3 * hid, rows, hid))?;
    let mut grads = vec![d_gi, dh, d_w];
    if has_bias {
        grads.push(d_gh.sum(Some(&[0]), false, None)?);
    }
    grads.iter().map(|t| t.to_dtype(dtype)).collect()
}
