//! Tensor ops on CUDA tensors: the element-wise kernels of `kernels/` launched over tensor
//! layouts, copies between host and device, and full reductions. Ops reach this module from
//! their CPU entry points (`ops/*.rs`), after the same argument checks and type promotion.
//!
//! All work is queued on the thread's current stream of the device (the legacy default stream
//! unless `torch.cuda.stream(s)` says otherwise), so kernels run in issue order and the host
//! copies (`.cpu()`, `.item()`, printing) wait for them.

use std::sync::Arc;

use cudarc::driver::{result as driver, CudaStream, LaunchConfig};

use super::kernels::{suffix, Reduction, Scan};
use super::launch_layout::{KernelShape, KernelStrides};
use super::{device, driver_error, guarded};
use crate::device::Device;
use crate::dtype::{DType, Element, Scalar};
use crate::error::Result;
use crate::layout::Layout;
use crate::ops::binary::BinaryOp;
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

/// Threads per block of the element-wise kernels.
pub(super) const BLOCK: u32 = 256;
/// The most blocks launched: the kernels' grid-stride loops cover larger tensors.
pub(super) const MAX_BLOCKS: usize = 65535;

/// The CUDA index of a tensor's device.
pub(super) fn index_of(t: &Tensor) -> Result<usize> {
    match t.device() {
        Device::Cuda(i) => Ok(i),
        Device::Cpu => bail!(Runtime, "expected a CUDA tensor, got one on the CPU"),
    }
}

/// `values` as a 1-d tensor on `device`: the tables and operands kernels read, built on the host.
pub(super) fn upload_slice<T: Element>(values: &[T], device: Device) -> Result<Tensor> {
    Tensor::from_slice(values, &[values.len()])?.to_device(device)
}

/// The device address of the element at storage offset `offset` of `t`.
pub(super) fn address(t: &Tensor, offset: usize) -> u64 {
    (t.storage().address() + offset * t.dtype().size()) as u64
}

/// The device address of an optional contiguous operand (0, a null pointer, when absent).
pub(super) fn optional(t: Option<&Tensor>) -> u64 {
    t.map_or(0, |t| address(t, t.offset()))
}

/// The stream kernels and uploads for device `index` are queued on: this thread's current one.
pub(super) fn stream(index: usize) -> Result<Arc<CudaStream>> {
    super::stream::current(index)
}

/// What an element-wise kernel takes besides its pointers: the element count, the coalesced
/// iteration shape, the strides of its N operands (output first) and whether all are dense.
pub(super) struct Elementwise<const N: usize> {
    pub n: i64,
    pub shape: KernelShape,
    pub strides: KernelStrides<N>,
    pub contiguous: i32,
}

impl<const N: usize> Elementwise<N> {
    pub fn new(shape: &[usize], strides: [&[usize]; N]) -> Result<Self> {
        let (shape, strides) = Layout::coalesce(shape, &strides);
        let contiguous = shape.len() <= 1 && strides.iter().all(|s| s.first().is_none_or(|&x| x == 1));
        let refs: [&[usize]; N] = std::array::from_fn(|k| strides[k].as_slice());
        Ok(Elementwise {
            n: shape.iter().product::<usize>() as i64,
            shape: KernelShape::new(&shape)?,
            strides: KernelStrides::new(refs)?,
            contiguous: i32::from(contiguous),
        })
    }

    pub fn config(&self) -> LaunchConfig {
        threads_for(self.n as usize)
    }
}

/// A 1-D launch of `blocks` blocks of `BLOCK` threads (at least one, at most `MAX_BLOCKS`:
/// the kernels loop over the rest).
pub(super) fn grid(blocks: usize) -> LaunchConfig {
    LaunchConfig { grid_dim: (blocks.clamp(1, MAX_BLOCKS) as u32, 1, 1), block_dim: (BLOCK, 1, 1), shared_mem_bytes: 0 }
}

/// A 1-D launch with a thread for each of `n` items.
pub(super) fn threads_for(n: usize) -> LaunchConfig {
    grid(n.div_ceil(BLOCK as usize))
}

/// The launch of a line kernel over `(outer, size, inner)` (softmax.cu, scan.cu): a block per
/// row when `inner == 1`, else a thread per strided line.
pub(super) fn line_grid(outer: usize, inner: usize) -> LaunchConfig {
    if inner == 1 { grid(outer) } else { threads_for(outer * inner) }
}

