//! Adam and AdamW (decoupled weight decay), with AMSGrad and `maximize`.

use super::foreach::{addcmul, advance_steps, apply, effective_grad, lerp, maximum, OptReal, Rule};
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.Adam`'s hyper-parameters for one parameter group (AdamW: `decoupled_weight_decay`).
#[derive(Clone, Debug)]
pub struct AdamOptions {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
    pub maximize: bool,
    pub decoupled_weight_decay: bool,
}

struct Adam<'a>(&'a AdamOptions);

/// Per-parameter scalars: `lr / bias_correction1` and `sqrt(bias_correction2)`.
struct AdamCoef {
    step_size: f64,
    bias_correction2_sqrt: f64,
}

impl Rule<5> for Adam<'_> {
    type Coef = AdamCoef;

    #[inline(always)]
    fn update<R: OptReal>(&self, c: &AdamCoef, v: &mut [R; 5]) {
        let o = self.0;
        let [p, g, m, s, smax] = v;
        let coupled = (o.weight_decay != 0.0 && !o.decoupled_weight_decay).then_some(o.weight_decay);
        let g = effective_grad(*p, *g, o.maximize, coupled);
        if o.weight_decay != 0.0 && o.decoupled_weight_decay {
            *p = *p * R::of(1.0 - o.lr * o.weight_decay);
        }
        *m = lerp(*m, g, R::of(1.0 - o.beta1));
        *s = addcmul(*s * R::of(o.beta2), 1.0 - o.beta2, g, g);
        let second = if o.amsgrad {
            *smax = maximum(*smax, *s);
            *smax
        } else {
            *s
        };
        let denom = second.sqrt() / R::of(c.bias_correction2_sqrt) + R::of(o.eps);
        *p = *p + R::of(-c.step_size) * *m / denom;
    }
}

/// One Adam/AdamW step over a parameter group; advances `steps` (one per parameter).
pub fn adam(
    params: &[Tensor],
    grads: &[Tensor],
    exp_avgs: &[Tensor],
    exp_avg_sqs: &[Tensor],
    max_exp_avg_sqs: Option<&[Tensor]>,
    steps: &[Tensor],
    o: &AdamOptions,
) -> Result<()> {
    if o.amsgrad && max_exp_avg_sqs.is_none() {
        crate::bail!(Runtime, "adam: max_exp_avg_sqs are required with amsgrad=True");
    }
    let maxes = if o.amsgrad { max_exp_avg_sqs } else { None };
    let lists = [Some(params), Some(grads), Some(exp_avgs), Some(exp_avg_sqs), maxes];
    apply("adam", &Adam(o), lists, &[steps], || {
        Ok(advance_steps(steps)?
            .into_iter()
            .map(|step| AdamCoef {
                step_size: o.lr / (1.0 - o.beta1.powf(step)),
                bias_correction2_sqrt: (1.0 - o.beta2.powf(step)).powf(0.5),
            })
            .collect())
    })
}
