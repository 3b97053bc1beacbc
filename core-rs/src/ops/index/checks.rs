//! Argument checks shared by the index ops, and turning index values into storage offsets.

use rayon::prelude::*;

use crate::cpu::iter::GRAIN;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::Layout;
pub(super) use crate::ops::copy::check_no_internal_overlap;
use crate::tensor::Tensor;

/// A 0-d tensor seen as 1-d of one element: the dim-wise index ops treat scalars so
/// (PyTorch's `ensure_nonempty_dim`).
pub(super) fn at_least_1d(t: &Tensor) -> Tensor {
    if t.ndim() == 0 {
        t.with_layout(Layout { shape: vec![1], strides: vec![1], offset: t.offset() })
    } else {
        t.clone()
    }
}

/// The values of an integer index tensor in row-major order (read back from a GPU: the index
/// ops build their offset tables and check bounds on the host).
pub(super) fn index_values(index: &Tensor) -> Result<Vec<i64>> {
    index.to_device(crate::device::Device::Cpu)?.to_dtype(DType::I64)?.to_vec::<i64>()
}

/// How index values along one dim become storage deltas: a value in `0..size` (negative ones
/// counting from the end when `wrap`) times `stride`; any other value raises `fault`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IndexRule {
    pub size: usize,
    pub stride: usize,
    pub wrap: bool,
    pub fault: super::fault::Fault,
}

/// The storage deltas an index selects, as the two kernels read them (row-major over the
/// index's elements).
pub(crate) enum Deltas {
    /// Checked and converted on the host: the CPU's form, and the tables built from several
    /// index tensors (advanced indexing, flat positions).
    Table(Vec<usize>),
    /// The index values themselves, int64 and contiguous on the data's CUDA device, which the
    /// kernels check and convert with `rule`: no wait for the device, faults reported late.
    Values { index: Tensor, rule: IndexRule },
}

impl Deltas {
    /// The host table (every route but a CUDA one builds one).
    pub(crate) fn table(&self) -> &[usize] {
        match self {
            Deltas::Table(t) => t,
            Deltas::Values { .. } => unreachable!("index values on the device reach only the CUDA kernels"),
        }
    }

    /// How many deltas there are.
    pub(crate) fn len(&self) -> usize {
        match self {
            Deltas::Table(t) => t.len(),
            Deltas::Values { index, .. } => index.numel(),
        }
    }
}

/// The deltas of `index` along a dim of data on `device`: left on the device for its kernels
/// when both are on the same CUDA device, checked into a host table otherwise (an index on the
/// host costs no wait to read, and its faults raise at once).
pub(crate) fn deltas(index: &Tensor, rule: IndexRule, device: crate::device::Device) -> Result<Deltas> {
    if index.is_cuda() && index.device() == device {
        let index = index.to_dtype(DType::I64)?.contiguous()?;
        return Ok(Deltas::Values { index, rule });
    }
    let table = to_offsets(&index_values(index)?, rule.size, rule.stride, rule.wrap, |v| rule.fault.error(v, rule.size))?;
    Ok(Deltas::Table(table))
}

/// Turns index values along a dim of `size` elements into storage deltas `value * stride`.
/// Negative values count from the end when `wrap`; the first value out of range fails with
/// `oob(value)`.
pub(super) fn to_offsets(
    values: &[i64],
    size: usize,
    stride: usize,
    wrap: bool,
    oob: impl Fn(i64) -> Error + Sync,
) -> Result<Vec<usize>> {
    crate::cpu::threads::install_if(values.len(), || {
    let size_i = size as i64;
    let one = |v: i64| -> Result<usize> {
        let w = if wrap && v < 0 { v + size_i } else { v };
        if w < 0 || w >= size_i {
            return Err(oob(v));
        }
        Ok(w as usize * stride)
    };
    if values.len() < GRAIN {
        values.iter().map(|&v| one(v)).collect()
    } else {
        values.par_iter().map(|&v| one(v)).collect()
    }
})
}

/// A source that shares memory with the destination of a write is read into a copy first.
pub(super) fn detach_from(src: &Tensor, dst: &Tensor) -> Result<Tensor> {
    if src.shares_storage(dst) {
        src.clone_contiguous()
    } else {
        Ok(src.clone())
    }
}

/// `shape` without `dim`, or `vec` with entry `dim` removed.
pub(super) fn without(v: &[usize], dim: usize) -> Vec<usize> {
    v.iter().enumerate().filter(|&(d, _)| d != dim).map(|(_, &x)| x).collect()
}
