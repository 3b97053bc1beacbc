//! Reordering and repeating elements: `flip`, `roll`, `rot90`, `repeat`, `tile`,
//! `repeat_interleave`, and the slice-gathering kernel they share.

use rayon::prelude::*;

use crate::cpu::iter::{SendPtr, GRAIN};
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::layout::{wrap_dim, Layout};
use crate::ops::shape::to_sizes;
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

/// Runs `f(start, end)` over sub-ranges covering `0..n`, in parallel when `n` items of `cost`
/// elements each are worth splitting.
pub fn par_ranges(n: usize, cost: usize, f: impl Fn(usize, usize) + Sync) {
    crate::cpu::threads::install_if(n.saturating_mul(cost.max(1)), || {
    let work = n.saturating_mul(cost.max(1));
    let threads = rayon::current_num_threads();
    if work < GRAIN || threads == 1 || n < 2 {
        f(0, n);
        return;
    }
    let chunks = (work / GRAIN).min(threads * 4).min(n).max(1);
    let per = n.div_ceil(chunks);
    (0..chunks).into_par_iter().for_each(|c| {
        let start = c * per;
        if start < n {
            f(start, (start + per).min(n));
        }
    });
})
}

/// A contiguous tensor made of the slices `idx[0], idx[1], ...` of `t` along `dim`.
/// Every index must be below `t.shape()[dim]`.
pub fn gather_slices(t: &Tensor, dim: usize, idx: &[usize]) -> Result<Tensor> {
    let n = t.shape()[dim];
    if idx.iter().any(|&i| i >= n) {
        bail!(Index, "index out of range in self");
    }
    let src = t.contiguous()?;
    let mut shape = t.shape().to_vec();
    shape[dim] = idx.len();
    let out = Tensor::uninit(&shape, t.dtype())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let inner: usize = shape[dim + 1..].iter().product();
    let m = idx.len();
    let rows = out.numel() / inner;
    with_dtype!(t.dtype(), T => {
        let (s, o) = (SendPtr(src.data_ptr::<T>()?), SendPtr(out.data_ptr::<T>()?));
        let base = src.offset();
        par_ranges(rows, inner, |r0, r1| {
            for r in r0..r1 {
                let (b, j) = (r / m, r % m);
                unsafe {
                    let from = s.get().add(base + (b * n + idx[j]) * inner);
                    std::ptr::copy_nonoverlapping(from, o.get().add(r * inner), inner);
                }
            }
        });
    });
    Ok(out)
}

/// A contiguous copy of `t` read with the dims marked in `flip` reversed.
fn flipped_copy(t: &Tensor, flip: &[bool]) -> Result<Tensor> {
    let out = Tensor::uninit(t.shape(), t.dtype())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    // The input seen with signed strides: a reversed dim starts at its last element.
    // Dims that stay contiguous with their neighbour under these strides are merged.
    let mut base = t.offset() as isize;
    let mut dims: Vec<(usize, isize)> = Vec::new();
    for d in 0..t.ndim() {
        let (n, st) = (t.shape()[d], t.strides()[d] as isize);
        if n == 1 {
            continue;
        }
        let st = if flip[d] {
            base += (n as isize - 1) * st;
            -st
        } else {
            st
        };
        match dims.last_mut() {
            Some(last) if last.1 == st * n as isize => *last = (last.0 * n, st),
            _ => dims.push((n, st)),
        }
    }
    let (inner, inner_st) = dims.pop().unwrap_or((1, 0));
    let rows = out.numel() / inner;
    with_dtype!(t.dtype(), T => {
        let (s, o) = (SendPtr(t.data_ptr::<T>()?), SendPtr(out.data_ptr::<T>()?));
        par_ranges(rows, inner, |r0, r1| {
            for r in r0..r1 {
                let (mut rem, mut off) = (r, base);
                for &(n, st) in dims.iter().rev() {
                    off += (rem % n) as isize * st;
                    rem /= n;
                }
                unsafe {
                    let dst = o.get().add(r * inner);
                    for i in 0..inner {
                        *dst.add(i) = *s.get().offset(off + i as isize * inner_st);
                    }
                }
            }
        });
    });
    Ok(out)
}

/// The `repeats` argument of `repeat_interleave`.
#[derive(Clone)]
pub enum Repeats {
    Int(i64),
    Tensor(Tensor),
}

/// Reads a repeats tensor, checking PyTorch's conditions on it.
fn repeat_counts(repeats: &Tensor) -> Result<Vec<i64>> {
    if !matches!(repeats.dtype(), DType::I64 | DType::I32) {
        bail!(Runtime, "repeats has to be Long or Int tensor");
    }
    // The output's size depends on the counts: they are read on the host, as PyTorch syncs too.
    let counts = repeats.to_device(crate::Device::Cpu)?.to_dtype(DType::I64)?.to_vec::<i64>()?;
    if counts.iter().any(|&c| c < 0) {
        bail!(Runtime, "repeats can not be negative");
    }
    Ok(counts)
}

