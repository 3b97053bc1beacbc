//! Gradients of statistics (`ops/reduce/stats.rs`, `ops/reduce/softmax.rs`): variance and
//! standard deviation (with their means), `logsumexp`, `softmax`/`log_softmax`, vector norms.

use super::{kept_shape, nonzero_or_one, select, unreduce};
use crate::autograd::node::Grads;
use crate::autograd::record::{record, record_multi};
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// Which statistic of `var_mean` an op returns.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    Var,
    Std,
}

/// `d var / d x` times `g` (both with the reduced dims kept): `2 (x - mean) / (N - correction)`.
fn var_grad(g: &Tensor, x: &Tensor, dims: Option<&[i64]>, divisor: f64) -> Result<Tensor> {
    let centered = x.sub(&x.mean(dims, true, None)?)?;
    g.mul(2.0 / divisor)?.mul(&centered)
}

/// The gradient reaching `var` from `std`'s gradient `g`: `g / (2 std)`, 0 where `std` is 0
/// (PyTorch's subgradient).
fn std_to_var(g: &Tensor, std: &Tensor) -> Result<Tensor> {
    g.div(&nonzero_or_one(std)?.mul(2.0)?)?.keep_where(&std.ne(0.0)?)
}

/// `(N - correction)` clamped at 0, as the forward divides.
fn divisor(x: &Tensor, kept: &[i64], correction: f64) -> f64 {
    let n = x.numel() as f64 / kept.iter().product::<i64>().max(1) as f64;
    (n - correction).max(0.0)
}

/// Records `var`/`std` (`VarBackward0`/`StdBackward0`).
pub fn spread(x: &Tensor, dims: Option<&[i64]>, correction: f64, keepdim: bool, which: Spread) -> Result<Tensor> {
    let kept = kept_shape(x.shape(), dims)?;
    let div = divisor(x, &kept, correction);
    let owned = dims.map(<[i64]>::to_vec);
    let name = if which == Spread::Var { "VarBackward0" } else { "StdBackward0" };
    let forward = || if which == Spread::Var { x.var(dims, correction, keepdim) } else { x.std(dims, correction, keepdim) };
    record(name, &[x], forward, |s| {
        let (xs, out) = (s.save(x), s.output(0));
        move |gr: &Grads| {
            let mut g = gr.g().reshape(&kept)?;
            if which == Spread::Std {
                g = std_to_var(&g, &out.get()?.reshape(&kept)?)?;
            }
            Ok(vec![Some(var_grad(&g, &xs.get()?, owned.as_deref(), div)?)])
        }
    })
}

/// Records `var_mean`/`std_mean` (`VarMeanBackward0`/`StdMeanBackward0`).
pub fn spread_mean(x: &Tensor, dims: Option<&[i64]>, correction: f64, keepdim: bool, which: Spread) -> Result<(Tensor, Tensor)> {
    let (shape, kept) = (x.shape().to_vec(), kept_shape(x.shape(), dims)?);
    let div = divisor(x, &kept, correction);
    let count = x.numel() as f64 / kept.iter().product::<i64>().max(1) as f64;
    let owned = dims.map(<[i64]>::to_vec);
    let name = if which == Spread::Var { "VarMeanBackward0" } else { "StdMeanBackward0" };
    let forward = || {
        let (a, b) = if which == Spread::Var { x.var_mean(dims, correction, keepdim)? } else { x.std_mean(dims, correction, keepdim)? };
        Ok(vec![a, b])
    };
    let mut outs = record_multi(name, &[x], forward, |s| {
        let (xs, out) = (s.save(x), s.output(0));
        move |gr: &Grads| {
            let mut total: Option<Tensor> = None;
            if gr.present(0) {
                let mut g = gr.outputs[0].reshape(&kept)?;
                if which == Spread::Std {
                    g = std_to_var(&g, &out.get()?.reshape(&kept)?)?;
                }
                total = Some(var_grad(&g, &xs.get()?, owned.as_deref(), div)?);
            }
            if gr.present(1) {
                let gm = unreduce(&gr.outputs[1].div(count)?, &shape, &kept)?;
                total = Some(match total {
                    Some(t) => t.add(&gm)?,
                    None => gm,
                });
            }
            Ok(vec![total])
        }
    })?;
    let mean = outs.pop().expect("two outputs");
    Ok((outs.pop().expect("two outputs"), mean))
}

