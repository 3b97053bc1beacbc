//! Boolean masks: `masked_fill`, `masked_select`, `masked_scatter`, and the positions of true
//! (nonzero) elements, `nonzero` / `argwhere`.

use rayon::prelude::*;

use crate::cpu::iter::{for_each_row, SendPtr, GRAIN};
use crate::dtype::{title, DType, Element, Scalar};
use crate::error::Result;
use crate::layout::broadcast_shapes;
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

use crate::ops::binary::{binary, where_, BinaryOp, Operand};

use super::along_dim::ScatterSrc;
use super::checks::{check_no_internal_overlap, detach_from};
use super::kernel::gather_flat;
use crate::device::Device;

/// Row-major positions of the elements of a contiguous slice for which `pred` holds.
fn positions<T: Element>(data: &[T], pred: impl Fn(T) -> bool + Sync) -> Vec<usize> {
    crate::cpu::threads::install_if(data.len(), || {
    if data.len() < GRAIN {
        return (0..data.len()).filter(|&i| pred(data[i])).collect();
    }
    let chunk = GRAIN;
    let parts: Vec<Vec<usize>> = data
        .par_chunks(chunk)
        .enumerate()
        .map(|(c, xs)| xs.iter().enumerate().filter(|(_, &x)| pred(x)).map(|(i, _)| c * chunk + i).collect())
        .collect();
    parts.concat()
})
}

/// Row-major positions of the true elements of `mask` broadcast to `shape`.
fn true_positions(mask: &Tensor, shape: &[usize]) -> Result<Vec<usize>> {
    let mask = mask.to_device(Device::Cpu)?;
    let m = mask.with_layout(mask.layout().broadcast_to(shape)?).contiguous()?;
    Ok(positions::<bool>(unsafe { m.as_slice::<bool>()? }, |b| b))
}

/// Row-major positions of the nonzero elements of `t` (NaN counts) as a 1-d int64 tensor on
/// its device, in device ops (what CUDA tensors run): each hit's rank by a cumulative count,
/// the hits' positions scattered to their ranks (the others to one slot past the end, dropped).
/// Only the count is read back: it sizes the result, as PyTorch waits for the device here too.
fn nonzero_positions(t: &Tensor) -> Result<Tensor> {
    let device = t.device();
    let flat = t.reshape(&[-1])?;
    let n = flat.numel();
    if n == 0 {
        return Tensor::full_on(&[0], Scalar::Int(0), DType::I64, device);
    }
    let hit = if flat.dtype() == DType::Bool { flat } else { flat.ne(Operand::Scalar(Scalar::Int(0)))? };
    let rank = hit.cumsum(0, Some(DType::I64))?;
    let count = rank.narrow(0, n as i64 - 1, 1)?.item()?.to_f64() as usize;
    let slot = where_(&hit, &Operand::Tensor(rank.sub(Operand::Scalar(Scalar::Int(1)))?), &Operand::Scalar(Scalar::Int(count as i64)))?;
    let items = Tensor::positions_on(n, device)?;
    let out = Tensor::full_on(&[count + 1], Scalar::Int(0), DType::I64, device)?.scatter(0, &slot, &ScatterSrc::Tensor(items), None)?;
    out.narrow(0, 0, count as i64)
}

/// `nonzero` in device ops: the positions, then each one's coordinates `(p / stride) % size`.
fn nonzero_by_scan(t: &Tensor) -> Result<Tensor> {
    let pos = nonzero_positions(t)?;
    if t.ndim() == 0 {
        return Tensor::full_on(&[pos.numel(), 0], Scalar::Int(0), DType::I64, t.device());
    }
    let strides = crate::layout::contiguous_strides(t.shape());
    let coords = t.shape().iter().zip(&strides).map(|(&size, &stride)| {
        let along = binary(&Operand::Tensor(pos.clone()), BinaryOp::FloorDivide, &Operand::Scalar(Scalar::Int(stride as i64)))?;
        binary(&Operand::Tensor(along), BinaryOp::Remainder, &Operand::Scalar(Scalar::Int(size.max(1) as i64)))
    });
    crate::ops::join::cat::stack(&coords.collect::<Result<Vec<_>>>()?, 1)
}

/// `masked_select` in device ops: the positions of the mask broadcast to `shape`, gathered
/// from `src` broadcast to it.
fn masked_select_by_scan(src: &Tensor, mask: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let mask = mask.to_device(src.device())?;
    let pos = nonzero_positions(&mask.with_layout(mask.layout().broadcast_to(shape)?))?;
    src.with_layout(src.layout().broadcast_to(shape)?).reshape(&[-1])?.index_select(0, &pos)
}

fn check_bool_mask(op: &str, mask: &Tensor) -> Result<()> {
    if mask.dtype() != DType::Bool {
        bail!(Runtime, "{} only supports boolean masks, but got mask with dtype {}", op, mask.dtype().cpp_name());
    }
    Ok(())
}

