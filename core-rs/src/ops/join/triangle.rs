//! Triangles and diagonals of matrices: `tril`, `triu`, `diag`, `diag_embed`, `diagflat`.

use crate::dtype::Scalar;
use crate::error::Result;
use crate::ops::binary::Operand;
use crate::layout::{wrap_dim, Layout};
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

use super::reorder::par_ranges;
use crate::cpu::iter::SendPtr;

/// The layout of `diagonal(offset, dim1, dim2)`: both dims removed, the diagonal appended.
pub fn diagonal_layout(l: &Layout, offset: i64, d1: usize, d2: usize) -> Layout {
    let (s1, s2) = (l.shape[d1] as i64, l.shape[d2] as i64);
    let len = if offset >= 0 { s1.min(s2.saturating_sub(offset)) } else { s1.saturating_add(offset).min(s2) }.max(0) as usize;
    let mut out = l.clone();
    if len > 0 {
        out.offset += if offset >= 0 { offset as usize * l.strides[d2] } else { (-offset) as usize * l.strides[d1] };
    }
    let stride = l.strides[d1] + l.strides[d2];
    for d in [d1.max(d2), d1.min(d2)] {
        out.shape.remove(d);
        out.strides.remove(d);
    }
    out.shape.push(len);
    out.strides.push(stride);
    out
}

impl Tensor {
    /// `tril(diagonal)` (`upper = false`) or `triu(diagonal)`: the lower or upper triangle of
    /// each matrix in the last two dims, the rest zeroed.
    pub fn triangle(&self, diagonal: i64, upper: bool) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::join::triangle(self, diagonal, upper);
        }
        let name = if upper { "triu" } else { "tril" };
        if self.ndim() < 2 {
            bail!(Runtime, "{}: input tensor must have at least 2 dimensions", name);
        }
        let nd = self.ndim();
        let (rows, cols) = (self.shape()[nd - 2], self.shape()[nd - 1]);
        if self.is_cuda() {
            // Zero where the column's offset from the diagonal is on the dropped side.
            let iota = |n: usize| Tensor::positions_on(n, self.device());
            let offset = iota(cols)?.sub(&iota(rows)?.view(&[rows as i64, 1])?)?;
            let diagonal = Operand::Scalar(Scalar::Int(diagonal));
            let drop = if upper { offset.lt(diagonal)? } else { offset.gt(diagonal)? };
            let zero = Tensor::full_on(&[], Scalar::Int(0), self.dtype(), self.device())?;
            return crate::ops::binary::where_(&drop, &Operand::Tensor(zero), &Operand::Tensor(self.clone()));
        }
        let out = self.clone_contiguous()?;
        if out.numel() == 0 {
            return Ok(out);
        }
        let total_rows = out.numel() / cols;
        with_dtype!(out.dtype(), T => {
            let p = SendPtr(out.data_ptr::<T>()?);
            par_ranges(total_rows, cols, |r0, r1| {
                for gr in r0..r1 {
                    let r = (gr % rows) as i64;
                    // Columns kept: c <= r + diagonal (tril) or c >= r + diagonal (triu).
                    let edge = r.saturating_add(diagonal).clamp(-1, cols as i64);
                    let zero = if upper { 0..edge.max(0) as usize } else { ((edge + 1).max(0) as usize).min(cols)..cols };
                    let row = unsafe { std::slice::from_raw_parts_mut(p.get().add(gr * cols), cols) };
                    row[zero].fill(T::default());
                }
            });
        });
        Ok(out)
    }

    /// `diag_embed(offset, dim1, dim2)`: matrices (in dims `dim1`, `dim2`) whose `offset`
    /// diagonal holds the last dim of the input.
    pub fn diag_embed(&self, offset: i64, dim1: i64, dim2: i64) -> Result<Tensor> {
        if self.ndim() == 0 {
            bail!(Index, "Dimension specified as -1 but tensor has no dimensions");
        }
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::join::diag_embed(self, offset, dim1, dim2);
        }
        let nd = self.ndim() + 1;
        let (d1, d2) = (wrap_dim(dim1, nd)?, wrap_dim(dim2, nd)?);
        if d1 == d2 {
            bail!(Runtime, "diagonal dimensions cannot be identical {}, {}", dim1, dim2);
        }
        let len = self.shape()[self.ndim() - 1] + offset.unsigned_abs() as usize;
        let mut shape = self.shape()[..self.ndim() - 1].to_vec();
        shape.insert(d1.min(d2), len);
        shape.insert(d1.max(d2), len);
        let out = Tensor::zeros_on(&shape, self.dtype(), self.device())?;
        out.with_layout(diagonal_layout(out.layout(), offset, d1, d2)).copy_from(self)?;
        Ok(out)
    }

    /// `diag(diagonal)`: a vector becomes a square matrix with it on the `diagonal`; a matrix
    /// gives a copy of that diagonal.
    pub fn diag(&self, diagonal: i64) -> Result<Tensor> {
        match self.ndim() {
            1 => self.diag_embed(diagonal, 0, 1),
            2 if crate::autograd::needs_grad(&[self]) => crate::autograd::formulas::join::diag_of_matrix(self, diagonal),
            2 => self.with_layout(diagonal_layout(self.layout(), diagonal, 0, 1)).clone_contiguous(),
            n => bail!(Runtime, "diag(): Supports 1D or 2D tensors. Got {}D", n),
        }
    }

    /// `diagflat(offset)`: `diag` of the flattened tensor.
    pub fn diagflat(&self, offset: i64) -> Result<Tensor> {
        self.reshape(&[-1])?.diag(offset)
    }
}
