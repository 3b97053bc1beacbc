//! The iteration shape and operand strides that element-wise kernels take by value: the Rust
//! twins of prelude.cu's `Shape` and `Strides<N>` (same field order, `#[repr(C)]`).

use cudarc::driver::DeviceRepr;

use crate::bail;
use crate::error::Result;

/// The most dims a kernel iterates over; callers coalesce layouts first.
pub const MAX_DIMS: usize = 8;

/// prelude.cu's `Shape`: the iteration shape, and for shapes of fewer than 2^31 elements
/// (`narrow`) each size's 32-bit division constants (see [`divider`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelShape {
    pub ndim: i32,
    pub narrow: i32,
    pub sizes: [i64; MAX_DIMS],
    pub magic: [u32; MAX_DIMS],
    pub shift: [u32; MAX_DIMS],
}

/// `(magic, shift)` such that `n / d == (umulhi(n, magic) + n) >> shift` for every
/// `n < 2^31` and `1 <= d < 2^31` (PyTorch's IntDivider; Granlund and Montgomery): the kernels'
/// index arithmetic without a division instruction.
pub fn divider(d: u32) -> (u32, u32) {
    debug_assert!((1..1 << 31).contains(&d));
    let shift = (0..32).find(|&s| (1u64 << s) >= d as u64).unwrap_or(32);
    let magic = ((1u64 << 32) * ((1u64 << shift) - d as u64)) / d as u64 + 1;
    (magic as u32, shift)
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
        // Every linear index below 2^31 (and every size, for an empty shape with a huge dim).
        let narrow = shape.iter().try_fold(1usize, |n, &s| n.checked_mul(s)).is_some_and(|n| n < 1 << 31) && shape.iter().all(|&s| s < 1 << 31);
        let (mut magic, mut shift) = ([1u32; MAX_DIMS], [0u32; MAX_DIMS]);
        if narrow {
            for (d, &s) in shape.iter().enumerate().filter(|&(_, &s)| s > 0) {
                (magic[d], shift[d]) = divider(s as u32);
            }
        }
        Ok(KernelShape { ndim: shape.len() as i32, narrow: i32::from(narrow), sizes, magic, shift })
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
        // Two i32, 8 i64, 16 u32, as `struct Shape` in prelude.cu.
        assert_eq!(std::mem::size_of::<KernelShape>(), 136);
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

    /// The divider's quotients against integer division: every divisor up to 4096 on dividends
    /// spread over [0, 2^31), and the largest divisors.
    #[test]
    fn divider_divides_every_narrow_index() {
        let dividends: Vec<u32> = (0..4096).chain((0..1 << 31).step_by(65_521)).chain([(1 << 31) - 1]).collect();
        for d in (1..=4096).chain([65_535, 65_536, 1_000_003, (1 << 30) + 7, (1 << 31) - 1]) {
            let (magic, shift) = divider(d);
            for &n in &dividends {
                let q = ((((n as u64 * magic as u64) >> 32) as u32 + n) as u64 >> shift) as u32;
                assert_eq!(q, n / d, "{n} / {d}");
            }
        }
    }

    #[test]
    fn shapes_of_2_31_elements_or_more_are_not_narrow() {
        assert_eq!(KernelShape::new(&[1 << 16, (1 << 15) - 1]).unwrap().narrow, 1);
        assert_eq!(KernelShape::new(&[1 << 16, 1 << 15]).unwrap().narrow, 0);
        assert_eq!(KernelShape::new(&[3, 0]).unwrap().narrow, 1);
        assert_eq!(KernelShape::new(&[0, 1 << 32]).unwrap().narrow, 0);
    }

    #[test]
    fn strides_keep_operand_order() {
        let s = KernelStrides::<2>::new([&[3, 1], &[0, 1]]).unwrap();
        assert_eq!(&s.of[0][..2], &[3, 1]);
        assert_eq!(&s.of[1][..2], &[0, 1]);
    }
}
