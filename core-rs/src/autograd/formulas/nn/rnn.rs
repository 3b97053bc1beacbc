//! Gradients of `ops/nn/rnn.rs`.

use crate::autograd::mode::is_grad_enabled;
use crate::autograd::node::Grads;
use crate::autograd::record::record_multi;
use crate::error::Result;
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
