//! Gradients of `torch.linalg` (`ops/linalg/`), following PyTorch's `FunctionsManual`: each
//! formula is written with recorded ops (products, solves, inverses), so the smooth ones
//! differentiate again. Decompositions are differentiable where they are locally unique:
//! distinct eigenvalues / singular values, full-rank inputs for QR.

use crate::autograd::formulas::reduce::prod_others;
use crate::autograd::node::Grads;
use crate::autograd::record::{record, record_multi};
use crate::autograd::Saved;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::linalg::QrMode;
use crate::tensor::Tensor;
use crate::bail;

/// `t[..., None, None]`: a batch of scalars that scales a batch of matrices.
fn per_matrix(t: &Tensor) -> Result<Tensor> {
    t.unsqueeze(-1)?.unsqueeze(-1)
}

/// A constant `rows x cols` mask of the elements on or below diagonal `k` (`lower`), or on or
/// above it: `tril`/`triu` as a product, which records like any product.
fn triangle(rows: usize, cols: usize, k: i64, lower: bool, like: &Tensor) -> Result<Tensor> {
    let keep = |i: usize, j: usize| if lower { (j as i64) - (i as i64) <= k } else { (j as i64) - (i as i64) >= k };
    let v: Vec<f64> = (0..rows * cols).map(|e| keep(e / cols.max(1), e % cols.max(1)) as i64 as f64).collect();
    Tensor::from_slice(&v, &[rows, cols])?.to_dtype(like.dtype())?.to_device(like.device())
}

/// The last two sizes of a matrix batch.
fn matrix_size(t: &Tensor) -> (usize, usize) {
    (t.shape()[t.ndim() - 2], t.shape()[t.ndim() - 1])
}

/// `X + X^T` with the diagonal counted once.
fn symmetrize_upper(x: &Tensor) -> Result<Tensor> {
    let (n, _) = matrix_size(x);
    x.add(&x.mul(&triangle(n, n, 1, false, &x)?)?.mt()?)
}

/// Records `linalg.det` (`LinalgDetBackward0`): `g det A^{-T}`; singular (or nearly singular)
/// batches use the SVD form of the adjugate, which has no further derivative here.
pub fn det(a: &Tensor) -> Result<Tensor> {
    record("LinalgDetBackward0", &[a], || a.linalg_det(), |s| {
        let (sa, out) = (s.save(a), s.output(0));
        move |gr: &Grads| {
            let (a, det) = (sa.get()?, out.get()?);
            if a.numel() == 0 {
                return Ok(vec![Some(a.zeros_like()?)]);
            }
            let eps = if a.dtype() == DType::F32 { f32::EPSILON as f64 } else { f64::EPSILON };
            let gd = gr.g().mul(&det)?;
            if !crate::autograd::formulas::reduce::any_true(&det.abs()?.lt(100.0 * eps)?)? {
                return Ok(vec![Some(per_matrix(&gd)?.mul(&a.linalg_inv()?.mt()?)?)]);
            }
            let g = gr.g().clone();
            let grad = crate::autograd::no_grad(|| -> Result<Tensor> {
                let (u, sv, vh) = a.linalg_svd(false)?;
                let alpha = u.linalg_det()?.mul(&vh.linalg_det()?)?.mul(&g)?;
                let others = prod_others(&sv, &sv.prod(Some(-1), true, None)?, Some(&[-1]))?;
                u.mul(&alpha.unsqueeze(-1)?.mul(&others)?.unsqueeze(-2)?)?.matmul(&vh)
            })?;
            Ok(vec![Some(grad)])
        }
    })
}

/// Records `linalg.slogdet` (`LinalgSlogdetBackward0`): only `logabsdet` has a gradient,
/// `g A^{-T}` (not differentiable at singular matrices, as in PyTorch).
pub fn slogdet(a: &Tensor) -> Result<(Tensor, Tensor)> {
    let mut outs = record_multi("LinalgSlogdetBackward0", &[a], || a.linalg_slogdet().map(|(s, l)| vec![s, l]), |s| {
        let sa = s.save(a);
        move |gr: &Grads| {
            if !gr.present(1) {
                return Ok(vec![None]);
            }
            Ok(vec![Some(per_matrix(&gr.outputs[1])?.mul(&sa.get()?.linalg_inv()?.mt()?)?)])
        }
    })?;
    let log = outs.pop().expect("two outputs");
    Ok((outs.pop().expect("two outputs"), log))
}

