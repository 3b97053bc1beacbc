//! Adagrad with learning-rate decay.

use super::foreach::{addcmul, advance_steps, apply, grad_scalars, EffectiveGrad, OptReal, Rule};
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.Adagrad`'s hyper-parameters for one parameter group.
#[derive(Clone, Debug)]
pub struct AdagradOptions {
    pub lr: f64,
    pub lr_decay: f64,
    pub weight_decay: f64,
    pub eps: f64,
    pub maximize: bool,
}

struct Adagrad<'a>(&'a AdagradOptions);

impl Rule<3> for Adagrad<'_> {
    /// The decayed learning rate `lr / (1 + (step - 1) * lr_decay)`.
    type Coef = f64;

    /// optim.cu's `OptAdagrad`: [sign, decay, coupled, eps, -clr].
    fn cuda(&self, clr: &f64) -> Option<(&'static str, Vec<f64>)> {
        let o = self.0;
        let mut v = grad_scalars(o.maximize, o.weight_decay).to_vec();
        v.extend([o.eps, -clr]);
        Some(("adagrad", v))
    }

    fn kernel<R: OptReal>(&self, clr: &f64) -> impl Fn(&mut [R; 3]) + Sync {
        let o = self.0;
        let grad = EffectiveGrad::new(o.maximize, o.weight_decay);
        let (eps, neg_clr) = (R::of(o.eps), R::of(-clr));
        move |[p, g, sum]: &mut [R; 3]| {
            let g = grad.of(*p, *g);
            *sum = addcmul(*sum, R::of(1.0), g, g);
            let std = sum.sqrt() + eps;
            *p = *p + neg_clr * g / std;
        }
    }
}

/// One Adagrad step over a parameter group; advances `steps`.
pub fn adagrad(params: &[Tensor], grads: &[Tensor], sums: &[Tensor], steps: &[Tensor], o: &AdagradOptions) -> Result<()> {
    apply("adagrad", &Adagrad(o), [Some(params), Some(grads), Some(sums)], &[steps], || {
        Ok(advance_steps(steps)?.into_iter().map(|step| o.lr / (1.0 + (step - 1.0) * o.lr_decay)).collect())
    })
}
