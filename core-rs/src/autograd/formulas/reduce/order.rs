//! Gradients of order statistics (`ops/reduce/order.rs`). `median`/`mode` hand their gradient
//! to the reported element (see `minmax::indexed`); `quantile` splits it between the two sorted
//! neighbours it interpolates, by their interpolation weights.

use crate::autograd::node::Grads;
use crate::autograd::record::record;
use crate::autograd::views::scatter_add_linear;
use crate::error::Result;
use crate::ops::reduce::order::Interpolation;
use crate::tensor::Tensor;

/// Records `quantile`/`nanquantile`.
pub fn quantile(x: &Tensor, q: &[f64], q_dims: usize, dim: Option<i64>, keepdim: bool, how: Interpolation, ignore_nan: bool) -> Result<Tensor> {
    let name = if ignore_nan { "NanquantileBackward0" } else { "QuantileBackward0" };
    let shape = x.shape().to_vec();
    let picks = crate::autograd::no_grad(|| x.quantile_picks(q, dim, how, ignore_nan))?;
    record(name, &[x], || x.quantile(q, q_dims, dim, keepdim, how, ignore_nan), |s| {
        s.keeps_state();
        move |gr: &Grads| {
            let g = gr.g().reshape(&[-1])?;
            let w = picks.upper_weight.to_dtype(g.dtype())?;
            let lower = scatter_add_linear(&g.mul(&w.neg()?.add(1.0)?)?, &picks.lower, &shape)?;
            let upper = scatter_add_linear(&g.mul(&w)?, &picks.upper, &shape)?;
            Ok(vec![Some(lower.add(&upper)?)])
        }
    })
}
