//! Gradients of joining, splitting and reordering (`ops/join/`). Joins hand each input its
//! slice of the gradient; reorderings apply the inverse reordering.

use crate::autograd::node::Grads;
use crate::autograd::record::{record, record_multi};
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::tensor::Tensor;

use crate::ops::join::cat::legacy_empty;

/// Records `cat` (`CatBackward0`): input `i` gets its slice of the gradient along `dim`.
pub fn cat(tensors: &[Tensor], dim: i64) -> Result<Tensor> {
    let inputs: Vec<&Tensor> = tensors.iter().collect();
    record("CatBackward0", &inputs, || crate::ops::join::cat(tensors, dim), |_| {
        // The forward succeeded, so the non-skipped inputs agree on their rank.
        let first = tensors.iter().find(|t| !legacy_empty(t)).map(|t| t.ndim()).unwrap_or(1);
        let d = wrap_dim(dim, first).unwrap_or(0) as i64;
        let mut start = 0i64;
        let ranges: Vec<Option<(i64, i64)>> = tensors
            .iter()
            .map(|t| {
                if legacy_empty(t) && first != 1 {
                    return None;
                }
                let len = t.shape()[d as usize] as i64;
                start += len;
                Some((start - len, len))
            })
            .collect();
        move |gr: &Grads| {
            ranges
                .iter()
                .enumerate()
                .map(|(i, r)| match r {
                    Some((s, n)) => gr.when(i, || gr.g().narrow(d, *s, *n)),
                    None => Ok(None),
                })
                .collect()
        }
    })
}

/// Records `stack` (`StackBackward0`): input `i` gets the gradient's slice `i` along the new dim.
pub fn stack(tensors: &[Tensor], dim: i64) -> Result<Tensor> {
    let inputs: Vec<&Tensor> = tensors.iter().collect();
    let n = tensors.len();
    record("StackBackward0", &inputs, || crate::ops::join::stack(tensors, dim), |_| {
        move |gr: &Grads| {
            let d = wrap_dim(dim, gr.g().ndim())? as i64;
            (0..n).map(|i| gr.when(i, || gr.g().select(d, i as i64))).collect()
        }
    })
}

/// Records `block_diag` (`BlockDiagBackward0`): each input gets its block.
pub fn block_diag(tensors: &[Tensor]) -> Result<Tensor> {
    let inputs: Vec<&Tensor> = tensors.iter().collect();
    record("BlockDiagBackward0", &inputs, || crate::ops::join::block_diag(tensors), |_| {
        let (mut r, mut c) = (0i64, 0i64);
        let blocks: Vec<(i64, i64, i64, i64, Vec<i64>)> = tensors
            .iter()
            .map(|t| {
                let (h, w) = match t.ndim() {
                    0 => (1, 1),
                    1 => (1, t.shape()[0] as i64),
                    _ => (t.shape()[0] as i64, t.shape()[1] as i64),
                };
                let block = (r, c, h, w, t.shape().iter().map(|&s| s as i64).collect());
                r += h;
                c += w;
                block
            })
            .collect();
        move |gr: &Grads| {
            blocks
                .iter()
                .enumerate()
                .map(|(i, (r, c, h, w, shape))| gr.when(i, || gr.g().narrow(0, *r, *h)?.narrow(1, *c, *w)?.reshape(shape)))
                .collect()
        }
    })
}

/// Records `repeat` (`RepeatBackward0`): the gradient, seen as `[r0, s0, r1, s1, ...]`, summed
/// over the repeat dims.
pub fn repeat(x: &Tensor, repeats: &[i64]) -> Result<Tensor> {
    let shape: Vec<i64> = x.shape().iter().map(|&s| s as i64).collect();
    let reps = repeats.to_vec();
    record("RepeatBackward0", &[x], || x.repeat(repeats), |_| {
        move |gr: &Grads| {
            let lead = reps.len() - shape.len();
            let mut split = Vec::with_capacity(2 * reps.len());
            for (i, &r) in reps.iter().enumerate() {
                split.extend([r, if i < lead { 1 } else { shape[i - lead] }]);
            }
            let dims: Vec<i64> = (0..reps.len() as i64).map(|i| 2 * i).collect();
            Ok(vec![Some(gr.g().reshape(&split)?.sum(Some(&dims), false, None)?.reshape(&shape)?)])
        }
    })
}

