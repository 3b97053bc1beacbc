//! `cat` and everything built on it: `stack`, `hstack`, `vstack`, `dstack`, `column_stack`,
//! `atleast_{1,2,3}d` and `block_diag`.

use crate::dtype::ResultTypeState;
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::tensor::Tensor;
use crate::bail;

/// PyTorch still skips 1-D tensors of size 0 in `cat` (they only count for the dtype).
pub(crate) fn legacy_empty(t: &Tensor) -> bool {
    t.ndim() == 1 && t.shape()[0] == 0
}

/// `cat(tensors, dim)`: joins along an existing dim, promoting to the inputs' common dtype.
pub fn cat(tensors: &[Tensor], dim: i64) -> Result<Tensor> {
    if let Some(r) = crate::autocast::run("cat", tensors, |t| cat(t, dim)) { return r; }
    if crate::autograd::needs_grad(&tensors.iter().collect::<Vec<_>>()) {
        return crate::autograd::formulas::join::cat(tensors, dim);
    }
    if tensors.is_empty() {
        bail!(Runtime, "torch.cat(): expected a non-empty list of Tensors");
    }
    for (i, t) in tensors.iter().enumerate() {
        if t.ndim() == 0 {
            bail!(Runtime, "zero-dimensional tensor (at position {}) cannot be concatenated", i);
        }
    }
    let dtype = tensors.iter().fold(ResultTypeState::default(), |s, t| s.tensor(t.dtype(), t.ndim())).result();
    let device = crate::device::common_device(&tensors.iter().collect::<Vec<_>>())?;
    let Some(first) = tensors.iter().find(|t| !legacy_empty(t)) else {
        return Tensor::full_on(&[0], crate::Scalar::Int(0), dtype, device);
    };
    let d = wrap_dim(dim, first.ndim())?;
    let mut shape = first.shape().to_vec();
    shape[d] = 0;
    for (i, t) in tensors.iter().enumerate().filter(|(_, t)| !legacy_empty(t)) {
        if t.ndim() != first.ndim() {
            bail!(Runtime, "Tensors must have same number of dimensions: got {} and {}", first.ndim(), t.ndim());
        }
        for k in (0..t.ndim()).filter(|&k| k != d) {
            if t.shape()[k] != first.shape()[k] {
                bail!(
                    Runtime,
                    "Sizes of tensors must match except in dimension {}. Expected size {} but got size {} for tensor number {} in the list.",
                    d,
                    first.shape()[k],
                    t.shape()[k],
                    i
                );
            }
        }
        shape[d] += t.shape()[d];
    }
    let out = Tensor::uninit_on(&shape, dtype, device)?;
    let mut start = 0;
    for t in tensors.iter().filter(|t| !legacy_empty(t)) {
        let len = t.shape()[d];
        out.with_layout(out.layout().slice(d, start, start + len, 1)).copy_from(t)?;
        start += len;
    }
    Ok(out)
}

/// `stack(tensors, dim)`: joins equal-shaped tensors along a new dim.
pub fn stack(tensors: &[Tensor], dim: i64) -> Result<Tensor> {
    if let Some(r) = crate::autocast::run("stack", tensors, |t| stack(t, dim)) { return r; }
    if crate::autograd::needs_grad(&tensors.iter().collect::<Vec<_>>()) {
        return crate::autograd::formulas::join::stack(tensors, dim);
    }
    let Some(first) = tensors.first() else {
        bail!(Runtime, "stack expects a non-empty TensorList");
    };
    let d = wrap_dim(dim, first.ndim() + 1)? as i64;
    for (i, t) in tensors.iter().enumerate().skip(1) {
        if t.shape() != first.shape() {
            bail!(
                Runtime,
                "stack expects each tensor to be equal size, but got {:?} at entry 0 and {:?} at entry {}",
                first.shape(),
                t.shape(),
                i
            );
        }
    }
    let parts = tensors.iter().map(|t| t.unsqueeze(d)).collect::<Result<Vec<_>>>()?;
    cat(&parts, d)
}

