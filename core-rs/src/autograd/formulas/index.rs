//! Gradients of the indexing ops (`ops/index/`). Each gradient is written with the index
//! ops themselves (a gather's adjoint is a scatter-add and back), so they differentiate again.
//! Index tensors and masks are captured state, never inputs of a node.

use crate::autograd::node::Grads;
use crate::autograd::record::record;
use crate::autograd::views::view;
use crate::dtype::Scalar;
use crate::error::Result;
use crate::layout::{broadcast_shapes, wrap_dim};
use crate::ops::index::{ScatterReduce, ScatterSrc, TensorIndex};
use crate::tensor::Tensor;

/// Zeros of `shape` in `g`'s dtype.
fn zeros(shape: &[usize], g: &Tensor) -> Result<Tensor> {
    Tensor::zeros_on(shape, g.dtype(), g.device())
}

/// A 0-d zero in `g`'s dtype (the value written to clear positions).
fn zero(g: &Tensor) -> Tensor {
    Tensor::scalar(Scalar::Int(0), g.dtype())
}

/// `t` placed at the start of each dim of zeros shaped `shape` (for sources larger than their
/// index: the elements no index reads get no gradient).
pub fn embed(t: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if t.shape() == shape {
        return Ok(t.clone());
    }
    let out = zeros(shape, t)?;
    let mut part = out.clone();
    for (d, &n) in t.shape().iter().enumerate() {
        part = part.narrow(d as i64, 0, n as i64)?;
    }
    // A recorded write: `out` takes on `t`'s history through the view.
    part.copy_(t)?;
    Ok(out)
}

/// The PyTorch node name of a basic (view-making) key: that of the last op it applies.
fn basic_name(key: &[TensorIndex]) -> &'static str {
    match key.iter().rev().find(|ix| !matches!(ix, TensorIndex::Ellipsis)) {
        Some(TensorIndex::Int(_)) | Some(TensorIndex::Tensor(_)) => "SelectBackward0",
        Some(TensorIndex::Slice { .. }) => "SliceBackward0",
        Some(TensorIndex::NewAxis) => "UnsqueezeBackward0",
        _ => "AliasBackward0",
    }
}

/// Records `x[key]`: a view for basic keys, `IndexBackward0` (whose gradient accumulates
/// into zeros at the indexed positions) otherwise.
pub fn get_item(x: &Tensor, key: &[TensorIndex]) -> Result<Tensor> {
    if crate::ops::index::is_basic_key(key) {
        let key = key.to_vec();
        return view(basic_name(&key), x, move |t| t.get_item(&key));
    }
    let shape = x.shape().to_vec();
    record("IndexBackward0", &[x], || x.get_item(key), |s| {
        s.keeps_state();
        let key = key.to_vec();
        move |gr: &Grads| Ok(vec![Some(zeros(&shape, gr.g())?.index_put_key(&key, gr.g(), true)?)])
    })
}

/// Records `x` with `v` written (or added) at `x[key]` (`IndexPutBackward0`).
pub fn index_put(x: &Tensor, key: &[TensorIndex], v: &Tensor, accumulate: bool) -> Result<Tensor> {
    record("IndexPutBackward0", &[x, v], || x.index_put_key(key, v, accumulate), |s| {
        s.keeps_state();
        let key = key.to_vec();
        move |gr: &Grads| {
            let g = gr.g();
            Ok(vec![
                gr.when(0, || if accumulate { Ok(g.clone()) } else { g.index_put_key(&key, &zero(g), false) })?,
                gr.when(1, || g.get_item(&key))?,
            ])
        }
    })
}

/// Records `index_select` (`IndexSelectBackward0`).
pub fn index_select(x: &Tensor, dim: i64, index: &Tensor) -> Result<Tensor> {
    let shape = x.shape().to_vec();
    record("IndexSelectBackward0", &[x], || x.index_select(dim, index), |s| {
        s.keeps_state();
        let index = index.clone();
        move |gr: &Grads| Ok(vec![Some(zeros(&shape, gr.g())?.index_add(dim, &index, gr.g(), Scalar::Int(1))?)])
    })
}

