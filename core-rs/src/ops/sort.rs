//! Sorting and selection along a dim (`sort`, `argsort`, `msort`, `topk`, `kthvalue`), plus
//! the ops built on ordering: `unique`, `searchsorted`/`bucketize`, histograms and `bincount`.
//!
//! Rows are sorted in parallel; each row is sorted as packed `(key, position)` integers (see
//! `keys`), which makes every sort stable, as PyTorch's `stable=True`.

pub mod histogram;
pub mod keys;
pub mod search;
pub mod unique;

use crate::cpu::iter::{for_each_offset, SendPtr};
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::ops::join::reorder::par_ranges;
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

pub use keys::Sortable;

/// The rows of a tensor along one dim: where each starts, and the step between its elements.
pub struct Rows {
    /// Storage offset of each row's first element, in row-major order of the other dims.
    pub bases: Vec<usize>,
    /// Storage stride along the dim.
    pub stride: usize,
    /// Elements per row.
    pub len: usize,
    /// Product of the sizes after the dim: rows `r` and `r + 1` are this far apart in a
    /// contiguous result.
    pub inner: usize,
}

impl Rows {
    /// The rows of `t` along `dim` (a 0-d tensor is one row of one element).
    pub fn of(t: &Tensor, dim: usize) -> Rows {
        if t.ndim() == 0 {
            return Rows { bases: vec![t.offset()], stride: 0, len: 1, inner: 1 };
        }
        let mut bases = Vec::new();
        for_each_offset(&t.layout().select(dim, 0), |o| bases.push(o));
        Rows { bases, stride: t.strides()[dim], len: t.shape()[dim], inner: t.shape()[dim + 1..].iter().product() }
    }
}

/// Which part of each sorted row an op keeps.
#[derive(Clone, Copy)]
enum Pick {
    /// The whole row (`sort`).
    All,
    /// The first `k` (`topk`).
    First(usize),
    /// Only the element at sorted position `k` (`kthvalue`).
    Nth(usize),
}

/// Sorts each row of `t` along `dim`, returning the picked values and their positions (int64)
/// with `dim` resized to the number picked.
fn pick_rows<T: Sortable>(t: &Tensor, dim: usize, descending: bool, pick: Pick) -> Result<(Tensor, Tensor)> {
    let rows = Rows::of(t, dim);
    let n = rows.len;
    if n > keys::MAX_ROW {
        bail!(Runtime, "sort: rows longer than {} elements are not supported", keys::MAX_ROW);
    }
    let m = match pick {
        Pick::All => n,
        Pick::First(k) => k,
        Pick::Nth(_) => 1,
    };
    let mut shape = t.shape().to_vec();
    if t.ndim() > 0 {
        shape[dim] = m;
    }
    let values = Tensor::uninit(&shape, t.dtype())?;
    let indices = Tensor::uninit(&shape, DType::I64)?;
    if values.numel() == 0 {
        return Ok((values, indices));
    }
    let (src, vp, ip) = (SendPtr(t.data_ptr::<T>()?), SendPtr(values.data_ptr::<T>()?), SendPtr(indices.data_ptr::<i64>()?));
    let inner = rows.inner;
    par_ranges(rows.bases.len(), n.max(1) * 8, |r0, r1| {
        let mut buf: Vec<T::Packed> = Vec::with_capacity(n);
        let mut scratch = Vec::new();
        for r in r0..r1 {
            let base = rows.bases[r];
            buf.clear();
            buf.extend((0..n).map(|i| unsafe { *src.get().add(base + i * rows.stride) }.pack(i, descending)));
            let picked: &[T::Packed] = match pick {
                Pick::All => {
                    T::sort_packed(&mut buf, &mut scratch);
                    &buf
                }
                Pick::First(k) => {
                    if k < n {
                        buf.select_nth_unstable(k);
                        buf.truncate(k);
                    }
                    buf.sort_unstable();
                    &buf
                }
                Pick::Nth(k) => {
                    buf.select_nth_unstable(k);
                    &buf[k..=k]
                }
            };
            let out = (r / inner) * m * inner + r % inner;
            for (j, &p) in picked.iter().enumerate() {
                let pos = T::position(p);
                unsafe {
                    *vp.get().add(out + j * inner) = *src.get().add(base + pos * rows.stride);
                    *ip.get().add(out + j * inner) = pos as i64;
                }
            }
        }
    });
    Ok((values, indices))
}

fn pick(t: &Tensor, dim: usize, descending: bool, p: Pick) -> Result<(Tensor, Tensor)> {
    if t.is_cuda() {
        let n = t.shape().get(dim).copied().unwrap_or(1);
        let (first, count) = match p {
            Pick::All => (0, n),
            Pick::First(k) => (0, k),
            Pick::Nth(k) => (k, 1),
        };
        if let Some(sorted) = crate::cuda::sort::sort_rows(t, dim, descending, first, count)? {
            return Ok(sorted);
        }
        return crate::device::on_host(t, |h| pick(h, dim, descending, p));
    }
    with_dtype!(t.dtype(), T => pick_rows::<T>(t, dim, descending, p))
}

impl Tensor {
    /// `sort(dim, descending)`: sorted values and their original positions. Always stable; NaN
    /// sorts above every number.
    pub fn sort(&self, dim: i64, descending: bool) -> Result<(Tensor, Tensor)> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::sort::sort(self, dim, descending);
        }
        pick(self, wrap_dim(dim, self.ndim())?, descending, Pick::All)
    }

    /// `argsort(dim, descending)`: the positions `sort` would take elements from.
    pub fn argsort(&self, dim: i64, descending: bool) -> Result<Tensor> {
        // Positions have no gradient: sort without recording.
        Ok(crate::autograd::no_grad(|| self.sort(dim, descending))?.1)
    }

    /// `msort()`: values sorted along dim 0.
    pub fn msort(&self) -> Result<Tensor> {
        Ok(self.sort(0, false)?.0)
    }

    /// `topk(k, dim, largest, sorted)`: the `k` largest (or smallest) elements of each row, in
    /// order; ties keep the lower position first.
    pub fn topk(&self, k: i64, dim: i64, largest: bool, sorted: bool) -> Result<(Tensor, Tensor)> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::sort::topk(self, k, dim, largest, sorted);
        }
        let _ = sorted; // results always come sorted, a valid order for `sorted=False` too
        let d = wrap_dim(dim, self.ndim())?;
        let size = if self.ndim() > 0 { self.shape()[d] as i64 } else { 1 };
        if k < 0 || k > size {
            bail!(Runtime, "selected index k out of range");
        }
        pick(self, d, largest, Pick::First(k as usize))
    }

    /// `kthvalue(k, dim, keepdim)`: the `k`-th smallest element (1-based) of each row.
    pub fn kthvalue(&self, k: i64, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::sort::kthvalue(self, k, dim, keepdim);
        }
        let d = wrap_dim(dim, self.ndim())?;
        let size = if self.ndim() > 0 { self.shape()[d] as i64 } else { 1 };
        if size == 0 {
            bail!(Index, "kthvalue(): Expected reduction dim {} to have non-zero size.", d);
        }
        if k < 1 || k > size {
            bail!(Runtime, "kthvalue(): selected number k out of range for dimension {}", d);
        }
        let (v, i) = pick(self, d, false, Pick::Nth(k as usize - 1))?;
        if keepdim || self.ndim() == 0 {
            return Ok((v, i));
        }
        let drop = [d as i64];
        Ok((v.squeeze(Some(&drop))?, i.squeeze(Some(&drop))?))
    }
}
