//! im2col / col2im: the sliding-window rearrangement behind convolution, `unfold` and `fold`.
//! An image plane of up to 3 spatial dims becomes a `(K, L)` matrix, one row per kernel offset
//! (`K` = kernel elements) and one column per window position (`L` = positions); col2im is the
//! adjoint and sums overlapping windows back into the plane. 1-d and 2-d windows are 3-d ones
//! with unit leading dims, so one kernel serves every rank.

use rayon::prelude::*;

use crate::cpu::arith::Arith;
use crate::cpu::iter::SendPtr;

/// A sliding window over an image: its sizes per spatial dim, padded to 3 with unit dims.
/// `image` is the (unpadded) plane, `blocks` the window positions along each dim (given, not
/// derived, so asymmetric padding such as `padding='same'` needs no copy) and `padding` the
/// implicit zeros before the first element.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    pub dims: usize,
    pub image: [usize; 3],
    pub blocks: [usize; 3],
    pub kernel: [usize; 3],
    pub stride: [usize; 3],
    pub padding: [usize; 3],
    pub dilation: [usize; 3],
}

/// Left-pads `v` to 3 entries with `fill`.
fn three(v: &[usize], fill: usize) -> [usize; 3] {
    let mut out = [fill; 3];
    out[3 - v.len()..].copy_from_slice(v);
    out
}

impl Window {
    /// A window over `image` (1 to 3 dims; every other slice has the same length).
    pub fn new(image: &[usize], blocks: &[usize], kernel: &[usize], stride: &[usize], padding: &[usize], dilation: &[usize]) -> Window {
        Window {
            dims: image.len(),
            image: three(image, 1),
            blocks: three(blocks, 1),
            kernel: three(kernel, 1),
            stride: three(stride, 1),
            padding: three(padding, 0),
            dilation: three(dilation, 1),
        }
    }

    /// Elements of one image plane.
    pub fn image_numel(&self) -> usize {
        self.image.iter().product()
    }

    /// Window positions (`L`, the columns).
    pub fn block_count(&self) -> usize {
        self.blocks.iter().product()
    }

    /// Kernel elements (`K`, the rows per channel).
    pub fn kernel_numel(&self) -> usize {
        self.kernel.iter().product()
    }

    /// The image's spatial sizes (without the unit padding dims).
    pub fn image_shape(&self) -> &[usize] {
        &self.image[3 - self.dims..]
    }

    /// The positions' spatial sizes (without the unit padding dims).
    pub fn blocks_shape(&self) -> &[usize] {
        &self.blocks[3 - self.dims..]
    }

    /// Whether the columns of a contiguous plane are the plane itself (a 1x1 kernel, stride
    /// 1, no padding): convolution then skips im2col/col2im.
    pub fn is_identity(&self) -> bool {
        self.kernel == [1; 3] && self.stride == [1; 3] && self.padding == [0; 3] && self.image == self.blocks
    }

    /// For kernel offset `k` along dim `d`: the image index of position 0 (may be negative)
    /// and the range of positions whose index falls inside the image.
    #[inline]
    fn valid(&self, d: usize, k: usize) -> (isize, usize, usize) {
        let start = (k * self.dilation[d]) as isize - self.padding[d] as isize;
        let (s, size, n) = (self.stride[d] as isize, self.image[d] as isize, self.blocks[d]);
        let lo = if start >= 0 { 0 } else { ((-start + s - 1) / s) as usize };
        let hi = if size - start <= 0 { 0 } else { (((size - start + s - 1) / s) as usize).min(n) };
        (start, lo.min(n), hi.max(lo.min(n)))
    }
}

/// Writes the `(K, L)` columns of one plane. `src` points at the plane's first element, with
/// `strides` its spatial strides (3, unit dims first); `dst`'s rows (of `L` elements) lie
/// `row_stride` apart (`L`: contiguous; more: this plane's slot among several side by side).
///
/// # Safety
/// `src` must be valid for the window's image and `dst` for `K` rows.
pub unsafe fn plane_to_cols<T: Copy + Default>(src: *const T, strides: [usize; 3], w: &Window, dst: *mut T, row_stride: usize) {
    let [_, b1, b2] = w.blocks;
    let mut row = dst;
    for kd in 0..w.kernel[0] {
        let (sd, lo_d, hi_d) = w.valid(0, kd);
        for kh in 0..w.kernel[1] {
            let (sh, lo_h, hi_h) = w.valid(1, kh);
            for kw in 0..w.kernel[2] {
                let (sw, lo_w, hi_w) = w.valid(2, kw);
                for od in 0..w.blocks[0] {
                    for oh in 0..b1 {
                        let line = std::slice::from_raw_parts_mut(row.add((od * b1 + oh) * b2), b2);
                        if od < lo_d || od >= hi_d || oh < lo_h || oh >= hi_h {
                            line.fill(T::default());
                            continue;
                        }
                        let id = (sd + (od * w.stride[0]) as isize) as usize;
                        let ih = (sh + (oh * w.stride[1]) as isize) as usize;
                        let base = src.add(id * strides[0] + ih * strides[1]);
                        line[..lo_w].fill(T::default());
                        line[hi_w..].fill(T::default());
                        let first = (sw + (lo_w * w.stride[2]) as isize) as usize;
                        if w.stride[2] == 1 && strides[2] == 1 {
                            line[lo_w..hi_w].copy_from_slice(std::slice::from_raw_parts(base.add(first), hi_w - lo_w));
                        } else {
                            let step = w.stride[2] * strides[2];
                            for (i, v) in line[lo_w..hi_w].iter_mut().enumerate() {
                                *v = *base.add(first * strides[2] + i * step);
                            }
                        }
                    }
                }
                row = row.add(row_stride);
            }
        }
    }
}