/// Records `index_add` (`IndexAddBackward0`).
pub fn index_add(x: &Tensor, dim: i64, index: &Tensor, src: &Tensor, alpha: Scalar) -> Result<Tensor> {
    record("IndexAddBackward0", &[x, src], || x.index_add(dim, index, src, alpha), |s| {
        s.keeps_state();
        let index = index.clone();
        move |gr: &Grads| {
            let g = gr.g();
            Ok(vec![
                gr.when(0, || Ok(g.clone()))?,
                gr.when(1, || {
                    let r = g.index_select(dim, &index)?;
                    if alpha.to_f64() == 1.0 { Ok(r) } else { r.mul(alpha.to_f64()) }
                })?,
            ])
        }
    })
}

/// Records `index_copy` (`IndexCopyBackward0`).
pub fn index_copy(x: &Tensor, dim: i64, index: &Tensor, src: &Tensor) -> Result<Tensor> {
    record("IndexCopyBackward0", &[x, src], || x.index_copy(dim, index, src), |s| {
        s.keeps_state();
        let index = index.clone();
        move |gr: &Grads| {
            let g = gr.g();
            Ok(vec![gr.when(0, || g.index_fill(dim, &index, Scalar::Int(0)))?, gr.when(1, || g.index_select(dim, &index))?])
        }
    })
}

/// Records `index_fill` with a number (`IndexFillBackward0`).
pub fn index_fill(x: &Tensor, dim: i64, index: &Tensor, value: Scalar) -> Result<Tensor> {
    record("IndexFillBackward0", &[x], || x.index_fill(dim, index, value), |s| {
        s.keeps_state();
        let index = index.clone();
        move |gr: &Grads| Ok(vec![Some(gr.g().index_fill(dim, &index, Scalar::Int(0))?)])
    })
}

/// Records `index_fill` with a 0-d tensor (`IndexFillBackward1`): the value's gradient sums
/// the gradient over the filled positions (each counted once, however often indexed).
pub fn index_fill_tensor(x: &Tensor, dim: i64, index: &Tensor, value: &Tensor) -> Result<Tensor> {
    record("IndexFillBackward1", &[x, value], || x.index_fill(dim, index, value.item()?), |s| {
        s.keeps_state();
        let index = index.clone();
        move |gr: &Grads| {
            let g = gr.g();
            let kept = g.index_fill(dim, &index, Scalar::Int(0))?;
            Ok(vec![gr.when(0, || Ok(kept.clone()))?, gr.when(1, || g.sub(&kept)?.sum(None, false, None))?])
        }
    })
}

/// Records `gather` (`GatherBackward0`).
pub fn gather(x: &Tensor, dim: i64, index: &Tensor) -> Result<Tensor> {
    let shape = x.shape().to_vec();
    record("GatherBackward0", &[x], || x.gather(dim, index), |s| {
        s.keeps_state();
        let index = index.clone();
        move |gr: &Grads| Ok(vec![Some(zeros(&shape, gr.g())?.scatter_add(dim, &index, gr.g())?)])
    })
}

/// Records `take_along_dim` (`TakeAlongDimBackward0`): a gather of the input broadcast
/// against the indices; the gradient scatters into the broadcast shape (the engine sums it
/// back to the input's).
pub fn take_along_dim(x: &Tensor, indices: &Tensor, dim: Option<i64>) -> Result<Tensor> {
    let shape = x.shape().to_vec();
    // The broadcast input shape, the dim gathered along and the broadcast indices.
    let plan = match dim {
        _ if x.ndim() == 0 && dim.is_some() => (vec![], 0, indices.clone()),
        None => (vec![x.numel()], 0, indices.contiguous()?.reshape(&[-1])?),
        Some(d) => {
            let d = wrap_dim(d, x.ndim())?;
            if x.ndim() != indices.ndim() {
                // The forward raises PyTorch's error.
                return crate::autograd::no_grad(|| x.take_along_dim(indices, Some(d as i64)));
            }
            let (self_shape, idx_shape) = crate::ops::index::along_dim_shapes(x.shape(), indices.shape(), d)?;
            let i = indices.with_layout(indices.layout().broadcast_to(&idx_shape)?).contiguous()?;
            (self_shape, d, i)
        }
    };
    record("TakeAlongDimBackward0", &[x], || x.take_along_dim(indices, dim), |s| {
        s.keeps_state();
        let (grad_shape, d, index) = plan;
        move |gr: &Grads| {
            let g = gr.g();
            let g = if dim.is_none() { g.reshape(&[-1])? } else { g.clone() };
            let r = zeros(&grad_shape, &g)?.scatter_add(d as i64, &index, &g)?;
            Ok(vec![Some(if dim.is_none() { r.reshape(&shape.iter().map(|&s| s as i64).collect::<Vec<_>>())? } else { r })])
        }
    })
}

