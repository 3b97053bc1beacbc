//! The index ops' loops on CUDA tensors (the twins of `ops/index/kernel.rs`): a gather and a
//! one-dim scatter through index values that stay on the device (the kernels check them and
//! report faults in the device's fault word, `faults`), and a scatter of (destination, source)
//! offset pairs for the tables the host builds (advanced indexing, masks, flat positions).

use super::dispatch::{address, index_of, launch, threads_for, upload_slice, Elementwise};
use super::kernels::suffix;
use crate::device::Device;
use crate::error::Result;
use crate::layout::Layout;
use crate::ops::index::checks::{Deltas, IndexRule};
use crate::ops::index::kernel::{Combine, ScatterPlan};
use crate::tensor::Tensor;

/// `values` as an int64 tensor on `device`.
fn upload(values: &[usize], device: Device) -> Result<Tensor> {
    upload_slice(&values.iter().map(|&v| v as i64).collect::<Vec<_>>(), device)
}

/// The index arguments of a kernel: the values (a host table uploaded as values that cannot
/// fault), their first element's address, and the rule as kernel scalars `(size, stride, wrap,
/// fault)` with the fault word's address.
struct IndexArgs {
    values: Tensor,
    rule: [i64; 4],
    faults: u64,
}

impl IndexArgs {
    fn new(deltas: &Deltas, device: Device) -> Result<IndexArgs> {
        let index = match device {
            Device::Cuda(i) => i,
            Device::Cpu => unreachable!("CUDA index arguments for a CPU tensor"),
        };
        let faults = super::faults::word(index)?;
        Ok(match deltas {
            Deltas::Table(table) => IndexArgs { values: upload(table, device)?, rule: [i64::MAX, 1, 0, 0], faults },
            Deltas::Values { index, rule } => IndexArgs { values: index.clone(), rule: Self::rule(rule), faults },
        })
    }

    fn rule(r: &IndexRule) -> [i64; 4] {
        [r.size as i64, r.stride as i64, r.wrap as i64, r.fault.code()]
    }

    /// The address of the value at `offset` (relative to the values' own offset).
    fn at(&self, offset: usize) -> u64 {
        address(&self.values, self.values.offset() + offset)
    }

    /// After the launch on device `index`: a kernel checking index values may have faulted.
    fn launched(&self, index: usize) {
        if self.rule[3] != 0 {
            super::faults::arm(index);
        }
    }
}

/// `out[i] = src[src_layout(i) + delta[table_layout(i)]]` for every position `i` of
/// `src_layout.shape`, into a new contiguous tensor on `src`'s device; `table_layout` walks
/// the deltas (row-major over the index's elements).
pub(crate) fn gather(src: &Tensor, src_layout: &Layout, deltas: &Deltas, table_layout: &Layout) -> Result<Tensor> {
    let shape = &src_layout.shape;
    let out = Tensor::uninit_on(shape, src.dtype(), src.device())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let x = IndexArgs::new(deltas, src.device())?;
    let e = Elementwise::new(shape, [out.strides(), &src_layout.strides, &table_layout.strides])?;
    let (o, s, t) = (address(&out, 0), address(src, src_layout.offset), x.at(table_layout.offset));
    let [size, stride, wrap, fault] = x.rule;
    let index = index_of(src)?;
    launch!(index, format!("gather_{}", suffix(src.dtype())), e.config(); &e.n, &e.shape, &e.strides, &o, &s, &t, &size, &stride, &wrap, &fault, &x.faults)?;
    x.launched(index);
    Ok(out)
}

/// Checks the contiguous int64 `index` on its device against `rule`, reporting the first value
/// out of range in the fault word (nothing waits).
pub(crate) fn check_values(index: &Tensor, rule: &IndexRule) -> Result<()> {
    if index.numel() == 0 {
        return Ok(());
    }
    let x = IndexArgs::new(&Deltas::Values { index: index.clone(), rule: *rule }, index.device())?;
    let [size, stride, wrap, fault] = x.rule;
    let (device, n, at) = (index_of(index)?, index.numel() as i64, x.at(0));
    launch!(device, "index_check".to_string(), threads_for(index.numel()); &n, &at, &size, &stride, &wrap, &fault, &x.faults)?;
    x.launched(device);
    Ok(())
}

/// `src` shares `dst`'s device, or is one host element (a scatter's value, which the index ops
/// make at least 1-d): the device ops' one exception to the same-device rule.
fn same_device_or_host_value(dst: &Tensor, src: &Tensor) -> Result<()> {
    if src.device() == crate::Device::Cpu && src.numel() == 1 {
        return Ok(());
    }
    crate::device::common_device(&[dst, src]).map(|_| ())
}

/// The scatter of `plan` whose deltas are index values on the device along one dim: every
/// outer position and `k`, with sources stepping linearly in `k` (the one-dim ops' plans).
pub(crate) fn scatter_values(dst: &Tensor, src: &Tensor, plan: &ScatterPlan, index: &Tensor, rule: &IndexRule, how: Combine) -> Result<()> {
    let k = plan.src_k.len();
    if k == 0 || plan.outer.contains(&0) {
        return Ok(());
    }
    same_device_or_host_value(dst, src)?;
    // A 0-d host value joins a GPU destination as in element-wise ops; its copy on the device
    // starts at its own offset (the plan's strides are all zero for it).
    let (src, base) = if src.device() == dst.device() {
        (src.clone(), plan.src.1 + plan.src_k[0])
    } else {
        let moved = src.to_device(dst.device())?;
        let at = moved.offset();
        (moved, at)
    };
    let src_k = if k > 1 { plan.src_k[1] - plan.src_k[0] } else { 0 };
    debug_assert!(plan.src_k.iter().enumerate().all(|(j, &o)| o == plan.src_k[0] + j * src_k), "source steps linearly in k");
    let mut shape = plan.outer.clone();
    shape.push(k);
    let with = |outer: &[usize], last: usize| outer.iter().copied().chain([last]).collect::<Vec<_>>();
    let strides = [with(&plan.dst.0, 0), with(&plan.src.0, src_k), with(&plan.table_outer.0, plan.table_k)];
    let e = Elementwise::new(&shape, [&strides[0][..], &strides[1][..], &strides[2][..]])?;
    let x = IndexArgs::new(&Deltas::Values { index: index.clone(), rule: *rule }, dst.device())?;
    let (d, s, t) = (address(dst, plan.dst.1), address(&src, base), x.at(plan.table_outer.1));
    let [size, stride, wrap, fault] = x.rule;
    let (index, name) = (index_of(dst)?, format!("scatter_index_{}_{}", how.name(), suffix(dst.dtype())));
    launch!(index, name, e.config(); &e.n, &e.shape, &e.strides, &d, &s, &t, &size, &stride, &wrap, &fault, &x.faults)?;
    x.launched(index);
    Ok(())
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
    same_device_or_host_value(dst, src)?;
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