/// Launches kernel `$name` on device `$index` with `$config` and the given arguments (each a
/// reference to a `DeviceRepr` value that lives until the launch returns).
macro_rules! launch {
    ($index:expr, $name:expr, $config:expr; $($arg:expr),* $(,)?) => {{
        let index = $index;
        let function = $crate::cuda::loader::kernel(index, &$name)?;
        let stream = $crate::cuda::dispatch::stream(index)?;
        let mut builder = stream.launch_builder(&function);
        $( cudarc::driver::PushKernelArg::arg(&mut builder, $arg); )*
        // SAFETY: the arguments match the kernel's parameters as kernels/mod.rs declares them,
        // and the caller sized every pointer's memory for the offsets the layouts reach.
        $crate::cuda::guarded("cuLaunchKernel", || unsafe { builder.launch($config) }.map(drop).map_err($crate::cuda::driver_error))
    }};
}
pub(super) use launch;

/// `out[i] = cast(src[i])` over `shape`, both on one device; `src_layout` may broadcast.
fn copy_on_device(dst: &Tensor, dst_layout: &Layout, src: &Tensor, src_layout: &Layout) -> Result<()> {
    let e = Elementwise::new(&dst_layout.shape, [&dst_layout.strides, &src_layout.strides])?;
    if e.n == 0 || dst_layout.numel() == 0 {
        return Ok(());
    }
    let (out, input) = (address(dst, dst_layout.offset), address(src, src_layout.offset));
    let name = format!("copy_{}_{}", suffix(src.dtype()), suffix(dst.dtype()));
    launch!(index_of(dst)?, name, e.config(); &e.n, &e.shape, &e.strides, &e.contiguous, &out, &input)
}

/// Writes `src` (broadcast to `dst_layout.shape`, cast to `dst`'s dtype) into `dst` at
/// `dst_layout`, where at least one of them is a CUDA tensor.
pub fn copy(dst: &Tensor, dst_layout: &Layout, src: &Tensor) -> Result<()> {
    let src_layout = src.layout().broadcast_to(&dst_layout.shape)?;
    if dst_layout.numel() == 0 {
        return Ok(());
    }
    match (dst.device(), src.device()) {
        (Device::Cuda(i), Device::Cuda(j)) if i == j => copy_on_device(dst, dst_layout, src, &src_layout),
        // Between two GPUs through the host: simple, and rare enough for now.
        (Device::Cuda(_), Device::Cuda(_)) => copy(dst, dst_layout, &src.to_device(Device::Cpu)?),
        (Device::Cuda(_), Device::Cpu) => upload(dst, dst_layout, src),
        (Device::Cpu, Device::Cuda(_)) => download(dst, dst_layout, &src.with_layout(src_layout)),
        (Device::Cpu, Device::Cpu) => bail!(Runtime, "cuda::dispatch::copy called for two CPU tensors"),
    }
}

/// Host to device: the source is packed on the host in the destination's dtype and shape,
/// copied over, then scattered into the destination's layout when that is not dense. A dense
/// pinned source of the destination's dtype and shape is copied straight from its memory.
fn upload(dst: &Tensor, dst_layout: &Layout, src: &Tensor) -> Result<()> {
    if let Some(pinned) = src.storage().pinned() {
        if src.is_contiguous() && src.dtype() == dst.dtype() && src.shape() == dst_layout.shape.as_slice() && dst_layout.is_contiguous() {
            return upload_pinned(dst, dst_layout.offset, src, pinned);
        }
    }
    let packed = Tensor::uninit(&dst_layout.shape, dst.dtype())?;
    packed.copy_from(src)?;
    let target = if dst_layout.is_contiguous() { None } else { Some(Tensor::uninit_on(&dst_layout.shape, dst.dtype(), dst.device())?) };
    let (to, offset) = match &target {
        Some(t) => (t, 0),
        None => (dst, dst_layout.offset),
    };
    let bytes = packed.numel() * packed.dtype().size();
    let host = packed.storage().as_ptr()?;
    let index = index_of(dst)?;
    device::bind(index)?;
    let stream = stream(index)?;
    // Queued on the stream like a kernel, so an upload (a scalar operand, a small table) does
    // not wait for the device to drain. The driver has read pageable host memory by the time
    // the call returns, so `packed` may be dropped right after.
    // SAFETY: `host` holds `bytes` bytes; the device range is inside the destination storage
    // (a dense layout of that many bytes starting at `offset`).
    guarded("cuMemcpyHtoDAsync", || {
        unsafe { driver::memcpy_htod_async(address(to, offset), std::slice::from_raw_parts(host, bytes), stream.cu_stream()) }.map_err(driver_error)
    })?;
    match target {
        Some(t) => copy_on_device(dst, dst_layout, &t, t.layout()),
        None => Ok(()),
    }
}

