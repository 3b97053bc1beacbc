//! `gather`, `scatter` and its reductions, `take_along_dim`: an index tensor of the input's
//! rank picks, for each of its positions, the position along `dim`.

use crate::dtype::{DType, Element, Scalar};
use crate::error::Result;
use crate::layout::{broadcast_shapes, contiguous_strides, wrap_dim, Layout};
use crate::ops::binary::{BinaryOp, Operand};
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

use super::checks::{at_least_1d, check_no_internal_overlap, deltas, detach_from, without, Deltas, IndexRule};
use super::fault::Fault;
use super::kernel::{gather, scatter, Accum, Combine, ScatterPlan};

/// The reductions of `scatter_reduce`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScatterReduce {
    Sum,
    Prod,
    Mean,
    Amax,
    Amin,
}

impl ScatterReduce {
    /// `scatter_reduce`'s names: sum, prod, mean, amax, amin.
    pub fn parse(name: &str) -> Result<ScatterReduce> {
        Ok(match name {
            "sum" => ScatterReduce::Sum,
            "prod" => ScatterReduce::Prod,
            "mean" => ScatterReduce::Mean,
            "amax" => ScatterReduce::Amax,
            "amin" => ScatterReduce::Amin,
            _ => bail!(Runtime, "reduce argument must be either sum, prod, mean, amax or amin, got {}", name),
        })
    }

    /// `scatter`'s legacy names: add, multiply.
    pub fn parse_legacy(name: &str) -> Result<ScatterReduce> {
        Ok(match name {
            "add" => ScatterReduce::Sum,
            "multiply" => ScatterReduce::Prod,
            _ => bail!(Runtime, "reduce argument must be either add or multiply."),
        })
    }

    fn combine(self) -> Combine {
        match self {
            ScatterReduce::Sum | ScatterReduce::Mean => Combine::Add,
            ScatterReduce::Prod => Combine::Mul,
            ScatterReduce::Amax => Combine::Max,
            ScatterReduce::Amin => Combine::Min,
        }
    }

    /// The value destinations start from when `include_self` is false.
    fn identity(self, dtype: DType) -> Tensor {
        let t = Tensor::uninit(&[], dtype).expect("one element");
        with_dtype!(dtype, T => {
            let v: T = match self {
                ScatterReduce::Sum | ScatterReduce::Mean => T::from_i64(0),
                ScatterReduce::Prod => T::from_i64(1),
                ScatterReduce::Amax => <T as Accum>::lowest(),
                ScatterReduce::Amin => <T as Accum>::highest(),
            };
            unsafe { *t.data_ptr::<T>().expect("a new CPU tensor") = v };
        });
        t
    }
}

/// What a scatter writes: a tensor's elements or one number.
#[derive(Clone)]
pub enum ScatterSrc {
    Tensor(Tensor),
    Value(Scalar),
}

/// PyTorch's `gather_shape_check`.
fn gather_shape_check(self_: &Tensor, dim: usize, index: &Tensor) -> Result<()> {
    let (s, i) = (at_least_1d(self_), at_least_1d(index));
    if s.ndim() != i.ndim() {
        bail!(Runtime, "Index tensor must have the same number of dimensions as input tensor");
    }
    for d in 0..s.ndim() {
        if d != dim && i.shape()[d] > s.shape()[d] {
            bail!(
                Runtime,
                "Size does not match at dimension {} expected index {:?} to be no larger than self {:?} apart from dimension {}",
                d,
                index.shape(),
                self_.shape(),
                dim
            );
        }
    }
    Ok(())
}

/// PyTorch's `scatter_shape_check`.
fn scatter_shape_check(self_: &Tensor, dim: usize, index: &Tensor, src: Option<&Tensor>) -> Result<()> {
    let (s, i) = (at_least_1d(self_), at_least_1d(index));
    if s.ndim() != i.ndim() {
        bail!(Runtime, "Index tensor must have the same number of dimensions as self tensor");
    }
    let src1 = src.map(at_least_1d);
    if let Some(src) = &src1 {
        if src.ndim() != i.ndim() {
            bail!(Runtime, "Index tensor must have the same number of dimensions as src tensor");
        }
    }
    let wrong = (0..s.ndim()).any(|d| {
        (d != dim && i.shape()[d] > s.shape()[d]) || src1.as_ref().is_some_and(|src| i.shape()[d] > src.shape()[d])
    });
    if wrong {
        match src {
            Some(src) => bail!(
                Runtime,
                "Expected index {:?} to be no larger than self {:?} apart from dimension {} and to be no larger size than src {:?}",
                index.shape(),
                self_.shape(),
                dim,
                src.shape()
            ),
            None => bail!(
                Runtime,
                "Expected index {:?} to be no larger than self {:?} apart from dimension {}",
                index.shape(),
                self_.shape(),
                dim
            ),
        }
    }
    Ok(())
}

