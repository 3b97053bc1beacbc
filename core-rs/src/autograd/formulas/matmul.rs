//! Gradients of matrix products (`ops/matmul.rs`, `ops/matmul/diag.rs`). Every formula is
//! itself a product of recorded ops, and an operand's gradient (one more gemm) is computed only
//! when that operand needs one.

use crate::autograd::node::Grads;
use crate::autograd::record::record;
use crate::dtype::Scalar;
use crate::error::Result;
use crate::tensor::Tensor;

/// `t * s`, skipping the multiplication when `s` is 1 (as PyTorch's `maybe_multiply`).
fn scaled(t: Tensor, s: Scalar) -> Result<Tensor> {
    if s.to_f64() == 1.0 {
        Ok(t)
    } else {
        t.mul(s.to_f64())
    }
}

/// Whether `t` is a column-major matrix (the transpose of a contiguous one, as `weight.t()`).
fn column_major(t: &Tensor) -> bool {
    t.ndim() == 2 && t.strides()[0] == 1 && t.strides()[1] == t.shape()[0] && t.shape()[1] > 1
}

/// Records `alpha * a @ b + beta * bias` (`bias` optional) for operands already shaped
/// `(..., m, k)` and `(..., k, n)`: `mm`, `bmm`, `addmm`, `baddbmm` and the batched product
/// behind `matmul`/`einsum`. `grad_a = alpha g b^T`, `grad_b = alpha a^T g`, `grad_bias = beta g`;
/// broadcast batch dims are summed back by the engine. As PyTorch's `mm_mat{1,2}_backward`, the
/// gradient of a column-major matrix is computed transposed (`(b g^T)^T`, `(g^T a)^T`), so that
/// it comes out column-major too: `linear`'s weight gradient is then contiguous, with no copy.
pub fn product(
    name: &'static str,
    a: &Tensor,
    b: &Tensor,
    bias: Option<(&Tensor, Scalar)>,
    alpha: Scalar,
    forward: impl FnOnce() -> Result<Tensor>,
) -> Result<Tensor> {
    let mut inputs = vec![a, b];
    inputs.extend(bias.map(|(t, _)| t));
    let beta = bias.map(|(_, s)| s);
    record(name, &inputs, forward, |s| {
        // Each operand is read only by the other one's gradient.
        let sa = b.requires_grad().then(|| s.save(a));
        let sb = a.requires_grad().then(|| s.save(b));
        let (a_cols, b_cols) = (column_major(a), column_major(b));
        move |gr: &Grads| {
            let g = gr.g();
            let get = |x: &Option<crate::autograd::Saved>| x.as_ref().expect("saved when its partner requires grad").get();
            let grad_a = || if a_cols { get(&sb)?.matmul(&g.mt()?)?.mt() } else { g.matmul(&get(&sb)?.mt()?) };
            let grad_b = || if b_cols { g.mt()?.matmul(&get(&sa)?)?.mt() } else { get(&sa)?.mt()?.matmul(g) };
            let mut out = vec![gr.when(0, || scaled(grad_a()?, alpha))?, gr.when(1, || scaled(grad_b()?, alpha))?];
            if let Some(beta) = beta {
                out.push(gr.when(2, || scaled(g.clone(), beta))?);
            }
            Ok(out)
        }
    })
}

/// Records `beta * bias + alpha * mat @ vec` (`mv` without a bias, `addmv` with one).
pub fn matrix_vector(
    name: &'static str,
    mat: &Tensor,
    vec: &Tensor,
    bias: Option<(&Tensor, Scalar)>,
    alpha: Scalar,
    forward: impl FnOnce() -> Result<Tensor>,
) -> Result<Tensor> {
    let mut inputs = vec![mat, vec];
    inputs.extend(bias.map(|(t, _)| t));
    let beta = bias.map(|(_, s)| s);
    record(name, &inputs, forward, |s| {
        let sm = vec.requires_grad().then(|| s.save(mat));
        let sv = mat.requires_grad().then(|| s.save(vec));
        move |gr: &Grads| {
            let g = gr.g();
            let get = |x: &Option<crate::autograd::Saved>| x.as_ref().expect("saved when its partner requires grad").get();
            let mut out = vec![
                gr.when(0, || scaled(g.unsqueeze(-1)?.mul(&get(&sv)?)?, alpha))?,
                gr.when(1, || scaled(get(&sm)?.t()?.mv(g)?, alpha))?,
            ];
            if let Some(beta) = beta {
                out.push(gr.when(2, || scaled(g.clone(), beta))?);
            }
            Ok(out)
        }
    })
}

