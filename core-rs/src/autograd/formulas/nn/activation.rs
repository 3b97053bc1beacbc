//! Gradients of the activations (`ops/nn/activation.rs`). The first derivative of a table
//! activation is its fused backward kernel; that kernel is itself recorded, with its own
//! derivative written in ordinary ops below, so double (and higher) backward works.

use crate::autograd::node::Grads;
use crate::autograd::record::record;
use crate::error::Result;
use crate::ops::binary::{where_, Operand};
use crate::ops::join::cat;
use crate::ops::nn::activation::{Activation, Saves};
use crate::tensor::Tensor;

/// Records `op(x)` as node `node` (the out-of-place or the in-place name).
pub fn forward(x: &Tensor, op: Activation, node: &'static str) -> Result<Tensor> {
    record(node, &[x], || x.activation(op), |s| {
        let v = match op.saves() {
            Saves::Input => s.save(x),
            Saves::Output => s.output(0),
        };
        move |gr: &Grads| Ok(vec![Some(gr.g().activation_backward(op, &v.get()?)?)])
    })
}

/// Records the backward kernel `activation_backward(g, v)`: linear in `g`, and in `v` its
/// derivative is `g * f''(v)`.
pub fn backward(g: &Tensor, v: &Tensor, op: Activation) -> Result<Tensor> {
    record(op.backward_node(), &[g, v], || g.activation_backward(op, v), |s| {
        let (gs, vs) = (s.save(g), s.save(v));
        move |gr: &Grads| {
            let v = vs.get()?;
            Ok(vec![
                gr.when(0, || gr.g().activation_backward(op, &v))?,
                gr.when(1, || match second_derivative(op, &v)? {
                    Some(d) => gr.g().mul(&gs.get()?)?.mul(&d),
                    None => v.zeros_like(),
                })?,
            ])
        }
    })
}

/// `sigmoid(x) * (1 - sigmoid(x))`, the derivative of the sigmoid.
fn sigmoid_slope(x: &Tensor) -> Result<Tensor> {
    let s = x.sigmoid()?;
    s.mul(&s.neg()?.add(1.0)?)
}

/// `1 - tanh(x)^2` given `t = tanh(x)`.
fn sech2(t: &Tensor) -> Result<Tensor> {
    t.square()?.neg()?.add(1.0)
}

