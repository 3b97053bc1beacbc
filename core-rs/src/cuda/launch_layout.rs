//! The iteration shape and operand strides that element-wise kernels take by value: the Rust
//! twins of prelude.cu's `Shape` and `Strides<N>` (same field order, `#[repr(C)]`).

use cudarc::driver::DeviceRepr;

use crate::bail;
use crate::error::Result;

/// The most dims a kernel iterates over; callers coalesce layouts first.
pub const MAX_DIMS: usize = 8;

/// prelude.cu's `Shape`: the iteration shape.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelShape {
    pub ndim: i32,
    pub sizes: [i64; MAX_DIMS],
}

/// prelude.cu's `Strides<N>`: the strides, in elements, of N operands (output first).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelStrides<const N: usize> {
    pub of: [[i64; MAX_DIMS]; N],
}

// SAFETY: plain `#[repr(C)]` data whose layout matches the CUDA structs.
unsafe impl DeviceRepr for KernelShape {}
// SAFETY: as above.
unsafe impl<const N: usize> DeviceRepr for KernelStrides<N> {}

fn too_many_dims(ndim: usize) -> Result<()> {
    if ndim > MAX_DIMS {
        bail!(Runtime, "CUDA kernels support tensors of at most {MAX_DIMS} dimensions after coalescing, got {ndim}");
    }
    Ok(())
}

fn to_i64(v: usize) -> Result<i64> {
    match i64::try_from(v) {
        Ok(v) => Ok(v),
        Err(_) => bail!(Runtime, "size or stride {v} is too large for a CUDA kernel"),
    }
}

impl KernelShape {
    /// The kernel form of `shape`.
    pub fn new(shape: &[usize]) -> Result<Self> {
        too_many_dims(shape.len())?;
        let mut sizes = [1i64; MAX_DIMS];
        for (size, &s) in sizes.iter_mut().zip(shape) {
            *size = to_i64(s)?;
        }
        Ok(KernelShape { ndim: shape.len() as i32, sizes })
    }
}

impl<const N: usize> KernelStrides<N> {
    /// The kernel form of N operands' strides, each as long as the iteration shape.
    pub fn new(strides: [&[usize]; N]) -> Result<Self> {
        let mut of = [[0i64; MAX_DIMS]; N];
        for (row, operand) in of.iter_mut().zip(strides) {
            too_many_dims(operand.len())?;
            for (slot, &s) in row.iter_mut().zip(operand) {
                *slot = to_i64(s)?;
            }
        }
        Ok(KernelStrides { of })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structs_have_the_cuda_layout() {
        // i32 + padding + 8 i64, as `struct Shape { i32 ndim; i64 sizes[8]; }` in CUDA C.
        assert_eq!(std::mem::size_of::<KernelShape>(), 72);
        assert_eq!(std::mem::align_of::<KernelShape>(), 8);
        assert_eq!(std::mem::size_of::<KernelStrides<3>>(), 3 * 64);
    }

    #[test]
    fn shape_pads_with_ones_and_rejects_more_than_eight_dims() {
        let s = KernelShape::new(&[2, 3]).unwrap();
        assert_eq!((s.ndim, &s.sizes[..3]), (2, &[2, 3, 1][..]));
        assert!(KernelShape::new(&[1; 9]).is_err());
        assert!(KernelStrides::<1>::new([&[1; 9]]).is_err());
    }

    #[test]
    fn strides_keep_operand_order() {
        let s = KernelStrides::<2>::new([&[3, 1], &[0, 1]]).unwrap();
        assert_eq!(&s.of[0][..2], &[3, 1]);
        assert_eq!(&s.of[1][..2], &[0, 1]);
    }
}
