//! `t[...]` and `t[...] = v`. Ints, slices, `None` and `...` are basic indexing: they build a
//! view. Index tensors (integer or boolean) are advanced indexing: they gather into a copy, or
//! scatter on assignment, following NumPy's rule for where the indexed dims go.

use crate::dtype::{DType, Scalar};
use crate::ops::binary::{where_, Operand};
use crate::error::Result;
use crate::layout::{broadcast_shapes, contiguous_strides, Layout};
use crate::tensor::Tensor;
use crate::{bail, err};

use super::checks::{check_no_internal_overlap, detach_from, index_values, Deltas, IndexRule};
use super::fault::Fault;
use super::kernel::{gather, linear_offsets, scatter, Combine, ScatterPlan};

/// One entry of an indexing expression `t[a, b, ...]`.
#[derive(Clone)]
pub enum TensorIndex {
    /// `t[i]`: selects one position and removes the dim.
    Int(i64),
    /// `t[start:stop:step]`: a strided range, clamped like Python's.
    Slice { start: Option<i64>, stop: Option<i64>, step: i64 },
    /// `t[None]`: inserts a dim of size 1.
    NewAxis,
    /// `t[...]`: as many full slices as the other entries leave.
    Ellipsis,
    /// `t[True]` / `t[False]`: a new dim of size 1 or 0.
    Bool(bool),
    /// An integer index tensor, or a boolean mask over as many dims as it has.
    Tensor(Tensor),
}

/// Masks are bool (and, deprecated, uint8) tensors; they consume one dim per mask dim.
fn is_mask(t: &Tensor) -> bool {
    matches!(t.dtype(), DType::Bool | DType::U8)
}

/// The index tensor `t[True]` / `t[False]` becomes along its new dim.
fn bool_index(b: bool) -> Tensor {
    if b {
        Tensor::scalar(crate::Scalar::Int(0), DType::I64).with_layout(Layout::contiguous(&[1]))
    } else {
        Tensor::zeros(&[0], DType::I64).expect("empty tensor")
    }
}

const ZERO_DIM_INDEX: &str = "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number";

/// Records index tensor `x` for dim `dim` of the view being built.
fn record(adv: &mut Vec<Option<Tensor>>, dim: usize, x: Tensor) {
    if adv.len() <= dim {
        adv.resize(dim + 1, None);
    }
    adv[dim] = Some(x);
}

/// `t.select(dim, i)` with indexing's message, which names the position `pos` in the key.
fn select_at(t: &Tensor, dim: usize, i: i64, pos: usize) -> Result<Tensor> {
    if t.ndim() == 0 {
        bail!(Index, "{}", ZERO_DIM_INDEX);
    }
    let size = t.shape()[dim] as i64;
    if i < -size || i >= size {
        bail!(Index, "index {} is out of bounds for dimension {} with size {}", i, pos, size);
    }
    let i = if i < 0 { i + size } else { i };
    Ok(t.with_layout(t.layout().select(dim, i as usize)))
}