/// `i` repeated `counts[i]` times, for each `i` (counts are non-negative).
fn expand_counts(counts: &[i64]) -> Result<Vec<usize>> {
    let total = counts.iter().try_fold(0usize, |a, &c| a.checked_add(c as usize));
    let mut idx: Vec<usize> = Vec::new();
    // Reserve fallibly: absurd repeats must raise, not abort the process.
    if total.is_none_or(|t| idx.try_reserve_exact(t).is_err()) {
        bail!(Runtime, "repeat_interleave: the result is too large");
    }
    idx.extend(counts.iter().enumerate().flat_map(|(i, &c)| std::iter::repeat_n(i, c as usize)));
    Ok(idx)
}

fn check_output_size(total: usize, output_size: Option<i64>) -> Result<()> {
    if output_size.is_some_and(|o| o != total as i64) {
        bail!(Runtime, "allocated size does not match required size");
    }
    Ok(())
}

/// `repeat_interleave(repeats)` with only a 1-D repeats tensor: `i` repeated `repeats[i]` times.
pub fn repeat_interleave_index(repeats: &Tensor, output_size: Option<i64>) -> Result<Tensor> {
    if repeats.ndim() != 1 {
        bail!(Runtime, "repeat_interleave only accept 1D vector as repeat");
    }
    let counts = repeat_counts(repeats)?;
    let idx: Vec<i64> = expand_counts(&counts)?.into_iter().map(|i| i as i64).collect();
    check_output_size(idx.len(), output_size)?;
    Tensor::from_slice(&idx, &[idx.len()])?.to_dtype(repeats.dtype())?.to_device(repeats.device())
}

