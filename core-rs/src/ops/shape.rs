//! View ops: results share storage with their input. `reshape` copies only when no view exists.

use crate::error::Result;
use crate::layout::{checked_numel, wrap_dim, Layout};
use crate::tensor::Tensor;
use crate::bail;

/// Resolves one `-1` in a requested shape against `numel`, as `view`/`reshape` do.
pub fn infer_shape(shape: &[i64], numel: usize) -> Result<Vec<usize>> {
    let mut infer = None;
    let mut known = 1usize;
    for (i, &s) in shape.iter().enumerate() {
        if s == -1 {
            if infer.is_some() {
                bail!(Runtime, "only one dimension can be inferred");
            }
            infer = Some(i);
        } else if s < 0 {
            bail!(Runtime, "invalid shape dimension {}", s);
        } else {
            known = known.checked_mul(s as usize).ok_or_else(|| crate::err!(Runtime, "shape '{:?}' is too large", shape))?;
        }
    }
    let mut out: Vec<usize> = shape.iter().map(|&s| s.max(0) as usize).collect();
    match infer {
        Some(i) => {
            if known == 0 || numel % known != 0 {
                bail!(Runtime, "shape '{:?}' is invalid for input of size {}", shape, numel);
            }
            out[i] = numel / known;
        }
        None if known != numel => bail!(Runtime, "shape '{:?}' is invalid for input of size {}", shape, numel),
        None => {}
    }
    Ok(out)
}

/// Checks a list of non-negative sizes (`zeros(-1)` raises).
pub fn to_sizes(shape: &[i64]) -> Result<Vec<usize>> {
    for &s in shape {
        if s < 0 {
            bail!(Runtime, "Trying to create tensor with negative dimension {}: {:?}", s, shape);
        }
    }
    let sizes: Vec<usize> = shape.iter().map(|&s| s as usize).collect();
    checked_numel(&sizes)?;
    Ok(sizes)
}

fn to_i64(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&s| s as i64).collect()
}

impl Tensor {
    fn wrap(&self, dim: i64) -> Result<usize> {
        wrap_dim(dim, self.ndim())
    }