/// Applies the basic entries of `indices`, returning the view and the index tensors left for
/// advanced indexing, by dim of that view (`None` where a dim is not indexed).
fn apply_basic(t: &Tensor, indices: &[TensorIndex]) -> Result<(Tensor, Vec<Option<Tensor>>)> {
    let mut specified = 0usize;
    let mut ellipses = 0usize;
    let mut has_int = false;
    for ix in indices {
        match ix {
            TensorIndex::Int(_) => {
                specified += 1;
                has_int = true;
            }
            TensorIndex::Slice { .. } => specified += 1,
            TensorIndex::Tensor(x) if is_mask(x) => specified += x.ndim(),
            TensorIndex::Tensor(_) => specified += 1,
            TensorIndex::Ellipsis => ellipses += 1,
            TensorIndex::NewAxis | TensorIndex::Bool(_) => {}
        }
    }
    if ellipses > 1 {
        bail!(Index, "an index can only have a single ellipsis ('...')");
    }
    if specified > t.ndim() {
        if t.ndim() == 0 && has_int {
            bail!(Index, "{}", ZERO_DIM_INDEX);
        }
        bail!(Index, "too many indices for tensor of dimension {}", t.ndim());
    }
    let mut result = t.clone();
    let mut dim = 0usize;
    let mut adv: Vec<Option<Tensor>> = Vec::new();
    for (pos, ix) in indices.iter().enumerate() {
        match ix {
            TensorIndex::Int(i) => result = select_at(&result, dim, *i, pos)?,
            TensorIndex::Slice { start, stop, step } => {
                result = result.slice(dim as i64, *start, *stop, *step)?;
                dim += 1;
            }
            TensorIndex::NewAxis => {
                result = result.with_layout(result.layout().unsqueeze(dim));
                dim += 1;
            }
            TensorIndex::Ellipsis => dim += t.ndim() - specified,
            TensorIndex::Bool(b) => {
                result = result.with_layout(result.layout().unsqueeze(dim));
                record(&mut adv, dim, bool_index(*b));
                dim += 1;
            }
            TensorIndex::Tensor(x) if x.ndim() == 0 && is_mask(x) => {
                // A 0-d mask acts like a Python bool.
                result = result.with_layout(result.layout().unsqueeze(dim));
                record(&mut adv, dim, bool_index(x.item()?.to_i64() != 0));
                dim += 1;
            }
            TensorIndex::Tensor(x) if x.ndim() == 0 && x.dtype().is_int() => {
                // A 0-d integer tensor is an int: a view, not a copy.
                result = select_at(&result, dim, x.item()?.to_i64(), pos)?;
            }
            TensorIndex::Tensor(x) => {
                record(&mut adv, dim, x.clone());
                dim += if is_mask(x) { x.ndim() } else { 1 };
            }
        }
    }
    Ok((result, adv))
}

/// Replaces each k-dim mask by the k integer tensors of its true positions, checking that it
/// matches the dims it covers.
fn expand_masks(src: &Tensor, adv: Vec<Option<Tensor>>) -> Result<Vec<Option<Tensor>>> {
    let mut out: Vec<Option<Tensor>> = vec![None; adv.len()];
    for (p, entry) in adv.into_iter().enumerate() {
        let Some(x) = entry else { continue };
        if !is_mask(&x) {
            out[p] = Some(x);
            continue;
        }
        for j in 0..x.ndim() {
            if x.shape()[j] != src.shape()[p + j] {
                bail!(
                    Index,
                    "The shape of the mask {:?} at index {} does not match the shape of the indexed tensor {:?} at index {}",
                    x.shape(),
                    j,
                    src.shape(),
                    p + j
                );
            }
        }
        let nz = x.nonzero()?;
        if out.len() < p + x.ndim() {
            out.resize(p + x.ndim(), None);
        }
        for j in 0..x.ndim() {
            out[p + j] = Some(nz.with_layout(nz.layout().select(1, j)));
        }
    }
    Ok(out)
}

/// The storage delta of each broadcast position of several index tensors (`(dim, index)`),
/// checked and summed on the host.
fn combined_deltas(src: &Tensor, indexed: &[(usize, Tensor)], b_shape: &[usize]) -> Result<Vec<usize>> {
    let mut deltas = vec![0usize; b_shape.iter().product()];
    for (d, x) in indexed {
        let (size, stride) = (src.shape()[*d], src.strides()[*d]);
        let b = x.with_layout(x.layout().broadcast_to(b_shape)?);
        for (acc, v) in deltas.iter_mut().zip(index_values(&b)?) {
            let w = if v < 0 { v + size as i64 } else { v };
            if w < 0 || w >= size as i64 {
                return Err(Fault::OutOfBounds(*d).error(v, size));
            }
            *acc += w as usize * stride;
        }
    }
    Ok(deltas)
}

