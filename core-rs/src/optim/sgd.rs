//! SGD with momentum, dampening, Nesterov momentum, weight decay and `maximize`.

use super::foreach::{apply, grad_scalars, EffectiveGrad, OptReal, Rule};
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

    /// optim.cu's `OptSgd` scalars.
    fn cuda(&self, first: &bool) -> Option<(&'static str, Vec<f64>)> {
        let o = self.0;
        let flag = |b: bool| f64::from(u8::from(b));
        let mut v = grad_scalars(o.maximize, o.weight_decay).to_vec();
        v.extend([flag(*first), flag(o.momentum != 0.0), flag(o.nesterov), o.momentum, 1.0 - o.dampening, -o.lr]);
        Some(("sgd", v))
    }

    fn kernel<R: OptReal>(&self, first: &bool) -> impl Fn(&mut [R; 3]) + Sync {
        let o = self.0;
        let grad = EffectiveGrad::new(o.maximize, o.weight_decay);
        let (first, momentum, nesterov) = (*first, o.momentum != 0.0, o.nesterov);
        let (mu, one_minus_dampening, neg_lr) = (R::of(o.momentum), R::of(1.0 - o.dampening), R::of(-o.lr));
        move |[p, g, buf]: &mut [R; 3]| {
            let mut d = grad.of(*p, *g);
            if momentum {
                *buf = if first { d } else { g_add(*buf * mu, d, one_minus_dampening) };
                d = if nesterov { g_add(d, *buf, mu) } else { *buf };
            }
            *p = g_add(*p, d, neg_lr);
        }
    }
}

/// `a.add(b, alpha=alpha)`.
#[inline(always)]
fn g_add<R: OptReal>(a: R, b: R, alpha: R) -> R {
    b.fma(alpha, a)
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
