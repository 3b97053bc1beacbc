//! The convolution kernels: per chunk of samples, im2col into a buffer the thread reuses, then
//! one gemm per group (forward), gemm then col2im (transposed forward), or gemm accumulating
//! into the weight gradient. A chunk is one sample when its output has many positions; small
//! outputs (the deep layers of a CNN) put several samples side by side in one product, so the
//! weight is read once per chunk rather than once per sample. A batch of at least as many
//! samples as threads is split across threads (each gemm on one thread); smaller batches run
//! their gemms on every thread.

use std::ops::Range;

use rayon::prelude::*;

use crate::cpu::gemm::{product as gemm, GemmElement, MatPtr};
use crate::cpu::im2col::{cols_to_plane, plane_to_cols, Planes, Window};
use crate::cpu::iter::SendPtr;
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::contiguous_strides;
use crate::tensor::Tensor;
use crate::{with_arith_dtype, with_real_dtype};

use super::winograd;

/// Below this many multiply-adds, a whole convolution runs on the calling thread.
const SMALL_WORK: usize = 64 * 64 * 64;

/// A kernel operand: a `(N, C, *spatial)` tensor's data and where its planes lie.
#[derive(Clone, Copy)]
pub(super) struct Operand<T> {
    ptr: SendPtr<T>,
    pub(super) planes: Planes,
    /// Whether each plane is dense in row-major order (its columns under an identity window
    /// are the plane itself).
    dense: bool,
}

impl<T: crate::dtype::Element> Operand<T> {
    pub(super) fn of(t: &Tensor) -> Result<Operand<T>> {
        let (shape, strides) = (t.shape(), t.strides());
        let dense_strides = contiguous_strides(&shape[2..]);
        let dense = shape[2..].iter().zip(&strides[2..]).zip(&dense_strides).all(|((&n, &s), &d)| n == 1 || s == d);
        Ok(Operand { ptr: SendPtr(unsafe { t.data_ptr::<T>()?.add(t.offset()) }), planes: super::planes_of(t), dense })
    }

    /// Plane `(n, c)`.
    pub(super) unsafe fn at(&self, n: usize, c: usize) -> *mut T {
        self.ptr.get().add(n * self.planes.batch + c * self.planes.channel)
    }
}

/// Columns per product: at least this many, by batching samples whose outputs are smaller.
const MIN_COLUMNS: usize = 256;

/// Samples per product for outputs of `l` positions.
fn chunk_of(l: usize) -> usize {
    MIN_COLUMNS.div_ceil(l.max(1))
}

/// The columns of samples `s0..s0 + m`: `channels` planes of each under `win`, as a matrix
/// with its row stride (`channels * K` rows; sample `j` fills columns `j * L..(j + 1) * L`).
/// For one sample under an identity window a dense plane is its own column block, so nothing
/// is copied.
unsafe fn chunk_cols<T: crate::dtype::Element>(src: &Operand<T>, s0: usize, m: usize, channels: usize, win: &Window, buf: &mut [T]) -> (*mut T, usize) {
    let l = win.block_count();
    if m == 1 && win.is_identity() && src.dense {
        return (src.at(s0, 0), src.planes.channel);
    }
    let (k, width) = (win.kernel_numel(), m * l);
    for j in 0..m {
        for c in 0..channels {
            plane_to_cols(src.at(s0 + j, c), src.planes.spatial, win, buf.as_mut_ptr().add(c * k * width + j * l), width);
        }
    }
    (buf.as_mut_ptr(), width)
}

/// Dense planes `(s0 + j, c)` of `src` (each `l` long) side by side: row `c` of a
/// `(channels, m * l)` matrix in `buf`; one sample's planes are used in place.
unsafe fn chunk_planes<T: crate::dtype::Element>(src: &Operand<T>, s0: usize, m: usize, channels: usize, l: usize, buf: &mut [T]) -> (*mut T, usize) {
    if m == 1 {
        return (src.at(s0, 0), src.planes.channel);
    }
    let width = m * l;
    for j in 0..m {
        for c in 0..channels {
            std::ptr::copy_nonoverlapping(src.at(s0 + j, c), buf.as_mut_ptr().add(c * width + j * l), l);
        }
    }
    (buf.as_mut_ptr(), width)
}

/// Samples `range` in chunks of at most `chunk`: `(first sample, samples)`.
fn chunks(range: Range<usize>, chunk: usize) -> impl Iterator<Item = (usize, usize)> {
    range.clone().step_by(chunk).map(move |s0| (s0, chunk.min(range.end - s0)))
}