/// Records `dot`/`vdot` (real tensors: the same product).
pub fn dot(name: &'static str, a: &Tensor, b: &Tensor, forward: impl FnOnce() -> Result<Tensor>) -> Result<Tensor> {
    record(name, &[a, b], forward, |s| {
        let sa = b.requires_grad().then(|| s.save(a));
        let sb = a.requires_grad().then(|| s.save(b));
        move |gr: &Grads| {
            let g = gr.g();
            let get = |x: &Option<crate::autograd::Saved>| x.as_ref().expect("saved when its partner requires grad").get();
            Ok(vec![gr.when(0, || get(&sb)?.mul(g))?, gr.when(1, || get(&sa)?.mul(g))?])
        }
    })
}

/// Records `addr`: `beta * bias + alpha * outer(vec1, vec2)`.
pub fn addr(bias: &Tensor, vec1: &Tensor, vec2: &Tensor, beta: Scalar, alpha: Scalar) -> Result<Tensor> {
    record("AddrBackward0", &[vec1, vec2, bias], || bias.addr(vec1, vec2, beta, alpha), |s| {
        let s1 = vec2.requires_grad().then(|| s.save(vec1));
        let s2 = vec1.requires_grad().then(|| s.save(vec2));
        move |gr: &Grads| {
            let g = gr.g();
            let get = |x: &Option<crate::autograd::Saved>| x.as_ref().expect("saved when its partner requires grad").get();
            Ok(vec![
                gr.when(0, || scaled(g.mv(&get(&s2)?)?, alpha))?,
                gr.when(1, || scaled(g.t()?.mv(&get(&s1)?)?, alpha))?,
                gr.when(2, || scaled(g.clone(), beta))?,
            ])
        }
    })
}

/// Records `addbmm`: `beta * bias + alpha * sum_b batch1[b] @ batch2[b]`.
pub fn addbmm(bias: &Tensor, batch1: &Tensor, batch2: &Tensor, beta: Scalar, alpha: Scalar) -> Result<Tensor> {
    record("AddbmmBackward0", &[batch1, batch2, bias], || bias.addbmm(batch1, batch2, beta, alpha), |s| {
        let s1 = batch2.requires_grad().then(|| s.save(batch1));
        let s2 = batch1.requires_grad().then(|| s.save(batch2));
        move |gr: &Grads| {
            let g = gr.g();
            let get = |x: &Option<crate::autograd::Saved>| x.as_ref().expect("saved when its partner requires grad").get();
            // The same `g` reaches every batch entry: broadcast it over the batch dim.
            Ok(vec![
                gr.when(0, || scaled(g.unsqueeze(0)?.matmul(&get(&s2)?.mt()?)?, alpha))?,
                gr.when(1, || scaled(get(&s1)?.mt()?.matmul(g)?, alpha))?,
                gr.when(2, || scaled(g.clone(), beta))?,
            ])
        }
    })
}

/// Records `trace`: the gradient is `g` on the main diagonal.
pub fn trace(x: &Tensor) -> Result<Tensor> {
    let (rows, cols, dtype) = (x.shape()[0], x.shape()[1], x.dtype());
    record("TraceBackward0", &[x], || x.trace(), |_| move |gr: &Grads| Ok(vec![Some(gr.g().mul(&Tensor::eye_on(rows, cols, dtype, gr.g().device())?)?)]))
}

/// Records a copy (`CloneBackward0`), for ops that return a fresh copy of their input.
pub fn clone(x: &Tensor) -> Result<Tensor> {
    record("CloneBackward0", &[x], || x.clone_contiguous(), |_| |gr: &Grads| Ok(vec![Some(gr.g().clone())]))
}
