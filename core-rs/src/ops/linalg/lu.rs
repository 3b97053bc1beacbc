//! LU with partial pivoting and what is built on it: `det`, `slogdet`, `inv`, `solve`.

use rayon::prelude::*;

use super::{batch_error, check_matrix_input, from_f64, with_tail, Batch};
use crate::error::Result;
use crate::layout::broadcast_shapes;
use crate::tensor::Tensor;
use crate::{bail, dtype::title};

/// An LU factorisation `P A = L U` stored in place (unit `L` below the diagonal).
struct Lu {
    perm: Vec<usize>,
    /// +1 or -1: the permutation's parity.
    sign: f64,
    /// 1-based index of the first exactly zero pivot (LAPACK's `info`).
    zero_pivot: Option<usize>,
}

/// Factors the row-major `n x n` matrix `a` in place.
fn lu_factor(a: &mut [f64], n: usize) -> Lu {
    let mut lu = Lu { perm: (0..n).collect(), sign: 1.0, zero_pivot: None };
    for c in 0..n {
        let p = (c..n).fold(c, |best, r| if a[r * n + c].abs() > a[best * n + c].abs() { r } else { best });
        if p != c {
            for j in 0..n {
                a.swap(c * n + j, p * n + j);
            }
            lu.perm.swap(c, p);
            lu.sign = -lu.sign;
        }
        let pivot = a[c * n + c];
        if pivot == 0.0 {
            lu.zero_pivot.get_or_insert(c + 1);
            continue;
        }
        for r in c + 1..n {
            let f = a[r * n + c] / pivot;
            a[r * n + c] = f;
            if f != 0.0 {
                for j in c + 1..n {
                    a[r * n + j] -= f * a[c * n + j];
                }
            }
        }
    }
    lu
}

/// Solves `A X = B` from `A`'s factors, overwriting the row-major `n x k` matrix `b`.
fn lu_solve(a: &[f64], lu: &Lu, n: usize, b: &mut [f64], k: usize) {
    let permuted: Vec<f64> = lu.perm.iter().flat_map(|&r| b[r * k..(r + 1) * k].to_vec()).collect();
    b.copy_from_slice(&permuted);
    for i in 0..n {
        for l in 0..i {
            let f = a[i * n + l];
            if f != 0.0 {
                for j in 0..k {
                    b[i * k + j] -= f * b[l * k + j];
                }
            }
        }
    }
    for i in (0..n).rev() {
        for l in i + 1..n {
            let f = a[i * n + l];
            if f != 0.0 {
                for j in 0..k {
                    b[i * k + j] -= f * b[l * k + j];
                }
            }
        }
        let d = a[i * n + i];
        for j in 0..k {
            b[i * k + j] /= d;
        }
    }
}

/// `(sign, log|det|)` of one factored matrix.
fn slogdet_of(a: &[f64], lu: &Lu, n: usize) -> (f64, f64) {
    if lu.zero_pivot.is_some() {
        return (0.0, f64::NEG_INFINITY);
    }
    let mut sign = lu.sign;
    let mut log = 0.0;
    for i in 0..n {
        let d = a[i * n + i];
        sign *= d.signum();
        log += d.abs().ln();
    }
    (sign, log)
}

