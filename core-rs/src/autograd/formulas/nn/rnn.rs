//! Gradients of `ops/nn/rnn.rs`.

use crate::autograd::mode::is_grad_enabled;
use crate::autograd::node::Grads;
use crate::autograd::record::record_multi;
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::ops::join::cat;
use crate::ops::nn::gru_layer::{gru_layer_backward, gru_layer_forward};
use crate::ops::nn::lstm_layer::{lstm_layer_backward, lstm_layer_forward};
use crate::ops::nn::recurrence::Recurrence;
use crate::tensor::Tensor;

/// Records `lstm_cell` as one node. Its backward is the fused kernel, unless the backward pass
/// itself is being recorded (`create_graph=True`): then the same formula in recorded ops, so
/// higher-order gradients work.
pub fn lstm_cell(gates: &Tensor, c: &Tensor) -> Result<(Tensor, Tensor)> {
    let mut outs = record_multi("ThnnFusedLstmCellBackward0", &[gates, c], || gates.lstm_cell(c).map(|(h, cy)| vec![h, cy]), |s| {
        let (gs, cs, cys) = (s.save(gates), s.save(c), s.output(1));
        move |gr: &Grads| {
            let (g, c, cy) = (gs.get()?, cs.get()?, cys.get()?);
            let (dh, dcy) = (&gr.outputs[0], &gr.outputs[1]);
            let (dg, dc) = if is_grad_enabled() { recorded_backward(&g, &c, &cy, dh, dcy)? } else { g.lstm_cell_backward(&c, &cy, dh, dcy)? };
            Ok(vec![gr.when(0, || Ok(dg))?, gr.when(1, || Ok(dc))?])
        }
    })?;
    let cy = outs.pop().expect("two outputs");
    Ok((outs.pop().expect("two outputs"), cy))
}

/// `Tensor::lstm_cell_backward` written with recorded ops.
fn recorded_backward(g: &Tensor, c: &Tensor, cy: &Tensor, dh: &Tensor, dcy: &Tensor) -> Result<(Tensor, Tensor)> {
    let q = g.chunk(4, 1)?;
    let (i, f, gg, o) = (q[0].sigmoid()?, q[1].sigmoid()?, q[2].tanh()?, q[3].sigmoid()?);
    let tc = cy.tanh()?;
    let one_minus = |t: &Tensor| t.neg()?.add(1.0);
    let dcell = dcy.add(&dh.mul(&o)?.mul(&one_minus(&tc.square()?)?)?)?;
    let di = dcell.mul(&gg)?.mul(&i)?.mul(&one_minus(&i)?)?;
    let df = dcell.mul(c)?.mul(&f)?.mul(&one_minus(&f)?)?;
    let dg = dcell.mul(&i)?.mul(&one_minus(&gg.square()?)?)?;
    let d_o = dh.mul(&tc)?.mul(&o)?.mul(&one_minus(&o)?)?;
    Ok((crate::ops::join::cat(&[di, df, dg, d_o], 1)?, dcell.mul(&f)?))
}

/// Records `gru_cell` as one node over `(gi, gh, h)`. Its backward is the fused kernel, unless
/// the backward pass itself is being recorded: then the same formula in recorded ops.
pub fn gru_cell(gi: &Tensor, gh: &Tensor, h: &Tensor) -> Result<Tensor> {
    let mut outs = record_multi("ThnnFusedGruCellBackward0", &[gi, gh, h], || gi.gru_cell(gh, h).map(|y| vec![y]), |s| {
        let (gis, ghs, hs) = (s.save(gi), s.save(gh), s.save(h));
        move |gr: &Grads| {
            let (gi, gh, h) = (gis.get()?, ghs.get()?, hs.get()?);
            let dy = &gr.outputs[0];
            let (dgi, dgh, dh) = if is_grad_enabled() { recorded_gru_backward(&gi, &gh, &h, dy)? } else { gi.gru_cell_backward(&gh, &h, dy)? };
            Ok(vec![gr.when(0, || Ok(dgi))?, gr.when(1, || Ok(dgh))?, gr.when(2, || Ok(dh))?])
        }
    })?;
    Ok(outs.pop().expect("one output"))
}