/// The derivative of the backward kernel's factor with respect to the saved tensor (f'' of
/// the activation), or `None` where it is zero (the piecewise-linear activations).
fn second_derivative(op: Activation, x: &Tensor) -> Result<Option<Tensor>> {
    use Activation::*;
    const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
    const CUBIC: f64 = 0.044_715;
    // PyTorch's `elu_double_backward` masks with `x < 0` (the first derivative uses `x <= 0`).
    let elu = |alpha: f64, scale: f64, input_scale: f64| -> Result<Tensor> {
        x.mul(input_scale)?.exp()?.mul(alpha * scale * input_scale * input_scale)?.keep_where(&x.lt(0.0)?)
    };
    Ok(Some(match op {
        Relu {} | Hardtanh { .. } | Threshold { .. } | LeakyRelu { .. } | Hardsigmoid {} | Softshrink { .. } | Hardshrink { .. } => {
            return Ok(None)
        }
        Elu { alpha, scale, input_scale } => elu(alpha, scale, input_scale)?,
        Celu { alpha } => elu(alpha, 1.0, 1.0 / alpha)?,
        // phi(x) (2 - x^2)
        Gelu {} => x.square()?.mul(-0.5)?.exp()?.mul(FRAC_1_SQRT_2PI)?.mul(&x.square()?.neg()?.add(2.0)?)?,
        // With u = k (x + c x^3), t = tanh(u): (1 - t^2) (u' + x / 2 (u'' - 2 t u'^2)).
        GeluTanh {} => {
            let t = x.add(&x.pow(3.0)?.mul(CUBIC)?)?.mul(SQRT_2_OVER_PI)?.tanh()?;
            let du = x.square()?.mul(3.0 * CUBIC)?.add(1.0)?.mul(SQRT_2_OVER_PI)?;
            let ddu = x.mul(6.0 * CUBIC * SQRT_2_OVER_PI)?;
            let inner = ddu.sub(&t.mul(&du.square()?)?.mul(2.0)?)?.mul(&x.mul(0.5)?)?;
            sech2(&t)?.mul(&du.add(&inner)?)?
        }
        // s (1 - s) (2 + x (1 - 2 s)), s = sigmoid(x)
        Silu {} => {
            let s = x.sigmoid()?;
            sigmoid_slope(x)?.mul(&x.mul(&s.mul(-2.0)?.add(1.0)?)?.add(2.0)?)?
        }
        // With t = tanh(softplus(x)), s = sigmoid(x): (1 - t^2) s (2 + x (1 - s - 2 t s)).
        Mish {} => {
            let t = x.activation(Activation::Softplus { beta: 1.0, threshold: 20.0 })?.tanh()?;
            let s = x.sigmoid()?;
            let inner = s.neg()?.add(1.0)?.sub(&t.mul(&s)?.mul(2.0)?)?.mul(x)?.add(2.0)?;
            sech2(&t)?.mul(&s)?.mul(&inner)?
        }
        Softplus { beta, threshold } => {
            let bx = x.mul(beta)?;
            sigmoid_slope(&bx)?.mul(beta)?.keep_where(&bx.le(threshold)?)?
        }
        Hardswish {} => x.full_like(1.0 / 3.0)?.keep_where(&x.gt(-3.0)?.logical_and(&x.lt(3.0)?)?)?,
        LogSigmoid {} => sigmoid_slope(x)?.neg()?,
        // -2 sign(x) / (1 + |x|)^3
        Softsign {} => x.sign()?.mul(-2.0)?.div(&x.abs()?.add(1.0)?.pow(3.0)?)?,
        // 2 t (1 - t^2), t = tanh(x)
        Tanhshrink {} => {
            let t = x.tanh()?;
            t.mul(2.0)?.mul(&sech2(&t)?)?
        }
    }))
}

/// Records `prelu(x, w)` with `w` broadcastable to `x` (`PreluKernelBackward0`).
pub fn prelu(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    record("PreluKernelBackward0", &[x, w], || x.prelu_broadcast(w), |s| {
        let (xs, ws) = (s.save(x), s.save(w));
        move |gr: &Grads| {
            let (x, g) = (xs.get()?, gr.g());
            let positive = x.gt(0.0)?;
            Ok(vec![
                gr.when(0, || where_(&positive, &Operand::Tensor(g.clone()), &Operand::Tensor(g.mul(&ws.get()?)?)))?,
                gr.when(1, || where_(&positive, &Operand::Scalar(crate::Scalar::Float(0.0)), &Operand::Tensor(g.mul(&x)?)))?,
            ])
        }
    })
}

/// Records `x * noise` for `rrelu`, whose gradient is `g * noise` (`RreluWithNoiseBackward0/1`).
pub fn rrelu(x: &Tensor, noise: &Tensor, node: &'static str) -> Result<Tensor> {
    record(node, &[x], || x.mul(noise), |s| {
        s.keeps_state();
        let noise = noise.clone();
        move |gr: &Grads| Ok(vec![Some(gr.g().mul(&noise)?)])
    })
}

/// Records `glu(x, d)` (`GluBackward0`): `g sigmoid(b)` for the first half, `g a s (1 - s)`
/// for the second.
pub fn glu(x: &Tensor, d: usize) -> Result<Tensor> {
    record("GluBackward0", &[x], || x.glu(d as i64), |s| {
        let xs = s.save(x);
        move |gr: &Grads| {
            let (a, b) = xs.get()?.halves(d)?;
            let g = gr.g();
            let ga = g.mul(&b.sigmoid()?)?;
            let gb = g.mul(&a)?.mul(&sigmoid_slope(&b)?)?;
            Ok(vec![Some(cat(&[ga, gb], d as i64)?)])
        }
    })
}
