//! RMSprop, optionally centered and with momentum.

use super::foreach::{addcmul, advance_steps, apply, apply_capturable, grad_scalars, EffectiveGrad, Lerp, OptReal, Rule};
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.RMSprop`'s hyper-parameters for one parameter group.
#[derive(Clone)]
pub struct RmspropOptions {
    pub lr: f64,
    /// A one-element tensor `lr` on a GPU that capturable steps read at every launch, so a CUDA
    /// graph's replays see its current value; those steps then do not read `lr`.
    pub lr_on_device: Option<Tensor>,
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

    /// optim.cu's `OptRmsprop`: [sign, decay, coupled, alpha, 1 - alpha, eps, -lr, centered,
    /// momentum, mu].
    fn cuda(&self, _: &()) -> Option<(&'static str, Vec<f64>)> {
        let o = self.0;
        let mut v = grad_scalars(o.maximize, o.weight_decay).to_vec();
        let flag = |b: bool| f64::from(u8::from(b));
        v.extend([o.alpha, 1.0 - o.alpha, o.eps, -o.lr, flag(o.centered), flag(o.momentum > 0.0), o.momentum]);
        Some(("rmsprop", v))
    }

    fn kernel<R: OptReal>(&self, _: &()) -> impl Fn(&mut [R; 5]) + Sync {
        let o = self.0;
        let grad = EffectiveGrad::new(o.maximize, o.weight_decay);
        let (alpha, one_minus_alpha, eps, neg_lr) = (R::of(o.alpha), R::of(1.0 - o.alpha), R::of(o.eps), R::of(-o.lr));
        let (centered, momentum, mu) = (o.centered, o.momentum > 0.0, R::of(o.momentum));
        let grad_avg = Lerp::new(1.0 - o.alpha);
        move |[p, g, sq, gavg, buf]: &mut [R; 5]| {
            let g = grad.of(*p, *g);
            *sq = addcmul(*sq * alpha, one_minus_alpha, g, g);
            *gavg = grad_avg.at(*gavg, g); // junk, and not stored, unless centered
            let avg = if centered { addcmul(*sq, R::of(-1.0), *gavg, *gavg).sqrt() } else { sq.sqrt() } + eps;
            *buf = *buf * mu + R::of(1.0) * g / avg; // likewise without momentum
            *p = if momentum { buf.fma(neg_lr, *p) } else { *p + neg_lr * g / avg };
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
    if steps.first().is_some_and(|s| s.is_cuda()) {
        return apply_capturable("rmsprop", &Rmsprop(o), lists, steps, None, (), o.lr_on_device.as_ref());
    }
    apply("rmsprop", &Rmsprop(o), lists, &[steps], || Ok(advance_steps(steps)?.into_iter().map(|_| ()).collect()))
}
