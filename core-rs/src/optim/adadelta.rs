//! Adadelta: step sizes from running averages of squared gradients and squared updates.

use super::foreach::{addcmul, advance_steps, apply, apply_capturable, grad_scalars, EffectiveGrad, OptReal, Rule};
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.Adadelta`'s hyper-parameters for one parameter group.
#[derive(Clone)]
pub struct AdadeltaOptions {
    pub lr: f64,
    /// A one-element tensor `lr` on a GPU that capturable steps read at every launch, so a CUDA
    /// graph's replays see its current value; those steps then do not read `lr`.
    pub lr_on_device: Option<Tensor>,
    pub rho: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub maximize: bool,
}

struct Adadelta<'a>(&'a AdadeltaOptions);

impl Rule<4> for Adadelta<'_> {
    type Coef = ();

    /// optim.cu's `OptAdadelta`: [sign, decay, coupled, rho, 1 - rho, eps, -lr].
    fn cuda(&self, _: &()) -> Option<(&'static str, Vec<f64>)> {
        let o = self.0;
        let mut v = grad_scalars(o.maximize, o.weight_decay).to_vec();
        v.extend([o.rho, 1.0 - o.rho, o.eps, -o.lr]);
        Some(("adadelta", v))
    }

    fn kernel<R: OptReal>(&self, _: &()) -> impl Fn(&mut [R; 4]) + Sync {
        let o = self.0;
        let grad = EffectiveGrad::new(o.maximize, o.weight_decay);
        let (rho, one_minus_rho, eps, neg_lr) = (R::of(o.rho), R::of(1.0 - o.rho), R::of(o.eps), R::of(-o.lr));
        move |[p, g, sq, acc]: &mut [R; 4]| {
            let g = grad.of(*p, *g);
            *sq = addcmul(*sq * rho, one_minus_rho, g, g);
            let std = (*sq + eps).sqrt();
            let delta = (*acc + eps).sqrt() / std * g;
            *acc = addcmul(*acc * rho, one_minus_rho, delta, delta);
            *p = delta.fma(neg_lr, *p);
        }
    }
}

/// One Adadelta step over a parameter group; advances `steps`.
pub fn adadelta(
    params: &[Tensor],
    grads: &[Tensor],
    square_avgs: &[Tensor],
    acc_deltas: &[Tensor],
    steps: &[Tensor],
    o: &AdadeltaOptions,
) -> Result<()> {
    let lists = [Some(params), Some(grads), Some(square_avgs), Some(acc_deltas)];
    if steps.first().is_some_and(|s| s.is_cuda()) {
        return apply_capturable("adadelta", &Adadelta(o), lists, steps, None, (), o.lr_on_device.as_ref());
    }
    apply("adadelta", &Adadelta(o), lists, &[steps], || Ok(advance_steps(steps)?.into_iter().map(|_| ()).collect()))
}
