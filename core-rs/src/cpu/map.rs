//! Element-wise map kernels over strided inputs into a fresh contiguous output.

use crate::cpu::iter::{for_each_row, SendPtr};
use crate::dtype::Element;
use crate::error::Result;
use crate::layout::Layout;
use crate::tensor::Tensor;

/// `out[i] = f(a[i])` for `a` of element type `A`; `out` is a new contiguous tensor of `O`.
pub fn map1<A: Element, O: Element>(a: &Tensor, f: impl Fn(A) -> O + Sync) -> Result<Tensor> {
    let out = Tensor::uninit(a.shape(), O::DTYPE)?;
    let (ap, op) = (SendPtr(a.data_ptr::<A>()?), SendPtr(out.data_ptr::<O>()?));
    let ol = out.layout();
    for_each_row(a.shape(), [(&ol.strides, 0), (a.strides(), a.offset())], |[o, i], len, [_, si]| unsafe {
        let (dst, src) = (op.get().add(o), ap.get().add(i));
        if si == 1 {
            map_slice(std::slice::from_raw_parts_mut(dst, len), std::slice::from_raw_parts(src, len), &f);
        } else {
            for j in 0..len {
                *dst.add(j) = f(*src.add(j * si));
            }
        }
    });
    Ok(out)
}

/// `dst[i] = f(src[i])` over contiguous runs, with the widest vector instructions this CPU has
/// (the wheel targets baseline x86-64; the float functions in `vecmath` are written to
/// vectorize, so AVX2 doubles their throughput).
#[inline(always)]
pub fn map_slice<A: Copy, O>(dst: &mut [O], src: &[A], f: &impl Fn(A) -> O) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        return unsafe { map_slice_avx2(dst, src, f) };
    }
    for (d, s) in dst.iter_mut().zip(src) {
        *d = f(*s);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn map_slice_avx2<A: Copy, O>(dst: &mut [O], src: &[A], f: &impl Fn(A) -> O) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = f(*s);
    }
}

/// Runs `f` inside a function compiled for AVX2 and FMA when this CPU has them, so the loops
/// of `f` (inlined there: `f` has one call site) vectorize 8 wide, as `map_slice`'s do; for
/// fused kernels whose loops walk several slices at once.
#[inline(always)]
pub fn vectorized<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        return unsafe { vectorized_avx2(f) };
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn vectorized_avx2<T>(f: impl FnOnce() -> T) -> T {
    f()
}