/// The copy of a dense pinned `src` into `dst` at `offset`: queued on the current stream, and
/// waited for unless the copy is `non_blocking` (then the buffer records an event that its
/// drop waits for).
fn upload_pinned(dst: &Tensor, offset: usize, src: &Tensor, pinned: &super::pinned::PinnedBuffer) -> Result<()> {
    let bytes = src.numel() * src.dtype().size();
    let index = index_of(dst)?;
    device::bind(index)?;
    let stream = stream(index)?;
    let host = unsafe { pinned.ptr().add(src.offset() * src.dtype().size()) };
    // SAFETY: `host` holds `bytes` bytes of the pinned block, which outlives the copy (its drop
    // waits for the copy's event); the device range is the destination's dense elements.
    guarded("cuMemcpyHtoDAsync", || {
        unsafe { driver::memcpy_htod_async(address(dst, offset), std::slice::from_raw_parts(host, bytes), stream.cu_stream()) }.map_err(driver_error)
    })?;
    if super::pinned::is_non_blocking() {
        return pinned.read_by(&stream);
    }
    guarded("cuStreamSynchronize", || stream.synchronize().map_err(driver_error))
}

/// Device to host: the source is packed on the device in the destination's dtype, copied to a
/// host buffer, then into the destination's layout.
fn download(dst: &Tensor, dst_layout: &Layout, src: &Tensor) -> Result<()> {
    let packed = if src.is_contiguous() && src.dtype() == dst.dtype() { src.clone() } else { src.copy_to(dst.dtype(), src.device())? };
    let host = Tensor::uninit(&dst_layout.shape, dst.dtype())?;
    let bytes = host.numel() * host.dtype().size();
    let ptr = host.storage().as_ptr()?;
    device::bind(index_of(src)?)?;
    let ticket = super::faults::ticket();
    // The synchronous copy is ordered after the default stream's work; a current stream of
    // the user's is waited for first.
    super::stream::sync_current(index_of(src)?)?;
    // SAFETY: `ptr` has room for `bytes` bytes; the device range is `packed`'s dense elements.
    guarded("cuMemcpyDtoH", || unsafe { driver::memcpy_dtoh_sync(std::slice::from_raw_parts_mut(ptr, bytes), address(&packed, packed.offset())) }.map_err(driver_error))?;
    // The host has waited for the device: faults of index kernels surface here.
    let index = index_of(src)?;
    super::faults::raise_pending(super::faults::Waited::Streams(index, [0, super::stream::current_id(index)], ticket))?;
    crate::ops::copy::copy_strided(dst, dst_layout, &host)
}

/// Sets every element of `t` (in place) to `value`.
pub fn fill(t: &Tensor, value: Scalar) -> Result<()> {
    let e = Elementwise::new(t.shape(), [t.strides()])?;
    if t.numel() == 0 {
        return Ok(());
    }
    let (out, v) = (address(t, t.offset()), RawScalar::new(value, t.dtype()));
    let name = format!("fill_{}", suffix(t.dtype()));
    launch!(index_of(t)?, name, e.config(); &e.n, &e.shape, &e.strides, &e.contiguous, &out, &v)
}

/// A scalar kernel argument as its little-endian bytes: the driver reads as many bytes as the
/// parameter's type has, so one 8-byte buffer serves every dtype (half types included).
#[repr(C, align(8))]
struct RawScalar([u8; 8]);

// SAFETY: plain bytes.
unsafe impl cudarc::driver::DeviceRepr for RawScalar {}

