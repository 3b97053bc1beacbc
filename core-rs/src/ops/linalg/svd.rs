//! `linalg.svd` and `linalg.svdvals` by one-sided Jacobi rotations, which keep the singular
//! vectors orthogonal to working precision relative to each singular value.

use super::{check_matrix_input, from_f64, transpose_f64, with_tail, Batch};
use crate::error::Result;
use crate::tensor::Tensor;

/// A thin or full SVD of one matrix, row-major: `u` is `m x u_cols`, `vt` is `vt_rows x n`.
pub(crate) struct Svd {
    pub u: Vec<f64>,
    pub s: Vec<f64>,
    pub vt: Vec<f64>,
}

/// Orthogonalises the columns of the tall `m x n` matrix whose columns are the rows of `w`
/// (`w` is `n x m`), accumulating the rotations into the rows of `v` (`n x n`).
fn jacobi_sweeps(w: &mut [f64], v: &mut [f64], m: usize, n: usize) {
    let dot = |w: &[f64], p: usize, q: usize| -> f64 { (0..m).map(|i| w[p * m + i] * w[q * m + i]).sum() };
    for _ in 0..60 {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let (alpha, beta, gamma) = (dot(w, p, p), dot(w, q, q), dot(w, p, q));
                if gamma == 0.0 || gamma.abs() <= f64::EPSILON * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                rotate_rows(w, m, p, q, c, s);
                rotate_rows(v, n, p, q, c, s);
            }
        }
        if !rotated {
            break;
        }
    }
}

/// Rows `p`, `q` (length `len`) become `c p - s q` and `s p + c q`.
fn rotate_rows(x: &mut [f64], len: usize, p: usize, q: usize, c: f64, s: f64) {
    for i in 0..len {
        let (a, b) = (x[p * len + i], x[q * len + i]);
        x[p * len + i] = c * a - s * b;
        x[q * len + i] = s * a + c * b;
    }
}

/// Completes `rows` (orthonormal or all-zero rows of length `m`) to `count` orthonormal rows:
/// zero rows and missing rows are filled by Gram-Schmidt on the unit vectors.
fn complete_orthonormal(rows: &mut Vec<Vec<f64>>, m: usize, count: usize) {
    rows.resize(count, vec![0.0; m]);
    let mut candidate = 0;
    for r in 0..count {
        if rows[r].iter().any(|&x| x != 0.0) {
            continue;
        }
        while candidate < m {
            let mut v = vec![0.0; m];
            v[candidate] = 1.0;
            candidate += 1;
            for _ in 0..2 {
                for other in rows.iter().filter(|o| o.iter().any(|&x| x != 0.0)) {
                    let d: f64 = v.iter().zip(other).map(|(a, b)| a * b).sum();
                    v.iter_mut().zip(other).for_each(|(a, b)| *a -= d * b);
                }
            }
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 0.5 {
                rows[r] = v.iter().map(|x| x / norm).collect();
                break;
            }
        }
    }
}

/// SVD of the row-major `m x n` matrix `a`. With `vectors`, `U` has `m` (`full`) or `k`
/// columns and `Vh` has `n` or `k` rows; singular values are sorted descending.
pub(crate) fn svd_f64(a: &[f64], m: usize, n: usize, vectors: bool, full: bool) -> Svd {
    if m < n {
        // A^T = U' S V'^T, so A = V' S U'^T.
        let t = svd_f64(&transpose_f64(a, m, n), n, m, vectors, full);
        let (u_cols, vt_rows) = if full { (m, n) } else { (m, m) };
        return Svd {
            u: if vectors { transpose_f64(&t.vt, u_cols, m) } else { Vec::new() },
            s: t.s,
            vt: if vectors { transpose_f64(&t.u, n, vt_rows) } else { Vec::new() },
        };
    }
    // m >= n: the columns of A are the rows of w.
    let mut w = transpose_f64(a, m, n);
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    jacobi_sweeps(&mut w, &mut v, m, n);
    let norms: Vec<f64> = (0..n).map(|j| (0..m).map(|i| w[j * m + i] * w[j * m + i]).sum::<f64>().sqrt()).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| norms[y].partial_cmp(&norms[x]).unwrap_or(std::cmp::Ordering::Equal));
    let s: Vec<f64> = order.iter().map(|&j| norms[j]).collect();
    if !vectors {
        return Svd { u: Vec::new(), s, vt: Vec::new() };
    }
    // A column whose norm is at rounding level of the largest is noise, not a direction:
    // it is left for `complete_orthonormal`, so that U stays orthogonal for singular inputs.
    let noise = s.first().copied().unwrap_or(0.0) * f64::EPSILON * (2 * m.max(n)) as f64;
    let mut u_rows: Vec<Vec<f64>> = order
        .iter()
        .map(|&j| {
            let nj = norms[j];
            if nj > noise && nj.is_finite() {
                w[j * m..(j + 1) * m].iter().map(|x| x / nj).collect()
            } else {
                vec![0.0; m]
            }
        })
        .collect();
    complete_orthonormal(&mut u_rows, m, if full { m } else { n });
    let u_cols = u_rows.len();
    let mut u = vec![0.0; m * u_cols];
    for (c, row) in u_rows.iter().enumerate() {
        for i in 0..m {
            u[i * u_cols + c] = row[i];
        }
    }
    let vt: Vec<f64> = order.iter().flat_map(|&j| v[j * n..(j + 1) * n].to_vec()).collect();
    Svd { u, s, vt }
}

impl Tensor {
    /// `linalg.svd(A, full_matrices)`: `(U, S, Vh)` with `A = U diag(S) Vh`.
    pub fn linalg_svd(&self, full_matrices: bool) -> Result<(Tensor, Tensor, Tensor)> {
        if let Some(r) = crate::autocast::run("linalg_svd", [self], |t| t[0].linalg_svd(full_matrices)) { return r; }
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::linalg::svd(self, full_matrices);
        }
        check_matrix_input(self, "linalg.svd", false)?;
        let mut mats = Batch::of(self)?;
        let (m, n) = (mats.rows, mats.cols);
        let k = m.min(n);
        let svds = mats.try_each(|_, a| Ok(svd_f64(a, m, n, true, full_matrices)))?;
        let (uc, vr) = if full_matrices { (m, n) } else { (k, k) };
        let cat = |f: &dyn Fn(&Svd) -> &Vec<f64>| svds.iter().flat_map(|s| f(s).clone()).collect::<Vec<f64>>();
        let b = &mats.batch;
        Ok((
            from_f64(&cat(&|s| &s.u), &with_tail(b, &[m, uc]), self)?,
            from_f64(&cat(&|s| &s.s), &with_tail(b, &[k]), self)?,
            from_f64(&cat(&|s| &s.vt), &with_tail(b, &[vr, n]), self)?,
        ))
    }

    /// `linalg.svdvals(A)`: the singular values, descending.
    pub fn linalg_svdvals(&self) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("linalg_svdvals", [self], |t| t[0].linalg_svdvals()) { return r; }
        if crate::autograd::needs_grad(&[self]) {
            // The gradient needs the singular vectors (PyTorch computes them too when recording).
            return Ok(crate::autograd::formulas::linalg::svd(self, false)?.1);
        }
        check_matrix_input(self, "linalg.svdvals", false)?;
        let mut mats = Batch::of(self)?;
        let (m, n) = (mats.rows, mats.cols);
        let svds = mats.try_each(|_, a| Ok(svd_f64(a, m, n, false, false).s))?;
        from_f64(&svds.concat(), &with_tail(&mats.batch, &[m.min(n)]), self)
    }
}
