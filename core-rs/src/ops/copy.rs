//! Copies and conversions: `copy_`, `contiguous`, `to(dtype)`, `to(device)`, `clone`. Copies
//! that involve a CUDA tensor go to `cuda::dispatch`.

use crate::cpu::iter::{for_each_row, SendPtr};
use crate::device::Device;
use crate::dtype::{DType, Element};
use crate::error::Result;
use crate::layout::Layout;
use crate::tensor::Tensor;
use crate::with_dtype;

/// Side of the square tiles used to copy transposed data: 32 rows of 64-byte lines stay in L1.
const TILE: usize = 32;

/// Copies a source whose fastest dim is the destination's second-fastest (a transpose),
/// tile by tile so reads and writes both stay in cache. `None` when the layouts do not
/// have that shape.
fn copy_transposed<S: Element, D: Element>(
    dst: SendPtr<D>,
    dst_layout: &Layout,
    src: SendPtr<S>,
    src_layout: &Layout,
) -> Option<()> {
    let (shape, st) = Layout::coalesce(&dst_layout.shape, &[&dst_layout.strides, &src_layout.strides]);
    let nd = shape.len();
    // One side may be short (an HWC <-> CHW permute has 3 columns or rows): short tiles still
    // beat a strided loop per row of 3 elements.
    if nd < 2 || st[0][nd - 1] != 1 || st[1][nd - 2] != 1 || st[1][nd - 1] == 1 || shape[nd - 1].max(shape[nd - 2]) < TILE {
        return None;
    }
    let (rows, cols) = (shape[nd - 2], shape[nd - 1]);
    let (d_row, s_col) = (st[0][nd - 2], st[1][nd - 1]);
    let outer: usize = shape[..nd - 2].iter().product();
    let row_tiles = rows.div_ceil(TILE);
    // Wide matrices also split their columns into tasks, so a few rows still use every thread.
    let col_chunk = TILE * TILE;
    let col_chunks = cols.div_ceil(col_chunk);
    let task = |t: usize| {
        let (t, cc) = (t / col_chunks, t % col_chunks);
        let (o, rt) = (t / row_tiles, t % row_tiles);
        // Offsets of outer index `o` (row-major over the leading dims).
        let (mut rem, mut d_off, mut s_off) = (o, dst_layout.offset, src_layout.offset);
        for d in (0..nd - 2).rev() {
            let i = rem % shape[d];
            rem /= shape[d];
            d_off += i * st[0][d];
            s_off += i * st[1][d];
        }
        let r0 = rt * TILE;
        let r1 = (r0 + TILE).min(rows);
        for c0 in (cc * col_chunk..cols.min((cc + 1) * col_chunk)).step_by(TILE) {
            let c1 = (c0 + TILE).min(cols);
            // The inner loop runs along the tile's longer side (a short side of 3 would leave
            // a loop of 3 iterations innermost). Strides are locals so the loop keeps them in
            // registers rather than reloading them around each store.
            let (d_row, s_col) = (d_row, s_col);
            unsafe {
                let (d, s) = (dst.get().add(d_off), src.get().add(s_off));
                if r1 - r0 >= c1 - c0 {
                    for c in c0..c1 {
                        let (dc, sc) = (d.add(c), s.add(c * s_col));
                        for r in r0..r1 {
                            *dc.add(r * d_row) = (*sc.add(r)).cast::<D>();
                        }
                    }
                } else {
                    for r in r0..r1 {
                        let (dr, sr) = (d.add(r * d_row), s.add(r));
                        for c in c0..c1 {
                            *dr.add(c) = (*sr.add(c * s_col)).cast::<D>();
                        }
                    }
                }
            }
        }
    };
    let tasks = outer * row_tiles * col_chunks;
    if outer * rows * cols < crate::cpu::iter::GRAIN {
        (0..tasks).for_each(task);
    } else {
        crate::cpu::threads::install(|| {
            use rayon::prelude::*;
            (0..tasks).into_par_iter().for_each(task)
        });
    }
    Some(())
}

/// Writes `src` (broadcast to `dst_layout.shape`, cast to `dst`'s dtype) into `dst`'s storage
/// at `dst_layout`.
pub(crate) fn copy_strided(dst: &Tensor, dst_layout: &Layout, src: &Tensor) -> Result<()> {
    if dst.is_cuda() || src.is_cuda() {
        return crate::cuda::dispatch::copy(dst, dst_layout, src);
    }
    let src_layout = src.layout().broadcast_to(&dst_layout.shape)?;
    with_dtype!(src.dtype(), S => with_dtype!(dst.dtype(), D => {
        let (sp, dp) = (SendPtr(src.data_ptr::<S>()?), SendPtr(dst.data_ptr::<D>()?));
        if copy_transposed(dp, dst_layout, sp, &src_layout).is_some() {
            return Ok(());
        }
        for_each_row(
            &dst_layout.shape,
            [(&dst_layout.strides, dst_layout.offset), (&src_layout.strides, src_layout.offset)],
            |[o, i], len, [so, si]| unsafe {
                let (d, s) = (dp.get().add(o), sp.get().add(i));
                if so == 1 && si == 1 {
                    if S::DTYPE == D::DTYPE {
                        std::ptr::copy(s as *const D, d, len);
                    } else {
                        for j in 0..len {
                            *d.add(j) = (*s.add(j)).cast::<D>();
                        }
                    }
                } else {
                    for j in 0..len {
                        *d.add(j * so) = (*s.add(j * si)).cast::<D>();
                    }
                }
            },
        );
    }));
    Ok(())
}