impl RawScalar {
    fn new(value: Scalar, dtype: DType) -> Self {
        let mut bytes = [0u8; 8];
        with_dtype!(dtype, T => {
            let v = T::from_scalar(value);
            // SAFETY: every element type is at most 8 bytes of plain data.
            unsafe { std::ptr::copy_nonoverlapping(&v as *const T as *const u8, bytes.as_mut_ptr(), std::mem::size_of::<T>()) };
        });
        RawScalar(bytes)
    }
}

/// `unary_<op>` of `t` converted to `dtype` (which has a kernel for the op), into a new tensor.
pub fn unary(op: &str, t: &Tensor, dtype: DType) -> Result<Tensor> {
    let t = t.to_dtype(dtype)?;
    let out = Tensor::uninit_on(t.shape(), dtype, t.device())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let e = Elementwise::new(out.shape(), [out.strides(), t.strides()])?;
    let (o, i) = (address(&out, 0), address(&t, t.offset()));
    launch!(index_of(&out)?, format!("unary_{op}_{}", suffix(dtype)), e.config(); &e.n, &e.shape, &e.strides, &e.contiguous, &o, &i)?;
    Ok(out)
}

/// `out = op(a, b)` with `a` and `b` of the kernel's dtype broadcast to `out`'s shape; `out`
/// may be strided and may be `a` itself (the in-place form).
pub fn binary_into(op: BinaryOp, out: &Tensor, a: &Tensor, b: &Tensor) -> Result<()> {
    if out.numel() == 0 {
        return Ok(());
    }
    let (la, lb) = (a.layout().broadcast_to(out.shape())?, b.layout().broadcast_to(out.shape())?);
    let e = Elementwise::new(out.shape(), [out.strides(), &la.strides, &lb.strides])?;
    let (o, x, y) = (address(out, out.offset()), address(a, la.offset), address(b, lb.offset));
    let name = format!("binary_{}_{}", op.name(), suffix(a.dtype()));
    launch!(index_of(out)?, name, e.config(); &e.n, &e.shape, &e.strides, &e.contiguous, &o, &x, &y)
}

/// `op(a, b)` into a new tensor of `shape` and dtype `out_dtype` (the kernel's output type).
pub fn binary(op: BinaryOp, a: &Tensor, b: &Tensor, shape: &[usize], out_dtype: DType) -> Result<Tensor> {
    let out = Tensor::uninit_on(shape, out_dtype, a.device())?;
    binary_into(op, &out, a, b)?;
    Ok(out)
}

/// `where(cond, a, b)` into a new tensor of `shape`; `a` and `b` share a dtype, `cond` is bool.
pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let out = Tensor::uninit_on(shape, a.dtype(), a.device())?;
    where_into(&out, cond, a, b)?;
    Ok(out)
}