/// Records `scatter` with a tensor or a number (`ScatterBackward0` / `ScatterBackward1`);
/// the legacy reductions 'add' and 'multiply' take `scatter_add`'s and `scatter_reduce`'s
/// formulas.
pub fn scatter(x: &Tensor, dim: i64, index: &Tensor, src: &ScatterSrc, reduce: Option<ScatterReduce>) -> Result<Tensor> {
    let legacy = reduce.map(|r| if r == ScatterReduce::Sum { "add" } else { "multiply" });
    match (src, reduce) {
        (ScatterSrc::Tensor(t), Some(ScatterReduce::Sum)) => scatter_add(x, dim, index, t),
        (ScatterSrc::Tensor(t), Some(r)) => scatter_reduce_named("ScatterBackward0", x, dim, index, t, r, true, legacy),
        (ScatterSrc::Tensor(t), None) => {
            let src_shape = t.shape().to_vec();
            record("ScatterBackward0", &[x, t], || x.scatter(dim, index, src, None), |s| {
                s.keeps_state();
                let index = index.clone();
                move |gr: &Grads| {
                    let g = gr.g();
                    Ok(vec![
                        gr.when(0, || g.scatter(dim, &index, &ScatterSrc::Value(Scalar::Int(0)), None))?,
                        gr.when(1, || embed(&g.gather(dim, &index)?, &src_shape))?,
                    ])
                }
            })
        }
        (ScatterSrc::Value(v), r) => {
            let v = *v;
            record("ScatterBackward1", &[x], || x.scatter(dim, index, src, legacy), |s| {
                s.keeps_state();
                let index = index.clone();
                move |gr: &Grads| {
                    let g = gr.g();
                    Ok(vec![Some(match r {
                        None => g.scatter(dim, &index, &ScatterSrc::Value(Scalar::Int(0)), None)?,
                        Some(ScatterReduce::Sum) => g.clone(),
                        // Each time a position is indexed it is multiplied by `v` once more.
                        Some(_) => {
                            let ones = Tensor::full_on(index.shape(), Scalar::Int(1), g.dtype(), g.device())?;
                            let count = zeros(g.shape(), g)?.scatter_add(dim, &index, &ones)?;
                            g.mul(&Tensor::scalar(v, g.dtype()).pow(&count)?)?
                        }
                    })])
                }
            })
        }
    }
}

/// Records `scatter_add` (`ScatterAddBackward0`).
pub fn scatter_add(x: &Tensor, dim: i64, index: &Tensor, src: &Tensor) -> Result<Tensor> {
    let src_shape = src.shape().to_vec();
    record("ScatterAddBackward0", &[x, src], || x.scatter_add(dim, index, src), |s| {
        s.keeps_state();
        let index = index.clone();
        move |gr: &Grads| {
            let g = gr.g();
            Ok(vec![gr.when(0, || Ok(g.clone()))?, gr.when(1, || embed(&g.gather(dim, &index)?, &src_shape))?])
        }
    })
}

/// Records `scatter_reduce` (`ScatterReduceBackward0`).
pub fn scatter_reduce(x: &Tensor, dim: i64, index: &Tensor, src: &Tensor, reduce: ScatterReduce, include_self: bool) -> Result<Tensor> {
    scatter_reduce_named("ScatterReduceBackward0", x, dim, index, src, reduce, include_self, None)
}

