//! Pooling kernels. Every pooling op (max, average, adaptive, their adjoints and max unpooling)
//! works plane by plane (a plane is one `(n, c)` pair) over up to three spatial dims, through a
//! description of its windows: along each spatial dim, output index `o` reads the input positions
//! `first[o], first[o] + step, ...` below `end[o]`. Planes run in parallel.

use std::sync::Mutex;

use crate::cpu::iter::{for_each_offset, SendPtr};
use crate::dtype::{DType, Element};
use crate::error::Result;
use crate::layout::Layout;
use crate::ops::join::reorder::par_ranges;
use crate::tensor::Tensor;

/// The windows along one spatial dim.
#[derive(Clone, Debug)]
pub struct Axis {
    /// First input position read by each output index.
    pub first: Vec<usize>,
    /// End (exclusive) of each output index's window.
    pub end: Vec<usize>,
    /// Distance between the positions of a window (the dilation).
    pub step: usize,
    /// Each window's share of an average's divisor (the divisor is the product over dims).
    pub count: Vec<f64>,
}

impl Axis {
    /// The single window over a dim of size 1: what a missing spatial dim becomes.
    fn unit() -> Axis {
        Axis { first: vec![0], end: vec![1], step: 1, count: vec![1.0] }
    }

    /// Output size along this dim.
    pub fn len(&self) -> usize {
        self.first.len()
    }

    /// Window `o`'s taps: its first input position, how many taps it has and their spacing.
    #[inline(always)]
    fn taps(&self, o: usize) -> (usize, usize, usize) {
        let (first, end) = (self.first[o], self.end[o].max(self.first[o]));
        // Most windows are undilated: no division on that path.
        let n = if self.step == 1 { end - first } else { (end - first).div_ceil(self.step) };
        (first, n, self.step)
    }
}

/// All windows of a pooling op over `nd` (1 to 3) spatial dims.
#[derive(Clone, Debug)]
pub struct Windows {
    /// Spatial dims pooled.
    pub nd: usize,
    /// Input spatial sizes.
    pub input: Vec<usize>,
    /// One `Axis` per spatial dim.
    pub axes: Vec<Axis>,
    /// A divisor replacing the window counts (`divisor_override`).
    pub divisor: Option<f64>,
}

impl Windows {
    /// Output spatial sizes.
    pub fn output(&self) -> Vec<usize> {
        self.axes.iter().map(Axis::len).collect()
    }

    /// The axes padded with leading unit dims to three, so one loop nest serves 1-3 dims.
    pub(crate) fn axes3(&self) -> [Axis; 3] {
        let pad = 3 - self.nd;
        std::array::from_fn(|d| if d < pad { Axis::unit() } else { self.axes[d - pad].clone() })
    }

    pub(crate) fn input3(&self) -> [usize; 3] {
        let pad = 3 - self.nd;
        std::array::from_fn(|d| if d < pad { 1 } else { self.input[d - pad] })
    }
}

/// Where each plane of `t` starts, and the strides of its `nd` spatial dims padded to three.
fn planes(t: &Tensor, nd: usize) -> (Vec<usize>, [usize; 3]) {
    let lead = t.ndim() - nd;
    let layout = Layout { shape: t.shape()[..lead].to_vec(), strides: t.strides()[..lead].to_vec(), offset: t.offset() };
    let mut bases = Vec::with_capacity(layout.numel());
    for_each_offset(&layout, |o| bases.push(o));
    let pad = 3 - nd;
    let strides = std::array::from_fn(|d| if d < pad { 0 } else { t.strides()[lead + d - pad] });
    (bases, strides)
}

/// `t`'s leading (plane) dims followed by `spatial`.
fn plane_shape(t: &Tensor, nd: usize, spatial: &[usize]) -> Vec<usize> {
    let mut shape = t.shape()[..t.ndim() - nd].to_vec();
    shape.extend_from_slice(spatial);
    shape
}

/// Calls `f(o, [o0, o1, o2])` for every output position `o` (row-major) of a plane.
#[inline]
fn for_each_output(a: &[Axis; 3], mut f: impl FnMut(usize, [usize; 3])) {
    let mut o = 0;
    for o0 in 0..a[0].len() {
        for o1 in 0..a[1].len() {
            for o2 in 0..a[2].len() {
                f(o, [o0, o1, o2]);
                o += 1;
            }
        }
    }
}

/// Calls `visit(storage offset, flat spatial index)` for each input position of window `o`.
#[inline(always)]
fn for_window(a: &[Axis; 3], o: [usize; 3], input: [usize; 3], strides: [usize; 3], mut visit: impl FnMut(usize, usize)) {
    let [(f0, n0, d0), (f1, n1, d1), (f2, n2, d2)] = std::array::from_fn(|d| a[d].taps(o[d]));
    for t0 in 0..n0 {
        let i0 = f0 + t0 * d0;
        for t1 in 0..n1 {
            let i1 = f1 + t1 * d1;
            let (offset, index) = (i0 * strides[0] + i1 * strides[1], (i0 * input[1] + i1) * input[2]);
            for t2 in 0..n2 {
                let i2 = f2 + t2 * d2;
                visit(offset + i2 * strides[2], index + i2);
            }
        }
    }
}

