//! Scaled dot-product attention as one op (PyTorch's fused `_scaled_dot_product_*_attention`
//! family): `softmax(scale * Q K^T) V`, optionally with the top-left causal mask, with grouped
//! query heads. Two implementations (sdp.rs chooses, under PyTorch's backend switches): the
//! fused kernels (cuda/attention.rs: the scores never reach memory), for CUDA tensors with heads
//! of at most 256 elements, and the same maths in tensor ops (matmuls and the fused softmax) in
//! the compute type. The tensor-op backward also serves `create_graph=True`, where it is
//! recorded.
//!
//! Shapes: `q` (*, L, E), `k` (*, S, E), `v` (*, S, Ev) with equal leading dims; with grouped
//! heads (`enable_gqa`) dim -3 of `k` and `v` may divide `q`'s, each key/value head serving
//! consecutive query heads. The output is (*, L, Ev) in `q`'s dtype.

use super::sdp::{self, Backend};
use crate::cuda::attention::Sizes;
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, err};

/// The parameters of one attention call besides its operands.
#[derive(Clone, Copy, Debug)]
pub struct Attention {
    pub scale: f64,
    pub causal: bool,
    /// Query heads per key/value head (1 without grouped heads).
    pub group: usize,
    /// The implementation, chosen once so the backward runs the forward's.
    pub backend: Backend,
}

/// Checks the operands as PyTorch's SDPA does; returns the call's sizes with every leading dim
/// folded into the heads, and the query heads per key/value head.
fn check(q: &Tensor, k: &Tensor, v: &Tensor, enable_gqa: bool) -> Result<Sizes> {
    if q.dtype() != k.dtype() || q.dtype() != v.dtype() {
        bail!(
            Runtime,
            "Expected query, key, and value to have the same dtype, but got query.dtype: torch.{} key.dtype: torch.{} and value.dtype: torch.{} instead.",
            q.dtype().name(),
            k.dtype().name(),
            v.dtype().name()
        );
    }
    if !q.dtype().is_float() {
        bail!(Runtime, "scaled_dot_product_attention: expected a floating-point query, got {}", q.dtype());
    }
    crate::device::common_device(&[q, k, v])?;
    let nd = q.ndim();
    if nd < 2 || k.ndim() != nd || v.ndim() != nd {
        bail!(Runtime, "scaled_dot_product_attention: expected query, key and value of one rank >= 2, got shapes {:?}, {:?} and {:?}", q.shape(), k.shape(), v.shape());
    }
    let (qs, ks, vs) = (q.shape(), k.shape(), v.shape());
    let mismatch = || err!(Runtime, "scaled_dot_product_attention: query {:?}, key {:?} and value {:?} do not match", qs, ks, vs);
    if qs[nd - 1] != ks[nd - 1] || ks[nd - 2] != vs[nd - 2] || ks[..nd - 2] != vs[..nd - 2] {
        return Err(mismatch());
    }
    let heads_dim = nd.saturating_sub(3);
    // Zero query heads form no group (Python sends that case down the composed path).
    let group = if enable_gqa && nd >= 3 && qs[..heads_dim] == ks[..heads_dim] && ks[heads_dim] > 0 && qs[heads_dim] > 0 && qs[heads_dim] % ks[heads_dim] == 0 {
        qs[heads_dim] / ks[heads_dim]
    } else if qs[..nd - 2] == ks[..nd - 2] {
        1
    } else if enable_gqa && nd >= 3 {
        bail!(Runtime, "Number of heads in key and value must divide the number of heads in query: query {:?}, key {:?}", qs, ks);
    } else {
        return Err(mismatch());
    };
    Ok(Sizes { heads: qs[..nd - 2].iter().product(), group, l: qs[nd - 2], s: ks[nd - 2], e: qs[nd - 1], ev: vs[nd - 1] })
}

/// The checked sizes of a call and the implementation it runs under the current switches.
fn plan(q: &Tensor, k: &Tensor, v: &Tensor, enable_gqa: bool) -> Result<(Sizes, Backend)> {
    let n = check(q, k, v, enable_gqa)?;
    Ok((n, sdp::choose(q.is_cuda(), q.dtype(), n)?))
}

/// The 3-d operand `(rows, n, cols)` of `t` in `dtype`.
pub(crate) fn fold(t: &Tensor, rows: usize, n: usize, cols: usize, dtype: DType) -> Result<Tensor> {
    t.contiguous_as(dtype)?.reshape(&[rows as i64, n as i64, cols as i64])
}

/// Key/value heads repeated for every query head of their group: `(heads / group, S, X)` to
/// `(heads, S, X)` (a view when `group` is 1).
fn spread(t: &Tensor, group: usize) -> Result<Tensor> {
    if group == 1 {
        return Ok(t.clone());
    }
    let (h, s, x) = (t.shape()[0] as i64, t.shape()[1] as i64, t.shape()[2] as i64);
    t.unsqueeze(1)?.expand(&[h, group as i64, s, x])?.reshape(&[h * group as i64, s, x])
}

/// The adjoint of `spread`: the gradients of a group's query heads summed onto their key/value head.
fn gather_groups(t: &Tensor, group: usize) -> Result<Tensor> {
    if group == 1 {
        return Ok(t.clone());
    }
    let (h, s, x) = (t.shape()[0] as i64, t.shape()[1] as i64, t.shape()[2] as i64);
    t.reshape(&[h / group as i64, group as i64, s, x])?.sum(Some(&[1]), false, None)
}

/// The operands in 3-d and the compute type, with their sizes.
pub struct Operands {
    pub q: Tensor,
    pub k: Tensor,
    pub v: Tensor,
    pub n: Sizes,
}