/// Records `linalg.inv` (`LinalgInvExBackward0`): `-A^{-T} g A^{-T}`.
pub fn inv(a: &Tensor) -> Result<Tensor> {
    record("LinalgInvExBackward0", &[a], || a.linalg_inv(), |s| {
        let out = s.output(0);
        move |gr: &Grads| {
            let inv_t = out.get()?.mt()?;
            Ok(vec![Some(inv_t.matmul(gr.g())?.matmul(&inv_t)?.neg()?)])
        }
    })
}

/// Records `linalg.solve` (`LinalgSolveExBackward0`). With `X = A^{-1} B`:
/// `gB = A^{-T} g` and `gA = -gB X^T` (transposed accordingly for `left=False`).
pub fn solve(a: &Tensor, b: &Tensor, left: bool) -> Result<Tensor> {
    let nd = a.ndim();
    let vector = b.ndim() == 1 || (b.ndim() + 1 == nd && b.shape() == &a.shape()[..nd - 1]);
    record("LinalgSolveExBackward0", &[a, b], || a.linalg_solve(b, left), |s| {
        let (sa, out) = (s.save(a), s.output(0));
        move |gr: &Grads| {
            let a = sa.get()?;
            // X has B's (broadcast) shape, so it is read as vectors exactly when B was.
            let gb = a.mt()?.linalg_solve(gr.g(), left)?;
            let ga = gr.when(0, || {
                let x = out.get()?;
                let (gbm, xm) = if vector { (gb.unsqueeze(-1)?, x.unsqueeze(-1)?) } else { (gb.clone(), x) };
                let outer = match (left, vector) {
                    (true, _) => gbm.matmul(&xm.mt()?)?,
                    (false, true) => xm.matmul(&gbm.mt()?)?,
                    (false, false) => xm.mt()?.matmul(&gbm)?,
                };
                outer.neg()
            })?;
            Ok(vec![ga, gr.needs(1).then_some(gb)])
        }
    })
}

/// Records `linalg.cholesky` (`LinalgCholeskyExBackward0`): with `Φ = tril(L^T gL)` and its
/// diagonal halved, symmetrized, `gA = L^{-T} Φ L^{-1}` (a symmetric gradient, as PyTorch).
pub fn cholesky(a: &Tensor, upper: bool) -> Result<Tensor> {
    record("LinalgCholeskyExBackward0", &[a], || a.linalg_cholesky(upper), |s| {
        let out = s.output(0);
        move |gr: &Grads| {
            let (l, gl) = if upper { (out.get()?.mt()?, gr.g().mt()?) } else { (out.get()?, gr.g().clone()) };
            let (n, _) = matrix_size(&l);
            let phi = l.mt()?.matmul(&gl)?.mul(&triangle(n, n, 0, true, &l)?)?;
            let phi = phi.add(&phi.mul(&triangle(n, n, -1, true, &l)?)?.mt()?)?.mul(0.5)?;
            let l_inv = l.linalg_inv()?;
            Ok(vec![Some(l_inv.mt()?.matmul(&phi)?.matmul(&l_inv)?)])
        }
    })
}