/// Runs `f(samples, gemm_threads)` over the batch, one contiguous chunk of samples per thread
/// when the batch can keep every thread busy, else one chunk whose gemms use every thread.
pub(super) fn over_batch<R: Send>(n: usize, work: usize, f: impl Fn(Range<usize>, usize) -> R + Sync + Send) -> Vec<R> {
    if work < SMALL_WORK {
        return vec![f(0..n, 1)];
    }
    crate::cpu::threads::install(|| {
        let threads = rayon::current_num_threads();
        if n >= threads && threads > 1 {
            (0..threads).into_par_iter().map(|t| f(t * n / threads..(t + 1) * n / threads, 1)).collect()
        } else {
            vec![f(0..n, threads)]
        }
    })
}

/// Multiply-adds of a convolution, saturating (only compared with `SMALL_WORK`).
pub(super) fn work(sizes: &[usize]) -> usize {
    sizes.iter().fold(1usize, |acc, &s| acc.saturating_mul(s))
}

pub(super) fn mat<T>(ptr: *mut T, rs: usize, cs: usize) -> MatPtr<T> {
    MatPtr::new(ptr, rs, cs)
}

/// A tensor for the kernels: the compute dtype, and contiguous when `dense` is asked for.
fn for_kernel(t: &Tensor, compute: DType, dense: bool) -> Result<Tensor> {
    if dense {
        t.contiguous_as(compute)
    } else {
        t.to_dtype(compute)
    }
}

/// The convolution of `x` (`(N, C_in, *spatial)`) with `w`, plus `bias`. Normal: `w` is
/// `(C_out, C_in / groups, *kernel)`, `x` spans `win.image` and the result `win.blocks`.
/// Transposed (the adjoint): `w` is `(C_in, C_out / groups, *kernel)`, `x` spans `win.blocks`
/// and the result `win.image`. Sizes have been checked.
pub fn forward(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, win: &Window, transposed: bool, groups: usize) -> Result<Tensor> {
    if x.is_cuda() || w.is_cuda() {
        crate::device::common_device(&[Some(x), Some(w), bias].into_iter().flatten().collect::<Vec<_>>())?;
        if let Some(out) = crate::cuda::cudnn::forward(x, w, bias, win, transposed, groups)? {
            return Ok(out);
        }
        return crate::cuda::blas::in_convolution(|| super::columns::forward(x, w, bias, win, transposed, groups));
    }
    let dtype = x.dtype();
    let compute = dtype.compute_type();
    let n = x.shape()[0];
    let c_in = x.shape()[1];
    let c_out = if transposed { w.shape()[1] * groups } else { w.shape()[0] };
    let mut out_shape = vec![n, c_out];
    out_shape.extend_from_slice(if transposed { win.image_shape() } else { win.blocks_shape() });
    let out = match bias {
        Some(b) => {
            let out = Tensor::uninit(&out_shape, compute)?;
            let mut view = vec![1i64, c_out as i64];
            view.extend(std::iter::repeat_n(1, win.dims));
            out.copy_from(&b.reshape(&view)?)?;
            out
        }
        None if transposed => Tensor::zeros(&out_shape, compute)?,
        None => Tensor::uninit(&out_shape, compute)?,
    };
    if out.numel() == 0 {
        return out.to_dtype(dtype);
    }
    if c_in == 0 {
        // An empty sum: the bias alone (or zeros).
        if bias.is_none() {
            out.fill_(crate::dtype::Scalar::Int(0))?;
        }
        return out.to_dtype(dtype);
    }
    if compute.is_float() && winograd::applies(win, groups, transposed, [c_in, c_out]) {
        let (x, w) = (x.to_dtype(compute)?, w.contiguous_as(compute)?);
        with_real_dtype!(compute, T => unsafe {
            let (xs, ws, os) = (Operand::<T>::of(&x)?, SendPtr(w.data_ptr::<T>()?.add(w.offset())), SendPtr(out.data_ptr::<T>()?));
            winograd::forward::<T>(&xs, ws, os, n, c_in, c_out, win, transposed, bias.is_some());
        });
        return out.to_dtype(dtype);
    }
    let x = for_kernel(x, compute, transposed)?;
    let w = w.contiguous_as(compute)?;
    with_arith_dtype!(compute, T => unsafe {
        let (xs, ws, os) = (Operand::<T>::of(&x)?, SendPtr(w.data_ptr::<T>()?.add(w.offset())), SendPtr(out.data_ptr::<T>()?));
        if transposed {
            transposed_forward::<T>(&xs, ws, os, n, c_in, c_out, groups, win);
        } else {
            normal_forward::<T>(&xs, ws, os, n, c_in, c_out, groups, win, bias.is_some());
        }
    });
    out.to_dtype(dtype)
}