/// `scatter_reduce`'s node under `name`; `legacy` is `scatter`'s `reduce` argument when the
/// forward is the legacy `scatter(..., reduce=)`.
#[allow(clippy::too_many_arguments)]
fn scatter_reduce_named(
    name: &'static str,
    x: &Tensor,
    dim: i64,
    index: &Tensor,
    src: &Tensor,
    reduce: ScatterReduce,
    include_self: bool,
    legacy: Option<&'static str>,
) -> Result<Tensor> {
    let src_shape = src.shape().to_vec();
    let forward = || match legacy {
        Some(l) => x.scatter(dim, index, &ScatterSrc::Tensor(src.clone()), Some(l)),
        None => x.scatter_reduce(dim, index, src, reduce, include_self),
    };
    record(name, &[x, src], forward, |s| {
        let (xs, ss, out) = (s.save(x), s.save(src), s.output(0));
        let index = index.clone();
        move |gr: &Grads| {
            let (g, x, src, result) = (gr.g(), xs.get()?, ss.get()?, out.get()?);
            // Only the part of `src` the index covers takes part.
            let src = cover(&src, index.shape())?;
            let (gx, gs) = scatter_reduce_grads(g, &x, dim, &index, &src, &result, reduce, include_self, (gr.needs(0), gr.needs(1)))?;
            Ok(vec![gx, gs.map(|t| embed(&t, &src_shape)).transpose()?])
        }
    })
}

/// The leading `shape` part of `t` (a view).
fn cover(t: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let mut r = t.clone();
    if t.ndim() == 0 {
        return Ok(r);
    }
    for (d, &n) in shape.iter().enumerate() {
        if r.shape()[d] != n {
            r = r.narrow(d as i64, 0, n as i64)?;
        }
    }
    Ok(r)
}

/// PyTorch's `scatter_reduce_backward`: gradients of `self` and of `src` (shaped like the index).
#[allow(clippy::too_many_arguments)]
fn scatter_reduce_grads(
    g: &Tensor,
    x: &Tensor,
    dim: i64,
    index: &Tensor,
    src: &Tensor,
    result: &Tensor,
    reduce: ScatterReduce,
    include_self: bool,
    need: (bool, bool),
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let when = |n: bool, f: &dyn Fn() -> Result<Tensor>| if n { f().map(Some) } else { Ok(None) };
    let float = |t: &Tensor| t.to_dtype(g.dtype());
    let (gx, gs) = match reduce {
        ScatterReduce::Sum => (when(need.0, &|| Ok(g.clone()))?, when(need.1, &|| g.gather(dim, index))?),
        ScatterReduce::Mean => {
            let start = if include_self { 1 } else { 0 };
            let n = Tensor::full_on(g.shape(), Scalar::Int(start), g.dtype(), g.device())?
                .scatter_add(dim, index, &Tensor::full_on(index.shape(), Scalar::Int(1), g.dtype(), g.device())?)?;
            let n = n.masked_fill(&n.eq(0.0)?, Scalar::Int(1))?;
            (when(need.0, &|| g.div(&n))?, when(need.1, &|| g.gather(dim, index)?.div(&n.gather(dim, index)?))?)
        }
        ScatterReduce::Prod => {
            // Products without each factor, computed so that a single zero factor still gets
            // the product of the others.
            let gx = when(need.0, &|| {
                let masked = x.masked_fill(&x.eq(0.0)?, Scalar::Int(1))?;
                let masked_result = masked.scatter_reduce(dim, index, src, reduce, include_self)?;
                g.mul(&masked_result)?.div(&masked)
            })?;
            let gs = when(need.1, &|| {
                let src_zero = src.eq(0.0)?;
                let zeros_at = zeros(g.shape(), g)?.scatter_add(dim, index, &float(&src_zero)?)?.gather(dim, index)?;
                let single = crate::ops::binary::binary(&(&src_zero).into(), crate::ops::binary::BinaryOp::LogicalAnd, &(&zeros_at.eq(1.0)?).into())?;
                let masked_src = src.masked_fill(&single, Scalar::Int(1))?;
                let masked_src_result = x.scatter_reduce(dim, index, &masked_src, reduce, include_self)?;
                let others = g.mul(&masked_src_result)?.gather(dim, index)?;
                let plain = g.mul(result)?.gather(dim, index)?.div(&src.masked_fill(&src_zero, Scalar::Int(1))?)?;
                crate::ops::binary::where_(&single, &(&others).into(), &(&plain).into())
            })?;
            (gx, gs)
        }
        ScatterReduce::Amax | ScatterReduce::Amin => {
            // Ties share the gradient evenly.
            let value = result.gather(dim, index)?;
            let mut self_is = x.eq(result)?;
            if !include_self {
                self_is = self_is.scatter(dim, index, &ScatterSrc::Value(Scalar::Bool(false)), None)?;
            }
            let src_is = src.eq(&value)?;
            let count = float(&self_is)?.scatter_add(dim, index, &float(&src_is)?)?;
            let share = g.div(&count)?;
            (when(need.0, &|| share.keep_where(&self_is))?, when(need.1, &|| share.gather(dim, index)?.keep_where(&src_is))?)
        }
    };
    // Positions the index writes do not keep `self` unless it is included.
    let gx = match gx {
        Some(t) if !include_self => Some(t.scatter(dim, index, &ScatterSrc::Value(Scalar::Int(0)), None)?),
        other => other,
    };
    Ok((gx, gs))
}

