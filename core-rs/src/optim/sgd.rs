//! SGD with momentum, dampening, Nesterov momentum, weight decay and `maximize`.

use super::foreach::{apply, effective_grad, OptReal, Rule};
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.SGD`'s hyper-parameters for one parameter group.
#[derive(Clone, Debug)]
pub struct SgdOptions {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
    pub maximize: bool,
}

struct Sgd<'a>(&'a SgdOptions);

impl Rule<3> for Sgd<'_> {
    /// Whether the momentum buffer is new: it then starts as the gradient (`grad.clone()`).
    type Coef = bool;

    #[inline(always)]
    fn update<R: OptReal>(&self, first: &bool, v: &mut [R; 3]) {
        let o = self.0;
        let [p, g, buf] = v;
        let mut d = effective_grad(*p, *g, o.maximize, (o.weight_decay != 0.0).then_some(o.weight_decay));
        if o.momentum != 0.0 {
            *buf = if *first { d } else { g_add(*buf * R::of(o.momentum), d, 1.0 - o.dampening) };
            d = if o.nesterov { g_add(d, *buf, o.momentum) } else { *buf };
        }
        *p = g_add(*p, d, -o.lr);
    }
}

/// `a.add(b, alpha=alpha)`.
#[inline(always)]
fn g_add<R: OptReal>(a: R, b: R, alpha: f64) -> R {
    b.fma(R::of(alpha), a)
}

/// One SGD step over a parameter group. `momentum_buffers` is required when `momentum != 0`;
/// `new_buffers[i]` says buffer `i` was just created (its contents are then overwritten).
pub fn sgd(
    params: &[Tensor],
    grads: &[Tensor],
    momentum_buffers: Option<&[Tensor]>,
    new_buffers: &[bool],
    o: &SgdOptions,
) -> Result<()> {
    if o.momentum != 0.0 && momentum_buffers.is_none() {
        crate::bail!(Runtime, "sgd: momentum buffers are required when momentum is non-zero");
    }
    let firsts: Vec<bool> = (0..params.len()).map(|i| new_buffers.get(i).copied().unwrap_or(false)).collect();
    let buffers = if o.momentum != 0.0 { momentum_buffers } else { None };
    apply("sgd", &Sgd(o), [Some(params), Some(grads), buffers], &[], || Ok(firsts))
}