/// `Tensor::gru_cell_backward` written with recorded ops.
fn recorded_gru_backward(gi: &Tensor, gh: &Tensor, h: &Tensor, dy: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    let (xi, xh) = (gi.chunk(3, 1)?, gh.chunk(3, 1)?);
    let (r, z) = (xi[0].add(&xh[0])?.sigmoid()?, xi[1].add(&xh[1])?.sigmoid()?);
    let n = xi[2].add(&r.mul(&xh[2])?)?.tanh()?;
    let one_minus = |t: &Tensor| t.neg()?.add(1.0);
    let dn = dy.mul(&one_minus(&z)?)?.mul(&one_minus(&n.square()?)?)?;
    let dr = dn.mul(&xh[2])?.mul(&r)?.mul(&one_minus(&r)?)?;
    let dz = dy.mul(&h.sub(&n)?)?.mul(&z)?.mul(&one_minus(&z)?)?;
    let dgh_n = dn.mul(&r)?;
    Ok((cat(&[dr.clone(), dz.clone(), dn], 1)?, cat(&[dr, dz, dgh_n], 1)?, dy.mul(&z)?))
}

/// Records `lstm_layer` (a whole layer's recurrence) as one node over `(x, h0, c0, w_hh)`. Its
/// backward is the fused BPTT kernel over the forward pass's workspace, unless the backward
/// pass itself is being recorded: then the recurrence is recomputed and differentiated step
/// by step in recorded ops, so higher-order gradients work.
pub fn lstm_layer(rec: Recurrence, dtype: DType, x: &Tensor, h0: &Tensor, c0: &Tensor, w_hh: &Tensor) -> Result<Vec<Tensor>> {
    let workspace = std::cell::RefCell::new(None);
    let forward_rec = rec.clone();
    let forward = || {
        let (outs, ws) = lstm_layer_forward(&forward_rec, dtype, x, h0, c0, w_hh, true)?;
        *workspace.borrow_mut() = ws;
        Ok(outs)
    };
    record_multi("LstmLayerBackward0", &[x, h0, c0, w_hh], forward, |s| {
        let saved = [x, h0, c0, w_hh].map(|t| s.save(t));
        let ws = workspace.borrow_mut().take();
        s.keeps_state();
        move |gr: &Grads| {
            let [x, h0, c0, w] = [0, 1, 2, 3].map(|i| saved[i].get());
            let (d_out, d_hn, d_cn) = (&gr.outputs[0], &gr.outputs[1], &gr.outputs[2]);
            let grads = match &ws {
                Some(ws) if !is_grad_enabled() => lstm_layer_backward(&rec, dtype, ws, &w?, d_out, d_hn, d_cn)?,
                _ => recorded_layer_backward(&rec, &x?, &h0?, &c0?, &w?, d_out, d_hn, d_cn)?,
            };
            Ok(grads.into_iter().enumerate().map(|(i, g)| gr.needs(i).then_some(g)).collect())
        }
    })
}

/// `new` (rows, H) over the first rows of `old` (B, H): a state after a step that ran only
/// the first `rows` sequences.
fn keep_rest(new: Tensor, old: &Tensor, rows: usize, batch: usize) -> Result<Tensor> {
    if rows == batch {
        return Ok(new);
    }
    cat(&[new, old.narrow(0, rows as i64, (batch - rows) as i64)?], 0)
}

/// The gradients of `lstm_layer` in recorded ops: the forward recurrence again (so the
/// gates are functions of the inputs), then BPTT with the cell's recorded backward.
#[allow(clippy::too_many_arguments)]
fn recorded_layer_backward(rec: &Recurrence, x: &Tensor, h0: &Tensor, c0: &Tensor, w: &Tensor, d_out: &Tensor, d_hn: &Tensor, d_cn: &Tensor) -> Result<[Tensor; 4]> {
    let (batch, _) = rec.dims();
    let (one, w_t) = (Scalar::Int(1), w.t()?);
    let (mut h, mut c) = (h0.clone(), c0.clone());
    let mut steps = Vec::new();
    for &(off, rows) in rec.schedule() {
        let (h_prev, c_prev) = (h.narrow(0, 0, rows as i64)?, c.narrow(0, 0, rows as i64)?);
        let gates = x.narrow(0, off as i64, rows as i64)?.addmm(&h_prev, &w_t, one, one)?;
        let (h_new, c_new) = gates.lstm_cell(&c_prev)?;
        h = keep_rest(h_new, &h, rows, batch)?;
        c = keep_rest(c_new.clone(), &c, rows, batch)?;
        steps.push((off, rows, gates, c_prev, c_new, h_prev));
    }
    let (mut dh, mut dc) = (d_hn.clone(), d_cn.clone());
    let (mut d_x, mut d_w) = (Vec::new(), w.zeros_like()?);
    for (off, rows, gates, c_prev, c_new, h_prev) in steps.into_iter().rev() {
        let n = rows as i64;
        let dh_t = dh.narrow(0, 0, n)?.add(&d_out.narrow(0, off as i64, n)?)?;
        let (dg, dc_prev) = recorded_backward(&gates, &c_prev, &c_new, &dh_t, &dc.narrow(0, 0, n)?)?;
        dh = keep_rest(dg.mm(w)?, &dh, rows, batch)?;
        dc = keep_rest(dc_prev, &dc, rows, batch)?;
        d_w = d_w.add(&dg.t()?.mm(&h_prev)?)?;
        d_x.push((off, dg));
    }
    d_x.sort_by_key(|(off, _)| *off);
    let d_x = if d_x.is_empty() { x.zeros_like()? } else { cat(&d_x.into_iter().map(|(_, g)| g).collect::<Vec<_>>(), 0)? };
    Ok([d_x, dh, dc, d_w])
}