/// The rule of deltas already checked and summed: every value is in range.
const SUMMED: IndexRule = IndexRule { size: i64::MAX as usize, stride: 1, wrap: false, fault: Fault::OutOfBounds(0) };

/// `combined_deltas` in device ops, for index tensors on the data's device: each index,
/// broadcast and checked by `check` (which reports its faults), wraps negative values and adds
/// its deltas; positions with any value out of range take delta 0, so nothing reads outside
/// the data before the fault is raised.
fn summed_deltas(src: &Tensor, indexed: &[(usize, Tensor)], b_shape: &[usize], check: impl Fn(&Tensor, &IndexRule) -> Result<()>) -> Result<Tensor> {
    let long = |v: usize| Operand::Scalar(Scalar::Int(v as i64));
    let mut sum: Option<(Tensor, Tensor)> = None;
    for (d, x) in indexed {
        let (size, stride) = (src.shape()[*d], src.strides()[*d]);
        let b = x.with_layout(x.layout().broadcast_to(b_shape)?).to_dtype(DType::I64)?.contiguous()?;
        check(&b, &IndexRule { size, stride, wrap: true, fault: Fault::OutOfBounds(*d) })?;
        let w = where_(&b.lt(Operand::Scalar(Scalar::Int(0)))?, &Operand::Tensor(b.add(long(size))?), &Operand::Tensor(b))?;
        let ok = w.ge(Operand::Scalar(Scalar::Int(0)))?.logical_and(&w.lt(long(size))?)?;
        let delta = w.mul(long(stride))?;
        sum = Some(match sum {
            None => (delta, ok),
            Some((total, valid)) => (total.add(&delta)?, valid.logical_and(&ok)?),
        });
    }
    let (total, valid) = sum.expect("at least one index tensor");
    where_(&valid, &Operand::Tensor(total), &Operand::Scalar(Scalar::Int(0)))?.contiguous()
}

/// Advanced indexing of `src`: the result shape, which result dims the broadcast index dims
/// occupy, which dims of `src` fill the other result dims, and the storage delta each
/// broadcast index position selects.
struct Plan {
    shape: Vec<usize>,
    /// Result dims `b_start..b_start + b_shape.len()` are the broadcast index dims.
    b_start: usize,
    b_shape: Vec<usize>,
    /// The dims of `src` not indexed, in result order.
    rest: Vec<usize>,
    deltas: Deltas,
}

impl Plan {
    fn new(src: &Tensor, adv: Vec<Option<Tensor>>) -> Result<Plan> {
        let adv = expand_masks(src, adv)?;
        let indexed: Vec<(usize, Tensor)> = adv.into_iter().enumerate().filter_map(|(d, x)| x.map(|x| (d, x))).collect();
        for (_, x) in &indexed {
            if !matches!(x.dtype(), DType::I64 | DType::I32) {
                bail!(Index, "tensors used as indices must be long, int, byte or bool tensors");
            }
        }
        let mut b_shape: Vec<usize> = Vec::new();
        for (_, x) in &indexed {
            b_shape = broadcast_shapes(&b_shape, x.shape()).map_err(|_| {
                let shapes: Vec<String> = indexed.iter().map(|(_, x)| format!("{:?}", x.shape())).collect();
                err!(Index, "shape mismatch: indexing tensors could not be broadcast together with shapes {}", shapes.join(", "))
            })?;
        }
        let deltas = match indexed.as_slice() {
            // One index tensor on the data's device: its kernels read and check it there.
            [(d, x)] if x.is_cuda() && x.device() == src.device() => {
                let rule = IndexRule { size: src.shape()[*d], stride: src.strides()[*d], wrap: true, fault: Fault::OutOfBounds(*d) };
                Deltas::Values { index: x.to_dtype(DType::I64)?.contiguous()?, rule }
            }
            _ if !indexed.is_empty() && indexed.iter().all(|(_, x)| x.is_cuda() && x.device() == src.device()) => {
                let deltas = summed_deltas(src, &indexed, &b_shape, crate::cuda::index::check_values)?;
                Deltas::Values { index: deltas, rule: SUMMED }
            }
            _ => Deltas::Table(combined_deltas(src, &indexed, &b_shape)?),
        };
        let dims: Vec<usize> = indexed.iter().map(|(d, _)| *d).collect();
        let adjacent = dims.windows(2).all(|w| w[1] == w[0] + 1);
        let rest: Vec<usize> = (0..src.ndim()).filter(|d| !dims.contains(d)).collect();
        // Adjacent index dims stay in place; separated ones go first (NumPy's rule).
        let b_start = if adjacent { dims.first().copied().unwrap_or(0) } else { 0 };
        let mut shape: Vec<usize> = rest.iter().map(|&d| src.shape()[d]).collect();
        shape.splice(b_start..b_start, b_shape.iter().copied());
        Ok(Plan { shape, b_start, b_shape, rest, deltas })
    }

