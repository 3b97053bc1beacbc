//! NAdam: Adam with Nesterov momentum and a momentum-decay schedule (`mu_product` state).

use super::foreach::{adam_decay_scalars, addcmul, advance_steps, apply, apply_capturable, scale_scalars, EffectiveGrad, Lerp, OptReal, Rule};
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.NAdam`'s hyper-parameters for one parameter group.
#[derive(Clone)]
pub struct NAdamOptions {
    pub lr: f64,
    /// A one-element tensor `lr` on a GPU that capturable steps read at every launch, so a CUDA
    /// graph's replays see its current value; those steps then do not read `lr`.
    pub lr_on_device: Option<Tensor>,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub momentum_decay: f64,
    pub decoupled_weight_decay: bool,
    pub maximize: bool,
}

struct NAdam<'a>(&'a NAdamOptions);

/// Per-parameter scalars: `bias_correction2` and the two `addcdiv` values.
struct NAdamCoef {
    bias_correction2: f64,
    grad_value: f64,
    avg_value: f64,
}

impl Rule<4> for NAdam<'_> {
    type Coef = NAdamCoef;

    /// optim.cu's `OptNAdam`: [sign, decay, coupled, param_decay, 1 - beta1, beta2, 1 - beta2,
    /// eps, bias_correction2, grad_value, avg_value, beta1, momentum_decay, lr,
    /// decoupled_weight_decay].
    fn cuda(&self, c: &NAdamCoef) -> Option<(&'static str, Vec<f64>)> {
        let o = self.0;
        let (head, decoupled_decay) = adam_decay_scalars(o.maximize, o.weight_decay, o.decoupled_weight_decay, o.lr);
        let mut v = head.to_vec();
        v.extend([1.0 - o.beta1, o.beta2, 1.0 - o.beta2, o.eps, c.bias_correction2, c.grad_value, c.avg_value, o.beta1, o.momentum_decay, o.lr, decoupled_decay]);
        Some(("nadam", v))
    }

    fn kernel<R: OptReal>(&self, c: &NAdamCoef) -> impl Fn(&mut [R; 4]) + Sync {
        let o = self.0;
        let decoupled = o.decoupled_weight_decay;
        let grad = EffectiveGrad::new(o.maximize, if decoupled { 0.0 } else { o.weight_decay });
        let decay = R::of(if decoupled { 1.0 - o.lr * o.weight_decay } else { 1.0 });
        let avg = Lerp::new(1.0 - o.beta1);
        let (beta2, one_minus_beta2, eps) = (R::of(o.beta2), R::of(1.0 - o.beta2), R::of(o.eps));
        let (bias_correction2, grad_value, avg_value) =
            (R::of(c.bias_correction2), R::of(c.grad_value), R::of(c.avg_value));
        move |[p, g, m, s]: &mut [R; 4]| {
            let g = grad.of(*p, *g);
            *p = *p * decay;
            *m = avg.at(*m, g);
            *s = addcmul(*s * beta2, one_minus_beta2, g, g);
            let denom = (*s / bias_correction2).sqrt() + eps;
            *p = *p + grad_value * g / denom;
            *p = *p + avg_value * *m / denom;
        }
    }
}

/// One NAdam step over a parameter group; advances `steps` and `mu_products`.
pub fn nadam(
    params: &[Tensor],
    grads: &[Tensor],
    exp_avgs: &[Tensor],
    exp_avg_sqs: &[Tensor],
    mu_products: &[Tensor],
    steps: &[Tensor],
    o: &NAdamOptions,
) -> Result<()> {
    let lists = [Some(params), Some(grads), Some(exp_avgs), Some(exp_avg_sqs)];
    if steps.first().is_some_and(|s| s.is_cuda()) {
        let coef = NAdamCoef { bias_correction2: f64::NAN, grad_value: f64::NAN, avg_value: f64::NAN };
        return apply_capturable("nadam", &NAdam(o), lists, steps, Some(mu_products), coef, o.lr_on_device.as_ref());
    }
    apply("nadam", &NAdam(o), lists, &[steps, mu_products], || {
        let mu_at = |step: f64| o.beta1 * (1.0 - 0.5 * 0.96f64.powf(step * o.momentum_decay));
        let mut coefs = Vec::with_capacity(steps.len());
        for (step, mu_product) in advance_steps(steps)?.into_iter().zip(mu_products) {
            let (mu, mu_next) = (mu_at(step), mu_at(step + 1.0));
            let mu_product = scale_scalars(std::slice::from_ref(mu_product), mu)?[0];
            let mu_product_next = mu_product * mu_next;
            coefs.push(NAdamCoef {
                bias_correction2: 1.0 - o.beta2.powf(step),
                grad_value: -o.lr * (1.0 - mu) / (1.0 - mu_product),
                avg_value: (-o.lr * mu_next) / (1.0 - mu_product_next),
            });
        }
        Ok(coefs)
    })
}
