//! The index ops' two loops on CUDA tensors (the twins of `ops/index/kernel.rs`): a gather
//! through a table of storage deltas and a scatter of (destination, source) offset pairs. The
//! index ops build their tables on the host from the index values (reading CUDA indices back
//! first, where PyTorch checks bounds on the device), so both kernels take the table uploaded.

use super::dispatch::{address, index_of, launch, threads_for, upload_slice, Elementwise};
use super::kernels::suffix;
use crate::device::Device;
use crate::error::Result;
use crate::layout::Layout;
use crate::ops::index::kernel::Combine;
use crate::tensor::Tensor;

/// `values` as an int64 tensor on `device`.
fn upload(values: &[usize], device: Device) -> Result<Tensor> {
    upload_slice(&values.iter().map(|&v| v as i64).collect::<Vec<_>>(), device)
}

/// `out[i] = src[src_layout(i) + table[table_layout(i)]]` for every position `i` of
/// `src_layout.shape`, into a new contiguous tensor on `src`'s device.
pub(crate) fn gather(src: &Tensor, src_layout: &Layout, table: &[usize], table_layout: &Layout) -> Result<Tensor> {
    let shape = &src_layout.shape;
    let out = Tensor::uninit_on(shape, src.dtype(), src.device())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let table = upload(table, src.device())?;
    let e = Elementwise::new(shape, [out.strides(), &src_layout.strides, &table_layout.strides])?;
    let (o, s, t) = (address(&out, 0), address(src, src_layout.offset), address(&table, table_layout.offset));
    launch!(index_of(src)?, format!("gather_{}", suffix(src.dtype())), e.config(); &e.n, &e.shape, &e.strides, &o, &s, &t)?;
    Ok(out)
}

/// `dst[dst_at[i]] = how(dst[dst_at[i]], src[src_at[i]])` for every `i` (storage offsets of
/// both tensors, which share a dtype and a device). Duplicate destinations accumulate (every
/// rule but `Assign`, whose winner is unspecified, as in PyTorch's CUDA scatter).
pub(crate) fn scatter(dst: &Tensor, src: &Tensor, dst_at: &[usize], src_at: &[usize], how: Combine) -> Result<()> {
    debug_assert_eq!(dst_at.len(), src_at.len());
    if dst_at.is_empty() {
        return Ok(());
    }
    // A 0-d host tensor (a scatter's value) joins a GPU destination, as in element-wise ops;
    // its copy on the device starts at its own offset, which every pair then reads.
    crate::device::common_device(&[dst, src])?;
    let moved;
    let (src, src_at) = if src.device() == dst.device() {
        (src, std::borrow::Cow::Borrowed(src_at))
    } else {
        moved = src.to_device(dst.device())?;
        let at = moved.offset();
        (&moved, std::borrow::Cow::Owned(vec![at; src_at.len()]))
    };
    let (dt, st) = (upload(dst_at, dst.device())?, upload(&src_at, dst.device())?);
    let n = dst_at.len() as i64;
    let config = threads_for(dst_at.len());
    let (d, s, da, sa) = (address(dst, 0), address(src, 0), address(&dt, 0), address(&st, 0));
    let name = format!("scatter_{}_{}", how.name(), suffix(dst.dtype()));
    launch!(index_of(dst)?, name, config; &n, &d, &s, &da, &sa)
}