/// The divisor of each output position of an average: the override, or the product of counts.
pub(crate) fn divisors(w: &Windows) -> Vec<f64> {
    let a = w.axes3();
    let mut out = Vec::with_capacity(w.output().iter().product());
    for_each_output(&a, |_, o| out.push(w.divisor.unwrap_or(a[0].count[o[0]] * a[1].count[o[1]] * a[2].count[o[2]])));
    out
}

/// Maximum of each window of `x` with its flat spatial index in the input plane. NaN wins (the
/// last NaN of a window), as in PyTorch; an empty window gives -inf at its first position.
pub fn window_max(x: &Tensor, w: &Windows) -> Result<(Tensor, Tensor)> {
    if x.is_cuda() {
        return crate::cuda::pool::window_max(x, w);
    }
    crate::with_dtype!(x.dtype(), T => window_max_typed::<T>(x, w))
}

fn window_max_typed<T: Element>(x: &Tensor, w: &Windows) -> Result<(Tensor, Tensor)> {
    let shape = plane_shape(x, w.nd, &w.output());
    let values = Tensor::uninit(&shape, T::DTYPE)?;
    let indices = Tensor::uninit(&shape, DType::I64)?;
    let (bases, strides) = planes(x, w.nd);
    let (axes, input) = (w.axes3(), w.input3());
    let per_plane: usize = w.output().iter().product();
    let plane_numel: usize = w.input.iter().product();
    let (src, vp, ip) = (SendPtr(x.data_ptr::<T>()?), SendPtr(values.data_ptr::<T>()?), SendPtr(indices.data_ptr::<i64>()?));
    par_ranges(bases.len(), plane_numel.max(per_plane), |p0, p1| {
        for (p, &base) in bases.iter().enumerate().take(p1).skip(p0) {
            for_each_output(&axes, |o, o3| {
                let mut best: Option<(T, usize)> = None;
                for_window(&axes, o3, input, strides, |off, idx| {
                    let v = unsafe { *src.get().add(base + off) };
                    // `v != v` is NaN's test, and is never true for integers.
                    #[allow(clippy::eq_op)]
                    let wins = best.is_none_or(|(b, _)| v > b || v != v);
                    if wins {
                        best = Some((v, idx));
                    }
                });
                // An empty window (only possible with dilation) reports its first tap, as PyTorch.
                let first = (axes[0].first[o3[0]] * input[1] + axes[1].first[o3[1]]) * input[2] + axes[2].first[o3[2]];
                let (v, idx) = best.unwrap_or((T::from_f64(f64::NEG_INFINITY), first));
                unsafe {
                    *vp.get().add(p * per_plane + o) = v;
                    *ip.get().add(p * per_plane + o) = idx as i64;
                }
            });
        }
    });
    Ok((values, indices))
}

/// Mean of each window of `x` (the window sum over its divisor), computed in float64.
pub fn window_mean(x: &Tensor, w: &Windows) -> Result<Tensor> {
    if x.is_cuda() {
        return crate::cuda::pool::window_mean(x, w, false);
    }
    crate::with_dtype!(x.dtype(), T => window_mean_typed::<T>(x, w))
}

fn window_mean_typed<T: Element>(x: &Tensor, w: &Windows) -> Result<Tensor> {
    let out = Tensor::uninit(&plane_shape(x, w.nd, &w.output()), T::DTYPE)?;
    let (bases, strides) = planes(x, w.nd);
    let (axes, input, div) = (w.axes3(), w.input3(), divisors(w));
    let per_plane = div.len();
    let plane_numel: usize = w.input.iter().product();
    let (src, op) = (SendPtr(x.data_ptr::<T>()?), SendPtr(out.data_ptr::<T>()?));
    par_ranges(bases.len(), plane_numel.max(per_plane), |p0, p1| {
        for (p, &base) in bases.iter().enumerate().take(p1).skip(p0) {
            for_each_output(&axes, |o, o3| {
                let mut sum = 0.0;
                for_window(&axes, o3, input, strides, |off, _| sum += unsafe { *src.get().add(base + off) }.to_f64());
                unsafe { *op.get().add(p * per_plane + o) = T::from_f64(sum / div[o]) };
            });
        }
    });
    Ok(out)
}

/// The adjoint of `window_mean`: each output gradient in `g` spread evenly (over the divisor)
/// across its window; the result has the input's spatial shape.
pub fn window_mean_adjoint(g: &Tensor, w: &Windows) -> Result<Tensor> {
    if g.is_cuda() {
        return crate::cuda::pool::window_mean(g, w, true);
    }
    crate::with_dtype!(g.dtype(), T => window_mean_adjoint_typed::<T>(g, w))
}