/// `atleast_{n}d`: a view with at least `n` dims (`n` in 1..=3), as NumPy pads them.
pub fn atleast(t: &Tensor, n: usize) -> Result<Tensor> {
    match (n, t.ndim()) {
        (_, k) if k >= n => Ok(t.clone()),
        (1, _) => t.reshape(&[1]),
        (2, 0) => t.reshape(&[1, 1]),
        (2, _) => t.unsqueeze(0),
        (_, 0) => t.reshape(&[1, 1, 1]),
        (_, 1) => t.unsqueeze(0)?.unsqueeze(-1),
        _ => t.unsqueeze(-1),
    }
}

fn non_empty(tensors: &[Tensor], op: &str) -> Result<()> {
    if tensors.is_empty() {
        bail!(Runtime, "{} expects a non-empty TensorList", op);
    }
    Ok(())
}

fn all_atleast(tensors: &[Tensor], n: usize) -> Result<Vec<Tensor>> {
    tensors.iter().map(|t| atleast(t, n)).collect()
}

/// `hstack`: along dim 1, or dim 0 for vectors.
pub fn hstack(tensors: &[Tensor]) -> Result<Tensor> {
    non_empty(tensors, "hstack")?;
    let rep = all_atleast(tensors, 1)?;
    cat(&rep, if rep[0].ndim() == 1 { 0 } else { 1 })
}

/// `vstack` (`row_stack`): along dim 0 of at-least-2-D views.
pub fn vstack(tensors: &[Tensor]) -> Result<Tensor> {
    non_empty(tensors, "vstack")?;
    cat(&all_atleast(tensors, 2)?, 0)
}

/// `dstack`: along dim 2 of at-least-3-D views.
pub fn dstack(tensors: &[Tensor]) -> Result<Tensor> {
    non_empty(tensors, "dstack")?;
    cat(&all_atleast(tensors, 3)?, 2)
}

/// `column_stack`: vectors and scalars become columns, then `hstack`.
pub fn column_stack(tensors: &[Tensor]) -> Result<Tensor> {
    non_empty(tensors, "column_stack")?;
    let cols = tensors
        .iter()
        .map(|t| if t.ndim() <= 1 { t.reshape(&[t.numel() as i64, 1]) } else { Ok(t.clone()) })
        .collect::<Result<Vec<_>>>()?;
    hstack(&cols)
}

/// `block_diag(*tensors)`: the inputs (scalars, rows or matrices) along a block diagonal.
pub fn block_diag(tensors: &[Tensor]) -> Result<Tensor> {
    if crate::autograd::needs_grad(&tensors.iter().collect::<Vec<_>>()) {
        return crate::autograd::formulas::join::block_diag(tensors);
    }
    if tensors.is_empty() {
        return Tensor::zeros(&[1, 0], crate::default_dtype());
    }
    let mut blocks = Vec::with_capacity(tensors.len());
    for (i, t) in tensors.iter().enumerate() {
        if t.ndim() > 2 {
            bail!(
                Runtime,
                "torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {} has {} dimensions",
                i,
                t.ndim()
            );
        }
        blocks.push(atleast(t, 2)?);
    }
    let dtype = tensors.iter().fold(ResultTypeState::default(), |s, t| s.tensor(t.dtype(), t.ndim())).result();
    let rows = blocks.iter().map(|b| b.shape()[0]).sum::<usize>();
    let cols = blocks.iter().map(|b| b.shape()[1]).sum::<usize>();
    let device = crate::device::common_device(&tensors.iter().collect::<Vec<_>>())?;
    let out = Tensor::zeros_on(&[rows, cols], dtype, device)?;
    let (mut r, mut c) = (0, 0);
    for b in &blocks {
        let (h, w) = (b.shape()[0], b.shape()[1]);
        out.with_layout(out.layout().slice(0, r, r + h, 1).slice(1, c, c + w, 1)).copy_from(b)?;
        r += h;
        c += w;
    }
    Ok(out)
}