#[allow(clippy::too_many_arguments)]
unsafe fn normal_forward<T: GemmElement>(x: &Operand<T>, w: SendPtr<T>, out: SendPtr<T>, n: usize, c_in: usize, c_out: usize, groups: usize, win: &Window, bias: bool) {
    let (k, l) = (win.kernel_numel(), win.block_count());
    let (cig, cog) = (c_in / groups, c_out / groups);
    let depth = cig * k;
    over_batch(n, work(&[n, c_out, l, c_in, k]), |samples, threads| {
        let chunk = chunk_of(l).min(samples.len().max(1));
        let mut buf = vec![T::default(); if chunk == 1 && win.is_identity() && x.dense { 0 } else { c_in * k * l * chunk }];
        // A chunk's product, before its columns go to their samples' planes.
        let mut prod = vec![T::default(); if chunk > 1 { c_out * l * chunk } else { 0 }];
        for (s0, m) in chunks(samples, chunk) {
            let (cols, rs) = chunk_cols(x, s0, m, c_in, win, &mut buf);
            let row_step = if m == 1 && rs != l { cig * rs } else { depth * rs };
            let width = m * l;
            for g in 0..groups {
                let (dst, accumulate) = if m == 1 {
                    (mat(out.get().add((s0 * c_out + g * cog) * l), l, 1), bias)
                } else {
                    (mat(prod.as_mut_ptr().add(g * cog * width), width, 1), false)
                };
                gemm(cog, width, depth, dst, mat(w.get().add(g * cog * depth), depth, 1), mat(cols.add(g * row_step), rs, 1), accumulate, threads);
            }
            if m > 1 {
                for j in 0..m {
                    for c in 0..c_out {
                        let (src, dst) = (prod.as_ptr().add(c * width + j * l), out.get().add(((s0 + j) * c_out + c) * l));
                        for i in 0..l {
                            *dst.add(i) = if bias { crate::cpu::arith::Arith::add(*dst.add(i), *src.add(i)) } else { *src.add(i) };
                        }
                    }
                }
            }
        }
    });
}

#[allow(clippy::too_many_arguments)]
unsafe fn transposed_forward<T: GemmElement>(x: &Operand<T>, w: SendPtr<T>, out: SendPtr<T>, n: usize, c_in: usize, c_out: usize, groups: usize, win: &Window) {
    let (k, l, plane) = (win.kernel_numel(), win.block_count(), win.image_numel());
    let (cig, cog) = (c_in / groups, c_out / groups);
    let depth = cog * k;
    over_batch(n, work(&[n, c_out, l, c_in, k]), |samples, threads| {
        let chunk = chunk_of(l).min(samples.len().max(1));
        let direct = chunk == 1 && win.is_identity();
        let mut buf = vec![T::default(); if direct { 0 } else { c_out * k * l * chunk }];
        let mut planes = vec![T::default(); if chunk > 1 { c_in * l * chunk } else { 0 }];
        for (s0, m) in chunks(samples, chunk) {
            let (xs, rs) = chunk_planes(x, s0, m, c_in, l, &mut planes);
            let width = m * l;
            for g in 0..groups {
                let lhs = mat(w.get().add(g * cig * depth), 1, depth);
                let rhs = mat(xs.add(g * cig * rs), rs, 1);
                if direct {
                    // col2im is the identity: the product adds straight into the output.
                    gemm(cog, l, cig, mat(out.get().add((s0 * c_out + g * cog) * l), l, 1), lhs, rhs, true, threads);
                } else {
                    gemm(depth, width, cig, mat(buf.as_mut_ptr().add(g * depth * width), width, 1), lhs, rhs, false, threads);
                }
            }
            if !direct {
                for j in 0..m {
                    for c in 0..c_out {
                        cols_to_plane(buf.as_ptr().add(c * k * width + j * l), win, out.get().add(((s0 + j) * c_out + c) * plane), width);
                    }
                }
            }
        }
    });
}

/// Whether the weight gradient accumulates its transpose, `(depth, ca)` per group, as
/// `cols @ a^T`. Same sums, but the gemm crate (0.19, AVX2) runs this order faster when the
/// gradient has few channels (`ca`) and the windows many rows (`depth`): 1.5x for 64
/// channels by 64 x 3x3 windows, 1.1-2x over 16-128 channels with `depth >= 2 * ca`; it is
/// slower from 256 channels or with fewer rows than channels (measured on one thread).
fn transposed_acc(ca: usize, depth: usize) -> bool {
    ca <= 128 && depth >= 2 * ca
}