/// Adds the `(K, L)` columns `src` (rows `row_stride` apart) into one contiguous plane `dst`:
/// the adjoint of `plane_to_cols`.
///
/// # Safety
/// `src` must be valid for `K` rows and `dst` for the window's image.
pub unsafe fn cols_to_plane<T: Arith>(src: *const T, w: &Window, dst: *mut T, row_stride: usize) {
    let [_, b1, b2] = w.blocks;
    let [_, i1, i2] = w.image;
    let mut row = src;
    for kd in 0..w.kernel[0] {
        let (sd, lo_d, hi_d) = w.valid(0, kd);
        for kh in 0..w.kernel[1] {
            let (sh, lo_h, hi_h) = w.valid(1, kh);
            for kw in 0..w.kernel[2] {
                let (sw, lo_w, hi_w) = w.valid(2, kw);
                for od in lo_d..hi_d {
                    let id = (sd + (od * w.stride[0]) as isize) as usize;
                    for oh in lo_h..hi_h {
                        let ih = (sh + (oh * w.stride[1]) as isize) as usize;
                        let line = std::slice::from_raw_parts(row.add((od * b1 + oh) * b2), b2);
                        let base = dst.add((id * i1 + ih) * i2);
                        let first = (sw + (lo_w * w.stride[2]) as isize) as usize;
                        for (i, &v) in line[lo_w..hi_w].iter().enumerate() {
                            let p = base.add(first + i * w.stride[2]);
                            *p = (*p).add(v);
                        }
                    }
                }
                row = row.add(row_stride);
            }
        }
    }
}

/// A strided batch of planes: plane `(n, c)` starts at `n * batch + c * channel`; `spatial`
/// are the strides inside a plane (3, unit dims first).
#[derive(Clone, Copy)]
pub struct Planes {
    pub batch: usize,
    pub channel: usize,
    pub spatial: [usize; 3],
}

/// im2col of a batch: `src` holds `(n, c, image)` planes laid out as `planes`; `dst` receives
/// the contiguous `(n, c * K, L)` columns. Parallel over planes.
///
/// # Safety
/// Pointers valid for the sizes; `dst` does not overlap `src`.
pub unsafe fn im2col<T: Copy + Default + Send + Sync>(src: *const T, planes: Planes, n: usize, c: usize, w: &Window, dst: *mut T) {
    let (src, dst) = (SendPtr(src as *mut T), SendPtr(dst));
    let rows = w.kernel_numel() * w.block_count();
    crate::cpu::threads::install_if(n * c * rows, || {
        (0..n * c).into_par_iter().for_each(|i| {
            let plane = src.get().add((i / c) * planes.batch + (i % c) * planes.channel);
            plane_to_cols(plane, planes.spatial, w, dst.get().add(i * rows), w.block_count());
        })
    })
}

/// col2im of a batch: adds the contiguous `(n, c * K, L)` columns `src` into the contiguous
/// `(n, c, image)` planes `dst`. Parallel over planes.
///
/// # Safety
/// Pointers valid for the sizes; `dst` does not overlap `src`.
pub unsafe fn col2im<T: Arith + Send + Sync>(src: *const T, n: usize, c: usize, w: &Window, dst: *mut T) {
    let (src, dst) = (SendPtr(src as *mut T), SendPtr(dst));
    let rows = w.kernel_numel() * w.block_count();
    let plane = w.image_numel();
    crate::cpu::threads::install_if(n * c * rows, || {
        (0..n * c).into_par_iter().for_each(|i| cols_to_plane(src.get().add(i * rows), w, dst.get().add(i * plane), w.block_count()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_of_a_padded_strided_row() {
        // image [1 2 3 4 5], kernel 2, stride 2, padding 1: windows (0,1) (2,3) (4,5)
        let w = Window::new(&[5], &[3], &[2], &[2], &[1], &[1]);
        let src = [1.0f64, 2.0, 3.0, 4.0, 5.0];
        let mut cols = [9.0f64; 6];
        unsafe { plane_to_cols(src.as_ptr(), [0, 0, 1], &w, cols.as_mut_ptr(), 3) };
        assert_eq!(cols, [0.0, 2.0, 4.0, 1.0, 3.0, 5.0]);
        let mut back = [0.0f64; 5];
        unsafe { cols_to_plane(cols.as_ptr(), &w, back.as_mut_ptr(), 3) };
        assert_eq!(back, [1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn dilated_kernel_past_the_end_reads_zeros() {
        let w = Window::new(&[3], &[3], &[2], &[1], &[1], &[2]);
        let src = [1.0f32, 2.0, 3.0];
        let mut cols = [9.0f32; 6];
        unsafe { plane_to_cols(src.as_ptr(), [0, 0, 1], &w, cols.as_mut_ptr(), 3) };
        // offsets -1, 0, 1 for k=0 and 1, 2, 3 for k=1
        assert_eq!(cols, [0.0, 1.0, 2.0, 2.0, 3.0, 0.0]);
    }
}