    fn b_range(&self) -> std::ops::Range<usize> {
        self.b_start..self.b_start + self.b_shape.len()
    }

    /// Strides over the result dims: `rest` strides of `src`, zero along the index dims.
    fn linear_strides(&self, src: &Tensor) -> Vec<usize> {
        let mut s: Vec<usize> = self.rest.iter().map(|&d| src.strides()[d]).collect();
        s.splice(self.b_start..self.b_start, std::iter::repeat_n(0, self.b_shape.len()));
        s
    }

    /// Result dims that are not index dims.
    fn outer(&self, v: &[usize]) -> Vec<usize> {
        let r = self.b_range();
        v.iter().enumerate().filter(|(d, _)| !r.contains(d)).map(|(_, &x)| x).collect()
    }

    /// `src[indices]` into a new tensor.
    fn read(&self, src: &Tensor) -> Result<Tensor> {
        let src_layout = Layout { shape: self.shape.clone(), strides: self.linear_strides(src), offset: src.offset() };
        let mut table_strides = vec![0usize; self.shape.len()];
        table_strides[self.b_range()].copy_from_slice(&contiguous_strides(&self.b_shape));
        let table_layout = Layout { shape: self.shape.clone(), strides: table_strides, offset: 0 };
        gather(src, &src_layout, &self.deltas, &table_layout)
    }

    /// `dst[indices] = value` (or `+=` when `accumulate`); `value` has `dst`'s dtype and
    /// broadcasts to the indexing result.
    fn write(&self, dst: &Tensor, value: &Tensor, accumulate: bool) -> Result<()> {
        let v = value.layout().broadcast_to(&self.shape).map_err(|_| {
            err!(
                Runtime,
                "shape mismatch: value tensor of shape {:?} cannot be broadcast to indexing result of shape {:?}",
                value.shape(),
                self.shape
            )
        })?;
        // Index values on the device pair with a source stepping linearly over the index dims:
        // a dense copy of the broadcast value has that.
        let (value, v) = match self.deltas {
            Deltas::Values { .. } => {
                crate::device::common_device(&[dst, value])?;
                let moved = value.to_device(dst.device())?;
                let dense = moved.with_layout(moved.layout().broadcast_to(&self.shape)?).contiguous()?;
                let layout = dense.layout().clone();
                (dense, layout)
            }
            Deltas::Table(_) => (value.clone(), v),
        };
        let plan = ScatterPlan {
            outer: self.outer(&self.shape),
            dst: (self.rest.iter().map(|&d| dst.strides()[d]).collect(), dst.offset()),
            src: (self.outer(&v.strides), v.offset),
            table: &self.deltas,
            table_outer: (vec![0; self.rest.len()], 0),
            table_k: 1,
            src_k: linear_offsets(&self.b_shape, &v.strides[self.b_range()]),
        };
        scatter(dst, &value, &plan, if accumulate { Combine::Add } else { Combine::Assign })?;
        Ok(())
    }
}