fn window_mean_adjoint_typed<T: Element>(g: &Tensor, w: &Windows) -> Result<Tensor> {
    let out = Tensor::uninit(&plane_shape(g, w.nd, &w.input), T::DTYPE)?;
    let (bases, strides) = planes(g, w.nd);
    let (axes, input, div) = (w.axes3(), w.input3(), divisors(w));
    let plane_numel: usize = w.input.iter().product();
    let (src, op) = (SendPtr(g.data_ptr::<T>()?), SendPtr(out.data_ptr::<T>()?));
    par_ranges(bases.len(), plane_numel.max(div.len()), |p0, p1| {
        let mut acc = vec![0.0f64; plane_numel];
        for (p, &base) in bases.iter().enumerate().take(p1).skip(p0) {
            acc.iter_mut().for_each(|a| *a = 0.0);
            for_each_output(&axes, |o, o3| {
                let at = o3[0] * strides[0] + o3[1] * strides[1] + o3[2] * strides[2];
                let share = unsafe { *src.get().add(base + at) }.to_f64() / div[o];
                for_window(&axes, o3, input, [0; 3], |_, idx| acc[idx] += share);
            });
            for (i, &a) in acc.iter().enumerate() {
                unsafe { *op.get().add(p * plane_numel + i) = T::from_f64(a) };
            }
        }
    });
    Ok(out)
}

/// Max unpooling: zeros of spatial shape `output` per plane with each element of `x` written
/// at its flat index from `indices` (same shape as `x`). A bad index is an error naming it.
pub fn unpool(x: &Tensor, indices: &Tensor, nd: usize, output: &[usize]) -> Result<Tensor> {
    if x.is_cuda() || indices.is_cuda() {
        // The indices are checked on the host, as every index op's are: unpool there.
        return crate::device::on_host2(x, indices, |x, indices| unpool(x, indices, nd, output));
    }
    crate::with_dtype!(x.dtype(), T => unpool_typed::<T>(x, indices, nd, output))
}

fn unpool_typed<T: Element>(x: &Tensor, indices: &Tensor, nd: usize, output: &[usize]) -> Result<Tensor> {
    let out = Tensor::zeros(&plane_shape(x, nd, output), T::DTYPE)?;
    let x = x.contiguous()?;
    let indices = indices.contiguous()?;
    let out_plane: usize = output.iter().product();
    let in_plane: usize = x.shape()[x.ndim() - nd..].iter().product();
    let planes = if in_plane == 0 { 0 } else { x.numel() / in_plane };
    let (src, ip, op) = (SendPtr(x.data_ptr::<T>()?), SendPtr(indices.data_ptr::<i64>()?), SendPtr(out.data_ptr::<T>()?));
    let bad = Mutex::new(None);
    par_ranges(planes, in_plane, |p0, p1| {
        for p in p0..p1 {
            for i in 0..in_plane {
                let (v, idx) = unsafe { (*src.get().add(p * in_plane + i), *ip.get().add(p * in_plane + i)) };
                if idx < 0 || idx as usize >= out_plane {
                    bad.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(idx);
                    return;
                }
                unsafe { *op.get().add(p * out_plane + idx as usize) = v };
            }
        }
    });
    if let Some(idx) = bad.into_inner().unwrap_or_else(|e| e.into_inner()) {
        let sizes: Vec<String> = output.iter().map(|s| s.to_string()).collect();
        crate::bail!(Runtime, "Found an invalid max index: {} (output volumes are of size {}", idx, sizes.join("x"));
    }
    Ok(out)
}

/// Linear indices into a whole tensor of spatial plane size `plane_numel` from flat indices
/// within each plane (`indices`, one plane per `per_plane` elements in row-major order).
/// Indices outside their plane (an empty max window's) are replaced by the plane's start and
/// flagged in the returned mask (true where valid), which is `None` when all are valid.
pub fn plane_positions(indices: &Tensor, per_plane: usize, plane_numel: usize) -> Result<(Tensor, Option<Tensor>)> {
    if indices.is_cuda() {
        return crate::device::on_host(indices, |i| plane_positions(i, per_plane, plane_numel));
    }
    let flat = indices.contiguous()?.to_vec::<i64>()?;
    let valid: Vec<bool> = flat.iter().map(|&i| i >= 0 && (i as usize) < plane_numel).collect();
    let out: Vec<i64> = flat
        .iter()
        .zip(&valid)
        .enumerate()
        .map(|(k, (&i, &ok))| if ok { i } else { 0 } + ((k / per_plane.max(1)) * plane_numel) as i64)
        .collect();
    let mask = if valid.iter().all(|&v| v) { None } else { Some(Tensor::from_slice(&valid, indices.shape())?) };
    Ok((Tensor::from_slice(&out, indices.shape())?, mask))
}
