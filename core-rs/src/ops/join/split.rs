//! Splitting into views: `split`, `split_with_sizes`, `chunk`, `unbind`, `tensor_split` and
//! `hsplit`/`vsplit`/`dsplit`.

use crate::error::Result;
use crate::layout::wrap_dim;
use crate::tensor::Tensor;
use crate::bail;

/// The second argument of `tensor_split` and `hsplit`: a number of sections or split indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SplitSpec {
    Sections(i64),
    Indices(Vec<i64>),
}

impl Tensor {
    fn require_dims(&self, op: &str) -> Result<()> {
        if self.ndim() == 0 {
            bail!(Runtime, "{} expects at least a 1-dimensional tensor", op);
        }
        Ok(())
    }

    /// `split(split_size, dim)`: pieces of `split_size` along `dim`, the last one shorter.
    pub fn split_size(&self, split_size: i64, dim: i64) -> Result<Vec<Tensor>> {
        self.require_dims("split")?;
        let d = wrap_dim(dim, self.ndim())?;
        if split_size < 0 {
            bail!(Runtime, "split expects split_size be non-negative, but got split_size={}", split_size);
        }
        let size = self.shape()[d] as i64;
        if split_size == 0 && size != 0 {
            bail!(Runtime, "split_size can only be 0 if dimension size is 0, but got dimension size of {}", size);
        }
        // Always at least one piece, even when split_size exceeds the dim (PyTorch keeps this).
        let pieces = if split_size == 0 { 1 } else { (size / split_size + (size % split_size != 0) as i64).max(1) };
        let lens: Vec<i64> = (0..pieces).map(|i| if i < pieces - 1 { split_size } else { size - i * split_size }).collect();
        self.pieces("SplitBackward0", &lens, d)
    }

    /// Views of consecutive pieces of `lens` along dim `d`, recorded as one node `name`.
    fn pieces(&self, name: &'static str, lens: &[i64], d: usize) -> Result<Vec<Tensor>> {
        let forward = || {
            let mut start = 0;
            lens.iter()
                .map(|&len| {
                    start += len;
                    self.narrow(d as i64, start - len, len)
                })
                .collect()
        };
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::join::pieces(name, self, d, false, forward);
        }
        forward()
    }

    /// `split(sizes, dim)` / `split_with_sizes`: pieces of the given lengths, which must add up.
    pub fn split_with_sizes(&self, sizes: &[i64], dim: i64) -> Result<Vec<Tensor>> {
        self.require_dims("split")?;
        let d = wrap_dim(dim, self.ndim())?;
        if sizes.iter().any(|&s| s < 0) {
            bail!(Runtime, "split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes={:?}", sizes);
        }
        let size = self.shape()[d] as i64;
        if sizes.iter().try_fold(0i64, |a, &s| a.checked_add(s)) != Some(size) {
            bail!(
                Runtime,
                "split_with_sizes expects split_sizes to sum exactly to {} (input tensor's size at dimension {}), but got split_sizes={:?}",
                size,
                d,
                sizes
            );
        }
        self.pieces("SplitWithSizesBackward0", sizes, d)
    }

    /// `chunk(chunks, dim)`: at most `chunks` pieces of equal length (the last may be shorter).
    pub fn chunk(&self, chunks: i64, dim: i64) -> Result<Vec<Tensor>> {
        self.require_dims("chunk")?;
        if chunks <= 0 {
            bail!(Runtime, "chunk expects `chunks` to be greater than 0, got: {}", chunks);
        }
        let d = wrap_dim(dim, self.ndim())?;
        let size = self.shape()[d] as i64;
        let split_size = size / chunks + (size % chunks != 0) as i64;
        if split_size == 0 && size == 0 {
            // Keep the requested number of (empty) chunks, which `split` would collapse.
            return self.split_with_sizes(&vec![0; chunks as usize], dim);
        }
        self.split_size(split_size, dim)
    }

    /// `unbind(dim)`: every index along `dim`, with that dim removed.
    pub fn unbind(&self, dim: i64) -> Result<Vec<Tensor>> {
        if self.ndim() == 0 {
            bail!(Index, "Dimension specified as {} but tensor has no dimensions", dim);
        }
        let d = wrap_dim(dim, self.ndim())?;
        let forward = || Ok((0..self.shape()[d]).map(|i| self.with_layout(self.layout().select(d, i))).collect());
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::join::pieces("UnbindBackward0", self, d, true, forward);
        }
        forward()
    }

    /// `tensor_split(sections | indices, dim)`, NumPy's `array_split`.
    pub fn tensor_split(&self, spec: &SplitSpec, dim: i64) -> Result<Vec<Tensor>> {
        if self.ndim() == 0 {
            bail!(Runtime, "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims");
        }
        let d = wrap_dim(dim, self.ndim())?;
        let size = self.shape()[d] as i64;
        match spec {
            SplitSpec::Sections(n) => {
                let n = *n;
                if n <= 0 {
                    bail!(Runtime, "number of sections must be larger than 0, got {}", n);
                }
                let (base, extra) = (size / n, size % n);
                let mut start = 0;
                (0..n)
                    .map(|i| {
                        let len = base + (i < extra) as i64;
                        let piece = self.slice(d as i64, Some(start), Some(start + len), 1);
                        start += len;
                        piece
                    })
                    .collect()
            }
            SplitSpec::Indices(idx) => {
                let mut bounds = Vec::with_capacity(idx.len() + 2);
                bounds.push(0);
                bounds.extend_from_slice(idx);
                bounds.push(size);
                bounds.windows(2).map(|w| self.slice(d as i64, Some(w[0]), Some(w[1]), 1)).collect()
            }
        }
    }

    /// `hsplit`/`vsplit`/`dsplit`: `tensor_split` along dim 1 (0 for vectors), 0 or 2, where a
    /// number of sections must divide the dim.
    pub fn directional_split(&self, which: char, spec: &SplitSpec) -> Result<Vec<Tensor>> {
        let (min_dims, dim) = match which {
            'h' => (1, if self.ndim() == 1 { 0 } else { 1 }),
            'v' => (2, 0),
            _ => (3, 2),
        };
        if self.ndim() < min_dims {
            bail!(
                Runtime,
                "torch.{}split requires a tensor with at least {} dimension, but got a tensor with {} dimensions!",
                which,
                min_dims,
                self.ndim()
            );
        }
        if let SplitSpec::Sections(n) = spec {
            let size = self.shape()[dim] as i64;
            if *n == 0 || size % n != 0 {
                bail!(
                    Runtime,
                    "torch.{}split attempted to split along dimension {}, but the size of the dimension {} is not divisible by the split_size {}!",
                    which,
                    dim,
                    size,
                    n
                );
            }
        }
        self.tensor_split(spec, dim as i64)
    }
}
