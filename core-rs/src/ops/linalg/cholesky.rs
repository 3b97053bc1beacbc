//! `linalg.cholesky`: `A = L L^T` for symmetric positive-definite `A` (lower triangle read).

use super::{batch_error, check_matrix_input, from_f64, Batch};
use crate::error::Result;
use crate::tensor::Tensor;

/// Overwrites the row-major `n x n` matrix `a` with its lower Cholesky factor (upper part
/// zeroed). Returns the order of the first leading minor that is not positive-definite.
fn cholesky_in_place(a: &mut [f64], n: usize) -> Option<usize> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        // `!(d > 0)` also catches NaN, as LAPACK's potrf does.
        if !(d > 0.0) {
            return Some(j + 1);
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
        for i in 0..j {
            a[i * n + j] = 0.0;
        }
    }
    None
}

impl Tensor {
    /// `linalg.cholesky(A, upper)`: the lower factor `L`, or `L^T` when `upper`.
    pub fn linalg_cholesky(&self, upper: bool) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("linalg_cholesky", [self], |t| t[0].linalg_cholesky(upper)) { return r; }
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::linalg::cholesky(self, upper);
        }
        let op = "linalg.cholesky";
        check_matrix_input(self, op, true)?;
        let mut m = Batch::of(self)?;
        let n = m.rows;
        let batched = self.ndim() > 2;
        m.try_each(|b, a| match cholesky_in_place(a, n) {
            Some(order) => Err(batch_error(
                op,
                batched,
                b,
                &format!(
                    "The factorization could not be completed because the input is not positive-definite (the leading minor of order {} is not positive-definite).",
                    order
                ),
            )),
            None => Ok(()),
        })?;
        let l = from_f64(&m.data, self.shape(), self)?;
        if upper {
            l.mt()?.contiguous()
        } else {
            Ok(l)
        }
    }
}
