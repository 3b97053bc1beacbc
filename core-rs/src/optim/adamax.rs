//! Adamax: Adam with an exponentially weighted infinity norm in place of the second moment.

use super::foreach::{advance_steps, apply, apply_capturable, grad_scalars, maximum, EffectiveGrad, Lerp, OptReal, Rule};
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.Adamax`'s hyper-parameters for one parameter group.
#[derive(Clone)]
pub struct AdamaxOptions {
    pub lr: f64,
    /// A one-element tensor `lr` on a GPU that capturable steps read at every launch, so a CUDA
    /// graph's replays see its current value; those steps then do not read `lr`.
    pub lr_on_device: Option<Tensor>,
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

    /// optim.cu's `OptAdamax`: [sign, decay, coupled, 1 - beta1, beta2, eps, -clr, beta1, lr].
    fn cuda(&self, clr: &f64) -> Option<(&'static str, Vec<f64>)> {
        let o = self.0;
        let mut v = grad_scalars(o.maximize, o.weight_decay).to_vec();
        v.extend([1.0 - o.beta1, o.beta2, o.eps, -clr, o.beta1, o.lr]);
        Some(("adamax", v))
    }

    fn kernel<R: OptReal>(&self, clr: &f64) -> impl Fn(&mut [R; 4]) + Sync {
        let o = self.0;
        let grad = EffectiveGrad::new(o.maximize, o.weight_decay);
        let avg = Lerp::new(1.0 - o.beta1);
        let (beta2, eps, neg_clr) = (R::of(o.beta2), R::of(o.eps), R::of(-clr));
        move |[p, g, m, inf]: &mut [R; 4]| {
            let g = grad.of(*p, *g);
            *m = avg.at(*m, g);
            *inf = maximum(*inf * beta2, g.abs() + eps);
            *p = *p + neg_clr * *m / *inf;
        }
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
    if steps.first().is_some_and(|s| s.is_cuda()) {
        return apply_capturable("adamax", &Adamax(o), lists, steps, None, f64::NAN, o.lr_on_device.as_ref());
    }
    apply("adamax", &Adamax(o), lists, &[steps], || {
        Ok(advance_steps(steps)?.into_iter().map(|step| o.lr / (1.0 - o.beta1.powf(step))).collect())
    })
}