/// `dst[i] = f(a[i], b[i])` over contiguous runs, vectorized as `map_slice`.
#[inline(always)]
pub fn zip_slice<A: Copy, B: Copy, O>(dst: &mut [O], a: &[A], b: &[B], f: &impl Fn(A, B) -> O) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        return unsafe { zip_slice_avx2(dst, a, b, f) };
    }
    for ((d, x), y) in dst.iter_mut().zip(a).zip(b) {
        *d = f(*x, *y);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn zip_slice_avx2<A: Copy, B: Copy, O>(dst: &mut [O], a: &[A], b: &[B], f: &impl Fn(A, B) -> O) {
    for ((d, x), y) in dst.iter_mut().zip(a).zip(b) {
        *d = f(*x, *y);
    }
}

/// `out[i] = f(a[i], b[i])` with `a` and `b` broadcast to `shape`.
pub fn map2<A: Element, B: Element, O: Element>(
    a: &Tensor,
    b: &Tensor,
    shape: &[usize],
    f: impl Fn(A, B) -> O + Sync,
) -> Result<Tensor> {
    let (la, lb) = (a.layout().broadcast_to(shape)?, b.layout().broadcast_to(shape)?);
    let out = Tensor::uninit(shape, O::DTYPE)?;
    let ol = Layout::contiguous(shape);
    let (ap, bp, op) = (SendPtr(a.data_ptr::<A>()?), SendPtr(b.data_ptr::<B>()?), SendPtr(out.data_ptr::<O>()?));
    for_each_row(
        shape,
        [(&ol.strides, 0), (&la.strides, la.offset), (&lb.strides, lb.offset)],
        |[o, i, j], len, [_, sa, sb]| unsafe {
            let (dst, x, y) = (op.get().add(o), ap.get().add(i), bp.get().add(j));
            let d = std::slice::from_raw_parts_mut(dst, len);
            match (sa, sb) {
                (1, 1) => zip_slice(d, std::slice::from_raw_parts(x, len), std::slice::from_raw_parts(y, len), &f),
                (1, 0) => {
                    let (x, y) = (std::slice::from_raw_parts(x, len), *y);
                    for k in 0..len {
                        d[k] = f(x[k], y);
                    }
                }
                (0, 1) => {
                    let (x, y) = (*x, std::slice::from_raw_parts(y, len));
                    for k in 0..len {
                        d[k] = f(x, y[k]);
                    }
                }
                _ => {
                    for (k, dk) in d.iter_mut().enumerate() {
                        *dk = f(*x.add(k * sa), *y.add(k * sb));
                    }
                }
            }
        },
    );
    Ok(out)
}

/// `dst[i] = f(dst[i], b[i])` in place over `dst`'s own layout, `b` broadcast to its shape: an
/// in-place binary op with no temporary. `dst` must hold each element once and `b` must not
/// share its memory (the caller checks both).
pub fn map2_inplace<T: Element, B: Element>(dst: &Tensor, b: &Tensor, f: impl Fn(T, B) -> T + Sync) -> Result<()> {
    let (ld, lb) = (dst.layout(), b.layout().broadcast_to(dst.shape())?);
    let (dp, bp) = (SendPtr(dst.data_ptr::<T>()?), SendPtr(b.data_ptr::<B>()?));
    for_each_row(dst.shape(), [(&ld.strides, ld.offset), (&lb.strides, lb.offset)], |[o, j], len, [sd, sb]| unsafe {
        let (d, y) = (dp.get().add(o), bp.get().add(j));
        match (sd, sb) {
            (1, 1) => {
                let (d, y) = (std::slice::from_raw_parts_mut(d, len), std::slice::from_raw_parts(y, len));
                vectorized(|| d.iter_mut().zip(y).for_each(|(d, &y)| *d = f(*d, y)));
            }
            (1, 0) => {
                let (d, y) = (std::slice::from_raw_parts_mut(d, len), *y);
                vectorized(|| d.iter_mut().for_each(|d| *d = f(*d, y)));
            }
            _ => {
                for k in 0..len {
                    let at = d.add(k * sd);
                    *at = f(*at, *y.add(k * sb));
                }
            }
        }
    });
    Ok(())
}

/// `out[i] = f(a[i], b[i], c[i])` with all three broadcast to `shape`.
pub fn map3<A: Element, B: Element, C: Element, O: Element>(
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    shape: &[usize],
    f: impl Fn(A, B, C) -> O + Sync,
) -> Result<Tensor> {
    let (la, lb, lc) = (a.layout().broadcast_to(shape)?, b.layout().broadcast_to(shape)?, c.layout().broadcast_to(shape)?);
    let out = Tensor::uninit(shape, O::DTYPE)?;
    let ol = Layout::contiguous(shape);
    let (ap, bp, cp, op) =
        (SendPtr(a.data_ptr::<A>()?), SendPtr(b.data_ptr::<B>()?), SendPtr(c.data_ptr::<C>()?), SendPtr(out.data_ptr::<O>()?));
    for_each_row(
        shape,
        [(&ol.strides, 0), (&la.strides, la.offset), (&lb.strides, lb.offset), (&lc.strides, lc.offset)],
        |[o, i, j, k], len, [_, sa, sb, sc]| unsafe {
            for n in 0..len {
                *op.get().add(o + n) = f(*ap.get().add(i + n * sa), *bp.get().add(j + n * sb), *cp.get().add(k + n * sc));
            }
        },
    );
    Ok(out)
}

/// Whether `pred` holds for any element of `t` (of element type `T`).
pub fn any_element<T: Element>(t: &Tensor, pred: impl Fn(T) -> bool) -> Result<bool> {
    let p = t.data_ptr::<T>()?;
    let mut found = false;
    crate::cpu::iter::for_each_offset(t.layout(), |o| found |= pred(unsafe { *p.add(o) }));
    Ok(found)
}
