//! Gradients of `ops/nn/pool.rs`. Max pools send each output gradient to the position its
//! maximum came from (a recorded scatter-add by linear index, whose own gradient is the
//! matching gather); average pools and their adjoints are recorded as each other's gradient,
//! so gradients of any order stay exact.

use std::sync::Arc;

use crate::autograd::mode::no_grad;
use crate::autograd::node::Grads;
use crate::autograd::record::{attach, record};
use crate::autograd::views::{gather_linear, scatter_add_linear};
use crate::cpu::pool::{self as kernels, Windows};
use crate::error::Result;
use crate::ops::nn::pool::MeanNodes;
use crate::tensor::Tensor;

/// Records window maxima of `x` (node `name`); `indices` are flat within each input plane.
pub fn window_max(x: &Tensor, w: &Windows, name: &'static str) -> Result<(Tensor, Tensor)> {
    let (values, indices) = no_grad(|| kernels::window_max(x, w))?;
    let shape = x.shape().to_vec();
    let per_plane: usize = w.output().iter().product();
    let plane_numel: usize = w.input.iter().product();
    let idx = indices.clone();
    let mut outs = attach(name.into(), &[x], vec![values, indices], move |s| {
        s.keeps_state();
        move |gr: &Grads| {
            let (positions, valid) = kernels::plane_positions(&idx, per_plane, plane_numel)?;
            // An empty window's output is a constant -inf: its gradient goes nowhere.
            let g = match valid {
                Some(mask) => gr.outputs[0].keep_where(&mask)?,
                None => gr.outputs[0].clone(),
            };
            Ok(vec![Some(scatter_add_linear(&g, &positions, &shape)?)])
        }
    });
    let indices = outs.pop().expect("two outputs");
    Ok((outs.pop().expect("two outputs"), indices))
}

/// Records the window means of `x`; the gradient is `window_mean_adjoint`.
pub fn window_mean(x: &Tensor, w: &Arc<Windows>, names: MeanNodes) -> Result<Tensor> {
    let windows = w.clone();
    record(names.forward, &[x], || kernels::window_mean(x, w), move |_| {
        move |gr: &Grads| Ok(vec![Some(window_mean_adjoint(gr.g(), &windows, names)?)])
    })
}

/// Records the adjoint of `window_mean` (PyTorch's `avg_pool2d_backward`); its gradient is
/// `window_mean` again.
pub fn window_mean_adjoint(g: &Tensor, w: &Arc<Windows>, names: MeanNodes) -> Result<Tensor> {
    let windows = w.clone();
    record(names.adjoint, &[g], || kernels::window_mean_adjoint(g, w), move |_| {
        move |gr: &Grads| Ok(vec![Some(window_mean(gr.g(), &windows, names)?)])
    })
}

/// Records max unpooling of `x` to spatial size `output`; the gradient gathers the output
/// gradient back from the positions `indices` name.
pub fn unpool(x: &Tensor, indices: &Tensor, nd: usize, output: &[usize], name: &'static str) -> Result<Tensor> {
    let per_plane: usize = x.shape()[x.ndim() - nd..].iter().product();
    let out_plane: usize = output.iter().product();
    record(name, &[x], || kernels::unpool(x, indices, nd, output), |s| {
        s.keeps_state();
        let idx = indices.clone();
        move |gr: &Grads| {
            // The forward checked every index, so all are valid.
            let (positions, _) = kernels::plane_positions(&idx, per_plane, out_plane)?;
            Ok(vec![Some(gather_linear(gr.g(), &positions)?)])
        }
    })
}
