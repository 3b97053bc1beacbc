//! `linalg.vector_norm`, `linalg.matrix_norm` and `linalg.norm`. Sums accumulate in f64.

use rayon::prelude::*;

use crate::cpu::iter::{for_each_offset, SendPtr, GRAIN};
use crate::dtype::{title, DType, Element};
use crate::error::Result;
use crate::layout::{wrap_dim, Layout};
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

/// The order of a matrix (or vector) norm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MatrixOrd {
    Fro,
    Nuc,
    P(f64),
}

/// How PyTorch prints a norm order in messages (`inf`, `-1`, `0.5`).
fn fmt_ord(p: f64) -> String {
    if p.is_infinite() {
        (if p > 0.0 { "inf" } else { "-inf" }).to_string()
    } else if p == p.trunc() {
        format!("{}", p as i64)
    } else {
        format!("{}", p)
    }
}

/// Folds `t`'s elements (as f64) over `dims` (distinct, wrapped): a float64 tensor with those
/// dims removed, or kept as size 1.
fn fold_dims(t: &Tensor, dims: &[usize], keepdim: bool, init: f64, step: impl Fn(f64, f64) -> f64 + Sync) -> Result<Tensor> {
    if t.is_cuda() {
        // Folded on the host, the result moved back (no CUDA kernel for these folds yet).
        return fold_dims(&t.to_device(crate::device::Device::Cpu)?, dims, keepdim, init, step)?.to_device(t.device());
    }
    let l = t.layout();
    let (inner, outer): (Vec<usize>, Vec<usize>) = (0..t.ndim()).partition(|d| dims.contains(d));
    let pick = |ds: &[usize], offset: usize| Layout {
        shape: ds.iter().map(|&d| l.shape[d]).collect(),
        strides: ds.iter().map(|&d| l.strides[d]).collect(),
        offset,
    };
    let mut offsets = Vec::new();
    for_each_offset(&pick(&outer, l.offset), |o| offsets.push(o));
    let inner_numel: usize = inner.iter().map(|&d| l.shape[d]).product();
    let values: Vec<f64> = with_dtype!(t.dtype(), T => {
        let p = SendPtr(t.data_ptr::<T>()?);
        let fold = |&o: &usize| {
            let mut acc = init;
            for_each_offset(&pick(&inner, o), |off| acc = step(acc, unsafe { *p.get().add(off) }.to_f64()));
            acc
        };
        if offsets.len() * inner_numel < GRAIN {
            offsets.iter().map(fold).collect()
        } else {
            crate::cpu::threads::install(|| offsets.par_iter().map(fold).collect())
        }
    });
    let shape: Vec<usize> = if keepdim {
        (0..t.ndim()).map(|d| if dims.contains(&d) { 1 } else { l.shape[d] }).collect()
    } else {
        outer.iter().map(|&d| l.shape[d]).collect()
    };
    Tensor::from_slice(&values, &shape)
}

fn nan_max(acc: f64, x: f64) -> f64 {
    if acc.is_nan() {
        acc
    } else if x.is_nan() || x > acc {
        x
    } else {
        acc
    }
}

fn nan_min(acc: f64, x: f64) -> f64 {
    if acc.is_nan() {
        acc
    } else if x.is_nan() || x < acc {
        x
    } else {
        acc
    }
}

/// Checks a norm input is floating point and picks the result dtype (`dtype` casts first).
fn norm_input(t: &Tensor, op: &str, dtype: Option<DType>) -> Result<Tensor> {
    if !t.dtype().is_float() {
        bail!(Runtime, "{}: Expected a floating point or complex tensor as input. Got {}", op, title(t.dtype()));
    }
    match dtype {
        Some(d) if !d.is_float() => bail!(Runtime, "{}: dtype should be floating point or complex, but got {}", op, title(d)),
        Some(d) => t.to_dtype(d),
        None => Ok(t.clone()),
    }
}

/// `linalg.vector_norm(x, ord, dim, keepdim, dtype)`: the reduction kernel lives with the
/// other reductions.
pub fn vector_norm(t: &Tensor, ord: f64, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    t.vector_norm(ord, dims, keepdim, dtype)
}