impl Tensor {
    /// `linalg.det(A)`.
    pub fn linalg_det(&self) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::linalg::det(self);
        }
        check_matrix_input(self, "linalg.det", true)?;
        let mut m = Batch::of(self)?;
        let n = m.rows;
        let dets = m.try_each(|_, a| {
            let lu = lu_factor(a, n);
            let mut det = if lu.zero_pivot.is_some() { 0.0 } else { lu.sign };
            for i in 0..n {
                det *= a[i * n + i];
            }
            Ok(det)
        })?;
        from_f64(&dets, &m.batch, self)
    }

    /// `linalg.slogdet(A)`: `(sign, logabsdet)`; singular matrices give `(0, -inf)`.
    pub fn linalg_slogdet(&self) -> Result<(Tensor, Tensor)> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::linalg::slogdet(self);
        }
        check_matrix_input(self, "linalg.slogdet", true)?;
        let mut m = Batch::of(self)?;
        let n = m.rows;
        let pairs = m.try_each(|_, a| {
            let lu = lu_factor(a, n);
            Ok(slogdet_of(a, &lu, n))
        })?;
        let (signs, logs): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        Ok((from_f64(&signs, &m.batch, self)?, from_f64(&logs, &m.batch, self)?))
    }

    /// `linalg.inv(A)`: raises on a singular matrix, naming the zero pivot as LAPACK does.
    pub fn linalg_inv(&self) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("linalg_inv", [self], |t| t[0].linalg_inv()) { return r; }
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::linalg::inv(self);
        }
        check_matrix_input(self, "linalg.inv", true)?;
        let mut m = Batch::of(self)?;
        let n = m.rows;
        let batched = self.ndim() > 2;
        let inverses = m.try_each(|b, a| {
            let lu = lu_factor(a, n);
            if let Some(i) = lu.zero_pivot {
                let msg = format!("The diagonal element {} is zero, the inversion could not be completed because the input matrix is singular.", i);
                return Err(batch_error("linalg.inv", batched, b, &msg));
            }
            let mut x = vec![0.0; n * n];
            for i in 0..n {
                x[i * n + i] = 1.0;
            }
            lu_solve(a, &lu, n, &mut x, n);
            Ok(x)
        })?;
        from_f64(&inverses.concat(), self.shape(), self)
    }

    /// `linalg.solve(A, B, left)`: `X` with `A X = B` (`X A = B` when not `left`). `B` is a
    /// batch of vectors when it is 1-D or has `A`'s shape without the last dim.
    pub fn linalg_solve(&self, b: &Tensor, left: bool) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("linalg_solve", [self, b], |t| t[0].linalg_solve(&t[1], left)) { return r; }
        if crate::autograd::needs_grad(&[self, b]) {
            return crate::autograd::formulas::linalg::solve(self, b, left);
        }
        let op = "linalg.solve";
        crate::device::common_device(&[self, b])?;
        check_matrix_input(self, op, true)?;
        super::check_float(b, op)?;
        if self.dtype() != b.dtype() {
            bail!(
                Runtime,
                "{}: Expected A and B to have the same dtype, but found A of type {} and B of type {} instead",
                op,
                title(self.dtype()),
                title(b.dtype())
            );
        }
        let nd = self.ndim();
        let vector = b.ndim() == 1 || (b.ndim() == nd - 1 && b.shape() == &self.shape()[..nd - 1]);
        let a = if left { self.clone() } else { self.mt()? };
        let bm = if vector {
            b.unsqueeze(-1)?
        } else if left {
            b.clone()
        } else {
            if b.ndim() < 2 {
                bail!(Runtime, "{}: The input tensor B must have at least 2 dimensions.", op);
            }
            b.mt()?
        };
        let n = a.shape()[nd - 1];
        let (bn, k) = (bm.shape()[bm.ndim() - 2], bm.shape()[bm.ndim() - 1]);
        if bn != n {
            let (r, c) = if left || vector { (bn, k) } else { (k, bn) };
            bail!(Runtime, "{}: Incompatible shapes of A and B for the equation {} ({}x{} and {}x{})", op, if left { "AX = B" } else { "XA = B" }, n, n, r, c);
        }
        let batch = broadcast_shapes(&a.shape()[..nd - 2], &bm.shape()[..bm.ndim() - 2])?;
        let expand = |t: &Tensor, tail: [usize; 2]| -> Result<Tensor> {
            let s: Vec<i64> = with_tail(&batch, &tail).iter().map(|&x| x as i64).collect();
            t.expand(&s)
        };
        let mut am = Batch::of(&expand(&a, [n, n])?)?;
        let mut xm = Batch::of(&expand(&bm, [n, k])?)?;
        let batched = !batch.is_empty();
        if n > 0 && k > 0 {
            crate::cpu::threads::install_if(am.data.len().saturating_mul(n), || am.data
                .par_chunks_mut(n * n)
                .zip(xm.data.par_chunks_mut(n * k))
                .enumerate()
                .try_for_each(|(i, (a, x))| {
                    let lu = lu_factor(a, n);
                    if lu.zero_pivot.is_some() {
                        return Err(batch_error(op, batched, i, "The solver failed because the input matrix is singular."));
                    }
                    lu_solve(a, &lu, n, x, k);
                    Ok(())
                }))?;
        }
        let x = from_f64(&xm.data, &with_tail(&batch, &[n, k]), self)?;
        if vector {
            x.squeeze(Some(&[-1]))
        } else if left {
            Ok(x)
        } else {
            x.mt()
        }
    }
}
