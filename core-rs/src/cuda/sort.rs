//! Sorting along a dim on the device (kernels/sort.cu): rows of at most `SORT_MAX` elements
//! are sorted in shared memory, a block per row, for `sort`, `topk` and `kthvalue`. Longer rows
//! return None and are sorted on the host by the caller.

use super::dispatch::{address, grid, index_of, launch};
use super::kernels::{suffix, SORT_MAX};
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// Sorted positions `first..first + count` of every row of the CUDA tensor `t` along `dim`
/// (values and int64 positions, `dim` resized to `count`, both contiguous), ascending or
/// descending, stable; None when the rows are longer than `SORT_MAX` or nothing is sorted or
/// picked (0-d and empty tensors, `count == 0`: the host path has those edge cases).
pub fn sort_rows(t: &Tensor, dim: usize, descending: bool, first: usize, count: usize) -> Result<Option<(Tensor, Tensor)>> {
    if t.ndim() == 0 || t.numel() == 0 || count == 0 || t.shape()[dim] > SORT_MAX {
        return Ok(None);
    }
    // Rows along the last dim, dense; results come back to `dim` the same way.
    let (n, dim, last) = (t.shape()[dim], dim as i64, t.ndim() as i64 - 1);
    let moved = t.movedim(&[dim], &[last])?.contiguous()?;
    let from_rows = |x: Tensor| x.movedim(&[last], &[dim])?.contiguous();
    let rows = moved.numel() / n;
    let mut shape = moved.shape().to_vec();
    *shape.last_mut().expect("at least one dim") = count;
    let values = Tensor::uninit_on(&shape, t.dtype(), t.device())?;
    let indices = Tensor::uninit_on(&shape, DType::I64, t.device())?;
    let (r, len, down, from, many) = (rows as i64, n as i64, i32::from(descending), first as i64, count as i64);
    let (i, v, p) = (address(&moved, moved.offset()), address(&values, 0), address(&indices, 0));
    launch!(index_of(t)?, format!("sort_rows_{}", suffix(t.dtype())), grid(rows); &r, &len, &i, &v, &p, &down, &from, &many)?;
    Ok(Some((from_rows(values)?, from_rows(indices)?)))
}