/// The weight gradient `sum_n a[n, g] @ cols(b[n])[g]^T` per group, shaped `weight_shape`:
/// for a normal convolution `a` is the output gradient and `b` the input; for a transposed
/// one `a` is the input and `b` the output gradient. `a` spans `win.blocks`, `b` `win.image`.
pub fn weight_grad(a: &Tensor, b: &Tensor, win: &Window, groups: usize, weight_shape: &[usize]) -> Result<Tensor> {
    if a.is_cuda() || b.is_cuda() {
        // cuDNN where it applies, else the same sums by columns and batched products (cuBLAS).
        crate::device::common_device(&[a, b])?;
        if let Some(grad) = crate::cuda::cudnn::weight_grad(a, b, win, groups, weight_shape)? {
            return Ok(grad);
        }
        return crate::cuda::blas::in_convolution(|| crate::autograd::formulas::nn::conv::weight_grad(a, b, win, groups, weight_shape));
    }
    let dtype = a.dtype();
    let compute = dtype.compute_type();
    let n = a.shape()[0];
    let (ca, cb) = (a.shape()[1] / groups, b.shape()[1] / groups);
    let (k, l) = (win.kernel_numel(), win.block_count());
    let depth = cb * k;
    let size = groups * ca * depth;
    let out = Tensor::zeros(weight_shape, compute)?;
    if size == 0 || n == 0 || l == 0 {
        return out.to_dtype(dtype);
    }
    if compute.is_float() && winograd::applies(win, groups, false, [ca, cb]) {
        // Strided operands are read in place (an expanded output gradient is not copied).
        let (a, b) = (a.to_dtype(compute)?, b.to_dtype(compute)?);
        with_real_dtype!(compute, T => unsafe {
            winograd::weight_grad::<T>(&Operand::of(&a)?, &Operand::of(&b)?, n, ca, cb, win, out.data_ptr::<T>()?);
        });
        return out.to_dtype(dtype);
    }
    let a = for_kernel(a, compute, true)?;
    let b = for_kernel(b, compute, false)?;
    let transposed = transposed_acc(ca, depth);
    with_arith_dtype!(compute, T => unsafe {
        let (ap, bp) = (Operand::<T>::of(&a)?, Operand::<T>::of(&b)?);
        let partials = over_batch(n, work(&[n, size, l]), |samples, threads| {
            let chunk = chunk_of(l).min(samples.len().max(1));
            let mut acc = vec![T::default(); size];
            let mut buf = vec![T::default(); if chunk == 1 && win.is_identity() && bp.dense { 0 } else { groups * depth * l * chunk }];
            let mut planes = vec![T::default(); if chunk > 1 { groups * ca * l * chunk } else { 0 }];
            for (s0, m) in chunks(samples, chunk) {
                let (cols, rs) = chunk_cols(&bp, s0, m, groups * cb, win, &mut buf);
                let row_step = if m == 1 && rs != l { cb * rs } else { depth * rs };
                let (a_cols, ars) = chunk_planes(&ap, s0, m, groups * ca, l, &mut planes);
                for g in 0..groups {
                    let (acc_g, a_g, cols_g) = (acc.as_mut_ptr().add(g * ca * depth), a_cols.add(g * ca * ars), cols.add(g * row_step));
                    if transposed {
                        gemm(depth, ca, m * l, mat(acc_g, ca, 1), mat(cols_g, rs, 1), mat(a_g, 1, ars), true, threads);
                    } else {
                        gemm(ca, depth, m * l, mat(acc_g, depth, 1), mat(a_g, ars, 1), mat(cols_g, 1, rs), true, threads);
                    }
                }
            }
            acc
        });
        let mut partials = partials.into_iter();
        let mut total = partials.next().unwrap_or_default();
        for part in partials {
            for (d, v) in total.iter_mut().zip(part) {
                *d = crate::cpu::arith::Arith::add(*d, v);
            }
        }
        let dst = std::slice::from_raw_parts_mut(out.data_ptr::<T>()?, size);
        if transposed {
            // Each group's block is `(depth, ca)`: write it back as `(ca, depth)`.
            for (dst, src) in dst.chunks_exact_mut(ca * depth).zip(total.chunks_exact(ca * depth)) {
                for (j, row) in src.chunks_exact(ca).enumerate() {
                    for (i, &v) in row.iter().enumerate() {
                        dst[i * depth + j] = v;
                    }
                }
            }
        } else {
            dst.copy_from_slice(&total);
        }
    });
    out.to_dtype(dtype)
}