impl Operands {
    /// The operands of an attention call in 3-d and `dtype`.
    pub(crate) fn new(q: &Tensor, k: &Tensor, v: &Tensor, n: Sizes, dtype: DType) -> Result<Self> {
        let kv = n.heads / n.group;
        Ok(Operands { q: fold(q, n.heads, n.l, n.e, dtype)?, k: fold(k, kv, n.s, n.e, dtype)?, v: fold(v, kv, n.s, n.ev, dtype)?, n })
    }

    /// `scale * Q K^T` over every query head, masked above the diagonal when causal.
    fn scores(&self, a: &Attention) -> Result<Tensor> {
        let scores = self.q.mul(a.scale)?.matmul(&spread(&self.k, a.group)?.transpose(1, 2)?)?;
        if !a.causal {
            return Ok(scores);
        }
        let (l, s, device) = (self.n.l as i64, self.n.s as i64, self.q.device());
        let rows = Tensor::positions_on(l as usize, device)?.view(&[l, 1])?;
        let cols = Tensor::positions_on(s as usize, device)?;
        scores.masked_fill(&cols.gt(&rows)?, Scalar::Float(f64::NEG_INFINITY))
    }
}

/// What the forward keeps for the backward: each row's log-sum-exp `(heads, L)`, from which the
/// fused kernels recompute the probabilities, or the probabilities `(heads, L, S)` themselves
/// (the tensor-op path, which has them anyway).
pub enum Kept {
    Lse(Tensor),
    Probs(Tensor),
}

/// The output `(heads, L, Ev)` of the operands and what the backward needs (not recorded).
fn forward(x: &Operands, a: &Attention) -> Result<(Tensor, Kept)> {
    if a.backend == Backend::Fused {
        let (out, lse) = crate::cuda::attention::forward(&x.q, &x.k, &x.v, x.n, a.scale, a.causal)?;
        return Ok((out, Kept::Lse(lse)));
    }
    let p = x.scores(a)?.softmax(-1, None, false)?;
    Ok((p.matmul(&spread(&x.v, a.group)?)?, Kept::Probs(p)))
}

/// `(dq, dk, dv)` of the operands from the output gradient `dout` (heads, L, Ev). With `saved`
/// (the forward's output and what it kept) nothing of the forward is recomputed but what the
/// fused kernels recompute; without, the forward is recomputed in ops, which records it when the
/// backward pass is being recorded.
pub fn backward(x: &Operands, a: &Attention, dout: &Tensor, saved: Option<(&Tensor, &Kept)>) -> Result<(Tensor, Tensor, Tensor)> {
    if let Some((out, Kept::Lse(lse))) = saved {
        return crate::cuda::attention::backward(&x.q, &x.k, &x.v, out, lse, &dout.contiguous()?, x.n, a.scale, a.causal);
    }
    let (kk, vv) = (spread(&x.k, a.group)?, spread(&x.v, a.group)?);
    let (p, out) = match saved {
        Some((out, Kept::Probs(p))) => (p.clone(), out.clone()),
        _ => {
            let p = x.scores(a)?.softmax(-1, None, false)?;
            let out = p.matmul(&vv)?;
            (p, out)
        }
    };
    let dv = p.transpose(1, 2)?.matmul(dout)?;
    let delta = dout.mul(&out)?.sum(Some(&[-1]), true, None)?;
    let ds = p.mul(&dout.matmul(&vv.transpose(1, 2)?)?.sub(&delta)?)?;
    let dq = ds.matmul(&kk)?.mul(a.scale)?;
    let dk = ds.transpose(1, 2)?.matmul(&x.q)?.mul(a.scale)?;
    Ok((dq, gather_groups(&dk, a.group)?, gather_groups(&dv, a.group)?))
}

impl Tensor {
    /// `softmax(scale * self K^T) V` (`scaled_dot_product_attention` without an explicit mask
    /// or dropout); `scale` defaults to `1 / sqrt(E)`.
    pub fn scaled_dot_product_attention(&self, k: &Tensor, v: &Tensor, scale: Option<f64>, causal: bool, enable_gqa: bool) -> Result<Tensor> {
        let (n, backend) = plan(self, k, v, enable_gqa)?;
        let a = Attention { scale: scale.unwrap_or(1.0 / (n.e as f64).sqrt()), causal, group: n.group, backend };
        if crate::autograd::needs_grad(&[self, k, v]) {
            return crate::autograd::formulas::nn::attention::attention(self, k, v, n, a);
        }
        self.attention_forward(k, v, n, &a).map(|(out, _)| out)
    }

    /// The implementation a call on these operands runs under the current switches.
    pub fn attention_backend(&self, k: &Tensor, v: &Tensor, enable_gqa: bool) -> Result<Backend> {
        plan(self, k, v, enable_gqa).map(|(_, backend)| backend)
    }

    /// The output in `self`'s shape (last dim Ev) and dtype, and what the backward needs
    /// (not recorded).
    pub(crate) fn attention_forward(&self, k: &Tensor, v: &Tensor, n: Sizes, a: &Attention) -> Result<(Tensor, Kept)> {
        let x = Operands::new(self, k, v, n, self.operand_type(a))?;
        let (out, kept) = forward(&x, a)?;
        let mut shape: Vec<i64> = self.shape().iter().map(|&s| s as i64).collect();
        *shape.last_mut().expect("rank >= 2") = n.ev as i64;
        Ok((out.reshape(&shape)?.to_dtype(self.dtype())?, kept))
    }

    /// The dtype attention computes in: the fused kernels read the stored dtype (and compute in
    /// its compute type), the tensor-op path converts to the compute type first.
    pub(crate) fn operand_type(&self, a: &Attention) -> DType {
        if a.backend == Backend::Fused {
            self.dtype()
        } else {
            self.dtype().compute_type()
        }
    }
}
