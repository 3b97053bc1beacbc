//! Shape, strides and offset: where each element of a tensor lives in its storage.
//! Every view op (transpose, slicing, expand, ...) is arithmetic on a `Layout`.

use crate::error::Result;
use crate::{bail, err};

/// A strided view: element `idx` lives at `offset + sum(idx[d] * strides[d])`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub shape: Vec<usize>,
    pub strides: Vec<usize>,
    pub offset: usize,
}

/// Row-major strides of a shape.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; shape.len()];
    let mut acc = 1usize;
    for d in (0..shape.len()).rev() {
        strides[d] = acc;
        acc = acc.saturating_mul(shape[d].max(1));
    }
    strides
}

/// Number of elements of a shape, or an error when it overflows.
pub fn checked_numel(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .ok_or_else(|| err!(Runtime, "Storage size calculation overflowed with sizes={:?}", shape))
}

/// Wraps a possibly negative dim into `0..ndim`, as PyTorch's `maybe_wrap_dim`.
pub fn wrap_dim(dim: i64, ndim: usize) -> Result<usize> {
    let n = ndim.max(1) as i64;
    if dim < -n || dim >= n {
        bail!(
            Index,
            "Dimension out of range (expected to be in range of [{}, {}], but got {})",
            -n,
            n - 1,
            dim
        );
    }
    Ok(if dim < 0 { (dim + n) as usize } else { dim as usize })
}

/// A permutation must name every dim once; this checks the count (PyTorch's message).
pub fn check_permutation_len(ndim: usize, len: usize) -> Result<()> {
    if len != ndim {
        bail!(
            Runtime,
            "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = {} is not equal to len(dims) = {}",
            ndim,
            len
        );
    }
    Ok(())
}

/// PyTorch's broadcasting of two shapes.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i < n - a.len() { 1 } else { a[i - (n - a.len())] };
        let db = if i < n - b.len() { 1 } else { b[i - (n - b.len())] };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            bail!(
                Runtime,
                "The size of tensor a ({}) must match the size of tensor b ({}) at non-singleton dimension {}",
                da,
                db,
                i
            );
        };
    }
    Ok(out)
}

impl Layout {
    /// A row-major layout of `shape` starting at element 0.
    pub fn contiguous(shape: &[usize]) -> Layout {
        Layout { shape: shape.to_vec(), strides: contiguous_strides(shape), offset: 0 }
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Row-major with no gaps (size-1 dims may have any stride, as in PyTorch).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1usize;
        for d in (0..self.ndim()).rev() {
            if self.shape[d] == 1 {
                continue;
            }
            if self.strides[d] != expected {
                return self.numel() == 0;
            }
            expected *= self.shape[d];
        }
        true
    }

    /// Largest storage element index this layout touches, plus one (0 when empty).
    pub fn storage_extent(&self) -> usize {
        if self.numel() == 0 {
            return 0;
        }
        self.offset + self.shape.iter().zip(&self.strides).map(|(&s, &st)| (s - 1) * st).sum::<usize>() + 1
    }

    /// A view of `self` broadcast to `shape` (stride 0 along expanded dims).
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Layout> {
        if shape.len() < self.ndim() {
            bail!(
                Runtime,
                "the number of sizes provided ({}) must be greater or equal to the number of dimensions in the tensor ({})",
                shape.len(),
                self.ndim()
            );
        }
        let lead = shape.len() - self.ndim();
        let mut strides = vec![0; shape.len()];
        for (i, &target) in shape.iter().enumerate() {
            if i < lead {
                continue;
            }
            let (s, st) = (self.shape[i - lead], self.strides[i - lead]);
            if s == target {
                strides[i] = st;
            } else if s == 1 {
                strides[i] = 0;
            } else {
                bail!(
                    Runtime,
                    "The expanded size of the tensor ({}) must match the existing size ({}) at non-singleton dimension {}.  Target sizes: {:?}.  Tensor sizes: {:?}",
                    target,
                    s,
                    i,
                    shape,
                    self.shape
                );
            }
        }
        Ok(Layout { shape: shape.to_vec(), strides, offset: self.offset })
    }