/// `linalg.matrix_norm(A, ord, dim, keepdim, dtype)`.
pub fn matrix_norm(t: &Tensor, ord: MatrixOrd, dims: [i64; 2], keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    let op = "linalg.matrix_norm";
    let a = norm_input(t, op, dtype)?;
    if a.ndim() < 2 {
        bail!(Runtime, "{}: The input tensor A must have at least 2 dimensions.", op);
    }
    let (d0, d1) = (wrap_dim(dims[0], a.ndim())?, wrap_dim(dims[1], a.ndim())?);
    if d0 == d1 {
        bail!(Runtime, "{}: dims must be different. Got ({}, {})", op, dims[0], dims[1]);
    }
    let squeeze = |r: Tensor| -> Result<Tensor> {
        if keepdim {
            Ok(r)
        } else {
            r.squeeze(Some(&[d0 as i64, d1 as i64]))
        }
    };
    let by_singular_values = |reduce: &dyn Fn(&Tensor) -> Result<Tensor>| -> Result<Tensor> {
        let s = a.movedim(&[d0 as i64, d1 as i64], &[-2, -1])?.linalg_svdvals()?;
        let r = reduce(&s)?;
        if !keepdim {
            return r.to_dtype(a.dtype());
        }
        let (lo, hi) = (d0.min(d1) as i64, d0.max(d1) as i64);
        r.unsqueeze(lo)?.unsqueeze(hi)?.to_dtype(a.dtype())
    };
    let supported = match ord {
        MatrixOrd::P(p) => p.abs() == 2.0 || p.abs() == 1.0 || p.is_infinite(),
        _ => true,
    };
    if supported && crate::autograd::needs_grad(&[&a]) {
        return recorded_matrix_norm(&a, ord, (d0, d1), keepdim);
    }
    let last = [a.ndim() - 2];
    match ord {
        MatrixOrd::Fro => vector_norm(&a, 2.0, Some(&[d0 as i64, d1 as i64]), keepdim, None),
        MatrixOrd::Nuc => by_singular_values(&|s| fold_dims(s, &last, false, 0.0, |x, v| x + v)),
        MatrixOrd::P(p) if p == 2.0 => by_singular_values(&|s| fold_dims(s, &last, false, f64::NEG_INFINITY, nan_max)),
        MatrixOrd::P(p) if p == -2.0 => by_singular_values(&|s| fold_dims(s, &last, false, f64::INFINITY, nan_min)),
        MatrixOrd::P(p) if p.abs() == 1.0 || p.is_infinite() => {
            // 1: largest column sum (sum over rows, then max over columns); inf: the transpose.
            let (sum_dim, pick_dim) = if p.abs() == 1.0 { (d0, d1) } else { (d1, d0) };
            let sums = fold_dims(&a, &[sum_dim], true, 0.0, |x, v| x + v.abs())?;
            let picked = if p > 0.0 {
                fold_dims(&sums, &[pick_dim], true, f64::NEG_INFINITY, nan_max)?
            } else {
                fold_dims(&sums, &[pick_dim], true, f64::INFINITY, nan_min)?
            };
            squeeze(picked)?.to_dtype(a.dtype())
        }
        MatrixOrd::P(p) => bail!(Runtime, "{}: Order {} not supported.", op, fmt_ord(p)),
    }
}

/// `matrix_norm` of `a` (dims `d0`, `d1` wrapped and distinct, order already checked to be
/// one of the supported ones below) as a composition of recorded reductions, for inputs that
/// need a gradient: `sum`/`amax`/`amin` of the singular values or of absolute row/column sums.
fn recorded_matrix_norm(a: &Tensor, ord: MatrixOrd, (d0, d1): (usize, usize), keepdim: bool) -> Result<Tensor> {
    let by_singular_values = |reduce: &dyn Fn(&Tensor) -> Result<Tensor>| -> Result<Tensor> {
        let s = a.movedim(&[d0 as i64, d1 as i64], &[-2, -1])?.linalg_svdvals()?;
        let r = reduce(&s)?;
        if !keepdim {
            return Ok(r);
        }
        let (lo, hi) = (d0.min(d1) as i64, d0.max(d1) as i64);
        r.unsqueeze(lo)?.unsqueeze(hi)
    };
    match ord {
        MatrixOrd::Fro => vector_norm(a, 2.0, Some(&[d0 as i64, d1 as i64]), keepdim, None),
        MatrixOrd::Nuc => by_singular_values(&|s| s.sum(Some(&[-1]), false, None)),
        MatrixOrd::P(p) if p == 2.0 => by_singular_values(&|s| s.amax(Some(&[-1]), false)),
        MatrixOrd::P(p) if p == -2.0 => by_singular_values(&|s| s.amin(Some(&[-1]), false)),
        MatrixOrd::P(p) => {
            let (sum_dim, pick_dim) = if p.abs() == 1.0 { (d0, d1) } else { (d1, d0) };
            let sums = a.abs()?.sum(Some(&[sum_dim as i64]), true, None)?;
            let picked = if p > 0.0 { sums.amax(Some(&[pick_dim as i64]), true)? } else { sums.amin(Some(&[pick_dim as i64]), true)? };
            if keepdim {
                Ok(picked)
            } else {
                picked.squeeze(Some(&[d0 as i64, d1 as i64]))
            }
        }
    }
}

/// `linalg.norm(A, ord, dim, keepdim, dtype)`: a vector norm over one dim (or all, flattened,
/// when neither `ord` nor `dim` is given), a matrix norm over two.
pub fn norm(t: &Tensor, ord: Option<MatrixOrd>, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
    let op = "linalg.norm";
    let dims: Option<Vec<i64>> = match dims {
        Some(ds) => Some(ds.to_vec()),
        None if ord.is_none() => None,
        None => match t.ndim() {
            1 => Some(vec![0]),
            2 => Some(vec![0, 1]),
            n => bail!(Runtime, "{}: If dim is not specified but ord is, the input must be 1D or 2D. Got {}D.", op, n),
        },
    };
    match dims.as_deref() {
        None => vector_norm(t, 2.0, None, keepdim, dtype),
        Some(&[d]) => match ord.unwrap_or(MatrixOrd::P(2.0)) {
            MatrixOrd::P(p) => vector_norm(t, p, Some(&[d]), keepdim, dtype),
            _ => bail!(Runtime, "{}: If ord is a string, dim must be of length 2. Got dim of length 1", op),
        },
        Some(&[d0, d1]) => matrix_norm(t, ord.unwrap_or(MatrixOrd::Fro), [d0, d1], keepdim, dtype),
        Some(ds) => bail!(Runtime, "{}: If dim is specified, it mut be of length 1 or 2. Got {:?}", op, ds),
    }
}