/// Records `linalg.qr` (`LinalgQrBackward0`), PyTorch's formula for full-rank inputs.
pub fn qr(a: &Tensor, mode: QrMode) -> Result<(Tensor, Tensor)> {
    let (m, n) = matrix_size(a);
    let mut outs = record_multi("LinalgQrBackward0", &[a], || a.linalg_qr(mode).map(|(q, r)| vec![q, r]), |s| {
        let (sq, sr) = (s.output(0), s.output(1));
        move |gr: &Grads| {
            if mode == QrMode::R {
                bail!(
                    Runtime,
                    "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
                );
            }
            if mode == QrMode::Complete && m > n {
                bail!(Runtime, "The QR decomposition is not differentiable when mode='complete' and nrows > ncols.");
            }
            let (q, r, gq, g_r) = (sq.get()?, sr.get()?, &gr.outputs[0], &gr.outputs[1]);
            let ga = g_r.matmul(&r.mt()?)?.sub(&q.mt()?.matmul(gq)?)?;
            if m >= n {
                let k = n;
                let upper = ga.mul(&triangle(k, k, 0, false, &ga)?)?;
                let ga = q.matmul(&symmetrize_upper(&upper)?)?.add(gq)?;
                // ga R^{-T}
                return Ok(vec![Some(r.mt()?.linalg_solve(&ga, false)?)]);
            }
            let skew = ga.neg()?;
            let skew = skew.sub(&skew.mt()?)?.mul(&triangle(m, m, 0, true, &ga)?)?;
            let r1 = r.narrow(-1, 0, m as i64)?;
            let ga = r1.mt()?.linalg_solve(&q.matmul(&skew)?, false)?;
            // Pads the m x m block with zero columns to m x n, as a product with [I 0].
            let pad = Tensor::eye_on(m, n, ga.dtype(), ga.device())?;
            Ok(vec![Some(ga.matmul(&pad)?.add(&q.matmul(g_r)?)?)])
        }
    })?;
    let r = outs.pop().expect("two outputs");
    Ok((outs.pop().expect("two outputs"), r))
}

/// Records `linalg.eigh` (`LinalgEighBackward0`):
/// `gA = V (diag(gL) + skew(V^T gV) / 2 / E) V^T` with `E_ij = L_j - L_i` (eigenvalues must be
/// distinct for eigenvector gradients; the eigenvectors' signs do not matter to gauge-invariant
/// losses).
pub fn eigh(a: &Tensor, uplo: &str) -> Result<(Tensor, Tensor)> {
    let uplo = uplo.to_string();
    let mut outs = record_multi("LinalgEighBackward0", &[a], || a.linalg_eigh(&uplo).map(|(w, v)| vec![w, v]), |s| {
        let (sw, sv) = (s.output(0), s.output(1));
        move |gr: &Grads| {
            let (w, v, gw) = (sw.get()?, sv.get()?, &gr.outputs[0]);
            if !gr.present(1) {
                return Ok(vec![Some(v.mul(&gw.unsqueeze(-2)?)?.matmul(&v.mt()?)?)]);
            }
            let n = w.shape()[w.ndim() - 1];
            let eye = Tensor::eye_on(n, n, w.dtype(), w.device())?;
            let vtgv = v.mt()?.matmul(&gr.outputs[1])?;
            let skew = vtgv.sub(&vtgv.mt()?)?.mul(0.5)?;
            let gaps = w.unsqueeze(-2)?.sub(&w.unsqueeze(-1)?)?.add(&eye)?;
            let inner = skew.div(&gaps)?.add(&eye.mul(&gw.unsqueeze(-2)?)?)?;
            Ok(vec![Some(v.matmul(&inner)?.matmul(&v.mt()?)?)])
        }
    })?;
    let v = outs.pop().expect("two outputs");
    Ok((outs.pop().expect("two outputs"), v))
}

/// Records `linalg.svd` (`LinalgSvdBackward0`), PyTorch's `svd_backward` for real inputs:
/// singular values must be distinct (and non-zero for rectangular inputs) for the singular
/// vectors' gradients; losses must not depend on the vectors' signs. With `full_matrices`
/// only the first `k` columns of `U` / rows of `Vh` are differentiable, as in PyTorch.
pub fn svd(a: &Tensor, full_matrices: bool) -> Result<(Tensor, Tensor, Tensor)> {
    let (m, n) = matrix_size(a);
    let k = m.min(n) as i64;
    let mut outs = record_multi("LinalgSvdBackward0", &[a], || a.linalg_svd(full_matrices).map(|(u, s, vh)| vec![u, s, vh]), |s| {
        let (su, ss, svh) = (s.output(0), s.output(1), s.output(2));
        move |gr: &Grads| Ok(vec![Some(svd_backward(gr, &su, &ss, &svh, full_matrices, m, n, k)?)])
    })?;
    let vh = outs.pop().expect("three outputs");
    let sv = outs.pop().expect("three outputs");
    Ok((outs.pop().expect("three outputs"), sv, vh))
}

