//! Gradients of `ops/nn/attention.rs`.

use std::cell::RefCell;

use crate::autograd::mode::is_grad_enabled;
use crate::autograd::node::Grads;
use crate::autograd::record::record;
use crate::cuda::attention::Sizes;
use crate::error::Result;
use crate::ops::nn::attention::{backward, fold, Attention, Operands};
use crate::tensor::Tensor;

/// Records `scaled_dot_product_attention` as one node over query, key and value, saving the
/// output and the row log-sum-exps (fused kernels, as PyTorch's fused attention) or the
/// probabilities (tensor ops). Its backward is the fused kernels on CUDA (the tensor-op formula
/// elsewhere), unless the backward pass itself is being recorded: then the forward is
/// recomputed in recorded ops, so higher-order gradients are right.
pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor, n: Sizes, a: Attention) -> Result<Tensor> {
    let kept = RefCell::new(None);
    let forward = || {
        let (out, k) = q.attention_forward(k, v, n, &a)?;
        *kept.borrow_mut() = Some(k);
        Ok(out)
    };
    let name = if q.is_cuda() { "ScaledDotProductFlashAttentionBackward0" } else { "ScaledDotProductFlashAttentionForCpuBackward0" };
    record(name, &[q, k, v], forward, |s| {
        let (qs, ks, vs, outs) = (s.save(q), s.save(k), s.save(v), s.output(0));
        let kept = kept.borrow_mut().take().expect("the forward ran");
        let shapes = [q.shape(), k.shape(), v.shape()].map(|s| s.iter().map(|&d| d as i64).collect::<Vec<_>>());
        let out_dtype = q.dtype();
        move |gr: &Grads| {
            let (q, k, v) = (qs.get()?, ks.get()?, vs.get()?);
            // Recorded, the backward is tensor ops: in the compute type, as the CPU path.
            let recorded = is_grad_enabled();
            let dtype = if recorded { q.dtype().compute_type() } else { q.operand_type(&a) };
            let x = Operands::new(&q, &k, &v, n, dtype)?;
            let dout = fold(gr.g(), n.heads, n.l, n.ev, dtype)?;
            let grads = if recorded {
                backward(&x, &a, &dout, None)?
            } else {
                let out = fold(&outs.get()?, n.heads, n.l, n.ev, dtype)?;
                backward(&x, &a, &dout, Some((&out, &kept)))?
            };
            let grads = [grads.0, grads.1, grads.2];
            grads.into_iter().zip(&shapes).enumerate().map(|(i, (g, shape))| gr.when(i, || g.reshape(shape)?.to_dtype(out_dtype))).collect()
        }
    })
}