/// Whether a key builds a view: no index tensors (0-d integer tensors count as ints) and no
/// Python bools.
pub(crate) fn is_basic_key(key: &[TensorIndex]) -> bool {
    key.iter().all(|ix| match ix {
        TensorIndex::Tensor(x) => x.ndim() == 0 && x.dtype().is_int() && !is_mask(x),
        TensorIndex::Bool(_) => false,
        _ => true,
    })
}

/// `index_put`'s indices as an indexing key, after PyTorch's dtype check.
fn key_of_indices(t: &Tensor, indices: &[Option<Tensor>], values: &Tensor) -> Result<Vec<TensorIndex>> {
    if values.dtype() != t.dtype() {
        bail!(
            Runtime,
            "Index put requires the source and destination dtypes match, got {} for the destination and {} for the source.",
            crate::dtype::title(t.dtype()),
            crate::dtype::title(values.dtype())
        );
    }
    let full = TensorIndex::Slice { start: None, stop: None, step: 1 };
    Ok(indices.iter().map(|x| x.as_ref().map_or(full.clone(), |x| TensorIndex::Tensor(x.clone()))).collect())
}

/// Drops leading size-1 dims: a value of shape `[1, 3]` may be assigned to a `[3]` target.
fn strip_leading_ones(t: &Tensor) -> Result<Tensor> {
    let lead = t.shape().iter().take_while(|&&s| s == 1).count();
    if lead == 0 {
        return Ok(t.clone());
    }
    // A recorded reshape, so a value that requires grad keeps its history.
    t.reshape(&t.shape()[lead..].iter().map(|&s| s as i64).collect::<Vec<_>>())
}

