//! Sorting along a dim on the device (kernels/sort.cu), for `sort`, `topk` and `kthvalue`: rows
//! of at most `SORT_MAX` elements are sorted in shared memory, a block per row, writing only the
//! picked range; longer rows are sorted as runs of `SORT_MAX`, merged pairwise until one run
//! holds the row, and the picked range is cut from the result.

use super::dispatch::{address, grid, index_of, launch, threads_for};
use super::kernels::{suffix, SORT_MAX};
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// Sorted positions `first..first + count` of every row of the CUDA tensor `t` along `dim`
/// (values and int64 positions, `dim` resized to `count`, both contiguous), ascending or
/// descending, stable; None when nothing is sorted or picked (0-d and empty tensors,
/// `count == 0`: the host path has those edge cases).
pub fn sort_rows(t: &Tensor, dim: usize, descending: bool, first: usize, count: usize) -> Result<Option<(Tensor, Tensor)>> {
    if t.ndim() == 0 || t.numel() == 0 || count == 0 {
        return Ok(None);
    }
    // Rows along the last dim, dense; results come back to `dim` the same way.
    let (n, dim, last) = (t.shape()[dim], dim as i64, t.ndim() as i64 - 1);
    let moved = t.movedim(&[dim], &[last])?.contiguous()?;
    let rows = moved.numel() / n;
    let (values, indices) = if n <= SORT_MAX { short_rows(&moved, rows, n, descending, first, count)? } else { long_rows(&moved, rows, n, descending, first, count)? };
    let mut shape: Vec<i64> = moved.shape().iter().map(|&s| s as i64).collect();
    *shape.last_mut().expect("at least one dim") = count as i64;
    let from_rows = |x: Tensor| x.reshape(&shape)?.movedim(&[last], &[dim])?.contiguous();
    Ok(Some((from_rows(values)?, from_rows(indices)?)))
}

/// Rows of at most `SORT_MAX`: one launch writing the picked `(rows, count)` directly.
fn short_rows(x: &Tensor, rows: usize, n: usize, descending: bool, first: usize, count: usize) -> Result<(Tensor, Tensor)> {
    let values = Tensor::uninit_on(&[rows, count], x.dtype(), x.device())?;
    let indices = Tensor::uninit_on(&[rows, count], DType::I64, x.device())?;
    let (r, len, down, from, many) = (rows as i64, n as i64, i32::from(descending), first as i64, count as i64);
    let (i, v, p) = (address(x, x.offset()), address(&values, 0), address(&indices, 0));
    launch!(index_of(x)?, format!("sort_rows_{}", suffix(x.dtype())), grid(rows); &r, &len, &i, &v, &p, &down, &from, &many)?;
    Ok((values, indices))
}

/// Longer rows: sorted runs, merge passes of doubling width between two pairs of buffers, then
/// the picked columns.
fn long_rows(x: &Tensor, rows: usize, n: usize, descending: bool, first: usize, count: usize) -> Result<(Tensor, Tensor)> {
    let buffers = || -> Result<(Tensor, Tensor)> { Ok((Tensor::uninit_on(&[rows, n], x.dtype(), x.device())?, Tensor::uninit_on(&[rows, n], DType::I64, x.device())?)) };
    let ((mut values, mut positions), (mut spare_v, mut spare_p)) = (buffers()?, buffers()?);
    let (index, sfx) = (index_of(x)?, suffix(x.dtype()));
    let (r, len, down) = (rows as i64, n as i64, i32::from(descending));
    let (i, v, p) = (address(x, x.offset()), address(&values, 0), address(&positions, 0));
    launch!(index, format!("sort_runs_{sfx}"), grid(rows * n.div_ceil(SORT_MAX)); &r, &len, &i, &v, &p, &down)?;
    let mut width = SORT_MAX;
    while width < n {
        let w = width as i64;
        let (v, p, vo, po) = (address(&values, 0), address(&positions, 0), address(&spare_v, 0), address(&spare_p, 0));
        launch!(index, format!("sort_merge_{sfx}"), threads_for(rows * n); &r, &len, &w, &v, &p, &vo, &po, &down)?;
        std::mem::swap(&mut values, &mut spare_v);
        std::mem::swap(&mut positions, &mut spare_p);
        width *= 2;
    }
    let pick = |t: &Tensor| t.narrow(1, first as i64, count as i64)?.contiguous();
    Ok((pick(&values)?, pick(&positions)?))
}

/// `searchsorted` on the device: for each element of the contiguous `values`, the insertion
/// position in its row of the contiguous `boundaries` (1-d: one row for all; else one row per
/// last-dim run of `values`), read through the contiguous int64 `sorter` when given. Both
/// operands hold one dtype; the result is int64 in `values`' shape.
pub fn search_sorted(boundaries: &Tensor, values: &Tensor, sorter: Option<&Tensor>, right: bool) -> Result<Tensor> {
    let out = Tensor::uninit_on(values.shape(), DType::I64, values.device())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let n = *boundaries.shape().last().expect("boundaries have a dim") as i64;
    let per_row = if boundaries.ndim() == 1 { 0 } else { *values.shape().last().expect("values have a dim") as i64 };
    let (count, r) = (values.numel() as i64, i32::from(right));
    let (b, v, s, o) = (address(boundaries, boundaries.offset()), address(values, values.offset()), sorter.map_or(0, |s| address(s, s.offset())), address(&out, 0));
    launch!(index_of(values)?, format!("search_{}", suffix(values.dtype())), threads_for(values.numel()); &count, &n, &per_row, &b, &v, &s, &o, &r)?;
    Ok(out)
}
