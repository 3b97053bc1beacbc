//! Adam and AdamW (decoupled weight decay), with AMSGrad and `maximize`.

use super::foreach::{adam_decay_scalars, addcmul, advance_steps, apply, apply_capturable, maximum, EffectiveGrad, Lerp, OptReal, Rule};
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.Adam`'s hyper-parameters for one parameter group (AdamW: `decoupled_weight_decay`).
#[derive(Clone)]
pub struct AdamOptions {
    pub lr: f64,
    /// A one-element tensor `lr` on a GPU that capturable steps read at every launch, so a CUDA
    /// graph's replays see its current value; those steps then do not read `lr`.
    pub lr_on_device: Option<Tensor>,
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

impl Adam<'_> {
    /// The update of one element's `param`, `grad`, `exp_avg`, `exp_avg_sq` and, with amsgrad,
    /// `max_exp_avg_sq`. Without amsgrad the rule takes four operands, not five with an
    /// absent one, so that no maximum is computed and no fifth column is read or written.
    #[inline(always)]
    fn update<R: OptReal>(&self, c: &AdamCoef) -> impl Fn(&mut R, R, &mut R, &mut R, Option<&mut R>) + Sync {
        let o = self.0;
        let decoupled = o.decoupled_weight_decay;
        let grad = EffectiveGrad::new(o.maximize, if decoupled { 0.0 } else { o.weight_decay });
        // `param.mul_(1 - lr * weight_decay)`; a factor of exactly 1 when there is no decay.
        let decay = R::of(if decoupled { 1.0 - o.lr * o.weight_decay } else { 1.0 });
        let avg = Lerp::new(1.0 - o.beta1);
        let (beta2, one_minus_beta2, eps) = (R::of(o.beta2), R::of(1.0 - o.beta2), R::of(o.eps));
        let (bias_correction2_sqrt, neg_step_size) = (R::of(c.bias_correction2_sqrt), R::of(-c.step_size));
        move |p: &mut R, g: R, m: &mut R, s: &mut R, smax: Option<&mut R>| {
            let g = grad.of(*p, g);
            *p = *p * decay;
            *m = avg.at(*m, g);
            *s = addcmul(*s * beta2, one_minus_beta2, g, g);
            let second = match smax {
                Some(smax) => {
                    *smax = maximum(*smax, *s);
                    *smax
                }
                None => *s,
            };
            let denom = second.sqrt() / bias_correction2_sqrt + eps;
            *p = *p + neg_step_size * *m / denom;
        }
    }

    /// The scalars of optim.cu's `OptAdam`, in its order.
    fn cuda_scalars(&self, c: &AdamCoef) -> Vec<f64> {
        let o = self.0;
        let (head, decoupled_decay) = adam_decay_scalars(o.maximize, o.weight_decay, o.decoupled_weight_decay, o.lr);
        let mut v = head.to_vec();
        v.extend([1.0 - o.beta1, o.beta2, 1.0 - o.beta2, o.eps, c.bias_correction2_sqrt, -c.step_size, o.beta1, o.lr, decoupled_decay]);
        v
    }
}

impl Rule<4> for Adam<'_> {
    type Coef = AdamCoef;

    fn cuda(&self, c: &AdamCoef) -> Option<(&'static str, Vec<f64>)> {
        Some(("adam", self.cuda_scalars(c)))
    }

    fn kernel<R: OptReal>(&self, c: &AdamCoef) -> impl Fn(&mut [R; 4]) + Sync {
        let update = self.update::<R>(c);
        move |[p, g, m, s]: &mut [R; 4]| update(p, *g, m, s, None)
    }
}

impl Rule<5> for Adam<'_> {
    type Coef = AdamCoef;

    fn cuda(&self, c: &AdamCoef) -> Option<(&'static str, Vec<f64>)> {
        Some(("adam", self.cuda_scalars(c)))
    }

    fn kernel<R: OptReal>(&self, c: &AdamCoef) -> impl Fn(&mut [R; 5]) + Sync {
        let update = self.update::<R>(c);
        move |[p, g, m, s, smax]: &mut [R; 5]| update(p, *g, m, s, Some(smax))
    }
}

/// One Adam/AdamW step over a parameter group; advances `steps` (one per parameter): 0-d host
/// tensors, or float32 tensors on the parameters' CUDA device (`capturable=True`), advanced
/// there without a read back (see `apply_capturable`).
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
    let coefs = || {
        Ok(advance_steps(steps)?
            .into_iter()
            .map(|step| AdamCoef {
                step_size: o.lr / (1.0 - o.beta1.powf(step)),
                bias_correction2_sqrt: (1.0 - o.beta2.powf(step)).powf(0.5),
            })
            .collect())
    };
    if steps.first().is_some_and(|s| s.is_cuda()) {
        // Placeholders: the device derives both from its step counters.
        let coef = AdamCoef { step_size: f64::NAN, bias_correction2_sqrt: f64::NAN };
        return match max_exp_avg_sqs.filter(|_| o.amsgrad) {
            Some(maxes) => apply_capturable("adam", &Adam(o), [Some(params), Some(grads), Some(exp_avgs), Some(exp_avg_sqs), Some(maxes)], steps, None, coef, o.lr_on_device.as_ref()),
            None => apply_capturable("adam", &Adam(o), [Some(params), Some(grads), Some(exp_avgs), Some(exp_avg_sqs)], steps, None, coef, o.lr_on_device.as_ref()),
        };
    }
    match max_exp_avg_sqs.filter(|_| o.amsgrad) {
        Some(maxes) => {
            let lists = [Some(params), Some(grads), Some(exp_avgs), Some(exp_avg_sqs), Some(maxes)];
            apply("adam", &Adam(o), lists, &[steps], coefs)
        }
        None => apply("adam", &Adam(o), [Some(params), Some(grads), Some(exp_avgs), Some(exp_avg_sqs)], &[steps], coefs),
    }
}