impl Tensor {
    /// `t[indices]`: a view for basic indexing, a copy when index tensors are involved.
    pub fn get_item(&self, indices: &[TensorIndex]) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::index::get_item(self, indices);
        }
        if let [TensorIndex::Tensor(mask)] = indices {
            // A mask over every dim selects like `masked_select`, without materialising indices.
            if mask.dtype() == DType::Bool && mask.ndim() > 0 && mask.shape() == self.shape() {
                return self.masked_select(mask);
            }
        }
        let (view, adv) = apply_basic(self, indices)?;
        if adv.iter().all(Option::is_none) {
            return Ok(view);
        }
        Plan::new(&view, adv)?.read(&view)
    }

    /// `t[indices] = value`: `value` is broadcast to the indexed shape (leading size-1 dims
    /// of `value` are ignored) and cast to `t`'s dtype.
    pub fn set_item(&self, indices: &[TensorIndex], value: &Tensor) -> Result<()> {
        let value = strip_leading_ones(value)?;
        if is_basic_key(indices) {
            // A view of `self` is written with `copy_`, which records its own history.
            return self.put_indexed(indices, &value, false);
        }
        crate::autograd::inplace_with(self, &[&value], || self.set_item_raw(indices, &value), |old| {
            let v = if value.dtype() != self.dtype() { value.cast(self.dtype())? } else { value.clone() };
            old.index_put_key(indices, &v, false)
        })
    }

    /// `set_item` with an index tensor in the key, without history.
    fn set_item_raw(&self, indices: &[TensorIndex], value: &Tensor) -> Result<()> {
        if let [TensorIndex::Tensor(mask)] = indices {
            // A full-shape mask with one value is a masked fill.
            if mask.dtype() == DType::Bool && mask.shape() == self.shape() && value.ndim() == 0 {
                return self.masked_fill_(mask, value.item()?);
            }
        }
        let value = detach_from(value, self)?.to_dtype(self.dtype())?;
        self.put_indexed(indices, &value, false)
    }

    /// `index_put_(indices, values, accumulate)`: `indices[d]` indexes dim `d` (`None` keeps
    /// it whole); `values` must have `self`'s dtype and broadcast to the indexed shape.
    pub fn index_put_(&self, indices: &[Option<Tensor>], values: &Tensor, accumulate: bool) -> Result<()> {
        let key = key_of_indices(self, indices, values)?;
        crate::autograd::inplace_with(
            self,
            &[values],
            || self.put_indexed(&key, &detach_from(values, self)?, accumulate),
            |old| old.index_put_key(&key, values, accumulate),
        )
    }

    /// `index_put(indices, values, accumulate)`: `index_put_` into a copy.
    pub fn index_put(&self, indices: &[Option<Tensor>], values: &Tensor, accumulate: bool) -> Result<Tensor> {
        let key = key_of_indices(self, indices, values)?;
        self.index_put_key(&key, values, accumulate)
    }

    /// A copy of `self` with `values` written (or added, when `accumulate`) at `self[key]`;
    /// `values` has `self`'s dtype. The recorded form of `t[key] = values` (`IndexPutBackward0`).
    pub fn index_put_key(&self, key: &[TensorIndex], values: &Tensor, accumulate: bool) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self, values]) {
            return crate::autograd::formulas::index::index_put(self, key, values, accumulate);
        }
        let r = self.clone_contiguous()?;
        r.put_indexed(key, values, accumulate)?;
        Ok(r)
    }

    /// Writes `value` (of `self`'s dtype unless the key is basic) at `self[key]`.
    fn put_indexed(&self, key: &[TensorIndex], value: &Tensor, accumulate: bool) -> Result<()> {
        let (view, adv) = apply_basic(self, key)?;
        if adv.iter().all(Option::is_none) {
            // `copy_` broadcasts; checking here gives the error for a value that does not fit.
            value.layout().broadcast_to(view.shape())?;
            if accumulate {
                return view.binary_(crate::ops::binary::BinaryOp::Add, &value.into());
            }
            return view.copy_(&value);
        }
        check_no_internal_overlap(&view)?;
        Plan::new(&view, adv)?.write(&view, value, accumulate)?;
        self.bump_version();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The device route's summed deltas (wrap, sum, broadcast) run on any device: on the CPU
    /// they equal the host's, for strided data, negative values and broadcast index tensors; a
    /// value out of range is handed to the check and its position reads delta 0.
    #[test]
    fn summed_deltas_equal_the_host_table() {
        let src = Tensor::zeros(&[3, 4, 5], DType::F32).unwrap().transpose(0, 2).unwrap(); // (5, 4, 3), strided
        let rows = Tensor::from_slice(&[0i64, -1, 4, 2], &[4, 1]).unwrap();
        let cols = Tensor::from_slice(&[2i32, -3, 0], &[3]).unwrap();
        let indexed = vec![(0usize, rows.clone()), (2usize, cols)];
        let b_shape = [4usize, 3];
        let want = combined_deltas(&src, &indexed, &b_shape).unwrap();
        let checked = std::cell::Cell::new(0);
        let got = summed_deltas(&src, &indexed, &b_shape, |b, rule| {
            assert_eq!((b.shape(), rule.wrap), (&b_shape[..], true));
            checked.set(checked.get() + 1);
            Ok(())
        })
        .unwrap();
        assert_eq!(checked.get(), 2);
        assert_eq!(got.to_vec::<i64>().unwrap(), want.iter().map(|&d| d as i64).collect::<Vec<_>>());
        let bad = vec![(0usize, Tensor::from_slice(&[1i64, 5], &[2]).unwrap()), (1usize, Tensor::from_slice(&[3i64, 3], &[2]).unwrap())];
        let got = summed_deltas(&src, &bad, &[2], |_, _| Ok(())).unwrap().to_vec::<i64>().unwrap();
        assert_eq!(got, vec![(src.strides()[0] + 3 * src.strides()[1]) as i64, 0]);
    }
}
