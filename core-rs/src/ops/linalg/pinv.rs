//! Functions of the singular values: `pinv`, `matrix_rank`, `lstsq`.

use super::svd::svd_f64;
use super::{check_float, check_matrix_input, from_f64, with_tail, Batch};
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::binary::{BinaryOp, Operand};
use crate::tensor::Tensor;
use crate::bail;

/// PyTorch's default tolerances: `rtol = eps * max(m, n)` unless only `atol` is given (> 0).
fn tolerances(dtype: DType, m: usize, n: usize, atol: Option<f64>, rtol: Option<f64>) -> (f64, f64) {
    let eps = if dtype == DType::F32 { f32::EPSILON as f64 } else { f64::EPSILON };
    let atol_v = atol.unwrap_or(0.0);
    let rtol_v = match rtol {
        Some(r) => r,
        None if atol_v > 0.0 => 0.0,
        None => eps * m.max(n) as f64,
    };
    (atol_v, rtol_v)
}

/// Singular values above `max(atol, rtol * s_max)` count.
fn cutoff(s: &[f64], atol: f64, rtol: f64) -> f64 {
    atol.max(rtol * s.first().copied().unwrap_or(0.0))
}

impl Tensor {
    /// `linalg.pinv(A, atol, rtol)`: the pseudo-inverse from the SVD, dropping singular values
    /// at or below the tolerance.
    pub fn linalg_pinv(&self, atol: Option<f64>, rtol: Option<f64>) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("linalg_pinv", [self], |t| t[0].linalg_pinv(atol, rtol)) { return r; }
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::linalg::pinv(self, atol, rtol);
        }
        check_matrix_input(self, "linalg.pinv", false)?;
        let mut mats = Batch::of(self)?;
        let (m, n) = (mats.rows, mats.cols);
        let (atol, rtol) = tolerances(self.dtype(), m, n, atol, rtol);
        let k = m.min(n);
        let pinvs = mats.try_each(|_, a| {
            let svd = svd_f64(a, m, n, true, false);
            let cut = cutoff(&svd.s, atol, rtol);
            // pinv = V diag(1/s) U^T: (n x k) (k x k) (k x m).
            let mut p = vec![0.0; n * m];
            for (l, &s) in svd.s.iter().enumerate() {
                if s > cut {
                    for i in 0..n {
                        let vi = svd.vt[l * n + i] / s;
                        for j in 0..m {
                            p[i * m + j] += vi * svd.u[j * k + l];
                        }
                    }
                }
            }
            Ok(p)
        })?;
        from_f64(&pinvs.concat(), &with_tail(&mats.batch, &[n, m]), self)
    }

    /// `linalg.matrix_rank(A, atol, rtol)`: singular values above the tolerance (int64).
    pub fn linalg_matrix_rank(&self, atol: Option<f64>, rtol: Option<f64>) -> Result<Tensor> {
        check_matrix_input(self, "linalg.matrix_rank", false)?;
        let mut mats = Batch::of(self)?;
        let (m, n) = (mats.rows, mats.cols);
        let (atol, rtol) = tolerances(self.dtype(), m, n, atol, rtol);
        let ranks = mats.try_each(|_, a| {
            let s = svd_f64(a, m, n, false, false).s;
            let cut = cutoff(&s, atol, rtol);
            Ok(s.iter().filter(|&&x| x > cut).count() as i64)
        })?;
        Tensor::from_slice(&ranks, &mats.batch)?.to_device(self.device())
    }

    /// `linalg.lstsq(A, B, rcond, driver)`: `(solution, residuals, rank, singular_values)`.
    /// Solved through the SVD; which extras are filled follows the driver, as in PyTorch.
    pub fn linalg_lstsq(&self, b: &Tensor, rcond: Option<f64>, driver: Option<&str>) -> Result<(Tensor, Tensor, Tensor, Tensor)> {
        if let Some(r) = crate::autocast::run("linalg_lstsq", [self, b], |t| t[0].linalg_lstsq(&t[1], rcond, driver)) { return r; }
        let op = "torch.linalg.lstsq";
        crate::device::common_device(&[self, b])?;
        check_matrix_input(self, op, false)?;
        check_float(b, op)?;
        if self.dtype() != b.dtype() {
            bail!(Runtime, "{}: Expected input and other to have the same dtype, but got input's dtype {} and other's dtype {}", op, self.dtype().name(), b.dtype().name());
        }
        let driver = driver.unwrap_or("gelsy");
        if !["gels", "gelsy", "gelsd", "gelss"].contains(&driver) {
            bail!(Runtime, "{}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)", op);
        }
        let nd = self.ndim();
        let (m, n) = (self.shape()[nd - 2], self.shape()[nd - 1]);
        let vector = b.ndim() == nd - 1;
        let bm = if vector { b.unsqueeze(-1)? } else { b.clone() };
        if bm.ndim() < 2 || bm.shape()[bm.ndim() - 2] != m {
            bail!(
                Runtime,
                "{}: input.size(-2) should match other.size(-2)",
                op
            );
        }
        let x = self.linalg_pinv(None, rcond.or(Some(tolerances(self.dtype(), m, n, None, None).1)))?.matmul(&bm)?;
        let rank = self.linalg_matrix_rank(None, rcond)?;
        let empty = || Tensor::zeros(&[0], self.dtype())?.to_device(self.device());
        let full_rank = rank.to_device(crate::device::Device::Cpu)?.to_vec::<i64>()?.iter().all(|&r| r as usize == n);
        let residuals = if driver != "gelsy" && m > n && full_rank {
            let r = self.matmul(&x)?.binary(BinaryOp::Sub, &Operand::Tensor(bm.clone()))?;
            let sq = r.binary(BinaryOp::Mul, &Operand::Tensor(r.clone()))?;
            let cols = sq.mt()?;
            crate::ops::matmul::sum_trailing(&cols, 1)?
        } else {
            empty()?
        };
        let sv = if driver == "gelsd" || driver == "gelss" { self.linalg_svdvals()? } else { empty()? };
        let rank = if driver == "gels" { Tensor::zeros(&[0], DType::I64)?.to_device(self.device())? } else { rank };
        let x = if vector { x.squeeze(Some(&[-1]))? } else { x };
        Ok((x, residuals, rank, sv))
    }
}