/// In-place writes may not target a tensor whose elements share memory (an expanded view).
pub(crate) fn check_no_internal_overlap(t: &Tensor) -> Result<()> {
    if t.shape().iter().zip(t.strides()).any(|(&n, &s)| n > 1 && s == 0) {
        crate::bail!(
            Runtime,
            "unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation."
        );
    }
    Ok(())
}

impl Tensor {
    /// Copies `src` into `self`, broadcasting and casting, without recording history
    /// (`copy_` is the recorded form).
    pub fn copy_from(&self, src: &Tensor) -> Result<()> {
        if crate::layout::broadcast_shapes(self.shape(), src.shape())? != self.shape() {
            crate::bail!(
                Runtime,
                "output with shape {:?} doesn't match the broadcast shape {:?}",
                self.shape(),
                crate::layout::broadcast_shapes(self.shape(), src.shape())?
            );
        }
        // A source overlapping the destination in another arrangement must be read first.
        let src = if src.shares_storage(self) && src.layout() != self.layout() { src.clone_contiguous()? } else { src.clone() };
        copy_strided(self, &self.layout().clone(), &src)?;
        self.bump_version();
        Ok(())
    }

    /// A contiguous copy with the same dtype (`clone()` on a contiguous result).
    pub fn clone_contiguous(&self) -> Result<Tensor> {
        self.to_dtype_copy(self.dtype())
    }

    /// A contiguous copy converted to `dtype`.
    pub fn to_dtype_copy(&self, dtype: DType) -> Result<Tensor> {
        self.copy_to(dtype, self.device())
    }

    /// A contiguous copy of `dtype` on `device`.
    pub fn copy_to(&self, dtype: DType, device: Device) -> Result<Tensor> {
        let out = Tensor::uninit_on(self.shape(), dtype, device)?;
        copy_strided(&out, &out.layout().clone(), self)?;
        Ok(out)
    }

    /// `self` when already on `device`, else a contiguous copy there (not recorded;
    /// `to_device_recorded` is the differentiable form).
    pub fn to_device(&self, device: Device) -> Result<Tensor> {
        if self.device() == device {
            Ok(self.clone())
        } else {
            self.copy_to(self.dtype(), device)
        }
    }

    /// `pin_memory()`: `self` in page-locked host memory (a contiguous copy unless it already
    /// is), which CUDA copies read without staging.
    pub fn pin_memory(&self) -> Result<Tensor> {
        if self.is_cuda() {
            crate::bail!(Runtime, "cannot pin 'torch.cuda.{}Tensor' only dense CPU tensors can be pinned", crate::dtype::title(self.dtype()));
        }
        if self.is_pinned() {
            return Ok(self.clone());
        }
        let storage = crate::storage::Storage::pinned_uninit(self.numel(), self.dtype())?;
        let pinned = Tensor::from_parts(std::sync::Arc::new(storage), crate::layout::Layout::contiguous(self.shape()));
        pinned.copy_from(self)?;
        Ok(pinned)
    }

    /// Whether `self` lives in page-locked host memory.
    pub fn is_pinned(&self) -> bool {
        self.storage().pinned().is_some()
    }

    /// `self` when already contiguous, else a contiguous copy.
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() {
            Ok(self.clone())
        } else {
            self.clone_contiguous()
        }
    }

    /// `self` when already of `dtype`, else a converted copy.
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if self.dtype() == dtype {
            Ok(self.clone())
        } else {
            self.to_dtype_copy(dtype)
        }
    }

    /// Contiguous and of `dtype`, copying at most once.
    pub fn contiguous_as(&self, dtype: DType) -> Result<Tensor> {
        if self.dtype() == dtype {
            self.contiguous()
        } else {
            self.to_dtype_copy(dtype)
        }
    }

    /// The elements as a contiguous slice. `T` must be the dtype and `self` contiguous.
    ///
    /// # Safety
    /// No other view may write the storage while the slice lives.
    pub unsafe fn as_slice<T: Element>(&self) -> Result<&[T]> {
        debug_assert!(self.is_contiguous());
        Ok(std::slice::from_raw_parts(self.data_ptr::<T>()?.add(self.offset()), self.numel()))
    }

    /// Mutable contiguous slice of a freshly made tensor.
    ///
    /// # Safety
    /// `self` must be contiguous and not visible to anyone else.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn as_mut_slice<T: Element>(&self) -> Result<&mut [T]> {
        debug_assert!(self.is_contiguous());
        Ok(std::slice::from_raw_parts_mut(self.data_ptr::<T>()?.add(self.offset()), self.numel()))
    }
}