/// Records `masked_fill` with a number (`MaskedFillBackward0`).
pub fn masked_fill(x: &Tensor, mask: &Tensor, value: Scalar) -> Result<Tensor> {
    record("MaskedFillBackward0", &[x], || x.masked_fill(mask, value), |s| {
        s.keeps_state();
        let mask = mask.clone();
        move |gr: &Grads| Ok(vec![Some(gr.g().masked_fill(&mask, Scalar::Int(0))?)])
    })
}

/// Records `masked_fill` with a 0-d tensor (`MaskedFillBackward1`).
pub fn masked_fill_tensor(x: &Tensor, mask: &Tensor, value: &Tensor) -> Result<Tensor> {
    record("MaskedFillBackward1", &[x, value], || x.masked_fill(mask, value.item()?), |s| {
        s.keeps_state();
        let mask = mask.clone();
        move |gr: &Grads| {
            let g = gr.g();
            Ok(vec![
                gr.when(0, || g.masked_fill(&mask, Scalar::Int(0)))?,
                gr.when(1, || g.keep_where(&mask)?.sum(None, false, None))?,
            ])
        }
    })
}

/// Records `masked_select` (`MaskedSelectBackward0`): the gradient goes back to the selected
/// positions of the broadcast input.
pub fn masked_select(x: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let shape = broadcast_shapes(x.shape(), mask.shape())?;
    record("MaskedSelectBackward0", &[x], || x.masked_select(mask), |s| {
        s.keeps_state();
        let mask = mask.clone();
        move |gr: &Grads| Ok(vec![Some(zeros(&shape, gr.g())?.masked_scatter(&mask, gr.g())?)])
    })
}

/// Records `masked_scatter` (`MaskedScatterBackward0`): `source`'s elements past the number
/// written get no gradient.
pub fn masked_scatter(x: &Tensor, mask: &Tensor, source: &Tensor) -> Result<Tensor> {
    let src_shape: Vec<i64> = source.shape().iter().map(|&s| s as i64).collect();
    let src_numel = source.numel();
    record("MaskedScatterBackward0", &[x, source], || x.masked_scatter(mask, source), |s| {
        s.keeps_state();
        let mask = mask.clone();
        move |gr: &Grads| {
            let g = gr.g();
            Ok(vec![
                gr.when(0, || g.masked_fill(&mask, Scalar::Int(0)))?,
                gr.when(1, || {
                    let picked = g.masked_select(&mask)?;
                    let rest = src_numel - picked.numel();
                    let flat = if rest > 0 { crate::ops::join::cat(&[picked, zeros(&[rest], g)?], 0)? } else { picked };
                    flat.reshape(&src_shape)
                })?,
            ])
        }
    })
}

/// Records `take` (`TakeBackward0`).
pub fn take(x: &Tensor, index: &Tensor) -> Result<Tensor> {
    let shape = x.shape().to_vec();
    record("TakeBackward0", &[x], || x.take(index), |s| {
        s.keeps_state();
        let index = index.clone();
        move |gr: &Grads| Ok(vec![Some(zeros(&shape, gr.g())?.put(&index, gr.g(), true)?)])
    })
}

/// Records `put` (`PutBackward0`).
pub fn put(x: &Tensor, index: &Tensor, source: &Tensor, accumulate: bool) -> Result<Tensor> {
    let src_shape: Vec<i64> = source.shape().iter().map(|&s| s as i64).collect();
    record("PutBackward0", &[x, source], || x.put(index, source, accumulate), |s| {
        s.keeps_state();
        let index = index.clone();
        move |gr: &Grads| {
            let g = gr.g();
            Ok(vec![
                gr.when(0, || if accumulate { Ok(g.clone()) } else { g.put(&index, &zeros(index.shape(), g)?, false) })?,
                gr.when(1, || g.take(&index)?.reshape(&src_shape))?,
            ])
        }
    })
}