    pub fn permute(&self, dims: &[usize]) -> Result<Layout> {
        check_permutation_len(self.ndim(), dims.len())?;
        let mut seen = vec![false; dims.len()];
        for &d in dims {
            if seen[d] {
                bail!(Runtime, "permute(): duplicate dims are not allowed.");
            }
            seen[d] = true;
        }
        Ok(Layout {
            shape: dims.iter().map(|&d| self.shape[d]).collect(),
            strides: dims.iter().map(|&d| self.strides[d]).collect(),
            offset: self.offset,
        })
    }

    pub fn transpose(&self, a: usize, b: usize) -> Layout {
        let mut l = self.clone();
        l.shape.swap(a, b);
        l.strides.swap(a, b);
        l
    }

    /// Elements `start, start+step, ...` below `end` along `dim` (bounds already clamped).
    pub fn slice(&self, dim: usize, start: usize, end: usize, step: usize) -> Layout {
        let mut l = self.clone();
        let len = if end > start { (end - start).div_ceil(step) } else { 0 };
        if len > 0 {
            l.offset += start * self.strides[dim];
        }
        l.shape[dim] = len;
        l.strides[dim] *= step;
        l
    }

    /// Removes `dim`, keeping index `index` of it.
    pub fn select(&self, dim: usize, index: usize) -> Layout {
        let mut l = self.clone();
        l.offset += index * self.strides[dim];
        l.shape.remove(dim);
        l.strides.remove(dim);
        l
    }

    pub fn unsqueeze(&self, dim: usize) -> Layout {
        let mut l = self.clone();
        let stride = if dim < self.ndim() { self.shape[dim] * self.strides[dim] } else { 1 };
        l.shape.insert(dim, 1);
        l.strides.insert(dim, stride);
        l
    }

    /// Removes the size-1 dims among `dims` (all size-1 dims when `None`).
    pub fn squeeze(&self, dims: Option<&[usize]>) -> Layout {
        let keep = |d: usize| self.shape[d] != 1 || dims.is_some_and(|ds| !ds.contains(&d));
        Layout {
            shape: (0..self.ndim()).filter(|&d| keep(d)).map(|d| self.shape[d]).collect(),
            strides: (0..self.ndim()).filter(|&d| keep(d)).map(|d| self.strides[d]).collect(),
            offset: self.offset,
        }
    }

    /// Sliding windows of `size` every `step` along `dim`, as a new last dim.
    pub fn unfold(&self, dim: usize, size: usize, step: usize) -> Result<Layout> {
        let len = if self.ndim() == 0 { 1 } else { self.shape[dim] };
        if size > len {
            bail!(Runtime, "maximum size for tensor at dimension {} is {} but size is {}", dim, len, size);
        }
        if step == 0 {
            bail!(Runtime, "step is {} but must be > 0", step);
        }
        let mut l = self.clone();
        if self.ndim() == 0 {
            l.shape.push(size);
            l.strides.push(1);
            return Ok(l);
        }
        l.shape[dim] = (len - size) / step + 1;
        l.strides[dim] = self.strides[dim] * step;
        l.shape.push(size);
        l.strides.push(self.strides[dim]);
        Ok(l)
    }

    /// A view with `shape` over the same elements, when strides allow one without copying
    /// (PyTorch's `computeStride`). `None` means the data must be copied (`reshape`) or the
    /// view is impossible (`view`).
    pub fn view(&self, shape: &[usize]) -> Option<Layout> {
        if self.numel() == 0 || self.is_contiguous() {
            let mut l = Layout::contiguous(shape);
            l.offset = self.offset;
            return Some(l);
        }
        let mut new_strides = vec![0usize; shape.len()];
        let mut view_d = shape.len() as isize - 1;
        let mut chunk_base_stride = *self.strides.last().unwrap_or(&1);
        let mut tensor_numel = 1usize;
        let mut view_numel = 1usize;
        for tensor_d in (0..self.ndim()).rev() {
            tensor_numel *= self.shape[tensor_d];
            let chunk_ends = tensor_d == 0
                || (self.shape[tensor_d - 1] != 1
                    && self.strides[tensor_d - 1] != tensor_numel * chunk_base_stride);
            if chunk_ends {
                while view_d >= 0 && (view_numel < tensor_numel || shape[view_d as usize] == 1) {
                    new_strides[view_d as usize] = view_numel * chunk_base_stride;
                    view_numel *= shape[view_d as usize];
                    view_d -= 1;
                }
                if view_numel != tensor_numel {
                    return None;
                }
                if tensor_d > 0 {
                    chunk_base_stride = self.strides[tensor_d - 1];
                    tensor_numel = 1;
                    view_numel = 1;
                }
            }
        }
        if view_d != -1 {
            return None;
        }
        Some(Layout { shape: shape.to_vec(), strides: new_strides, offset: self.offset })
    }