/// The storage deltas `index` selects along `dim` of `dst` (values must be in `0..size`).
fn dim_deltas(dst: &Tensor, dim: usize, index: &Tensor) -> Result<Deltas> {
    let rule = IndexRule { size: dst.shape()[dim], stride: dst.strides()[dim], wrap: false, fault: Fault::AlongDim(dim) };
    deltas(index, rule, dst.device())
}

/// `take_along_dim`'s broadcasts: the input and the indices agree on every dim but `d`.
pub(crate) fn along_dim_shapes(input: &[usize], indices: &[usize], d: usize) -> Result<(Vec<usize>, Vec<usize>)> {
    let mut self_sizes = input.to_vec();
    self_sizes[d] = indices[d];
    let idx_shape = broadcast_shapes(&self_sizes, indices)?;
    let mut idx_sizes = indices.to_vec();
    idx_sizes[d] = input[d];
    Ok((broadcast_shapes(&idx_sizes, input)?, idx_shape))
}

impl Tensor {
    /// `gather(dim, index)`: `out[i][j] = self[index[i][j]][j]` for `dim = 0`, and so on.
    pub fn gather(&self, dim: i64, index: &Tensor) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::index::gather(self, dim, index);
        }
        let d = wrap_dim(dim, self.ndim())?;
        if index.numel() != 0 && index.dtype() != DType::I64 {
            bail!(Runtime, "gather(): Expected dtype int64 for index");
        }
        gather_shape_check(self, d, index)?;
        let (s, i) = (at_least_1d(self), at_least_1d(index));
        let table = dim_deltas(&s, d, &i)?;
        let mut strides = s.strides().to_vec();
        strides[d] = 0;
        let src_layout = Layout { shape: i.shape().to_vec(), strides, offset: s.offset() };
        let out = gather(&s, &src_layout, &table, &Layout::contiguous(i.shape()))?;
        Ok(out.with_layout(Layout::contiguous(index.shape())))
    }

    /// `take_along_dim(indices, dim)`: `gather` after broadcasting all dims but `dim`; with no
    /// `dim`, both are flattened.
    pub fn take_along_dim(&self, indices: &Tensor, dim: Option<i64>) -> Result<Tensor> {
        if indices.dtype() != DType::I64 {
            bail!(
                Runtime,
                "torch.take_along_dim(): dtype of indices should be Long but got {}",
                crate::dtype::title(indices.dtype())
            );
        }
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::index::take_along_dim(self, indices, dim);
        }
        let Some(dim) = dim else {
            return self.reshape(&[-1])?.gather(0, &indices.reshape(&[-1])?);
        };
        if self.ndim() != indices.ndim() {
            bail!(
                Runtime,
                "torch.take_along_dim(): input and indices should have the same number of dimensions, but got {} dimensions for input, and {} dimensions for indices",
                self.ndim(),
                indices.ndim()
            );
        }
        let d = wrap_dim(dim, self.ndim())?;
        if self.ndim() == 0 {
            return self.gather(0, indices);
        }
        let (self_shape, idx_shape) = along_dim_shapes(self.shape(), indices.shape(), d)?;
        let s = self.with_layout(self.layout().broadcast_to(&self_shape)?);
        let i = indices.with_layout(indices.layout().broadcast_to(&idx_shape)?);
        s.gather(d as i64, &i)
    }

    /// `scatter_(dim, index, src)`, optionally reducing with the legacy `reduce` ('add' or
    /// 'multiply').
    pub fn scatter_(&self, dim: i64, index: &Tensor, src: &ScatterSrc, reduce: Option<&str>) -> Result<()> {
        let legacy = reduce.map(ScatterReduce::parse_legacy).transpose()?;
        let others: Vec<&Tensor> = match src {
            ScatterSrc::Tensor(t) => vec![t],
            ScatterSrc::Value(_) => vec![],
        };
        crate::autograd::inplace_with(self, &others, || self.scatter_impl("scatter", dim, index, src, legacy, true), |old| {
            old.scatter(dim, index, src, reduce)
        })
    }

    /// `scatter_add_(dim, index, src)`: `self[index[i][j]][j] += src[i][j]` for `dim = 0`.
    pub fn scatter_add_(&self, dim: i64, index: &Tensor, src: &Tensor) -> Result<()> {
        crate::autograd::inplace_with(
            self,
            &[src],
            || self.scatter_impl("scatter_add", dim, index, &ScatterSrc::Tensor(src.clone()), Some(ScatterReduce::Sum), true),
            |old| old.scatter_add(dim, index, src),
        )
    }

    /// `scatter_reduce_(dim, index, src, reduce, include_self)`.
    pub fn scatter_reduce_(&self, dim: i64, index: &Tensor, src: &Tensor, reduce: ScatterReduce, include_self: bool) -> Result<()> {
        crate::autograd::inplace_with(
            self,
            &[src],
            || self.scatter_impl("scatter_reduce", dim, index, &ScatterSrc::Tensor(src.clone()), Some(reduce), include_self),
            |old| old.scatter_reduce(dim, index, src, reduce, include_self),
        )
    }

    fn scatter_impl(
        &self,
        name: &str,
        dim: i64,
        index: &Tensor,
        src: &ScatterSrc,
        reduce: Option<ScatterReduce>,
        include_self: bool,
    ) -> Result<()> {
        let d = wrap_dim(dim, self.ndim())?;
        if index.numel() != 0 && index.dtype() != DType::I64 {
            bail!(Runtime, "{}(): Expected dtype int64 for index", name);
        }
        let (src, is_value) = match src {
            ScatterSrc::Tensor(t) => {
                if t.dtype() != self.dtype() {
                    bail!(Runtime, "{}(): Expected self.dtype to be equal to src.dtype", name);
                }
                (t.clone(), false)
            }
            ScatterSrc::Value(v) => (Tensor::scalar(*v, self.dtype()), true),
        };
        if index.numel() == 0 {
            return Ok(());
        }
        scatter_shape_check(self, d, index, (!is_value).then_some(&src))?;
        check_no_internal_overlap(self)?;
        let (s, i) = (at_least_1d(self), at_least_1d(index));
        let table = dim_deltas(&s, d, &i)?;
        let src1 = at_least_1d(&detach_from(&src, self)?);
        let istrides = contiguous_strides(i.shape());
        // A single value is a source whose strides are all zero.
        let zeros = vec![0; i.ndim()];
        let src_strides: Vec<usize> = if is_value { zeros.clone() } else { src1.strides().to_vec() };
        let plan = |dst: &Tensor, src: &Tensor, src_strides: &[usize]| ScatterPlan {
            outer: without(i.shape(), d),
            dst: (without(dst.strides(), d), dst.offset()),
            src: (without(src_strides, d), src.offset()),
            table: &table,
            table_outer: (without(&istrides, d), 0),
            table_k: istrides[d],
            src_k: (0..i.shape()[d]).map(|k| k * src_strides[d]).collect(),
        };
        let reduce = match reduce {
            None => {
                scatter(&s, &src1, &plan(&s, &src1, &src_strides), Combine::Assign)?;
                self.bump_version();
                return Ok(());
            }
            Some(r) => r,
        };
        if !include_self {
            let identity = reduce.identity(self.dtype());
            scatter(&s, &identity, &plan(&s, &identity, &zeros), Combine::Assign)?;
        }
        scatter(&s, &src1, &plan(&s, &src1, &src_strides), reduce.combine())?;
        if reduce == ScatterReduce::Mean {
            // Divide by how many values reached each position (itself included when asked).
            let count = Tensor::full_on(s.shape(), Scalar::Int(include_self as i64), DType::I64, s.device())?;
            let one = Tensor::scalar(Scalar::Int(1), DType::I64);
            scatter(&count, &one, &plan(&count, &one, &zeros), Combine::Add)?;
            let count = count.masked_fill(&count.binary(BinaryOp::Eq, &Operand::Scalar(Scalar::Int(0)))?, Scalar::Int(1))?;
            let op = if self.dtype().is_float() { BinaryOp::Div } else { BinaryOp::FloorDivide };
            let mean = s.binary(op, &Operand::Tensor(count))?;
            s.copy_from(&mean)?;
        }
        self.bump_version();
        Ok(())
    }

    /// `scatter(dim, index, src)`: a scattered copy.
    pub fn scatter(&self, dim: i64, index: &Tensor, src: &ScatterSrc, reduce: Option<&str>) -> Result<Tensor> {
        let legacy = reduce.map(ScatterReduce::parse_legacy).transpose()?;
        let inputs: Vec<&Tensor> = match src {
            ScatterSrc::Tensor(t) => vec![self, t],
            ScatterSrc::Value(_) => vec![self],
        };
        if crate::autograd::needs_grad(&inputs) {
            return crate::autograd::formulas::index::scatter(self, dim, index, src, legacy);
        }
        let r = self.clone_contiguous()?;
        r.scatter_impl("scatter", dim, index, src, legacy, true)?;
        Ok(r)
    }

    /// `scatter_add(dim, index, src)`: a copy with `src` added at the scattered positions.
    pub fn scatter_add(&self, dim: i64, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self, src]) {
            return crate::autograd::formulas::index::scatter_add(self, dim, index, src);
        }
        let r = self.clone_contiguous()?;
        r.scatter_impl("scatter_add", dim, index, &ScatterSrc::Tensor(src.clone()), Some(ScatterReduce::Sum), true)?;
        Ok(r)
    }

    /// `scatter_reduce(dim, index, src, reduce, include_self)` into a copy.
    pub fn scatter_reduce(&self, dim: i64, index: &Tensor, src: &Tensor, reduce: ScatterReduce, include_self: bool) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self, src]) {
            return crate::autograd::formulas::index::scatter_reduce(self, dim, index, src, reduce, include_self);
        }
        let r = self.clone_contiguous()?;
        r.scatter_impl("scatter_reduce", dim, index, &ScatterSrc::Tensor(src.clone()), Some(reduce), include_self)?;
        Ok(r)
    }
}
