//! `linalg.qr` by Householder reflections.

use super::{check_matrix_input, from_f64, with_tail, Batch};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::bail;

/// Which factors `linalg.qr` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QrMode {
    /// `Q` is `m x k`, `R` is `k x n` (`k = min(m, n)`).
    Reduced,
    /// `Q` is `m x m`, `R` is `m x n`.
    Complete,
    /// Only `R` (`k x n`); `Q` is empty.
    R,
}

impl QrMode {
    pub fn parse(mode: &str) -> Result<QrMode> {
        Ok(match mode {
            "reduced" => QrMode::Reduced,
            "complete" => QrMode::Complete,
            "r" => QrMode::R,
            _ => bail!(Runtime, "qr received unrecognized mode '{}' but expected one of 'reduced' (default), 'r', or 'complete'", mode),
        })
    }
}

/// Householder QR of the row-major `m x n` matrix `a`: returns `(Q, R)` with `q_cols` columns
/// of `Q` and `r_rows` rows of `R` (`Q` is skipped when `q_cols == 0`).
pub(crate) fn householder_qr(a: &[f64], m: usize, n: usize, q_cols: usize, r_rows: usize) -> (Vec<f64>, Vec<f64>) {
    let mut r = a.to_vec();
    let k = m.min(n);
    let mut reflectors: Vec<Vec<f64>> = Vec::with_capacity(k);
    for j in 0..k {
        let norm = (j..m).map(|i| r[i * n + j] * r[i * n + j]).sum::<f64>().sqrt();
        let mut v: Vec<f64> = (j..m).map(|i| r[i * n + j]).collect();
        if norm == 0.0 {
            reflectors.push(Vec::new());
            continue;
        }
        let alpha = if v[0] >= 0.0 { -norm } else { norm };
        v[0] -= alpha;
        let vnorm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if vnorm == 0.0 {
            reflectors.push(Vec::new());
            continue;
        }
        v.iter_mut().for_each(|x| *x /= vnorm);
        apply_reflector(&mut r, n, j, &v, j..n);
        for i in j + 1..m {
            r[i * n + j] = 0.0;
        }
        reflectors.push(v);
    }
    let mut q = vec![0.0; m * q_cols];
    if q_cols > 0 {
        for i in 0..q_cols.min(m) {
            q[i * q_cols + i] = 1.0;
        }
        for j in (0..k).rev() {
            if !reflectors[j].is_empty() {
                apply_reflector(&mut q, q_cols, j, &reflectors[j], 0..q_cols);
            }
        }
    }
    r.truncate(r_rows * n);
    (q, r)
}

/// `x[j.., cols] -= 2 v (v^T x[j.., cols])` for a row-major matrix with `width` columns.
fn apply_reflector(x: &mut [f64], width: usize, j: usize, v: &[f64], cols: std::ops::Range<usize>) {
    for c in cols {
        let dot: f64 = v.iter().enumerate().map(|(i, vi)| vi * x[(j + i) * width + c]).sum();
        if dot != 0.0 {
            for (i, vi) in v.iter().enumerate() {
                x[(j + i) * width + c] -= 2.0 * vi * dot;
            }
        }
    }
}

impl Tensor {
    /// `linalg.qr(A, mode)`: `(Q, R)` with `A = Q R`, `Q` orthonormal, `R` upper triangular.
    pub fn linalg_qr(&self, mode: QrMode) -> Result<(Tensor, Tensor)> {
        if let Some(r) = crate::autocast::run("linalg_qr", [self], |t| t[0].linalg_qr(mode)) { return r; }
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::linalg::qr(self, mode);
        }
        check_matrix_input(self, "linalg.qr", false)?;
        let mut mats = Batch::of(self)?;
        let (m, n) = (mats.rows, mats.cols);
        let k = m.min(n);
        let (q_cols, r_rows) = match mode {
            QrMode::Reduced => (k, k),
            QrMode::Complete => (m, m),
            QrMode::R => (0, k),
        };
        let pairs = mats.try_each(|_, a| Ok(householder_qr(a, m, n, q_cols, r_rows)))?;
        let (qs, rs): (Vec<Vec<f64>>, Vec<Vec<f64>>) = pairs.into_iter().unzip();
        let r = from_f64(&rs.concat(), &with_tail(&mats.batch, &[r_rows, n]), self)?;
        let q = match mode {
            QrMode::R => Tensor::zeros(&[0], self.dtype())?.to_device(self.device())?,
            _ => from_f64(&qs.concat(), &with_tail(&mats.batch, &[m, q_cols]), self)?,
        };
        Ok((q, r))
    }
}