impl Tensor {
    /// `flip(dims)`: a copy with the listed dims reversed.
    pub fn flip(&self, dims: &[i64]) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::join::flip(self, dims);
        }
        let mut flip = vec![false; self.ndim()];
        for &d in dims {
            let w = wrap_dim(d, self.ndim())?;
            if self.ndim() == 0 {
                continue;
            }
            if flip[w] {
                bail!(Runtime, "dim {} appears multiple times in the list of dims", w);
            }
            flip[w] = true;
        }
        if self.is_cuda() {
            if !flip.contains(&true) {
                return self.clone_contiguous();
            }
            // Strides cannot be negative: each flipped dim is a device gather in reverse order.
            let mut out = self.clone();
            for d in (0..self.ndim()).filter(|&d| flip[d]) {
                let n = self.shape()[d] as i64;
                let reversed = Tensor::arange(Scalar::Int(n - 1), Scalar::Int(-1), Scalar::Int(-1), DType::I64)?.to_device(self.device())?;
                out = out.index_select(d as i64, &reversed)?;
            }
            return Ok(out);
        }
        flipped_copy(self, &flip)
    }

    /// `fliplr()`: reverses dim 1.
    pub fn fliplr(&self) -> Result<Tensor> {
        if self.ndim() < 2 {
            bail!(Runtime, "Input must be >= 2-d.");
        }
        self.flip(&[1])
    }

    /// `flipud()`: reverses dim 0.
    pub fn flipud(&self) -> Result<Tensor> {
        if self.ndim() < 1 {
            bail!(Runtime, "Input must be >= 1-d.");
        }
        self.flip(&[0])
    }

    /// `roll(shifts, dims)`: rotates elements along each dim; with no dims, over the flattened
    /// tensor.
    pub fn roll(&self, shifts: &[i64], dims: &[i64]) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::join::roll(self, shifts, dims);
        }
        if shifts.is_empty() {
            bail!(Runtime, "`shifts` required");
        }
        if dims.is_empty() && shifts.len() == 1 {
            let shape: Vec<i64> = self.shape().iter().map(|&s| s as i64).collect();
            return self.reshape(&[-1])?.roll_dim(shifts[0], 0)?.view(&shape);
        }
        if shifts.len() != dims.len() {
            bail!(Runtime, "shifts and dimensions must align. shifts: {}, dims:{}", shifts.len(), dims.len());
        }
        let mut r = self.roll_dim(shifts[0], dims[0])?;
        for (&s, &d) in shifts[1..].iter().zip(&dims[1..]) {
            r = r.roll_dim(s, d)?;
        }
        Ok(r)
    }

    fn roll_dim(&self, shift: i64, dim: i64) -> Result<Tensor> {
        let d = wrap_dim(dim, self.ndim())? as i64;
        if self.ndim() == 0 || self.numel() == 0 {
            return self.clone_contiguous();
        }
        let n = self.shape()[d as usize] as i64;
        let s = shift.rem_euclid(n);
        // The last `s` elements move to the front.
        super::cat(&[self.narrow(d, n - s, s)?, self.narrow(d, 0, n - s)?], d)
    }

    /// `rot90(k, dims)`: rotates by 90 degrees `k` times from `dims[0]` towards `dims[1]`.
    pub fn rot90(&self, k: i64, dims: &[i64]) -> Result<Tensor> {
        let nd = self.ndim() as i64;
        if dims.len() != 2 {
            bail!(Runtime, "expected total rotation dims == 2, but got dims = {}", dims.len());
        }
        if nd < 2 {
            bail!(Runtime, "expected total dims >= 2, but got total dims = {}", nd);
        }
        let (d0, d1) = (dims[0], dims[1]);
        if d0 == d1 || d0.abs_diff(d1) == nd as u64 {
            bail!(Runtime, "expected rotation dims to be different, but got dim0 = {} and dim1 = {}", d0, d1);
        }
        if d0 >= nd || d0 < -nd {
            bail!(Runtime, "Rotation dim0 out of range, dim0 = {}", d0);
        }
        if d1 >= nd || d1 < -nd {
            bail!(Runtime, "Rotation dim1 out of range, dim1 = {}", d1);
        }
        match k.rem_euclid(4) {
            1 => self.flip(&[d1])?.transpose(d0, d1),
            2 => self.flip(&[d0, d1]),
            3 => self.flip(&[d0])?.transpose(d0, d1),
            // `duplicate` records `CloneBackward0` when needed.
            _ => self.duplicate(),
        }
    }

    /// `repeat(sizes)`: tiles the tensor `sizes[i]` times along each dim (new leading dims
    /// allowed).
    pub fn repeat(&self, repeats: &[i64]) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::join::repeat(self, repeats);
        }
        if repeats.len() < self.ndim() {
            bail!(Runtime, "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor");
        }
        let lead = repeats.len() - self.ndim();
        let padded = |i: usize| if i < lead { (1, 0) } else { (self.shape()[i - lead], self.strides()[i - lead]) };
        let target: Vec<i64> = repeats.iter().enumerate().map(|(i, &r)| r.saturating_mul(padded(i).0 as i64)).collect();
        let out = Tensor::uninit_on(&to_sizes(&target)?, self.dtype(), self.device())?;
        if out.numel() == 0 {
            return Ok(out);
        }
        // Read through a view of shape [r0, s0, r1, s1, ...] whose repeat dims have stride 0:
        // its row-major order is exactly the output's.
        let mut shape = Vec::with_capacity(2 * repeats.len());
        let mut strides = Vec::with_capacity(2 * repeats.len());
        for (i, &r) in repeats.iter().enumerate() {
            let (s, st) = padded(i);
            shape.extend([r as usize, s]);
            strides.extend([0, st]);
        }
        let src = self.with_layout(Layout { shape: shape.clone(), strides, offset: self.offset() });
        out.with_layout(Layout::contiguous(&shape)).copy_from(&src)?;
        Ok(out)
    }

    /// `tile(dims)`: `repeat` with missing leading repeats taken as 1.
    pub fn tile(&self, reps: &[i64]) -> Result<Tensor> {
        let mut r = vec![1; self.ndim().saturating_sub(reps.len())];
        r.extend_from_slice(reps);
        self.repeat(&r)
    }

    /// `repeat_interleave(repeats, dim, output_size)`: each slice along `dim` (each element of
    /// the flattened tensor when `dim` is None) repeated in place.
    pub fn repeat_interleave(&self, repeats: &Repeats, dim: Option<i64>, output_size: Option<i64>) -> Result<Tensor> {
        let (input, d) = match dim {
            Some(d) if self.ndim() > 0 => (self.clone(), wrap_dim(d, self.ndim())?),
            Some(d) => {
                wrap_dim(d, 0)?;
                (self.reshape(&[-1])?, 0)
            }
            None => (self.reshape(&[-1])?, 0),
        };
        let n = input.shape()[d];
        let counts = match repeats {
            Repeats::Int(r) => {
                if *r < 0 {
                    bail!(Runtime, "Repeats must be non-negative");
                }
                vec![*r; n]
            }
            Repeats::Tensor(t) => {
                if t.ndim() > 1 {
                    bail!(Runtime, "repeats must be 0-dim or 1-dim tensor");
                }
                let c = repeat_counts(t)?;
                if c.len() == 1 {
                    vec![c[0]; n]
                } else if c.len() != n {
                    bail!(
                        Runtime,
                        "repeats must have the same size as input along dim, but got repeats.size(0) = {} and input.size({}) = {}",
                        c.len(),
                        d,
                        n
                    );
                } else {
                    c
                }
            }
        };
        let idx = expand_counts(&counts)?;
        check_output_size(idx.len(), output_size)?;
        if crate::autograd::needs_grad(&[self]) || input.is_cuda() {
            // As PyTorch composes it: an `index_select` (`IndexSelectBackward0`), which also
            // runs on the device.
            let idx: Vec<i64> = idx.into_iter().map(|i| i as i64).collect();
            return input.index_select(d as i64, &Tensor::from_slice(&idx, &[idx.len()])?.to_device(input.device())?);
        }
        gather_slices(&input, d, &idx)
    }
}