/// Records `flip` (`FlipBackward0`).
pub fn flip(x: &Tensor, dims: &[i64]) -> Result<Tensor> {
    let dims = dims.to_vec();
    record("FlipBackward0", &[x], || x.flip(&dims), |_| {
        let dims = dims.clone();
        move |gr: &Grads| Ok(vec![Some(gr.g().flip(&dims)?)])
    })
}

/// Records `roll` (`RollBackward0`): rolled back by the opposite shifts.
pub fn roll(x: &Tensor, shifts: &[i64], dims: &[i64]) -> Result<Tensor> {
    let back: Vec<i64> = shifts.iter().map(|s| s.wrapping_neg()).collect();
    let dims_owned = dims.to_vec();
    record("RollBackward0", &[x], || x.roll(shifts, dims), |_| move |gr: &Grads| Ok(vec![Some(gr.g().roll(&back, &dims_owned)?)]))
}

/// Records `tril` / `triu` (`TrilBackward0` / `TriuBackward0`): the gradient's same triangle.
pub fn triangle(x: &Tensor, diagonal: i64, upper: bool) -> Result<Tensor> {
    let name = if upper { "TriuBackward0" } else { "TrilBackward0" };
    record(name, &[x], || x.triangle(diagonal, upper), |_| move |gr: &Grads| Ok(vec![Some(gr.g().triangle(diagonal, upper)?)]))
}

/// `t.diagonal(offset, dim1, dim2)` as a recorded view.
fn diagonal(t: &Tensor, offset: i64, d1: i64, d2: i64) -> Result<Tensor> {
    crate::autograd::views::view("DiagonalBackward0", t, move |t| t.diagonal(offset, d1, d2))
}

/// Records `diag_embed` (`DiagEmbedBackward0`): the gradient's diagonal.
pub fn diag_embed(x: &Tensor, offset: i64, dim1: i64, dim2: i64) -> Result<Tensor> {
    record("DiagEmbedBackward0", &[x], || x.diag_embed(offset, dim1, dim2), |_| {
        move |gr: &Grads| Ok(vec![Some(diagonal(gr.g(), offset, dim1, dim2)?)])
    })
}

/// `diag` of a matrix: a copy of its diagonal (`DiagonalBackward0` then `CloneBackward0`,
/// as PyTorch composes it).
pub fn diag_of_matrix(x: &Tensor, offset: i64) -> Result<Tensor> {
    diagonal(x, offset, 0, 1)?.duplicate()
}

/// Records pieces of `x` along dim `d` (`split`, `chunk`, `unbind`) as the outputs of ONE node,
/// as PyTorch's `SplitBackward0` / `UnbindBackward0`: its backward joins the pieces' gradients
/// (zeros for pieces without one) with one `cat` (or `stack` when `unbind` dropped the dim),
/// rather than scattering each piece into an input-sized tensor of zeros.
pub fn pieces(
    name: &'static str,
    x: &Tensor,
    d: usize,
    unbind: bool,
    forward: impl FnOnce() -> Result<Vec<Tensor>>,
) -> Result<Vec<Tensor>> {
    record_multi(name, &[x], forward, move |_| {
        move |gr: &Grads| {
            let grads = if unbind { crate::ops::join::stack(gr.outputs, d as i64)? } else { crate::ops::join::cat(gr.outputs, d as i64)? };
            Ok(vec![Some(grads)])
        }
    })
}
