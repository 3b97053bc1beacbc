//! Gradients of the element-wise functions of one tensor (`ops/unary.rs`).

use std::f64::consts::{LN_10, LN_2, PI};

use crate::autograd::node::Grads;
use crate::cpu::real::Real;
use crate::dtype::Element;
use crate::autograd::record::record;
use crate::error::Result;
use crate::ops::binary::Operand;
use crate::ops::unary::{FloatUnaryOp, NumericUnaryOp};
use crate::tensor::Tensor;

/// Whether an op's derivative is cheapest from its result (so only the result is saved).
fn uses_result(op: FloatUnaryOp) -> bool {
    use FloatUnaryOp::*;
    matches!(op, Exp | Exp2 | Expm1 | Sqrt | Rsqrt | Tan | Tanh | Sigmoid | Reciprocal | Erfinv)
}

/// d op(x) / dx times `g`, from the input `x` or the result `y` (whichever `uses_result` says).
fn float_grad(op: FloatUnaryOp, g: &Tensor, v: &Tensor) -> Result<Tensor> {
    use FloatUnaryOp::*;
    // `v` is the input or the result; the names say which each formula reads.
    let (x, y) = (v, v);
    match op {
        Exp => g.mul(y),
        Exp2 => g.mul(&y.mul(LN_2)?),
        Expm1 => g.mul(&y.add(1.0)?),
        Log => g.div(x),
        Log2 => g.div(&x.mul(LN_2)?),
        Log10 => g.div(&x.mul(LN_10)?),
        Log1p => g.div(&x.add(1.0)?),
        Sqrt => g.div(&y.mul(2.0)?),
        Rsqrt => g.mul(&y.pow(3.0)?.mul(-0.5)?),
        Sin => g.mul(&x.cos()?),
        Cos => g.mul(&x.sin()?.neg()?),
        Tan => g.mul(&y.square()?.add(1.0)?),
        Asin => g.div(&x.square()?.neg()?.add(1.0)?.sqrt()?),
        Acos => g.div(&x.square()?.neg()?.add(1.0)?.sqrt()?)?.neg(),
        Atan => g.div(&x.square()?.add(1.0)?),
        Sinh => g.mul(&x.cosh()?),
        Cosh => g.mul(&x.sinh()?),
        Tanh => g.mul(&y.square()?.neg()?.add(1.0)?),
        Asinh => g.div(&x.square()?.add(1.0)?.sqrt()?),
        Acosh => g.div(&x.square()?.sub(1.0)?.sqrt()?),
        Atanh => g.div(&x.square()?.neg()?.add(1.0)?),
        Sigmoid => g.mul(&y.mul(&y.neg()?.add(1.0)?)?),
        Erf => g.mul(&x.square()?.neg()?.exp()?.mul(2.0 / PI.sqrt())?),
        Erfc => g.mul(&x.square()?.neg()?.exp()?.mul(-2.0 / PI.sqrt())?),
        Erfinv => g.mul(&y.square()?.exp()?.mul(PI.sqrt() / 2.0)?),
        Lgamma => g.mul(&x.digamma()?),
        Digamma => g.mul(&trigamma(x)?),
        Reciprocal => g.mul(&y.square()?.neg()?),
    }
}

/// Records `op(x)` (`ExpBackward0`, ...).
pub fn float(x: &Tensor, op: FloatUnaryOp) -> Result<Tensor> {
    record(op.backward_name(), &[x], || x.float_unary(op), |s| {
        let v = if uses_result(op) { s.output(0) } else { s.save(x) };
        move |gr: &Grads| Ok(vec![Some(float_grad(op, gr.g(), &v.get()?)?)])
    })
}

/// Records a type-preserving function (`NegBackward0`, `AbsBackward0`, ...).
pub fn numeric(x: &Tensor, op: NumericUnaryOp) -> Result<Tensor> {
    use NumericUnaryOp::*;
    record(op.backward_name(), &[x], || x.numeric_unary(op), |s| {
        let x = matches!(op, Abs | Square).then(|| s.save(x));
        move |gr: &Grads| {
            let g = gr.g();
            Ok(vec![Some(match op {
                Neg => g.neg()?,
                Abs => g.mul(&x.as_ref().expect("saved").get()?.sign()?)?,
                Square => g.mul(&x.as_ref().expect("saved").get()?.mul(2.0)?)?,
                Sign | Floor | Ceil | Trunc => g.zeros_like()?,
            })])
        }
    })
}

