//! `searchsorted` and `bucketize`: binary search of values in sorted boundaries.

use crate::cpu::iter::SendPtr;
use crate::dtype::{title, DType, Element, ResultTypeState, Scalar};
use crate::error::Result;
use crate::ops::join::reorder::par_ranges;
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

/// The values searched for: a tensor, or a Python number (promoted like a scalar operand).
pub enum Needles<'a> {
    Tensor(&'a Tensor),
    Scalar(Scalar),
}

/// Options of `searchsorted` besides its operands.
#[derive(Default, Clone, Copy)]
pub struct SearchOptions<'a> {
    pub out_int32: bool,
    pub right: bool,
    pub side: Option<&'a str>,
    pub sorter: Option<&'a Tensor>,
}

/// First position in `0..n` whose boundary is not below (`right`: is above) `v`. Written with
/// PyTorch's comparisons, so NaN values land after every boundary.
#[inline]
fn bound<T: Element>(n: usize, v: T, at: impl Fn(usize) -> T, right: bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let b = at(mid);
        let go_right = if right { !(b > v) } else { !(b >= v) };
        if go_right {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The sorter's positions after PyTorch's checks (read on the host: the range check needs them).
fn check_sorter(sorter: &Tensor, boundaries: &Tensor) -> Result<Vec<i64>> {
    if sorter.shape() != boundaries.shape() {
        bail!(
            Runtime,
            "torch.searchsorted(): boundary and sorter must have the same size, but got boundary tensor {:?}and got sorter tensor {:?}",
            boundaries.shape(),
            sorter.shape()
        );
    }
    if sorter.dtype() != DType::I64 {
        bail!(Runtime, "torch.searchsorted(): sorter must be a tensor of long dtype but got dtype {}", title(sorter.dtype()));
    }
    let v = sorter.to_device(crate::device::Device::Cpu)?.contiguous()?.to_vec::<i64>()?;
    let row = *boundaries.shape().last().unwrap_or(&0) as i64;
    if v.iter().any(|&s| s < 0 || s >= row) {
        bail!(Runtime, "torch.searchsorted(): sorter index out of range");
    }
    Ok(v)
}

fn search_typed<T: Element>(bd: &Tensor, input: &Tensor, sorter: Option<&[i64]>, right: bool, out: &Tensor) -> Result<()> {
    let b = unsafe { bd.as_slice::<T>()? };
    let x = unsafe { input.as_slice::<T>()? };
    let n = *bd.shape().last().unwrap_or(&0);
    let per_row = if bd.ndim() == 1 { usize::MAX } else { *input.shape().last().unwrap_or(&1) };
    let dst = SendPtr(out.data_ptr::<i64>()?);
    let ilen = x.len();
    par_ranges(ilen, 64, |i0, i1| {
        for i in i0..i1 {
            let start = if per_row == usize::MAX { 0 } else { (i / per_row) * n };
            let pos = match sorter {
                None => bound(n, x[i], |k| b[start + k], right),
                Some(s) => bound(n, x[i], |k| b[start + s[start + k] as usize], right),
            };
            unsafe { *dst.get().add(i) = pos as i64 };
        }
    });
    Ok(())
}

/// `searchsorted(sorted_sequence, values, ...)`: for each value, the index where inserting it
/// keeps its row of boundaries sorted. Boundaries are 1-D or share the values' leading dims.
pub fn searchsorted(boundaries: &Tensor, values: Needles<'_>, opts: SearchOptions<'_>) -> Result<Tensor> {
    if let Some(side) = opts.side {
        if side != "left" && side != "right" {
            bail!(Runtime, "torch.searchsorted(): side can only be 'left' or 'right' but got {}", side);
        }
        if opts.right && side != "right" {
            bail!(Runtime, "torch.searchsorted(): side and right can't be set to opposites, got side of {} while right was True", side);
        }
    }
    let sorter = opts.sorter.map(|s| check_sorter(s, boundaries)).transpose()?;
    let state = ResultTypeState::default().tensor(boundaries.dtype(), boundaries.ndim());
    let (input, dtype) = match values {
        Needles::Tensor(t) => (t.clone(), state.tensor(t.dtype(), t.ndim()).result()),
        Needles::Scalar(s) => {
            let d = state.scalar(s).result();
            (Tensor::scalar(s, d), d)
        }
    };
    if !(input.ndim() > 0 || boundaries.ndim() == 1) {
        bail!(
            Runtime,
            "torch.searchsorted(): input value can be a scalar only when boundaries tensor dimension is 1, but we got boundaries tensor dim({}) and input value's dim({}) numel({})",
            boundaries.ndim(),
            input.ndim(),
            input.numel()
        );
    }
    if boundaries.ndim() == 0 {
        bail!(Runtime, "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension");
    }
    let nd = boundaries.ndim();
    let leading_match = nd == input.ndim() && boundaries.shape()[..nd - 1] == input.shape()[..nd - 1];
    if nd != 1 && !leading_match {
        bail!(
            Runtime,
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries tensor and input value tensor must match, but we got boundaries tensor {:?} and input value tensor {:?}",
            boundaries.shape(),
            input.shape()
        );
    }
    let device = crate::device::common_device(&[boundaries, &input])?;
    let right = opts.right || opts.side == Some("right");
    let out = if matches!(device, crate::device::Device::Cuda(_)) {
        let (bd, inp) = (boundaries.contiguous_as(dtype)?, input.to_device(device)?.contiguous_as(dtype)?);
        let sorter = opts.sorter.map(|s| s.to_device(device)?.contiguous()).transpose()?;
        crate::cuda::sort::search_sorted(&bd, &inp, sorter.as_ref(), right)?
    } else {
        let (bd, inp) = (boundaries.contiguous_as(dtype)?, input.contiguous_as(dtype)?);
        let out = Tensor::uninit(input.shape(), DType::I64)?;
        with_dtype!(dtype, T => search_typed::<T>(&bd, &inp, sorter.as_deref(), right, &out))?;
        out
    };
    if opts.out_int32 {
        return out.to_dtype(DType::I32);
    }
    Ok(out)
}

/// `bucketize(input, boundaries, out_int32, right)`: `searchsorted` with 1-D boundaries.
pub fn bucketize(values: Needles<'_>, boundaries: &Tensor, out_int32: bool, right: bool) -> Result<Tensor> {
    if boundaries.ndim() != 1 {
        bail!(Runtime, "boundaries tensor must be 1 dimension, but got dim({})", boundaries.ndim());
    }
    searchsorted(boundaries, values, SearchOptions { out_int32, right, side: None, sorter: None })
}