impl Tensor {
    /// `masked_fill_(mask, value)`: `value` wherever `mask` (broadcast to `self`) is true.
    pub fn masked_fill_(&self, mask: &Tensor, value: Scalar) -> Result<()> {
        check_bool_mask("masked_fill_", mask)?;
        mask.layout().broadcast_to(self.shape())?;
        crate::autograd::inplace_with(self, &[], || self.masked_fill_raw(mask, value), |old| old.masked_fill(mask, value))
    }

    /// `masked_fill_(mask, value)` with a 0-d tensor `value`, which receives a gradient.
    pub fn masked_fill_tensor_(&self, mask: &Tensor, value: &Tensor) -> Result<()> {
        check_bool_mask("masked_fill_", mask)?;
        super::select::check_fill_value("masked_fill_", value)?;
        mask.layout().broadcast_to(self.shape())?;
        crate::autograd::inplace_with(self, &[value], || self.masked_fill_raw(mask, value.item()?), |old| old.masked_fill_tensor(mask, value))
    }

    /// `masked_fill(mask, value)` with a 0-d tensor `value` (`MaskedFillBackward1`).
    pub fn masked_fill_tensor(&self, mask: &Tensor, value: &Tensor) -> Result<Tensor> {
        check_bool_mask("masked_fill_", mask)?;
        super::select::check_fill_value("masked_fill_", value)?;
        if crate::autograd::needs_grad(&[self, value]) {
            return crate::autograd::formulas::index::masked_fill_tensor(self, mask, value);
        }
        self.masked_fill(mask, value.item()?)
    }

    fn masked_fill_raw(&self, mask: &Tensor, value: Scalar) -> Result<()> {
        check_no_internal_overlap(self)?;
        let mask = detach_from(mask, self)?;
        let ml = mask.layout().broadcast_to(self.shape())?;
        if self.is_cuda() || mask.is_cuda() {
            let device = crate::device::common_device(&[self, &mask])?;
            let value = Tensor::scalar(value, self.dtype()).to_device(device)?;
            // A 0-d host mask joins a GPU tensor as a scalar: the kernel needs it on the device.
            crate::cuda::dispatch::where_into(self, &mask.to_device(device)?, &value, self)?;
            self.bump_version();
            return Ok(());
        }
        with_dtype!(self.dtype(), T => {
            let v = T::from_scalar(value);
            let (dp, mp) = (SendPtr(self.data_ptr::<T>()?), SendPtr(mask.data_ptr::<bool>()?));
            for_each_row(self.shape(), [(self.strides(), self.offset()), (&ml.strides, ml.offset)], |[o, m], len, [so, sm]| unsafe {
                for j in 0..len {
                    if *mp.get().add(m + j * sm) {
                        *dp.get().add(o + j * so) = v;
                    }
                }
            });
        });
        self.bump_version();
        Ok(())
    }