    /// `view(shape)`: fails when the strides do not allow a view.
    pub fn view(&self, shape: &[i64]) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            let (shape, input) = (shape.to_vec(), to_i64(self.shape()));
            return crate::autograd::views::view_with("ViewBackward0", self, |t| t.view(&shape), move |g| g.reshape(&input));
        }
        let shape = infer_shape(shape, self.numel())?;
        match self.layout().view(&shape) {
            Some(l) => Ok(self.with_layout(l)),
            None => bail!(
                Runtime,
                "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            ),
        }
    }

    /// `reshape(shape)`: a view when possible, else a contiguous copy.
    pub fn reshape(&self, shape: &[i64]) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            let (shape, input) = (shape.to_vec(), to_i64(self.shape()));
            return crate::autograd::views::view_with("ViewBackward0", self, |t| t.reshape(&shape), move |g| g.reshape(&input));
        }
        let shape = infer_shape(shape, self.numel())?;
        match self.layout().view(&shape) {
            Some(l) => Ok(self.with_layout(l)),
            None => Ok(self.clone_contiguous()?.with_layout(Layout::contiguous(&shape))),
        }
    }

    pub fn permute(&self, dims: &[i64]) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            let (dims, order) = (dims.to_vec(), dims.to_vec());
            let n = self.ndim();
            return crate::autograd::views::view_with("PermuteBackward0", self, |t| t.permute(&order), move |g| {
                let mut inverse = vec![0i64; n];
                for (i, &d) in dims.iter().enumerate() {
                    inverse[wrap_dim(d, n)?] = i as i64;
                }
                g.permute(&inverse)
            });
        }
        // Checked before the dims are wrapped, so a wrong count is reported as such.
        crate::layout::check_permutation_len(self.ndim(), dims.len())?;
        let dims: Vec<usize> = dims.iter().map(|&d| self.wrap(d)).collect::<Result<_>>()?;
        Ok(self.with_layout(self.layout().permute(&dims)?))
    }

    pub fn transpose(&self, a: i64, b: i64) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::views::view_with("TransposeBackward0", self, |t| t.transpose(a, b), move |g| g.transpose(a, b));
        }
        if self.ndim() == 0 {
            self.wrap(a)?;
            self.wrap(b)?;
            return Ok(self.clone());
        }
        Ok(self.with_layout(self.layout().transpose(self.wrap(a)?, self.wrap(b)?)))
    }

    /// `t()`: transpose of a matrix; vectors and scalars are returned as they are.
    pub fn t(&self) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::views::view_with("TBackward0", self, |t| t.t(), |g| g.t());
        }
        if self.ndim() > 2 {
            bail!(Runtime, "t() expects a tensor with <= 2 dimensions, but self is {}D", self.ndim());
        }
        if self.ndim() < 2 {
            return Ok(self.clone());
        }
        self.transpose(0, 1)
    }

    /// `mT`: transposes the last two dims.
    pub fn mt(&self) -> Result<Tensor> {
        if self.ndim() < 2 {
            bail!(Runtime, "tensor.mT is only supported on matrices or batches of matrices. Got {}-D tensor.", self.ndim());
        }
        self.transpose(-2, -1)
    }

    /// `expand(sizes)`: `-1` keeps a dim's size; new leading dims may be added.
    pub fn expand(&self, sizes: &[i64]) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            let (sizes, input) = (sizes.to_vec(), self.shape().to_vec());
            return crate::autograd::views::view_with("ExpandBackward0", self, |t| t.expand(&sizes), move |g| g.sum_to(&input));
        }
        if sizes.len() < self.ndim() {
            bail!(
                Runtime,
                "expand(torch.FloatTensor{{{:?}}}, size=[{}]): the number of sizes provided ({}) must be greater or equal to the number of dimensions in the tensor ({})",
                self.shape(),
                sizes.len(),
                sizes.len(),
                self.ndim()
            );
        }
        let lead = sizes.len() - self.ndim();
        let mut shape = Vec::with_capacity(sizes.len());
        for (i, &s) in sizes.iter().enumerate() {
            if s == -1 {
                if i < lead {
                    bail!(Runtime, "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {}", i);
                }
                shape.push(self.shape()[i - lead]);
            } else if s < 0 {
                bail!(Runtime, "Trying to create tensor with negative dimension {}: {:?}", s, sizes);
            } else {
                shape.push(s as usize);
            }
        }
        Ok(self.with_layout(self.layout().broadcast_to(&shape)?))
    }

    /// `unsqueeze(dim)` with `dim` in `[-ndim-1, ndim]`.
    pub fn unsqueeze(&self, dim: i64) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            let input = to_i64(self.shape());
            return crate::autograd::views::view_with("UnsqueezeBackward0", self, |t| t.unsqueeze(dim), move |g| g.reshape(&input));
        }
        let d = wrap_dim(dim, self.ndim() + 1)?;
        Ok(self.with_layout(self.layout().unsqueeze(d)))
    }

    /// `squeeze(dims)`: removes the listed size-1 dims, or all of them.
    pub fn squeeze(&self, dims: Option<&[i64]>) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            let (dims, input) = (dims.map(<[i64]>::to_vec), to_i64(self.shape()));
            return crate::autograd::views::view_with("SqueezeBackward0", self, |t| t.squeeze(dims.as_deref()), move |g| g.reshape(&input));
        }
        let dims: Option<Vec<usize>> = match dims {
            None => None,
            Some(ds) => Some(ds.iter().map(|&d| self.wrap(d)).collect::<Result<_>>()?),
        };
        Ok(self.with_layout(self.layout().squeeze(dims.as_deref())))
    }

    /// `flatten(start_dim, end_dim)`.
    pub fn flatten(&self, start: i64, end: i64) -> Result<Tensor> {
        if self.ndim() == 0 {
            return self.reshape(&[1]);
        }
        let (s, e) = (self.wrap(start)?, self.wrap(end)?);
        if s > e {
            bail!(Runtime, "flatten() has invalid args: start_dim cannot come after end_dim");
        }
        let mut shape: Vec<i64> = self.shape()[..s].iter().map(|&x| x as i64).collect();
        shape.push(self.shape()[s..=e].iter().product::<usize>() as i64);
        shape.extend(self.shape()[e + 1..].iter().map(|&x| x as i64));
        self.reshape(&shape)
    }

    /// `unflatten(dim, sizes)`.
    pub fn unflatten(&self, dim: i64, sizes: &[i64]) -> Result<Tensor> {
        let d = self.wrap(dim)?;
        if sizes.is_empty() {
            bail!(Runtime, "unflatten: sizes must be non-empty");
        }
        let inner = infer_shape(sizes, self.shape()[d]).map_err(|_| {
            crate::err!(
                Runtime,
                "unflatten: Provided sizes {:?} don't multiply up to the size of dim {} ({}) in the input tensor",
                sizes,
                dim,
                self.shape()[d]
            )
        })?;
        let mut shape: Vec<i64> = self.shape()[..d].iter().map(|&x| x as i64).collect();
        shape.extend(inner.iter().map(|&x| x as i64));
        shape.extend(self.shape()[d + 1..].iter().map(|&x| x as i64));
        self.view(&shape).or_else(|_| self.reshape(&shape))
    }

    /// `narrow(dim, start, length)`.
    pub fn narrow(&self, dim: i64, start: i64, length: i64) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::views::view("NarrowBackward0", self, move |t| t.narrow(dim, start, length));
        }
        if self.ndim() == 0 {
            bail!(Runtime, "narrow() cannot be applied to a 0-dim tensor.");
        }
        let d = self.wrap(dim)?;
        let size = self.shape()[d] as i64;
        let start = if start < 0 { start + size } else { start };
        if start < 0 || start > size {
            bail!(Index, "start out of range (expected to be in range of [{}, {}], but got {})", -size, size, start);
        }
        if length < 0 || start + length > size {
            bail!(Runtime, "start ({}) + length ({}) exceeds dimension size ({}).", start, length, size);
        }
        Ok(self.with_layout(self.layout().slice(d, start as usize, (start + length) as usize, 1)))
    }

    /// `select(dim, index)`: removes `dim`.
    pub fn select(&self, dim: i64, index: i64) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::views::view("SelectBackward0", self, move |t| t.select(dim, index));
        }
        if self.ndim() == 0 {
            bail!(Index, "select() cannot be applied to a 0-dim tensor.");
        }
        let d = self.wrap(dim)?;
        let size = self.shape()[d] as i64;
        if index < -size || index >= size {
            bail!(
                Index,
                "index {} is out of bounds for dimension {} with size {}",
                index,
                d,
                size
            );
        }
        let i = if index < 0 { index + size } else { index };
        Ok(self.with_layout(self.layout().select(d, i as usize)))
    }

    /// Python slicing `t[start:end:step]` along `dim`; bounds are clamped as Python does.
    pub fn slice(&self, dim: i64, start: Option<i64>, end: Option<i64>, step: i64) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::views::view("SliceBackward0", self, move |t| t.slice(dim, start, end, step));
        }
        if step <= 0 {
            bail!(Value, "step must be greater than zero");
        }
        let d = self.wrap(dim)?;
        let size = self.shape()[d] as i64;
        let clamp = |v: i64| if v < 0 { (v + size).max(0) } else { v.min(size) };
        let s = clamp(start.unwrap_or(0));
        let e = clamp(end.unwrap_or(size)).max(s);
        Ok(self.with_layout(self.layout().slice(d, s as usize, e as usize, step as usize)))
    }

    /// `unfold(dim, size, step)`: sliding windows as a new last dim.
    pub fn unfold(&self, dim: i64, size: i64, step: i64) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::views::view("UnfoldBackward0", self, move |t| t.unfold(dim, size, step));
        }
        let d = self.wrap(dim)?;
        if size < 0 {
            bail!(Runtime, "size is {} but must be >= 0", size);
        }
        if step <= 0 {
            bail!(Runtime, "step is {} but must be > 0", step);
        }
        Ok(self.with_layout(self.layout().unfold(d, size as usize, step as usize)?))
    }

    /// `as_strided(size, stride, storage_offset)`: any view that stays inside the storage.
    pub fn as_strided(&self, size: &[i64], stride: &[i64], offset: Option<i64>) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::views::as_strided_view(self, |t| t.as_strided(size, stride, offset));
        }
        if size.len() != stride.len() {
            bail!(Runtime, "mismatch in length of strides and shape");
        }
        if stride.iter().any(|&s| s < 0) {
            bail!(Runtime, "as_strided: Negative strides are not supported at the moment, got strides: {:?}", stride);
        }
        let layout = Layout {
            shape: to_sizes(size)?,
            strides: stride.iter().map(|&s| s as usize).collect(),
            offset: offset.map(|o| o.max(0) as usize).unwrap_or(self.offset()),
        };
        if layout.storage_extent() > self.storage().numel() {
            bail!(
                Runtime,
                "setStorage: sizes {:?}, strides {:?}, storage offset {}, and itemsize {} requiring a storage size of {} are out of bounds for storage of size {}",
                size,
                stride,
                layout.offset,
                self.dtype().size(),
                layout.storage_extent() * self.dtype().size(),
                self.storage().nbytes()
            );
        }
        Ok(self.with_layout(layout))
    }

    /// `movedim(source, destination)`.
    pub fn movedim(&self, src: &[i64], dst: &[i64]) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            let (src, dst) = (src.to_vec(), dst.to_vec());
            return crate::autograd::views::view_with("PermuteBackward0", self, |t| t.movedim(&src, &dst), {
                let (src, dst) = (src.clone(), dst.clone());
                move |g| g.movedim(&dst, &src)
            });
        }
        if src.len() != dst.len() {
            bail!(
                Runtime,
                "movedim: Invalid source or destination dims: source ({:?} dims) should contain the same number of dims as destination ({:?} dims)",
                src,
                dst
            );
        }
        let n = self.ndim();
        let src: Vec<usize> = src.iter().map(|&d| self.wrap(d)).collect::<Result<_>>()?;
        let dst: Vec<usize> = dst.iter().map(|&d| self.wrap(d)).collect::<Result<_>>()?;
        let mut order = vec![usize::MAX; n];
        for (&s, &d) in src.iter().zip(&dst) {
            if order[d] != usize::MAX {
                bail!(Runtime, "movedim: repeated dim in `destination` ({:?})", dst);
            }
            order[d] = s;
        }
        let mut rest = (0..n).filter(|d| !src.contains(d));
        for o in order.iter_mut() {
            if *o == usize::MAX {
                *o = rest.next().expect("counts match");
            }
        }
        Ok(self.with_layout(self.layout().permute(&order)?))
    }
}
