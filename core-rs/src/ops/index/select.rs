//! Ops taking a vector of positions along one dim (`index_select`, `index_add_`,
//! `index_copy_`, `index_fill_`) or into the flattened tensor (`take`, `put_`).

use crate::dtype::{title, DType, Scalar};
use crate::error::Result;
use crate::layout::{wrap_dim, Layout};
use crate::ops::binary::{BinaryOp, Operand};
use crate::tensor::Tensor;
use crate::bail;

use super::checks::{at_least_1d, check_no_internal_overlap, deltas, detach_from, index_values, to_offsets, without, Deltas, IndexRule};
use super::fault::Fault;
use super::kernel::{flat_to_offset, gather, scatter, Combine, ScatterPlan};

/// A write of `src` (or of one value when `src` is 0-d and `value`) into positions `table`
/// along dim `d` of `dst`: `dst[.., index[k], ..] op= src[.., k, ..]`.
fn scatter_along(dst: &Tensor, d: usize, table: &Deltas, src: &Tensor, value: bool, how: Combine) -> Result<()> {
    let dst1 = at_least_1d(dst);
    let src1 = at_least_1d(src);
    let src_strides = if value { vec![0; dst1.ndim()] } else { src1.strides().to_vec() };
    let plan = ScatterPlan {
        outer: without(dst1.shape(), d),
        dst: (without(dst1.strides(), d), dst1.offset()),
        src: (without(&src_strides, d), src1.offset()),
        table,
        table_outer: (vec![0; dst1.ndim() - 1], 0),
        table_k: 1,
        src_k: (0..table.len()).map(|k| k * src_strides[d]).collect(),
    };
    scatter(&dst1, &src1, &plan, how)?;
    dst.bump_version();
    Ok(())
}

/// The deltas `index` selects along dim `d` of `s`, faults raising `fault`.
fn along(s: &Tensor, d: usize, index: &Tensor, wrap: bool, fault: Fault) -> Result<Deltas> {
    deltas(index, IndexRule { size: s.shape()[d], stride: s.strides()[d], wrap, fault }, s.device())
}

/// Flat (row-major) positions into `t`, negative ones counting from the end, as storage
/// deltas from `t`'s offset: index values left on the device when `t` is dense there (a flat
/// position is then its delta), a checked host table otherwise.
fn flat_offsets(t: &Tensor, index: &Tensor) -> Result<Deltas> {
    let rule = IndexRule { size: t.numel(), stride: 1, wrap: true, fault: Fault::Flat };
    if t.is_contiguous() {
        return deltas(index, rule, t.device());
    }
    let flat = to_offsets(&index_values(index)?, rule.size, 1, true, |v| rule.fault.error(v, rule.size))?;
    Ok(Deltas::Table(flat.into_iter().map(|p| flat_to_offset(t.layout(), p) - t.offset()).collect()))
}

/// PyTorch's checks for `index_add_`-style ops: a vector index of int32/int64 and a source
/// shaped like `self` except along `dim`.
fn index_func_check(func: &str, self_: &Tensor, d: usize, index: &Tensor, source: &Tensor) -> Result<()> {
    if index.ndim() > 1 {
        bail!(Index, "{}_(): Index is supposed to be a vector", func);
    }
    if !matches!(index.dtype(), DType::I64 | DType::I32) {
        bail!(Runtime, "{}_(): Expected dtype int32/int64 for index but got: {}", func, title(index.dtype()));
    }
    if self_.dtype() != source.dtype() {
        bail!(
            Runtime,
            "{}_(): self ({}) and source ({}) must have the same scalar type",
            func,
            title(self_.dtype()),
            title(source.dtype())
        );
    }
    if d != 0 && d >= source.ndim() {
        bail!(Runtime, "{}_(): Indexing dim {} is out of bounds of the source tensor with dim {}", func, d, source.ndim());
    }
    let src_len = if source.ndim() == 0 { 1 } else { source.shape()[d] };
    if index.numel() != src_len {
        bail!(Runtime, "{}_(): Number of indices ({}) should be equal to source.size(dim) ({})", func, index.numel(), src_len);
    }
    let (s, src) = (at_least_1d(self_), at_least_1d(source));
    let same = s.ndim() == src.ndim() && (0..s.ndim()).all(|k| k == d || s.shape()[k] == src.shape()[k]);
    if !same {
        bail!(
            Runtime,
            "source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = {:?} source.shape = {:?}",
            self_.shape(),
            source.shape()
        );
    }
    Ok(())
}

