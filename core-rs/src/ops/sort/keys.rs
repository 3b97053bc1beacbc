//! Order-preserving integer keys for every element type, packed with the element's position.
//!
//! Sorting `(key, position)` pairs with any algorithm gives exactly a stable sort by key, so
//! fast unstable sorts and LSD radix sorts can be used while PyTorch's `stable=True` order is
//! kept. The keys encode PyTorch's order: NaN above +inf (all NaNs equal), `-0.0 == 0.0`.

use half::{bf16, f16};

use crate::dtype::Element;

/// An element type that can be sorted through packed integer keys.
pub trait Sortable: Element {
    /// `key << POSITION_BITS | position`, compared as an unsigned integer.
    type Packed: Copy + Ord + Send + Sync;

    /// Packs `self`'s key (inverted for a descending order) with its position in the row.
    fn pack(self, position: usize, descending: bool) -> Self::Packed;

    /// The position stored in a packed value.
    fn position(p: Self::Packed) -> usize;

    /// Sorts packed values ascending; `scratch` is reusable working memory.
    fn sort_packed(v: &mut [Self::Packed], scratch: &mut Vec<Self::Packed>);
}

/// The largest row length positions can be packed for.
pub const MAX_ROW: usize = u32::MAX as usize;

/// Rows shorter than this are sorted by comparison; longer ones by radix.
const RADIX_MIN: usize = 2048;

#[inline]
fn f32_key(v: f32) -> u32 {
    if v.is_nan() {
        return u32::MAX;
    }
    // Adding +0.0 turns -0.0 into +0.0 so both zeros share one key.
    let b = (v + 0.0).to_bits();
    if b >> 31 == 1 {
        !b
    } else {
        b | 0x8000_0000
    }
}

#[inline]
fn f64_key(v: f64) -> u64 {
    if v.is_nan() {
        return u64::MAX;
    }
    let b = (v + 0.0).to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | 0x8000_0000_0000_0000
    }
}

/// LSD radix sort of packed u64 values on their upper 32 bits (the key), three 11-bit digits.
/// Stable, so positions (the lower bits, ascending on input) stay ordered among equal keys.
fn radix_sort_u64(v: &mut [u64], scratch: &mut Vec<u64>) {
    const SHIFTS: [u32; 3] = [32, 43, 54];
    const MASK: u64 = 0x7FF;
    let n = v.len();
    let mut hist = vec![[0usize; 2048]; 3];
    for &x in v.iter() {
        for (h, &s) in hist.iter_mut().zip(&SHIFTS) {
            h[((x >> s) & MASK) as usize] += 1;
        }
    }
    scratch.clear();
    scratch.resize(n, 0);
    let mut in_v = true;
    for (h, &s) in hist.iter_mut().zip(&SHIFTS) {
        // A digit shared by every element leaves the order unchanged: skip its pass.
        if h.iter().any(|&c| c == n) {
            continue;
        }
        let mut sum = 0;
        for c in h.iter_mut() {
            let count = *c;
            *c = sum;
            sum += count;
        }
        let (src, dst): (&[u64], &mut [u64]) = if in_v { (&*v, &mut scratch[..]) } else { (&scratch[..], &mut *v) };
        for &x in src {
            let b = ((x >> s) & MASK) as usize;
            dst[h[b]] = x;
            h[b] += 1;
        }
        in_v = !in_v;
    }
    if !in_v {
        v.copy_from_slice(scratch);
    }
}

macro_rules! sortable32 {
    ($($t:ty => |$x:ident| $key:expr;)*) => {$(
        impl Sortable for $t {
            type Packed = u64;
            #[inline]
            fn pack(self, position: usize, descending: bool) -> u64 {
                let $x = self;
                let k: u32 = $key;
                let k = if descending { !k } else { k };
                ((k as u64) << 32) | position as u64
            }
            #[inline]
            fn position(p: u64) -> usize {
                (p & 0xFFFF_FFFF) as usize
            }
            fn sort_packed(v: &mut [u64], scratch: &mut Vec<u64>) {
                if v.len() < RADIX_MIN {
                    v.sort_unstable();
                } else {
                    radix_sort_u64(v, scratch);
                }
            }
        }
    )*};
}

sortable32! {
    bool => |x| x as u32;
    u8 => |x| x as u32;
    i8 => |x| (x as u8 ^ 0x80) as u32;
    i16 => |x| (x as u16 ^ 0x8000) as u32;
    i32 => |x| x as u32 ^ 0x8000_0000;
    f32 => |x| f32_key(x);
    f16 => |x| f32_key(x.to_f32());
    bf16 => |x| f32_key(x.to_f32());
}

macro_rules! sortable64 {
    ($($t:ty => |$x:ident| $key:expr;)*) => {$(
        impl Sortable for $t {
            type Packed = u128;
            #[inline]
            fn pack(self, position: usize, descending: bool) -> u128 {
                let $x = self;
                let k: u64 = $key;
                let k = if descending { !k } else { k };
                ((k as u128) << 64) | position as u128
            }
            #[inline]
            fn position(p: u128) -> usize {
                (p & 0xFFFF_FFFF_FFFF_FFFF) as usize
            }
            fn sort_packed(v: &mut [u128], _scratch: &mut Vec<u128>) {
                v.sort_unstable();
            }
        }
    )*};
}

sortable64! {
    i64 => |x| x as u64 ^ 0x8000_0000_0000_0000;
    f64 => |x| f64_key(x);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_positions<T: Sortable>(v: &[T], descending: bool) -> Vec<usize> {
        let mut p: Vec<T::Packed> = v.iter().enumerate().map(|(i, &x)| x.pack(i, descending)).collect();
        T::sort_packed(&mut p, &mut Vec::new());
        p.into_iter().map(T::position).collect()
    }

    #[test]
    fn floats_order_nan_last_and_zeros_equal() {
        let v = [f32::NAN, 1.0, -0.0, f32::NEG_INFINITY, 0.0, f32::INFINITY, -2.5];
        assert_eq!(sorted_positions(&v, false), vec![3, 6, 2, 4, 1, 5, 0]);
        assert_eq!(sorted_positions(&v, true), vec![0, 5, 1, 2, 4, 6, 3]);
    }

    #[test]
    fn radix_matches_stable_sort_on_long_rows() {
        let v: Vec<i32> = (0..10_000).map(|i| ((i * 7919) % 301) - 150).collect();
        let mut expected: Vec<usize> = (0..v.len()).collect();
        expected.sort_by_key(|&i| v[i]);
        assert_eq!(sorted_positions(&v, false), expected);
        let mut desc: Vec<usize> = (0..v.len()).collect();
        desc.sort_by_key(|&i| std::cmp::Reverse(v[i]));
        assert_eq!(sorted_positions(&v, true), desc);
    }
}
