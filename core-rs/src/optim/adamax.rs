//! Adamax: Adam with an exponentially weighted infinity norm in place of the second moment.

use super::foreach::{advance_steps, apply, effective_grad, lerp, maximum, OptReal, Rule};
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.Adamax`'s hyper-parameters for one parameter group.
#[derive(Clone, Debug)]
pub struct AdamaxOptions {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub maximize: bool,
}

struct Adamax<'a>(&'a AdamaxOptions);

impl Rule<4> for Adamax<'_> {
    /// `lr / bias_correction1`.
    type Coef = f64;

    #[inline(always)]
    fn update<R: OptReal>(&self, clr: &f64, v: &mut [R; 4]) {
        let o = self.0;
        let [p, g, m, inf] = v;
        let g = effective_grad(*p, *g, o.maximize, (o.weight_decay != 0.0).then_some(o.weight_decay));
        *m = lerp(*m, g, R::of(1.0 - o.beta1));
        *inf = maximum(*inf * R::of(o.beta2), g.abs() + R::of(o.eps));
        *p = *p + R::of(-clr) * *m / *inf;
    }
}

/// One Adamax step over a parameter group; advances `steps`.
pub fn adamax(
    params: &[Tensor],
    grads: &[Tensor],
    exp_avgs: &[Tensor],
    exp_infs: &[Tensor],
    steps: &[Tensor],
    o: &AdamaxOptions,
) -> Result<()> {
    let lists = [Some(params), Some(grads), Some(exp_avgs), Some(exp_infs)];
    apply("adamax", &Adamax(o), lists, &[steps], || {
        Ok(advance_steps(steps)?.into_iter().map(|step| o.lr / (1.0 - o.beta1.powf(step))).collect())
    })
}