/// Records `gru_layer` as one node over `(x, h0, w_hh[, b_hh])`, as `lstm_layer` records its
/// layer: the fused BPTT kernel, or the recurrence in recorded ops under `create_graph`.
pub fn gru_layer(rec: Recurrence, dtype: DType, x: &Tensor, h0: &Tensor, w_hh: &Tensor, b_hh: Option<&Tensor>) -> Result<Vec<Tensor>> {
    let workspace = std::cell::RefCell::new(None);
    let forward_rec = rec.clone();
    let forward = || {
        let (outs, ws) = gru_layer_forward(&forward_rec, dtype, x, h0, w_hh, b_hh, true)?;
        *workspace.borrow_mut() = ws;
        Ok(outs)
    };
    let inputs: Vec<&Tensor> = [x, h0, w_hh].into_iter().chain(b_hh).collect();
    record_multi("GruLayerBackward0", &inputs, forward, |s| {
        let saved: Vec<_> = inputs.iter().map(|t| s.save(t)).collect();
        let ws = workspace.borrow_mut().take();
        s.keeps_state();
        move |gr: &Grads| {
            let t = saved.iter().map(|s| s.get()).collect::<Result<Vec<_>>>()?;
            let (d_out, d_hn) = (&gr.outputs[0], &gr.outputs[1]);
            let grads = match &ws {
                Some(ws) if !is_grad_enabled() => gru_layer_backward(&rec, dtype, ws, &t[2], t.len() == 4, d_out, d_hn)?,
                _ => recorded_gru_layer_backward(&rec, &t[0], &t[1], &t[2], t.get(3), d_out, d_hn)?,
            };
            Ok(grads.into_iter().enumerate().map(|(i, g)| gr.needs(i).then_some(g)).collect())
        }
    })
}

/// The gradients of `gru_layer` in recorded ops: the forward recurrence again, then BPTT with
/// the cell's recorded backward.
fn recorded_gru_layer_backward(rec: &Recurrence, x: &Tensor, h0: &Tensor, w: &Tensor, b: Option<&Tensor>, d_out: &Tensor, d_hn: &Tensor) -> Result<Vec<Tensor>> {
    let (batch, _) = rec.dims();
    let (one, w_t) = (Scalar::Int(1), w.t()?);
    let mut h = h0.clone();
    let mut steps = Vec::new();
    for &(off, rows) in rec.schedule() {
        let h_prev = h.narrow(0, 0, rows as i64)?;
        let gh = match b {
            Some(b) => b.addmm(&h_prev, &w_t, one, one)?,
            None => h_prev.mm(&w_t)?,
        };
        let gi = x.narrow(0, off as i64, rows as i64)?;
        h = keep_rest(gi.gru_cell(&gh, &h_prev)?, &h, rows, batch)?;
        steps.push((off, rows, gi, gh, h_prev));
    }
    let mut dh = d_hn.clone();
    let (mut d_x, mut d_w, mut d_b) = (Vec::new(), w.zeros_like()?, b.map(|b| b.zeros_like()).transpose()?);
    for (off, rows, gi, gh, h_prev) in steps.into_iter().rev() {
        let n = rows as i64;
        let dy = dh.narrow(0, 0, n)?.add(&d_out.narrow(0, off as i64, n)?)?;
        let (dgi, dgh, dh_direct) = recorded_gru_backward(&gi, &gh, &h_prev, &dy)?;
        dh = keep_rest(dh_direct.add(&dgh.mm(w)?)?, &dh, rows, batch)?;
        d_w = d_w.add(&dgh.t()?.mm(&h_prev)?)?;
        d_b = d_b.map(|d| d.add(&dgh.sum(Some(&[0]), false, None)?)).transpose()?;
        d_x.push((off, dgi));
    }
    d_x.sort_by_key(|(off, _)| *off);
    let d_x = if d_x.is_empty() { x.zeros_like()? } else { cat(&d_x.into_iter().map(|(_, g)| g).collect::<Vec<_>>(), 0)? };
    Ok([d_x, dh, d_w].into_iter().chain(d_b).collect())
}
