//! RAdam: Adam with the variance of the adaptive learning rate rectified (plain momentum SGD
//! while too few steps have been seen).

use super::foreach::{adam_decay_scalars, addcmul, advance_steps, apply, apply_capturable, EffectiveGrad, Lerp, OptReal, Rule};
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.RAdam`'s hyper-parameters for one parameter group.
#[derive(Clone)]
pub struct RAdamOptions {
    pub lr: f64,
    /// A one-element tensor `lr` on a GPU that capturable steps read at every launch, so a CUDA
    /// graph's replays see its current value; those steps then do not read `lr`.
    pub lr_on_device: Option<Tensor>,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub decoupled_weight_decay: bool,
    pub maximize: bool,
}

struct RAdam<'a>(&'a RAdamOptions);

/// Per-parameter scalars; `rect` is `None` while the variance is intractable (`rho_t <= 5`).
struct RAdamCoef {
    bias_correction1: f64,
    bias_correction2_sqrt: f64,
    rect: Option<f64>,
}

impl Rule<4> for RAdam<'_> {
    type Coef = RAdamCoef;

    /// optim.cu's `OptRAdam`: [sign, decay, coupled, param_decay, 1 - beta1, beta2, 1 - beta2,
    /// eps, lr, bias_correction1, bias_correction2_sqrt, rect, beta1, decoupled_weight_decay]
    /// (rect 0: not rectified; a rect is a positive square root).
    fn cuda(&self, c: &RAdamCoef) -> Option<(&'static str, Vec<f64>)> {
        let o = self.0;
        let (head, decoupled_decay) = adam_decay_scalars(o.maximize, o.weight_decay, o.decoupled_weight_decay, o.lr);
        let mut v = head.to_vec();
        v.extend([1.0 - o.beta1, o.beta2, 1.0 - o.beta2, o.eps, o.lr, c.bias_correction1, c.bias_correction2_sqrt, c.rect.unwrap_or(0.0), o.beta1, decoupled_decay]);
        Some(("radam", v))
    }

    fn kernel<R: OptReal>(&self, c: &RAdamCoef) -> impl Fn(&mut [R; 4]) + Sync {
        let o = self.0;
        let decoupled = o.decoupled_weight_decay;
        let grad = EffectiveGrad::new(o.maximize, if decoupled { 0.0 } else { o.weight_decay });
        let decay = R::of(if decoupled { 1.0 - o.lr * o.weight_decay } else { 1.0 });
        let avg = Lerp::new(1.0 - o.beta1);
        let (beta2, one_minus_beta2, eps, lr) = (R::of(o.beta2), R::of(1.0 - o.beta2), R::of(o.eps), R::of(o.lr));
        let (bias_correction1, bias_correction2_sqrt) = (R::of(c.bias_correction1), R::of(c.bias_correction2_sqrt));
        let (rectified, rect) = (c.rect.is_some(), R::of(c.rect.unwrap_or(1.0)));
        move |[p, g, m, s]: &mut [R; 4]| {
            let g = grad.of(*p, *g);
            *p = *p * decay;
            *m = avg.at(*m, g);
            *s = addcmul(*s * beta2, one_minus_beta2, g, g);
            let scaled = *m / bias_correction1 * lr;
            // `bias_correction2**0.5 / (sqrt(s) + eps)` is `reciprocal() * scalar` in PyTorch.
            let adaptive = R::of(1.0) / (s.sqrt() + eps) * bias_correction2_sqrt;
            let update = if rectified { scaled * adaptive * rect } else { scaled };
            *p = *p - update;
        }
    }
}

/// One RAdam step over a parameter group; advances `steps`.
pub fn radam(
    params: &[Tensor],
    grads: &[Tensor],
    exp_avgs: &[Tensor],
    exp_avg_sqs: &[Tensor],
    steps: &[Tensor],
    o: &RAdamOptions,
) -> Result<()> {
    let lists = [Some(params), Some(grads), Some(exp_avgs), Some(exp_avg_sqs)];
    if steps.first().is_some_and(|s| s.is_cuda()) {
        let coef = RAdamCoef { bias_correction1: f64::NAN, bias_correction2_sqrt: f64::NAN, rect: Some(f64::NAN) };
        return apply_capturable("radam", &RAdam(o), lists, steps, None, coef, o.lr_on_device.as_ref());
    }
    apply("radam", &RAdam(o), lists, &[steps], || {
        let rho_inf = 2.0 / (1.0 - o.beta2) - 1.0;
        Ok(advance_steps(steps)?
            .into_iter()
            .map(|step| {
                let bias_correction2 = 1.0 - o.beta2.powf(step);
                let rho_t = rho_inf - 2.0 * step * o.beta2.powf(step) / bias_correction2;
                let rect = (rho_t > 5.0).then(|| {
                    ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)).powf(0.5)
                });
                RAdamCoef {
                    bias_correction1: 1.0 - o.beta1.powf(step),
                    bias_correction2_sqrt: bias_correction2.powf(0.5),
                    rect,
                }
            })
            .collect())
    })
}