#[allow(clippy::too_many_arguments)]
fn svd_backward(gr: &Grads, su: &Saved, ss: &Saved, svh: &Saved, full: bool, m: usize, n: usize, k: i64) -> Result<Tensor> {
    let (mut u, s, mut vh) = (su.get()?, ss.get()?, svh.get()?);
    let (mut gu, gs, mut gvh) = (gr.outputs[0].clone(), &gr.outputs[1], gr.outputs[2].clone());
    if full {
        u = u.narrow(-1, 0, k)?;
        vh = vh.narrow(-2, 0, k)?;
        gu = gu.narrow(-1, 0, k)?;
        gvh = gvh.narrow(-2, 0, k)?;
    }
    let (has_u, has_vh) = (gr.present(0), gr.present(2));
    if !has_u && !has_vh {
        return if m >= n { u.matmul(&gs.unsqueeze(-1)?.mul(&vh)?) } else { u.mul(&gs.unsqueeze(-2)?)?.matmul(&vh) };
    }
    let skew = |x: Tensor| -> Result<Tensor> { x.sub(&x.mt()?) };
    let s2 = s.square()?;
    let eye = Tensor::eye_on(k as usize, k as usize, s.dtype(), s.device())?;
    let gaps = s2.unsqueeze(-2)?.sub(&s2.unsqueeze(-1)?)?.add(&eye)?;
    let mut inner = eye.mul(&gs.unsqueeze(-2)?)?;
    if has_u {
        inner = inner.add(&skew(u.mt()?.matmul(&gu)?)?.div(&gaps)?.mul(&s.unsqueeze(-2)?)?)?;
    }
    if has_vh {
        inner = inner.add(&s.unsqueeze(-1)?.mul(&skew(vh.matmul(&gvh.mt()?)?)?.div(&gaps)?)?)?;
    }
    if m > n && has_u {
        // [U inner + (I - U U^T) gU S^{-1}] Vh
        let gu_sinv = gu.div(&s.unsqueeze(-2)?)?;
        let left = u.matmul(&inner)?.add(&gu_sinv)?.sub(&u.matmul(&u.mt()?.matmul(&gu_sinv)?)?)?;
        left.matmul(&vh)
    } else if m < n && has_vh {
        // U [inner Vh + S^{-1} gVh (I - V Vh)]
        let sinv_gvh = gvh.div(&s.unsqueeze(-1)?)?;
        let right = inner.matmul(&vh)?.add(&sinv_gvh)?.sub(&sinv_gvh.matmul(&vh.mt()?)?.matmul(&vh)?)?;
        u.matmul(&right)
    } else {
        u.matmul(&inner)?.matmul(&vh)
    }
}

/// Records `linalg.pinv` (`LinalgPinvBackward0`) for inputs of constant rank:
/// `gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)` with `P = pinv(A)`.
pub fn pinv(a: &Tensor, atol: Option<f64>, rtol: Option<f64>) -> Result<Tensor> {
    record("LinalgPinvBackward0", &[a], || a.linalg_pinv(atol, rtol), |s| {
        let (sa, out) = (s.save(a), s.output(0));
        move |gr: &Grads| {
            let (a, p, g) = (sa.get()?, out.get()?, gr.g());
            let (pt, gt) = (p.mt()?, g.mt()?);
            let first = pt.matmul(g)?.matmul(&pt)?.neg()?;
            let gt_ppt = gt.matmul(&p.matmul(&pt)?)?;
            let second = gt_ppt.sub(&a.matmul(&p.matmul(&gt_ppt)?)?)?;
            let ptp_gt = pt.matmul(&p)?.matmul(&gt)?;
            let third = ptp_gt.sub(&ptp_gt.matmul(&p)?.matmul(&a)?)?;
            Ok(vec![Some(first.add(&second)?.add(&third)?)])
        }
    })
}