    /// Merges adjacent dims that are contiguous with respect to each other in every layout,
    /// dropping size-1 dims. Returns the merged shape and one stride list per layout.
    /// All layouts must have the same shape.
    pub fn coalesce(shape: &[usize], strides: &[&[usize]]) -> (Vec<usize>, Vec<Vec<usize>>) {
        let mut out_shape: Vec<usize> = Vec::with_capacity(shape.len());
        let mut out_strides: Vec<Vec<usize>> = vec![Vec::with_capacity(shape.len()); strides.len()];
        for d in 0..shape.len() {
            if shape[d] == 1 {
                continue;
            }
            let mergeable = !out_shape.is_empty()
                && strides.iter().enumerate().all(|(k, st)| {
                    *out_strides[k].last().unwrap() == st[d] * shape[d]
                });
            if mergeable {
                *out_shape.last_mut().unwrap() *= shape[d];
                for (k, st) in strides.iter().enumerate() {
                    *out_strides[k].last_mut().unwrap() = st[d];
                }
            } else {
                out_shape.push(shape[d]);
                for (k, st) in strides.iter().enumerate() {
                    out_strides[k].push(st[d]);
                }
            }
        }
        (out_shape, out_strides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes(&[3, 1], &[4]).unwrap(), vec![3, 4]);
        assert_eq!(broadcast_shapes(&[], &[2, 3]).unwrap(), vec![2, 3]);
        assert_eq!(broadcast_shapes(&[0, 1], &[1, 5]).unwrap(), vec![0, 5]);
        assert!(broadcast_shapes(&[3], &[4]).is_err());
    }

    #[test]
    fn view_of_transposed_needs_copy() {
        let l = Layout::contiguous(&[2, 3]).transpose(0, 1);
        assert!(l.view(&[6]).is_none());
        // As PyTorch's computeStride, a trailing size-1 dim takes the stride of its chunk.
        assert_eq!(l.view(&[3, 2, 1]).unwrap().strides, vec![1, 3, 3]);
    }

    #[test]
    fn view_splits_and_merges_compatible_dims() {
        let l = Layout::contiguous(&[4, 6]).slice(1, 0, 4, 1); // shape [4,4], strides [6,1]
        assert_eq!(l.view(&[2, 2, 4]).unwrap().strides, vec![12, 6, 1]);
        assert_eq!(l.view(&[4, 2, 2]).unwrap().strides, vec![6, 2, 1]);
        assert!(l.view(&[16]).is_none());
        assert!(l.view(&[8, 2]).is_none());
        let every_other = Layout::contiguous(&[4, 6]).slice(1, 0, 6, 2); // strides [6,2]: uniform
        assert_eq!(every_other.view(&[12]).unwrap().strides, vec![2]);
    }

    #[test]
    fn coalesce_merges_contiguous_dims() {
        let l = Layout::contiguous(&[2, 3, 4]);
        let (s, st) = Layout::coalesce(&l.shape, &[&l.strides]);
        assert_eq!(s, vec![24]);
        assert_eq!(st[0], vec![1]);
        let t = l.transpose(0, 2);
        let (s, _) = Layout::coalesce(&t.shape, &[&t.strides]);
        assert_eq!(s, vec![4, 3, 2]);
        let every_other = l.slice(2, 0, 4, 2); // shape [2,3,2], strides [12,4,2]: one run of stride 2
        let (s, st) = Layout::coalesce(&every_other.shape, &[&every_other.strides]);
        assert_eq!((s, st[0].clone()), (vec![12], vec![2]));
        let narrowed = l.slice(2, 0, 3, 1); // shape [2,3,3], strides [12,4,1]
        let (s, st) = Layout::coalesce(&narrowed.shape, &[&narrowed.strides]);
        assert_eq!((s, st[0].clone()), (vec![6, 3], vec![4, 1]));
    }

    #[test]
    fn contiguity_ignores_size_one_strides() {
        let l = Layout { shape: vec![3, 1], strides: vec![1, 7], offset: 0 };
        assert!(l.is_contiguous());
    }
}