/// Records `logsumexp`: `g * exp(x - result)`.
pub fn logsumexp(x: &Tensor, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
    let kept = kept_shape(x.shape(), dims)?;
    record("LogsumexpBackward0", &[x], || x.logsumexp(dims, keepdim), |s| {
        let (xs, out) = (s.save(x), s.output(0));
        move |gr: &Grads| {
            let weights = xs.get()?.sub(&out.get()?.reshape(&kept)?)?.exp()?;
            Ok(vec![Some(gr.g().reshape(&kept)?.mul(&weights)?)])
        }
    })
}

/// Records `softmax`/`log_softmax` along `dim`, from the saved result `y`:
/// `y (g - sum(g y))` and `g - exp(y) sum(g)`.
pub fn softmax(x: &Tensor, dim: i64, dtype: Option<DType>, log: bool) -> Result<Tensor> {
    let name = if log { "LogSoftmaxBackward0" } else { "SoftmaxBackward0" };
    let dims = [dim];
    record(name, &[x], || x.softmax(dim, dtype, log), |s| {
        let out = s.output(0);
        move |gr: &Grads| {
            let (g, y) = (gr.g(), out.get()?);
            let grad = if log {
                g.sub(&y.exp()?.mul(&g.sum(Some(&dims), true, None)?)?)?
            } else {
                y.mul(&g.sub(&g.mul(&y)?.sum(Some(&dims), true, None)?)?)?
            };
            Ok(vec![Some(grad)])
        }
    })
}

/// Records `linalg.vector_norm` (`LinalgVectorNormBackward0`), with PyTorch's subgradients:
/// 0 at a zero vector for `p > 1`, ties of `inf` norms sharing the gradient.
pub fn vector_norm(x: &Tensor, ord: f64, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    let kept = kept_shape(x.shape(), dims)?;
    let owned = dims.map(<[i64]>::to_vec);
    record("LinalgVectorNormBackward0", &[x], || x.vector_norm(ord, dims, keepdim, dtype), |s| {
        let (xs, out) = (s.save(x), s.output(0));
        move |gr: &Grads| {
            let (x, g, norm) = (xs.get()?, gr.g().reshape(&kept)?, out.get()?.reshape(&kept)?);
            Ok(vec![Some(norm_grad(&x, &g, &norm, ord, owned.as_deref())?)])
        }
    })
}

/// `d ||x||_p / dx` times `g` (`g` and `norm` with the reduced dims kept).
fn norm_grad(x: &Tensor, g: &Tensor, norm: &Tensor, p: f64, dims: Option<&[i64]>) -> Result<Tensor> {
    // g / norm^(p-1), 0 where the norm is 0.
    let scale = |power: f64| -> Result<Tensor> { g.div(&nonzero_or_one(norm)?.pow(power)?)?.keep_where(&norm.ne(0.0)?) };
    if p == 0.0 {
        x.zeros_like()?.mul(g)
    } else if p == 1.0 {
        x.sign()?.mul(g)
    } else if p == 2.0 {
        x.mul(&scale(1.0)?)
    } else if p.is_infinite() {
        let abs = x.abs()?;
        let mask = abs.eq(norm)?.logical_or(&abs.isnan()?)?;
        x.sign()?.mul(&g.div(&mask.sum(dims, true, None)?)?)?.mul(&mask)
    } else if p < 1.0 {
        let pow = select(&x.eq(0.0)?, 0.0, &nonzero_or_one(x)?.abs()?.pow(p - 1.0)?)?;
        x.sign()?.mul(&pow)?.mul(g)?.mul(&norm.pow(1.0 - p)?)
    } else if p < 2.0 {
        x.sign()?.mul(&x.abs()?.pow(p - 1.0)?)?.mul(&scale(p - 1.0)?)
    } else {
        x.mul(&x.abs()?.pow(p - 2.0)?)?.mul(&scale(p - 1.0)?)
    }
}