/// A fill value given as a tensor must be 0-d.
pub(super) fn check_fill_value(op: &str, value: &Tensor) -> Result<()> {
    if value.ndim() != 0 {
        bail!(
            Runtime,
            "{} only supports a 0-dimensional value tensor, but got tensor with {} dimension(s).",
            op,
            value.ndim()
        );
    }
    Ok(())
}

impl Tensor {
    /// `index_select(dim, index)`: the positions `index` along `dim`, in order.
    pub fn index_select(&self, dim: i64, index: &Tensor) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::index::index_select(self, dim, index);
        }
        let d = wrap_dim(dim, self.ndim())?;
        if index.ndim() > 1 {
            bail!(Index, "index_select(): Index is supposed to be a vector");
        }
        if !matches!(index.dtype(), DType::I64 | DType::I32) {
            bail!(Runtime, "index_select(): Expected dtype int32 or int64 for index");
        }
        if self.ndim() == 0 && index.numel() != 1 {
            bail!(Index, "index_select(): Index to scalar can have only 1 value, got {} value(s)", index.numel());
        }
        let s = at_least_1d(self);
        let table = along(&s, d, index, false, Fault::InSelf(d))?;
        let mut shape = s.shape().to_vec();
        shape[d] = table.len();
        let mut strides = s.strides().to_vec();
        strides[d] = 0;
        let mut tstrides = vec![0; shape.len()];
        tstrides[d] = 1;
        let src_layout = Layout { shape: shape.clone(), strides, offset: s.offset() };
        let out = gather(&s, &src_layout, &table, &Layout { shape, strides: tstrides, offset: 0 })?;
        Ok(if self.ndim() == 0 { out.with_layout(Layout::contiguous(&[])) } else { out })
    }

    /// `index_add_(dim, index, source, alpha)`: `self[.., index[k], ..] += alpha * source[.., k, ..]`.
    pub fn index_add_(&self, dim: i64, index: &Tensor, source: &Tensor, alpha: Scalar) -> Result<()> {
        crate::autograd::inplace_with(self, &[source], || self.index_add_raw(dim, index, source, alpha), |old| {
            old.index_add(dim, index, source, alpha)
        })
    }

    fn index_add_raw(&self, dim: i64, index: &Tensor, source: &Tensor, alpha: Scalar) -> Result<()> {
        let d = wrap_dim(dim, self.ndim())?;
        index_func_check("index_add", self, d, index, source)?;
        if self.dtype().is_int() && matches!(alpha, Scalar::Float(_)) {
            bail!(Runtime, "For integral input tensors, argument alpha must not be a floating point number.");
        }
        check_no_internal_overlap(self)?;
        let s = at_least_1d(self);
        let table = along(&s, d, index, false, Fault::InSelf(d))?;
        let source = if alpha == Scalar::Int(1) || alpha == Scalar::Bool(true) {
            detach_from(source, self)?
        } else {
            source.binary(BinaryOp::Mul, &Operand::Scalar(alpha))?.to_dtype(self.dtype())?
        };
        scatter_along(self, d, &table, &source, false, Combine::Add)
    }

    /// `index_copy_(dim, index, source)`: `self[.., index[k], ..] = source[.., k, ..]`.
    pub fn index_copy_(&self, dim: i64, index: &Tensor, source: &Tensor) -> Result<()> {
        crate::autograd::inplace_with(self, &[source], || self.index_copy_raw(dim, index, source), |old| old.index_copy(dim, index, source))
    }

    fn index_copy_raw(&self, dim: i64, index: &Tensor, source: &Tensor) -> Result<()> {
        let d = wrap_dim(dim, self.ndim())?;
        if index.ndim() > 1 {
            bail!(Index, "index_copy_(): Index should have dimension 1 or 0 (got {})", index.ndim());
        }
        let n = index.numel();
        if source.ndim() == 0 && n != 1 {
            bail!(Index, "index_copy_(): When source is scalar, index should have one element (got {})", n);
        }
        if source.ndim() != self.ndim() && source.ndim() != 0 && self.ndim() != 0 {
            bail!(
                Index,
                "index_copy_(): When source and destination are not scalars, their dimensionality must match. Source dimensionality ({}), destination dimensionality ({})",
                source.ndim(),
                self.ndim()
            );
        }
        if index.dtype() != DType::I64 {
            bail!(Runtime, "index_copy_(): Expected a long tensor for index, but got {}", title(index.dtype()));
        }
        if self.dtype() != source.dtype() {
            bail!(
                Runtime,
                "index_copy_(): self and source expected to have the same dtype, but got (self) {} and (source) {}",
                title(self.dtype()),
                title(source.dtype())
            );
        }
        let sliced = |t: &Tensor| if t.ndim() == 0 { vec![] } else { without(t.shape(), d) };
        if sliced(self) != sliced(source) {
            bail!(
                Runtime,
                "index_copy_(): Source/destination tensor must have same slice shapes. Destination slice shape: {:?} at dimension {} and source slice shape: {:?} at dimension 0.",
                sliced(self),
                d,
                sliced(source)
            );
        }
        if source.ndim() > 0 && n != source.shape()[d] {
            bail!(Index, "index_copy_(): Number of indices ({}) should be equal to source.size(dim) ({})", n, source.shape()[d]);
        }
        check_no_internal_overlap(self)?;
        let s = at_least_1d(self);
        let table = along(&s, d, index, false, Fault::Copy(d))?;
        scatter_along(self, d, &table, &detach_from(source, self)?, false, Combine::Assign)
    }

    /// `index_fill_(dim, index, value)`: `self[.., index[k], ..] = value`; negative positions
    /// count from the end.
    pub fn index_fill_(&self, dim: i64, index: &Tensor, value: Scalar) -> Result<()> {
        crate::autograd::inplace_with(self, &[], || self.index_fill_raw(dim, index, value), |old| old.index_fill(dim, index, value))
    }

    /// `index_fill_(dim, index, value)` with a 0-d tensor `value`, which receives a gradient.
    pub fn index_fill_tensor_(&self, dim: i64, index: &Tensor, value: &Tensor) -> Result<()> {
        check_fill_value("index_fill_", value)?;
        crate::autograd::inplace_with(self, &[value], || self.index_fill_raw(dim, index, value.item()?), |old| {
            old.index_fill_tensor(dim, index, value)
        })
    }

    /// `index_fill(dim, index, value)` with a 0-d tensor `value` (`IndexFillBackward1`).
    pub fn index_fill_tensor(&self, dim: i64, index: &Tensor, value: &Tensor) -> Result<Tensor> {
        check_fill_value("index_fill_", value)?;
        if crate::autograd::needs_grad(&[self, value]) {
            return crate::autograd::formulas::index::index_fill_tensor(self, dim, index, value);
        }
        self.index_fill(dim, index, value.item()?)
    }

    fn index_fill_raw(&self, dim: i64, index: &Tensor, value: Scalar) -> Result<()> {
        let d = wrap_dim(dim, self.ndim())?;
        if index.dtype() != DType::I64 {
            bail!(Runtime, "index_fill_(): Expected dtype int64 for index.");
        }
        if index.ndim() > 1 {
            bail!(Index, "index_fill_(): Index is supposed to be a vector");
        }
        check_no_internal_overlap(self)?;
        let s = at_least_1d(self);
        let table = along(&s, d, index, true, Fault::OutOfBounds(d))?;
        scatter_along(self, d, &table, &Tensor::scalar(value, self.dtype()), true, Combine::Assign)
    }

    /// `take(index)`: elements of the flattened tensor, shaped like `index`.
    pub fn take(&self, index: &Tensor) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::index::take(self, index);
        }
        if index.dtype() != DType::I64 {
            bail!(Runtime, "take(): Expected a long tensor for index, but got {}", title(index.dtype()));
        }
        if self.numel() == 0 && index.numel() != 0 {
            bail!(Index, "take(): tried to take from an empty tensor");
        }
        let table = flat_offsets(self, index)?;
        let src_layout = Layout { shape: index.shape().to_vec(), strides: vec![0; index.ndim()], offset: self.offset() };
        gather(self, &src_layout, &table, &Layout::contiguous(index.shape()))
    }

    /// `put_(index, source, accumulate)`: writes `source`'s elements at flat positions `index`.
    pub fn put_(&self, index: &Tensor, source: &Tensor, accumulate: bool) -> Result<()> {
        crate::autograd::inplace_with(self, &[source], || self.put_raw(index, source, accumulate), |old| old.put(index, source, accumulate))
    }

    fn put_raw(&self, index: &Tensor, source: &Tensor, accumulate: bool) -> Result<()> {
        if index.dtype() != DType::I64 {
            bail!(Runtime, "put_(): Expected a long tensor for index, but got {}", title(index.dtype()));
        }
        if self.dtype() != source.dtype() {
            bail!(
                Runtime,
                "put_(): self and source expected to have the same dtype, but got self.dtype = {} and source.dtype = {}",
                title(self.dtype()),
                title(source.dtype())
            );
        }
        if source.numel() != index.numel() {
            bail!(
                Runtime,
                "put_(): Expected source and index to have the same number of elements, but got source.numel() = {}, index.numel() = {}",
                source.numel(),
                index.numel()
            );
        }
        if self.numel() == 0 && index.numel() != 0 {
            bail!(Index, "put_(): Tried to put elements into an empty tensor");
        }
        check_no_internal_overlap(self)?;
        let table = flat_offsets(self, index)?;
        let source = detach_from(source, self)?.contiguous()?;
        let plan = ScatterPlan {
            outer: vec![],
            dst: (vec![], self.offset()),
            src: (vec![], source.offset()),
            table: &table,
            table_outer: (vec![], 0),
            table_k: 1,
            src_k: (0..table.len()).collect(),
        };
        scatter(self, &source, &plan, if accumulate { Combine::Add } else { Combine::Assign })?;
        self.bump_version();
        Ok(())
    }

    /// `index_add(dim, index, source, alpha)` into a copy.
    pub fn index_add(&self, dim: i64, index: &Tensor, source: &Tensor, alpha: Scalar) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self, source]) {
            return crate::autograd::formulas::index::index_add(self, dim, index, source, alpha);
        }
        let r = self.clone_contiguous()?;
        r.index_add_raw(dim, index, source, alpha)?;
        Ok(r)
    }

    /// `index_copy(dim, index, source)` into a copy.
    pub fn index_copy(&self, dim: i64, index: &Tensor, source: &Tensor) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run("index_copy", [self, source], |t| t[0].index_copy(dim, index, &t[1])) { return r; }
        if crate::autograd::needs_grad(&[self, source]) {
            return crate::autograd::formulas::index::index_copy(self, dim, index, source);
        }
        let r = self.clone_contiguous()?;
        r.index_copy_raw(dim, index, source)?;
        Ok(r)
    }

    /// `index_fill(dim, index, value)` into a copy.
    pub fn index_fill(&self, dim: i64, index: &Tensor, value: Scalar) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::index::index_fill(self, dim, index, value);
        }
        let r = self.clone_contiguous()?;
        r.index_fill_raw(dim, index, value)?;
        Ok(r)
    }

    /// `put(index, source, accumulate)` into a copy.
    pub fn put(&self, index: &Tensor, source: &Tensor, accumulate: bool) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self, source]) {
            return crate::autograd::formulas::index::put(self, index, source, accumulate);
        }
        let r = self.clone_contiguous()?;
        r.put_raw(index, source, accumulate)?;
        Ok(r)
    }
}