/// `polygamma(1, x)`, the derivative of digamma: recurrence up to x >= 6, then the
/// asymptotic series. Its own derivative is not implemented.
pub fn trigamma(x: &Tensor) -> Result<Tensor> {
    fn scalar(mut x: f64) -> f64 {
        if x <= 0.0 && x == x.floor() {
            return f64::INFINITY;
        }
        if x < 0.5 {
            // Reflection: psi1(1 - x) + psi1(x) = pi^2 / sin^2(pi x).
            let s = (PI * x).sin();
            return PI * PI / (s * s) - scalar(1.0 - x);
        }
        let mut acc = 0.0;
        while x < 6.0 {
            acc += 1.0 / (x * x);
            x += 1.0;
        }
        let inv = 1.0 / x;
        let inv2 = inv * inv;
        acc + inv + inv2 / 2.0 + inv * inv2 * (1.0 / 6.0 - inv2 * (1.0 / 30.0 - inv2 * (1.0 / 42.0 - inv2 / 30.0)))
    }
    record("PolygammaBackward0", &[x], || {
        crate::device::on_host(x, |x| {
            crate::ops::unary::in_compute_type(x, x.dtype(), |t, c| {
                crate::with_real_dtype!(c, R => crate::cpu::map::map1::<R, R>(t, |v: R| R::of(scalar(v.to_f64()))))
            })
        })
    }, |_| {
        |_: &Grads| -> Result<Vec<Option<Tensor>>> { crate::bail!(NotImplemented, "the derivative for 'polygamma' is not implemented.") }
    })
}

/// Records `frac` (`FracBackward0`): slope 1 between the jumps.
pub fn frac(x: &Tensor) -> Result<Tensor> {
    record("FracBackward0", &[x], || x.frac(), |_| |gr: &Grads| Ok(vec![Some(gr.g().clone())]))
}

/// Records `round(decimals)` (`RoundBackward0`): piecewise constant.
pub fn round(x: &Tensor, decimals: i64) -> Result<Tensor> {
    let name = if decimals == 0 { "RoundBackward0" } else { "RoundBackward1" };
    record(name, &[x], || x.round_decimals(decimals), |_| |gr: &Grads| Ok(vec![Some(gr.g().zeros_like()?)]))
}

/// Records `logit(eps)` (`LogitBackward0`): `g / (x (1 - x))`, zero where `x` was clamped.
pub fn logit(x: &Tensor, eps: Option<f64>) -> Result<Tensor> {
    record("LogitBackward0", &[x], || x.logit(eps), |s| {
        let xs = s.save(x);
        move |gr: &Grads| {
            let x = xs.get()?;
            let d = gr.g().div(&x.mul(&x.neg()?.add(1.0)?)?)?;
            Ok(vec![Some(match eps {
                None => d,
                Some(e) => d.keep_where(&x.ge(e)?.logical_and(&x.le(1.0 - e)?)?)?,
            })])
        }
    })
}

/// Records `nan_to_num` (`NanToNumBackward0`): the gradient passes where `x` was finite.
pub fn nan_to_num(x: &Tensor, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> Result<Tensor> {
    record("NanToNumBackward0", &[x], || x.nan_to_num(nan, posinf, neginf), |s| {
        let xs = s.save(x);
        move |gr: &Grads| Ok(vec![Some(gr.g().keep_where(&xs.get()?.float_test("isfinite")?)?)])
    })
}

/// Records `clamp` with number bounds (`ClampBackward1`): the gradient passes only strictly
/// inside the bounds, as in PyTorch 2.15.
pub fn clamp_scalar(x: &Tensor, min: Option<&Operand>, max: Option<&Operand>) -> Result<Tensor> {
    let (lo, hi) = (min.cloned(), max.cloned());
    record("ClampBackward1", &[x], || x.clamp(min, max), |s| {
        let xs = s.save(x);
        move |gr: &Grads| {
            let x = xs.get()?;
            let above = lo.as_ref().map(|b| x.gt(b.clone())).transpose()?;
            let below = hi.as_ref().map(|b| x.lt(b.clone())).transpose()?;
            let inside = match (above, below) {
                (Some(a), Some(b)) => a.logical_and(&b)?,
                (Some(c), None) | (None, Some(c)) => c,
                (None, None) => return Ok(vec![Some(gr.g().clone())]),
            };
            Ok(vec![Some(gr.g().keep_where(&inside)?)])
        }
    })
}