    /// `masked_fill(mask, value)`: a copy of `self` broadcast with `mask`, filled where true.
    pub fn masked_fill(&self, mask: &Tensor, value: Scalar) -> Result<Tensor> {
        check_bool_mask("masked_fill_", mask)?;
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::index::masked_fill(self, mask, value);
        }
        let shape = broadcast_shapes(self.shape(), mask.shape())?;
        let r = self.with_layout(self.layout().broadcast_to(&shape)?).clone_contiguous()?;
        r.masked_fill_raw(mask, value)?;
        Ok(r)
    }

    /// `masked_select(mask)`: the elements where `mask` is true, broadcasting both, as 1-d.
    pub fn masked_select(&self, mask: &Tensor) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::index::masked_select(self, mask);
        }
        if mask.dtype() != DType::Bool {
            bail!(Runtime, "masked_select: expected BoolTensor for mask");
        }
        let shape = broadcast_shapes(self.shape(), mask.shape())?;
        crate::device::common_device(&[self, mask])?;
        // CUDA work stays on this thread, whose current stream it must run on.
        if self.is_cuda() {
            return masked_select_by_scan(self, mask, &shape);
        }
        crate::cpu::threads::install_if(self.numel().max(mask.numel()), || {
            let pos = true_positions(mask, &shape)?;
            let src = self.with_layout(self.layout().broadcast_to(&shape)?).contiguous()?;
            gather_flat(&src, pos)
        })
    }

    /// `masked_scatter_(mask, source)`: the elements of `source`, in order, at the true
    /// positions of `mask` (broadcast to `self`).
    pub fn masked_scatter_(&self, mask: &Tensor, source: &Tensor) -> Result<()> {
        check_bool_mask("masked_scatter_", mask)?;
        mask.layout().broadcast_to(self.shape())?;
        crate::autograd::inplace_with(self, &[source], || self.masked_scatter_raw(mask, source), |old| old.masked_scatter(mask, source))
    }

    fn masked_scatter_raw(&self, mask: &Tensor, source: &Tensor) -> Result<()> {
        check_bool_mask("masked_scatter_", mask)?;
        if self.dtype() != source.dtype() {
            bail!(
                Runtime,
                "masked_scatter_: expected self and source to have same dtypes but got {} and {}",
                title(self.dtype()),
                title(source.dtype())
            );
        }
        let pos = true_positions(mask, self.shape())?;
        if pos.len() > source.numel() {
            bail!(Runtime, "Number of elements of source < number of ones in mask");
        }
        check_no_internal_overlap(self)?;
        let src = detach_from(source, self)?.contiguous()?;
        let layout = self.layout().clone();
        if self.is_cuda() || src.is_cuda() {
            crate::device::common_device(&[self, &src])?;
            let dst_at: Vec<usize> = pos.iter().map(|&p| super::kernel::flat_to_offset(&layout, p)).collect();
            let src_at: Vec<usize> = (0..pos.len()).map(|k| src.offset() + k).collect();
            crate::cuda::index::scatter(self, &src, &dst_at, &src_at, super::kernel::Combine::Assign)?;
            self.bump_version();
            return Ok(());
        }
        crate::cpu::threads::install_if(self.numel(), || -> Result<()> {
            with_dtype!(self.dtype(), T => {
                let (s, dp) = (unsafe { src.as_slice::<T>()? }, SendPtr(self.data_ptr::<T>()?));
                pos.par_iter().with_min_len(GRAIN).zip(s.par_iter()).for_each(|(&p, &v)| unsafe {
                    *dp.get().add(super::kernel::flat_to_offset(&layout, p)) = v;
                });
            });
            Ok(())
        })?;
        self.bump_version();
        Ok(())
    }

    /// `masked_scatter(mask, source)` into a copy of `self` broadcast with `mask`.
    pub fn masked_scatter(&self, mask: &Tensor, source: &Tensor) -> Result<Tensor> {
        check_bool_mask("masked_scatter_", mask)?;
        let shape = broadcast_shapes(self.shape(), mask.shape())?;
        if crate::autograd::needs_grad(&[self, source]) {
            return crate::autograd::formulas::index::masked_scatter(self, mask, source);
        }
        let r = self.with_layout(self.layout().broadcast_to(&shape)?).clone_contiguous()?;
        r.masked_scatter_raw(mask, source)?;
        Ok(r)
    }

    /// `nonzero()`: an `(n, ndim)` int64 tensor of the positions of nonzero elements, in
    /// row-major order (NaN counts as nonzero).
    pub fn nonzero(&self) -> Result<Tensor> {
        if self.is_cuda() {
            return nonzero_by_scan(self);
        }
    crate::cpu::threads::install_if(self.numel(), || {
        let c = self.contiguous()?;
        let pos = with_dtype!(self.dtype(), T => positions::<T>(unsafe { c.as_slice::<T>()? }, |x| x.is_nonzero()));
        let nd = self.ndim();
        let out = Tensor::uninit(&[pos.len(), nd], DType::I64)?;
        let shape = self.shape().to_vec();
        if nd > 0 {
            let o = unsafe { out.as_mut_slice::<i64>()? };
            o.par_chunks_mut(nd).with_min_len(GRAIN / nd).zip(pos.par_iter()).for_each(|(row, &p)| {
                let mut p = p;
                for d in (0..nd).rev() {
                    row[d] = (p % shape[d]) as i64;
                    p /= shape[d];
                }
            });
        }
        Ok(out)
    })
}

    /// `nonzero(as_tuple=True)`: one 1-d tensor of positions per dim (a 0-d input counts as 1-d).
    pub fn nonzero_tuple(&self) -> Result<Vec<Tensor>> {
        let t = if self.ndim() == 0 { self.with_layout(self.layout().unsqueeze(0)) } else { self.clone() };
        let nz = t.nonzero()?;
        Ok((0..t.ndim()).map(|d| nz.with_layout(nz.layout().select(1, d))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The device routes' compositions run on any device: on the CPU they equal the host loops
    /// (NaN counts as nonzero, -0.0 does not; 0-d, empty, no hits, broadcast masks).
    #[test]
    fn nonzero_and_masked_select_by_scan_equal_the_host_loops() {
        let v = [0.0, -0.0, f64::NAN, 2.0, 0.0, -1.5, 0.0, 0.0, 3.0, 0.0, 0.0, 1.0];
        let x = Tensor::from_slice(&v, &[3, 4]).unwrap();
        let cases = [x.clone(), x.t().unwrap(), x.gt(0.5).unwrap(), x.to_dtype(DType::I16).unwrap(), x.narrow(0, 0, 0).unwrap(),
                     Tensor::from_slice(&[0.0f32; 5], &[5]).unwrap(), x.select(0, 0).unwrap().select(0, 3).unwrap()];
        let longs = |t: &Tensor| (t.shape().to_vec(), t.contiguous().unwrap().to_vec::<i64>().unwrap());
        for t in &cases {
            assert_eq!(longs(&nonzero_by_scan(t).unwrap()), longs(&t.nonzero().unwrap()), "{:?} {:?}", t.dtype(), t.shape());
        }
        let mask = Tensor::from_slice(&[true, false, true, true], &[4]).unwrap();
        let want = x.masked_select(&mask).unwrap();
        let got = masked_select_by_scan(&x, &mask, &[3, 4]).unwrap();
        let bits = |t: &Tensor| t.contiguous().unwrap().to_vec::<f64>().unwrap().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(got.shape(), want.shape());
        assert_eq!(bits(&got), bits(&want));
    }
}
