//! `linalg.eigh` / `linalg.eigvalsh`: symmetric eigendecomposition by cyclic Jacobi rotations.

use super::{check_matrix_input, from_f64, with_tail, Batch};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::bail;

/// Eigenvalues (ascending) and, row-major, the eigenvectors as columns of an `n x n` matrix.
/// `a` holds a symmetric matrix and is destroyed.
fn jacobi_eigh(a: &mut [f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let total: f64 = a.iter().map(|x| x * x).sum();
    for _ in 0..100 {
        let off: f64 = (0..n).flat_map(|p| (p + 1..n).map(move |q| (p, q))).map(|(p, q)| a[p * n + q] * a[p * n + q]).sum();
        if off == 0.0 || off <= f64::EPSILON * f64::EPSILON * total * 1e-4 || !off.is_finite() {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = if theta.is_infinite() { 0.5 / theta } else { theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt()) };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A <- J^T A J with J the rotation in the (p, q) plane.
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                a[p * n + q] = 0.0;
                a[q * n + p] = 0.0;
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| a[x * n + x].partial_cmp(&a[y * n + y]).unwrap_or(std::cmp::Ordering::Equal));
    let w = order.iter().map(|&j| a[j * n + j]).collect();
    let mut vs = vec![0.0; n * n];
    for (c, &j) in order.iter().enumerate() {
        for i in 0..n {
            vs[i * n + c] = v[i * n + j];
        }
    }
    (w, vs)
}

/// Mirrors the chosen triangle (`'L'` or `'U'`) of a row-major matrix over the other one.
fn symmetrize(a: &mut [f64], n: usize, lower: bool) {
    for i in 0..n {
        for j in 0..i {
            if lower {
                a[j * n + i] = a[i * n + j];
            } else {
                a[i * n + j] = a[j * n + i];
            }
        }
    }
}

fn parse_uplo(uplo: &str) -> Result<bool> {
    match uplo {
        "L" | "l" => Ok(true),
        "U" | "u" => Ok(false),
        _ => bail!(Runtime, "Expected UPLO argument to be 'L' or 'U', but got {}", uplo),
    }
}

impl Tensor {
    /// `linalg.eigh(A, UPLO)`: eigenvalues ascending and eigenvectors as columns, reading only
    /// the `UPLO` triangle of `A`.
    pub fn linalg_eigh(&self, uplo: &str) -> Result<(Tensor, Tensor)> {
        if let Some(r) = crate::autocast::run("linalg_eigh", [self], |t| t[0].linalg_eigh(uplo)) { return r; }
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::linalg::eigh(self, uplo);
        }
        let (w, v) = self.eigh_impl("linalg.eigh", uplo, true)?;
        Ok((w, v.expect("vectors requested")))
    }

    /// `linalg.eigvalsh(A, UPLO)`: the eigenvalues of `eigh`.
    pub fn linalg_eigvalsh(&self, uplo: &str) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("linalg_eigvalsh", [self], |t| t[0].linalg_eigvalsh(uplo)) { return r; }
        if crate::autograd::needs_grad(&[self]) {
            // The gradient needs the eigenvectors (PyTorch computes them too when recording).
            return Ok(crate::autograd::formulas::linalg::eigh(self, uplo)?.0);
        }
        Ok(self.eigh_impl("linalg.eigvalsh", uplo, false)?.0)
    }

    fn eigh_impl(&self, op: &str, uplo: &str, vectors: bool) -> Result<(Tensor, Option<Tensor>)> {
        let lower = parse_uplo(uplo)?;
        check_matrix_input(self, op, true)?;
        let mut mats = Batch::of(self)?;
        let n = mats.rows;
        let pairs = mats.try_each(|_, a| {
            symmetrize(a, n, lower);
            Ok(jacobi_eigh(a, n))
        })?;
        let (ws, vs): (Vec<Vec<f64>>, Vec<Vec<f64>>) = pairs.into_iter().unzip();
        let w = from_f64(&ws.concat(), &with_tail(&mats.batch, &[n]), self)?;
        let v = if vectors { Some(from_f64(&vs.concat(), self.shape(), self)?) } else { None };
        Ok((w, v))
    }
}
