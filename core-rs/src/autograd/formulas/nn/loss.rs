//! Gradients of `ops/nn/loss.rs`.
//!
//! `nll_loss_backward` is linear in the loss gradient and its adjoint is `nll_loss` itself
//! (gathering `-w[t] * G` at the targets, reduced the same way), so each op's formula is
//! the other op: gradients of every order come out of the two kernels.

use crate::autograd::node::Grads;
use crate::autograd::record::record;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::nn::loss::Reduction;
use crate::tensor::Tensor;

/// Records `nll_loss` as `NllLossBackward0` over the input (the class weights get no gradient,
/// as in PyTorch).
pub fn nll_loss(x: &Tensor, target: &Tensor, weight: Option<&Tensor>, reduction: Reduction, ignore_index: i64) -> Result<Tensor> {
    let (shape, dtype) = (x.shape().to_vec(), x.dtype());
    record("NllLossBackward0", &[x], || x.nll_loss(target, weight, reduction, ignore_index), |s| {
        let ts = s.save(target);
        let ws = weight.map(|w| s.save(w));
        move |gr: &Grads| {
            let (t, w) = (ts.get()?, ws.as_ref().map(|w| w.get()).transpose()?);
            Ok(vec![gr.when(0, || gr.g().nll_loss_backward(&t, w.as_ref(), reduction, ignore_index, &shape, dtype))?])
        }
    })
}

/// Records `nll_loss_backward` over the loss gradient `g`; its gradient is `nll_loss` of the
/// incoming gradient.
pub fn nll_loss_backward(g: &Tensor, target: &Tensor, weight: Option<&Tensor>, reduction: Reduction, ignore_index: i64, input_shape: &[usize], dtype: DType) -> Result<Tensor> {
    let shape = input_shape.to_vec();
    record("NllLossBackwardBackward0", &[g], || g.nll_loss_backward(target, weight, reduction, ignore_index, &shape, dtype), |s| {
        let ts = s.save(target);
        let ws = weight.map(|w| s.save(w));
        move |gr: &Grads| {
            let (t, w) = (ts.get()?, ws.as_ref().map(|w| w.get()).transpose()?);
            Ok(vec![gr.when(0, || gr.g().nll_loss(&t, w.as_ref(), reduction, ignore_index))?])
        }
    })
}
