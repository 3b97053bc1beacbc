//! Fused attention on the device (kernels/attention.cu): the forward gives the output and each
//! query row's log-sum-exp; the backward recomputes the probabilities from them, one launch for
//! dq (which also leaves `rowsum(dO * O)` for the next) and one for dk and dv. The scores never
//! reach global memory.

use cudarc::driver::LaunchConfig;

use super::dispatch::{address, index_of, launch, MAX_BLOCKS};
use super::kernels::{suffix, ATTENTION_DIMS, ATTENTION_THREADS};
use crate::dtype::Scalar;
use crate::error::Result;
use crate::tensor::Tensor;

/// The sizes of one attention call: `heads` query heads of `l` rows, each reading key/value
/// head `h / group` of `s` rows; head dims `e` (queries and keys) and `ev` (values).
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub heads: usize,
    pub group: usize,
    pub l: usize,
    pub s: usize,
    pub e: usize,
    pub ev: usize,
}

impl Sizes {
    /// The kernels' head-dim bound for these sizes; None when the heads are wider than any.
    pub fn dim(&self) -> Option<usize> {
        ATTENTION_DIMS.into_iter().find(|&d| self.e.max(self.ev) <= d)
    }

    fn args(&self, heads: usize) -> [i64; 6] {
        [heads, self.group, self.l, self.s, self.e, self.ev].map(|x| x as i64)
    }

    /// Rows per block on the owning side: attention.cu's `AttnTile::OWN`, repeated here to size
    /// the grid (a mismatch would only leave blocks idle or striding, never skip a row).
    fn own(&self, compute_bytes: usize) -> usize {
        let units = self.dim().unwrap_or(256) * compute_bytes;
        4 * if units <= 256 { 4 } else if units <= 512 { 2 } else { 1 }
    }
}

/// A block per tile of `rows` rows, grid-stride over `heads` beyond the grid's limit.
fn config(rows: usize, own: usize, heads: usize) -> LaunchConfig {
    let tiles = rows.div_ceil(own).clamp(1, MAX_BLOCKS);
    LaunchConfig { grid_dim: (tiles as u32, heads.clamp(1, MAX_BLOCKS) as u32, 1), block_dim: (ATTENTION_THREADS, 1, 1), shared_mem_bytes: 0 }
}

fn name(stage: &str, q: &Tensor, dim: usize) -> String {
    format!("attention_{stage}_{}_d{dim}", suffix(q.dtype()))
}

/// `(out, lse)` of the contiguous CUDA tensors `q` (heads, L, E), `k` (heads / group, S, E) and
/// `v` (heads / group, S, Ev) of one float dtype; `lse` (heads, L) in the compute type.
pub fn forward(q: &Tensor, k: &Tensor, v: &Tensor, n: Sizes, scale: f64, causal: bool) -> Result<(Tensor, Tensor)> {
    let dim = n.dim().expect("the caller checked the head dims");
    let compute = q.dtype().compute_type();
    let out = Tensor::uninit_on(&[n.heads, n.l, n.ev], q.dtype(), q.device())?;
    let lse = Tensor::uninit_on(&[n.heads, n.l], compute, q.device())?;
    if n.heads * n.l == 0 {
        return Ok((out, lse));
    }
    let [h, g, l, s, e, ev] = n.args(n.heads);
    let (qa, ka, va, oa, la, c) = (address(q, q.offset()), address(k, k.offset()), address(v, v.offset()), address(&out, 0), address(&lse, 0), i32::from(causal));
    let cfg = config(n.l, n.own(compute.size()), n.heads);
    launch!(index_of(q)?, name("forward", q, dim), cfg; &h, &g, &l, &s, &e, &ev, &qa, &ka, &va, &oa, &la, &scale, &c)?;
    Ok((out, lse))
}

/// `(dq, dk, dv)` from the forward's operands and results and the contiguous output gradient
/// `dout` (heads, L, Ev).
#[allow(clippy::too_many_arguments)]
pub fn backward(q: &Tensor, k: &Tensor, v: &Tensor, out: &Tensor, lse: &Tensor, dout: &Tensor, n: Sizes, scale: f64, causal: bool) -> Result<(Tensor, Tensor, Tensor)> {
    let dim = n.dim().expect("the caller checked the head dims");
    let (dtype, device, compute) = (q.dtype(), q.device(), q.dtype().compute_type());
    let kv_heads = n.heads / n.group;
    let dq = Tensor::uninit_on(&[n.heads, n.l, n.e], dtype, device)?;
    // The kv launch writes every key row, unless no query reads them (L == 0): zeros then.
    let buffer = |shape: &[usize]| if n.l == 0 { Tensor::full_on(shape, Scalar::Float(0.0), dtype, device) } else { Tensor::uninit_on(shape, dtype, device) };
    let (dk, dv) = (buffer(&[kv_heads, n.s, n.e])?, buffer(&[kv_heads, n.s, n.ev])?);
    if n.heads == 0 || (n.l == 0 && n.s == 0) {
        return Ok((dq, dk, dv));
    }
    let delta = Tensor::uninit_on(&[n.heads, n.l], compute, device)?;
    let index = index_of(q)?;
    let (qa, ka, va, oa, da, la) = (address(q, q.offset()), address(k, k.offset()), address(v, v.offset()), address(out, out.offset()), address(dout, dout.offset()), address(lse, lse.offset()));
    let (dlt, dqa, dka, dva, c) = (address(&delta, 0), address(&dq, 0), address(&dk, 0), address(&dv, 0), i32::from(causal));
    let own = n.own(compute.size());
    let [h, g, l, s, e, ev] = n.args(n.heads);
    if n.l > 0 {
        launch!(index, name("backward_q", q, dim), config(n.l, own, n.heads); &h, &g, &l, &s, &e, &ev, &qa, &ka, &va, &oa, &da, &la, &dlt, &dqa, &scale, &c)?;
    }
    if n.s > 0 && n.l > 0 {
        let kv = kv_heads as i64;
        launch!(index, name("backward_kv", q, dim), config(n.s, own, kv_heads); &kv, &g, &l, &s, &e, &ev, &qa, &ka, &va, &da, &la, &dlt, &dka, &dva, &scale, &c)?;
    }
    Ok((dq, dk, dv))
}
