//! Diagonals: `diagonal` (a view) and `trace`.

use crate::dtype::{DType, Element};
use crate::error::Result;
use crate::layout::{wrap_dim, Layout};
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

impl Tensor {
    /// `diagonal(offset, dim1, dim2)`: a view with the diagonal as the last dim.
    pub fn diagonal(&self, offset: i64, dim1: i64, dim2: i64) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::views::view("DiagonalBackward0", self, move |t| t.diagonal(offset, dim1, dim2));
        }
        let nd = self.ndim();
        if nd < 2 {
            bail!(Runtime, "diagonal dimensions requires ndim larger than 2");
        }
        let (d1, d2) = (wrap_dim(dim1, nd)?, wrap_dim(dim2, nd)?);
        if d1 == d2 {
            bail!(Runtime, "diagonal dimensions cannot be identical {}, {}", dim1, dim2);
        }
        let l = self.layout();
        let (n1, n2) = (l.shape[d1] as i64, l.shape[d2] as i64);
        let len = if offset >= 0 { n1.min(n2 - offset) } else { (n1 + offset).min(n2) }.max(0) as usize;
        let mut out = Layout { shape: Vec::with_capacity(nd - 1), strides: Vec::with_capacity(nd - 1), offset: l.offset };
        if len > 0 {
            out.offset += if offset >= 0 { offset as usize * l.strides[d2] } else { (-offset) as usize * l.strides[d1] };
        }
        for d in (0..nd).filter(|&d| d != d1 && d != d2) {
            out.shape.push(l.shape[d]);
            out.strides.push(l.strides[d]);
        }
        out.shape.push(len);
        out.strides.push(l.strides[d1] + l.strides[d2]);
        Ok(self.with_layout(out))
    }

    /// `trace()`: the sum of a matrix's main diagonal. Integers and bool sum to int64, as
    /// `sum` does.
    pub fn trace(&self) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("trace", [self], |t| t[0].trace()) { return r; }
        if self.ndim() != 2 {
            bail!(Runtime, "trace: expected a matrix, but got tensor with dim {}", self.ndim());
        }
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::matmul::trace(self);
        }
        let diag = self.diagonal(0, 0, 1)?;
        if self.is_cuda() {
            // The device sum gives trace's dtypes: the float itself, int64 for integers and bool.
            return diag.sum(None, false, None);
        }
        let p_len = diag.numel();
        let (off, stride) = (diag.offset(), diag.strides()[0]);
        let dtype = self.dtype();
        if dtype.is_float() {
            let total = with_dtype!(dtype, T => {
                let p = self.data_ptr::<T>()?;
                (0..p_len).map(|i| unsafe { *p.add(off + i * stride) }.to_f64()).sum::<f64>()
            });
            return Ok(Tensor::scalar(crate::Scalar::Float(total), dtype));
        }
        let total = with_dtype!(dtype, T => {
            let p = self.data_ptr::<T>()?;
            (0..p_len).fold(0i64, |acc, i| acc.wrapping_add(unsafe { *p.add(off + i * stride) }.to_i64()))
        });
        Ok(Tensor::scalar(crate::Scalar::Int(total), DType::I64))
    }
}
