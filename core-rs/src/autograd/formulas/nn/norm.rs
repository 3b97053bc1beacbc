//! Gradients of `ops/nn/norm.rs`.

use crate::autograd::mode::is_grad_enabled;
use crate::autograd::node::Grads;
use crate::autograd::record::record;
use crate::error::Result;
use crate::ops::nn::norm::RowNorm;
use crate::tensor::Tensor;

/// Records `layer_norm` (`NativeLayerNormBackward0`) or `rms_norm` (`FusedRmsNormBackward0`)
/// as one node over the input and the weight and bias present. Its backward is the fused
/// kernel, unless the backward pass itself is being recorded (`create_graph=True`): then the
/// same maths in recorded ops, statistics included, so higher-order gradients are right.
pub fn row_norm(kind: RowNorm, x: &Tensor, normalized: &[usize], weight: Option<&Tensor>, bias: Option<&Tensor>, eps: f64) -> Result<Tensor> {
    let inputs: Vec<&Tensor> = [Some(x), weight, bias].into_iter().flatten().collect();
    let shape = normalized.to_vec();
    let has_bias = bias.is_some();
    let name = if kind.centered() { "NativeLayerNormBackward0" } else { "FusedRmsNormBackward0" };
    record(name, &inputs, || x.row_norm(kind, normalized, weight, bias, eps), |s| {
        let xs = s.save(x);
        let ws = weight.map(|w| s.save(w));
        move |gr: &Grads| {
            let (x, w) = (xs.get()?, ws.as_ref().map(|w| w.get()).transpose()?);
            let wb = w.is_some() && (gr.needs(1) || (has_bias && gr.needs(2)));
            let (dx, dw, db) = if is_grad_enabled() {
                recorded_backward(kind, &x, gr.g(), &shape, w.as_ref(), eps)?
            } else {
                x.row_norm_backward(kind, gr.g(), &shape, w.as_ref(), eps, wb)?
            };
            let mut grads = vec![gr.when(0, || Ok(dx))?];
            if w.is_some() {
                grads.push(dw);
            }
            if has_bias {
                // The bias gradient is dy summed over the leading dims (also without a weight).
                grads.push(match db {
                    Some(db) => Some(db),
                    None => gr.when(grads.len(), || gr.g().sum_to(&shape))?,
                });
            }
            Ok(grads)
        }
    })
}

/// `Tensor::row_norm_backward` in recorded ops.
fn recorded_backward(kind: RowNorm, x: &Tensor, dy: &Tensor, normalized: &[usize], w: Option<&Tensor>, eps: f64) -> Result<(Tensor, Option<Tensor>, Option<Tensor>)> {
    let dims: Vec<i64> = (0..normalized.len() as i64).map(|d| d - normalized.len() as i64).collect();
    let (dx, xhat) = recorded_input_grad(x, dy, w.cloned(), &dims, eps, kind.centered())?;
    let dw = match w {
        Some(_) => Some(dy.mul(&xhat)?.sum_to(normalized)?),
        None => None,
    };
    let db = w.map(|_| dy.sum_to(normalized)).transpose()?;
    Ok((dx, dw, db))
}

/// Records `batch_norm_train` as one node (`NativeBatchNormBackward0`) over the input and the
/// weight and bias present; returns the output and the (unrecorded) batch statistics. Its
/// backward is the fused kernel, unless the backward pass itself is being recorded: then the
/// same maths in recorded ops, so higher-order gradients are right.
pub fn batch_norm_train(x: &Tensor, weight: Option<&Tensor>, bias: Option<&Tensor>, eps: f64) -> Result<(Tensor, Tensor, Tensor)> {
    let inputs: Vec<&Tensor> = [Some(x), weight, bias].into_iter().flatten().collect();
    let (has_weight, has_bias) = (weight.is_some(), bias.is_some());
    let stats = std::cell::RefCell::new(None);
    let forward = || {
        let (out, mean, var) = x.batch_norm_stats_forward(weight, bias, eps)?;
        *stats.borrow_mut() = Some((mean, var));
        Ok(out)
    };
    let out = record("NativeBatchNormBackward0", &inputs, forward, |s| {
        let xs = s.save(x);
        let ws = weight.map(|w| s.save(w));
        let (mean, var) = stats.borrow().clone().expect("the forward ran");
        move |gr: &Grads| {
            let (x, w) = (xs.get()?, ws.as_ref().map(|w| w.get()).transpose()?);
            let (dx, dw, db) = if is_grad_enabled() {
                recorded_batch_norm_backward(&x, gr.g(), w.as_ref(), eps)?
            } else {
                x.batch_norm_train_backward(gr.g(), w.as_ref(), &mean, &var.add(eps)?.rsqrt()?)?
            };
            let mut grads = vec![gr.when(0, || Ok(dx))?];
            if has_weight {
                grads.push(gr.when(1, || Ok(dw))?);
            }
            if has_bias {
                grads.push(gr.when(grads.len(), || Ok(db))?);
            }
            Ok(grads)
        }
    })?;
    let (mean, var) = stats.into_inner().expect("the forward ran");
    Ok((out, mean, var))
}

/// `Tensor::batch_norm_train_backward` in recorded ops (statistics recomputed and recorded).
fn recorded_batch_norm_backward(x: &Tensor, dy: &Tensor, w: Option<&Tensor>, eps: f64) -> Result<(Tensor, Tensor, Tensor)> {
    let dims: Vec<i64> = std::iter::once(0).chain(2..x.ndim() as i64).collect();
    let mut channel_shape = vec![1i64; x.ndim()];
    channel_shape[1] = x.shape()[1] as i64;
    let (dx, xhat) = recorded_input_grad(x, dy, w.map(|w| w.reshape(&channel_shape)).transpose()?, &dims, eps, true)?;
    let dw = dy.mul(&xhat)?.sum(Some(&dims), false, None)?;
    let db = dy.sum(Some(&dims), false, None)?;
    Ok((dx, dw, db))
}

/// The input gradient of normalizing `x` over `dims` (biased variance, `eps` inside the root;
/// about zero instead of the mean when not `center`) then scaling by `w` (broadcast against
/// `x`), in recorded ops; also the normalized input.
fn recorded_input_grad(x: &Tensor, dy: &Tensor, w: Option<Tensor>, dims: &[i64], eps: f64, center: bool) -> Result<(Tensor, Tensor)> {
    let centered = if center { x.sub(&x.mean(Some(dims), true, None)?)? } else { x.clone() };
    let rstd = centered.square()?.mean(Some(dims), true, None)?.add(eps)?.rsqrt()?;
    let xhat = centered.mul(&rstd)?;
    let g = match w {
        Some(w) => dy.mul(&w)?,
        None => dy.clone(),
    };
    let mgx = g.mul(&xhat)?.mean(Some(dims), true, None)?;
    let g = if center { g.sub(&g.mean(Some(dims), true, None)?)? } else { g };
    let dx = rstd.mul(&g.sub(&xhat.mul(&mgx)?)?)?;
    Ok((dx, xhat))
}