/// `out = where(cond, a, b)` with the operands broadcast to `out`, which may be strided and may
/// be `b` itself (`masked_fill_` is `where_into(t, mask, value, t)`).
pub fn where_into(out: &Tensor, cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<()> {
    let shape = out.shape();
    if out.numel() == 0 {
        return Ok(());
    }
    let (lc, la, lb) = (cond.layout().broadcast_to(shape)?, a.layout().broadcast_to(shape)?, b.layout().broadcast_to(shape)?);
    let e = Elementwise::new(shape, [out.strides(), &lc.strides, &la.strides, &lb.strides])?;
    let (o, c, x, y) = (address(out, out.offset()), address(cond, lc.offset), address(a, la.offset), address(b, lb.offset));
    launch!(index_of(out)?, format!("where_{}", suffix(a.dtype())), e.config(); &e.n, &e.shape, &e.strides, &e.contiguous, &o, &c, &x, &y)
}

/// `reduction` of `t` over the dims where `mask` is true, as `dtype`, read in place: each
/// output row folds its elements wherever the layout puts them ([`Rows`]). Rows that are
/// neighbours in memory get a thread each; otherwise blocks fold rows, and few long rows are
/// split over several blocks whose partials a second launch folds.
pub fn reduce(reduction: Reduction, t: &Tensor, mask: &[bool], keepdim: bool, dtype: DType) -> Result<Tensor> {
    let (src, rows_of) = match Rows::of(t, mask)? {
        Some(r) => (t.clone(), r),
        None => {
            // Groups of more than 8 dims even after coalescing: copied into rows first.
            let plan = crate::ops::reduce::Plan::rows(t, mask, keepdim)?;
            (plan.src().clone(), Rows::dense(plan.outputs(), plan.reduced())?)
        }
    };
    let (t, rows, cols) = (&src, rows_of.rows, rows_of.cols);
    let acc = reduction.accumulator(t.dtype());
    let index = index_of(t)?;
    let out = Tensor::uninit_on(&[rows], acc, t.device())?;
    if rows > 0 {
        let blocks = blocks_per_row(rows, cols);
        if rows_of.neighbours() {
            let chunks = column_chunks(rows, cols);
            let grid = |chunks: usize| LaunchConfig { grid_dim: (threads_for(rows).grid_dim.0, chunks as u32, 1), ..threads_for(rows) };
            if chunks == 1 {
                launch_reduce(index, "columns_", reduction, t, &rows_of, &out, grid(1))?;
            } else {
                let partials = Tensor::uninit_on(&[chunks * rows], acc, t.device())?;
                launch_reduce(index, "columns_", reduction, t, &rows_of, &partials, grid(chunks))?;
                launch_reduce(index, "columns_", reduction, &partials, &Rows::dense(chunks, rows)?.transposed(), &out, grid(1))?;
            }
        } else if blocks > 1 {
            let partials = Tensor::uninit_on(&[rows * blocks], acc, t.device())?;
            launch_reduce(index, "", reduction, t, &rows_of, &partials, row_grid(blocks, rows))?;
            launch_reduce(index, "", reduction, &partials, &Rows::dense(rows, blocks)?, &out, row_grid(1, rows))?;
        } else {
            launch_reduce(index, "", reduction, t, &rows_of, &out, row_grid(1, rows))?;
        }
    }
    let shape: Vec<i64> = crate::ops::reduce::reduced_shape(t.shape(), mask, keepdim).iter().map(|&s| s as i64).collect();
    out.view(&shape)?.to_dtype(dtype)
}

/// A reduction's input as rows: output row `r` folds the `cols` elements at
/// `base(r) + offset(c)`, with `base` from the kept dims (in order, so outputs come out
/// row-major) and `offset` from the reduced ones, each group coalesced on its own.
struct Rows {
    rows: usize,
    cols: usize,
    kept: KernelShape,
    kept_strides: KernelStrides<1>,
    reduced: KernelShape,
    reduced_strides: KernelStrides<1>,
    /// The innermost kept stride (0 with no kept dim): 1 means neighbouring rows are
    /// neighbouring elements.
    inner: usize,
}

/// The reduce kernels' kept and reduced layouts of `rows` contiguous rows of `cols` elements:
/// kept dim `rows` of stride `cols`, reduced dim `cols` of stride 1.
pub(super) fn dense_rows(rows: usize, cols: usize) -> Result<(KernelShape, KernelStrides<1>, KernelShape, KernelStrides<1>)> {
    Ok((KernelShape::new(&[rows])?, KernelStrides::new([&[cols]])?, KernelShape::new(&[cols])?, KernelStrides::new([&[1]])?))
}

impl Rows {
    /// The rows of `t` reduced over the dims where `mask` is true; None when a group has more
    /// dims than the kernels take, even coalesced.
    fn of(t: &Tensor, mask: &[bool]) -> Result<Option<Rows>> {
        let group = |keep: bool| {
            let dims: Vec<usize> = (0..t.ndim()).filter(|&d| mask[d] != keep).collect();
            let shape: Vec<usize> = dims.iter().map(|&d| t.shape()[d]).collect();
            let strides: Vec<usize> = dims.iter().map(|&d| t.strides()[d]).collect();
            let (shape, strides) = Layout::coalesce(&shape, &[&strides]);
            (shape, strides.into_iter().next().unwrap_or_default())
        };
        let ((kept, kept_strides), (reduced, reduced_strides)) = (group(true), group(false));
        if kept.len().max(reduced.len()) > super::launch_layout::MAX_DIMS {
            return Ok(None);
        }
        // Coalescing drops dims of size 1 but keeps those of size 0, which empty their group.
        Ok(Some(Rows {
            rows: kept.iter().product(),
            cols: reduced.iter().product(),
            inner: kept_strides.last().copied().unwrap_or(0),
            kept: KernelShape::new(&kept)?,
            kept_strides: KernelStrides::new([&kept_strides])?,
            reduced: KernelShape::new(&reduced)?,
            reduced_strides: KernelStrides::new([&reduced_strides])?,
        }))
    }

    /// The same elements read the other way: row `j` folds column `j` (for partials laid out
    /// as `(chunks, rows)`, whose rows are neighbours).
    fn transposed(self) -> Rows {
        Rows {
            rows: self.cols,
            cols: self.rows,
            inner: 1,
            kept: self.reduced,
            kept_strides: self.reduced_strides,
            reduced: self.kept,
            reduced_strides: self.kept_strides,
        }
    }

    /// `rows` contiguous rows of `cols` elements (partials).
    fn dense(rows: usize, cols: usize) -> Result<Rows> {
        let (kept, kept_strides, reduced, reduced_strides) = dense_rows(rows, cols)?;
        Ok(Rows { rows, cols, inner: cols, kept, kept_strides, reduced, reduced_strides })
    }

    /// Whether a thread per row reads coalesced: neighbouring rows are neighbouring elements,
    /// and there are enough rows to fill a few blocks.
    fn neighbours(&self) -> bool {
        self.inner == 1 && self.rows >= 32
    }
}

/// Into how many chunks a thread-per-row fold cuts its columns: enough to run about 64K
/// threads, each folding at least 16 elements.
fn column_chunks(rows: usize, cols: usize) -> usize {
    const TARGET_THREADS: usize = 1 << 16;
    (TARGET_THREADS / rows).clamp(1, cols.div_ceil(16).max(1)).min(65535)
}

/// How many blocks fold each row: one, unless few rows are long enough to leave the GPU idle
/// (a block folds at least 16 elements per thread).
fn blocks_per_row(rows: usize, cols: usize) -> usize {
    // 1024 blocks measured 3.9 TB/s on a 64M-float sum on an H200, 512 gave 3.2.
    const TARGET_BLOCKS: usize = 1024;
    if rows >= TARGET_BLOCKS / 2 {
        return 1;
    }
    cols.div_ceil(BLOCK as usize * 16).min(TARGET_BLOCKS.div_ceil(rows)).max(1)
}

/// Blocks `(x: per row, y: rows)`; rows past the grid's limit are looped over.
fn row_grid(blocks: usize, rows: usize) -> LaunchConfig {
    LaunchConfig { grid_dim: (blocks as u32, rows.clamp(1, 65535) as u32, 1), block_dim: (BLOCK, 1, 1), shared_mem_bytes: 0 }
}

fn launch_reduce(index: usize, form: &str, reduction: Reduction, input: &Tensor, r: &Rows, out: &Tensor, config: LaunchConfig) -> Result<()> {
    let (rows, cols) = (r.rows as i64, r.cols as i64);
    let (i, o) = (address(input, input.offset()), address(out, out.offset()));
    let name = format!("reduce_{form}{}_{}", reduction.name(), suffix(input.dtype()));
    launch!(index, name, config; &rows, &cols, &r.kept, &r.kept_strides, &r.reduced, &r.reduced_strides, &i, &o)
}

/// The extreme (`max`, else min) of `t` along the one dim where `mask` is true, and its first
/// index: `(values, indices)` as `max(dim)` returns them.
pub fn arg_reduce(max: bool, t: &Tensor, mask: &[bool], keepdim: bool) -> Result<(Tensor, Tensor)> {
    let plan = crate::ops::reduce::Plan::rows(t, mask, keepdim)?;
    let (src, rows, cols) = (plan.src(), plan.outputs(), plan.reduced());
    let values = Tensor::uninit_on(&[rows], t.dtype(), t.device())?;
    let indices = Tensor::uninit_on(&[rows], DType::I64, t.device())?;
    if rows > 0 && cols > 0 {
        let (r, c) = (rows as i64, cols as i64);
        let (i, v, x) = (address(src, src.offset()), address(&values, 0), address(&indices, 0));
        let config = grid(rows);
        let name = format!("argreduce_{}_{}", if max { "max" } else { "min" }, suffix(t.dtype()));
        launch!(index_of(t)?, name, config; &r, &c, &i, &v, &x)?;
    }
    let shape: Vec<i64> = plan.out_shape().iter().map(|&s| s as i64).collect();
    Ok((values.view(&shape)?, indices.view(&shape)?))
}

/// The running sum, product or log-sum-exp of `t` along `dim`, in `scan_output`'s dtype.
pub fn scan(op: Scan, t: &Tensor, dim: usize) -> Result<Tensor> {
    let c = t.contiguous()?;
    let out = Tensor::uninit_on(c.shape(), super::kernels::scan_output(c.dtype()), c.device())?;
    scan_lines(op.name(), &c, dim, &out, None)?;
    Ok(out)
}

/// `cummax` (`max`) or `cummin` of `t` along `dim`: values and int64 positions (scan.cu's rules:
/// ties move the position forward, NaN sticks).
pub fn running_extreme(max: bool, t: &Tensor, dim: usize) -> Result<(Tensor, Tensor)> {
    let c = t.contiguous()?;
    let values = Tensor::uninit_on(c.shape(), c.dtype(), c.device())?;
    let indices = Tensor::uninit_on(c.shape(), DType::I64, c.device())?;
    scan_lines(if max { "cummax" } else { "cummin" }, &c, dim, &values, Some(&indices))?;
    Ok((values, indices))
}

/// Launches `scan_<op>` over the contiguous `c` along `dim` into `out` (and `indices`).
fn scan_lines(op: &str, c: &Tensor, dim: usize, out: &Tensor, indices: Option<&Tensor>) -> Result<()> {
    if out.numel() == 0 {
        return Ok(());
    }
    let (o, r, k) = crate::ops::reduce::split_at_dim(c.shape(), dim);
    let config = line_grid(o, k);
    let (oi, ri, ki) = (o as i64, r as i64, k as i64);
    let (i, y) = (address(c, c.offset()), address(out, 0));
    let name = format!("scan_{op}_{}", suffix(c.dtype()));
    match indices {
        Some(ix) => {
            let p = address(ix, 0);
            launch!(index_of(c)?, name, config; &oi, &ri, &ki, &i, &y, &p)
        }
        None => launch!(index_of(c)?, name, config; &oi, &ri, &ki, &i, &y),
    }
}

/// `softmax` (or `log_softmax` when `log`) of the contiguous float32/float64 tensor `t` along
/// the dim that splits its shape as `(outer, size, inner)`.
pub fn softmax(t: &Tensor, (o, r, k): (usize, usize, usize), log: bool) -> Result<Tensor> {
    let out = Tensor::uninit_on(t.shape(), t.dtype(), t.device())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let config = line_grid(o, k);
    let (oi, ri, ki, flag) = (o as i64, r as i64, k as i64, i32::from(log));
    let (i, y) = (address(t, t.offset()), address(&out, 0));
    launch!(index_of(t)?, format!("softmax_{}", suffix(t.dtype())), config; &oi, &ri, &ki, &i, &y, &flag)?;
    Ok(out)
}

/// `reduce_<op>_<dtype>` over `rows` contiguous rows of `cols` elements of `input`, with
/// `blocks` blocks per row writing `rows * blocks` partials to `out`.
#[cfg(test)]
mod tests {
    use super::*;

    /// Batch norm's statistics (all but the channel dim of NCHW): the channels are rows of
    /// N runs of H*W elements, read in place; a sum over the batch of (N, F): neighbours.
    #[test]
    fn reductions_read_their_rows_in_place() {
        let t = Tensor::zeros(&[4, 3, 5, 6], DType::F32).unwrap();
        let r = Rows::of(&t, &[true, false, true, true]).unwrap().unwrap();
        assert_eq!((r.rows, r.cols, r.inner), (3, 120, 30));
        assert_eq!((r.reduced.ndim, &r.reduced.sizes[..2], &r.reduced_strides.of[0][..2]), (2, &[4, 30][..], &[90, 1][..]));
        assert!(!r.neighbours());
        let r = Rows::of(&Tensor::zeros(&[64, 512], DType::F32).unwrap(), &[true, false]).unwrap().unwrap();
        assert_eq!((r.rows, r.cols, r.inner), (512, 64, 1));
        assert!(r.neighbours());
        // A transposed view reduced along its last dim reads down the columns of its storage.
        let tt = Tensor::zeros(&[7, 300], DType::F32).unwrap().transpose(0, 1).unwrap();
        let r = Rows::of(&tt, &[false, true]).unwrap().unwrap();
        assert_eq!((r.rows, r.cols, r.inner, r.reduced_strides.of[0][0]), (300, 7, 1, 300));
        // Empty groups: no rows, or rows of no elements.
        let e = Tensor::zeros(&[0, 3], DType::F32).unwrap();
        let of = |t: &Tensor, mask: &[bool]| Rows::of(t, mask).unwrap().unwrap();
        assert_eq!((of(&e, &[true, false]).rows, of(&e, &[true, false]).cols), (3, 0));
        assert_eq!(of(&e, &[false, true]).rows, 0);
        // Partials of a chunked column fold, (chunks, rows), folded down their columns.
        let p = Rows::dense(4, 300).unwrap().transposed();
        assert_eq!((p.rows, p.cols, p.inner, p.kept_strides.of[0][0], p.reduced_strides.of[0][0]), (300, 4, 1, 1, 300));
        assert_eq!((column_chunks(512, 64), column_chunks(384, 16384), column_chunks(1 << 20, 10)), (4, 170, 1));
        // Nine reduced dims that do not coalesce (reversed): the copy into rows instead.
        let ten = Tensor::zeros(&[2; 10], DType::F32).unwrap().permute(&[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]).unwrap();
        let mask = [true, true, true, true, true, true, true, true, true, false];
        assert!(Rows::of(&ten, &mask).unwrap().is_none());
        assert!(Rows::of(&ten, &[false; 10]).unwrap().is_none());
        assert_eq!(blocks_per_row(1, 1 << 26), 1024);
        assert_eq!(blocks_per_row(64, 1 << 20), 16);
        assert_eq!(blocks_per_row(600, 1 << 20), 1);
    }

    #[test]
    fn dense_operands_launch_the_contiguous_path() {
        let e = Elementwise::<2>::new(&[4, 5], [&[5, 1], &[5, 1]]).unwrap();
        assert_eq!((e.n, e.contiguous, e.shape.ndim), (20, 1, 1));
    }

    #[test]
    fn broadcast_and_transposed_operands_keep_their_strides() {
        // out (3, 4) dense; input broadcast along dim 0.
        let e = Elementwise::<2>::new(&[3, 4], [&[4, 1], &[0, 1]]).unwrap();
        assert_eq!((e.n, e.contiguous, e.shape.ndim), (12, 0, 2));
        assert_eq!(&e.strides.of[1][..2], &[0, 1]);
        let e = Elementwise::<2>::new(&[3, 4], [&[4, 1], &[1, 3]]).unwrap();
        assert_eq!(e.contiguous, 0);
    }

    #[test]
    fn zero_d_and_empty_shapes() {
        let e = Elementwise::<1>::new(&[], [&[]]).unwrap();
        assert_eq!((e.n, e.contiguous), (1, 1));
        let e = Elementwise::<1>::new(&[3, 0], [&[0, 1]]).unwrap();
        assert_eq!(e.n, 0);
        assert_eq!(e.config().grid_dim.0, 1);
    }

    #[test]
    fn launches_are_capped_and_grid_stride_covers_the_rest() {
        let e = Elementwise::<1>::new(&[1 << 30], [&[1]]).unwrap();
        assert_eq!(e.config().grid_dim.0 as usize, MAX_BLOCKS);
    }

    #[test]
    fn scalar_arguments_hold_the_dtypes_bytes() {
        assert_eq!(RawScalar::new(Scalar::Float(1.5), DType::F32).0[..4], 1.5f32.to_le_bytes());
        assert_eq!(RawScalar::new(Scalar::Float(-2.0), DType::BF16).0[..2], half::bf16::from_f32(-2.0).to_bits().to_le_bytes());
        assert_eq!(RawScalar::new(Scalar::Int(-3), DType::I64).0, (-3i64).to_le_bytes());
        assert_eq!(RawScalar::new(Scalar::Int(1), DType::Bool).0, [1, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn cpu_tensors_are_refused_by_the_cuda_path() {
        let t = Tensor::zeros(&[2], DType::F32).unwrap();
        assert!(fill(&t, Scalar::Int(1)).is_err());
    }
}
