//! RMSprop, optionally centered and with momentum.

use super::foreach::{addcmul, advance_steps, apply, effective_grad, lerp, OptReal, Rule};
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.RMSprop`'s hyper-parameters for one parameter group.
#[derive(Clone, Debug)]
pub struct RmspropOptions {
    pub lr: f64,
    pub alpha: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub momentum: f64,
    pub centered: bool,
    pub maximize: bool,
}

struct Rmsprop<'a>(&'a RmspropOptions);

impl Rule<5> for Rmsprop<'_> {
    type Coef = ();

    #[inline(always)]
    fn update<R: OptReal>(&self, _: &(), v: &mut [R; 5]) {
        let o = self.0;
        let [p, g, sq, gavg, buf] = v;
        let g = effective_grad(*p, *g, o.maximize, (o.weight_decay != 0.0).then_some(o.weight_decay));
        *sq = addcmul(*sq * R::of(o.alpha), 1.0 - o.alpha, g, g);
        let avg = if o.centered {
            *gavg = lerp(*gavg, g, R::of(1.0 - o.alpha));
            addcmul(*sq, -1.0, *gavg, *gavg).sqrt()
        } else {
            sq.sqrt()
        } + R::of(o.eps);
        if o.momentum > 0.0 {
            *buf = *buf * R::of(o.momentum) + R::of(1.0) * g / avg;
            *p = buf.fma(R::of(-o.lr), *p);
        } else {
            *p = *p + R::of(-o.lr) * g / avg;
        }
    }
}

/// One RMSprop step over a parameter group; advances `steps`. `grad_avgs` are required when
/// centered, `momentum_buffers` when `momentum > 0`.
pub fn rmsprop(
    params: &[Tensor],
    grads: &[Tensor],
    square_avgs: &[Tensor],
    grad_avgs: Option<&[Tensor]>,
    momentum_buffers: Option<&[Tensor]>,
    steps: &[Tensor],
    o: &RmspropOptions,
) -> Result<()> {
    if (o.centered && grad_avgs.is_none()) || (o.momentum > 0.0 && momentum_buffers.is_none()) {
        crate::bail!(Runtime, "rmsprop: grad_avgs are required when centered, momentum_buffers when momentum > 0");
    }
    let grad_avgs = if o.centered { grad_avgs } else { None };
    let buffers = if o.momentum > 0.0 { momentum_buffers } else { None };
    let lists = [Some(params), Some(grads), Some(square_avgs), grad_avgs, buffers];
    apply("rmsprop", &Rmsprop(o), lists, &[steps], || Ok(advance_steps(steps)?.into_iter().map(|_| ()).collect()))
}
