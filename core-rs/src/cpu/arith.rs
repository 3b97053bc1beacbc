//! Arithmetic on every type kernels compute in (bool, the integers, f32, f64), with PyTorch's
//! semantics: integer ops wrap, floor division and remainder follow Python's signs,
//! maximum/minimum propagate NaN.

use crate::cpu::real::Real;
use crate::dtype::Element;

/// Element arithmetic used by the binary and type-preserving unary kernels.
pub trait Arith: Element {
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// True division (floats only; integer inputs are promoted before).
    fn div(self, o: Self) -> Self;
    fn floor_div(self, o: Self) -> Self;
    fn remainder(self, o: Self) -> Self;
    fn fmod(self, o: Self) -> Self;
    fn pow(self, o: Self) -> Self;
    fn maximum(self, o: Self) -> Self;
    fn minimum(self, o: Self) -> Self;
    fn fmax(self, o: Self) -> Self;
    fn fmin(self, o: Self) -> Self;
    fn neg(self) -> Self;
    fn abs(self) -> Self;
    fn sign(self) -> Self;
    fn floor(self) -> Self;
    fn ceil(self) -> Self;
    fn trunc(self) -> Self;
    fn round(self) -> Self;
    fn is_zero(self) -> bool {
        !self.is_nonzero()
    }
    fn lt_zero(self) -> bool;
    fn is_nan(self) -> bool {
        false
    }
}

macro_rules! int_arith {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline] fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline] fn sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            #[inline] fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            #[inline] fn div(self, o: Self) -> Self { if o == 0 { 0 } else { self.wrapping_div(o) } }
            #[inline] fn floor_div(self, o: Self) -> Self {
                if o == 0 { return 0; }
                let q = self.wrapping_div(o);
                if self.wrapping_rem(o) != 0 && ((self < 0 as $t) != (o < 0 as $t)) { q.wrapping_sub(1) } else { q }
            }
            #[inline] fn remainder(self, o: Self) -> Self {
                if o == 0 { return 0; }
                let r = self.wrapping_rem(o);
                if r != 0 && ((r < 0 as $t) != (o < 0 as $t)) { r.wrapping_add(o) } else { r }
            }
            #[inline] fn fmod(self, o: Self) -> Self { if o == 0 { 0 } else { self.wrapping_rem(o) } }
            #[inline] fn pow(self, o: Self) -> Self {
                // Negative exponents are rejected before the kernel runs.
                let mut e = o as i64;
                let (mut base, mut acc) = (self, 1 as $t);
                while e > 0 {
                    if e & 1 == 1 { acc = acc.wrapping_mul(base); }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                acc
            }
            #[inline] fn maximum(self, o: Self) -> Self { if self > o { self } else { o } }
            #[inline] fn minimum(self, o: Self) -> Self { if self < o { self } else { o } }
            #[inline] fn fmax(self, o: Self) -> Self { self.maximum(o) }
            #[inline] fn fmin(self, o: Self) -> Self { self.minimum(o) }
            #[inline] fn neg(self) -> Self { (0 as $t).wrapping_sub(self) }
            #[inline] fn abs(self) -> Self { if self < 0 as $t { self.neg() } else { self } }
            #[inline] fn sign(self) -> Self { ((self > 0 as $t) as i8 - (self < 0 as $t) as i8) as $t }
            #[inline] fn floor(self) -> Self { self }
            #[inline] fn ceil(self) -> Self { self }
            #[inline] fn trunc(self) -> Self { self }
            #[inline] fn round(self) -> Self { self }
            #[inline] fn lt_zero(self) -> bool { self < 0 as $t }
        }
    )*};
}
int_arith!(u8, i8, i16, i32, i64);

impl Arith for bool {
    #[inline] fn add(self, o: Self) -> Self { self | o }
    #[inline] fn sub(self, o: Self) -> Self { self ^ o }
    #[inline] fn mul(self, o: Self) -> Self { self & o }
    #[inline] fn div(self, o: Self) -> Self { self & o }
    #[inline] fn floor_div(self, o: Self) -> Self { self & o }
    #[inline] fn remainder(self, _o: Self) -> Self { false }
    #[inline] fn fmod(self, _o: Self) -> Self { false }
    #[inline] fn pow(self, o: Self) -> Self { self | !o }
    #[inline] fn maximum(self, o: Self) -> Self { self | o }
    #[inline] fn minimum(self, o: Self) -> Self { self & o }
    #[inline] fn fmax(self, o: Self) -> Self { self | o }
    #[inline] fn fmin(self, o: Self) -> Self { self & o }
    #[inline] fn neg(self) -> Self { self }
    #[inline] fn abs(self) -> Self { self }
    #[inline] fn sign(self) -> Self { self }
    #[inline] fn floor(self) -> Self { self }
    #[inline] fn ceil(self) -> Self { self }
    #[inline] fn trunc(self) -> Self { self }
    #[inline] fn round(self) -> Self { self }
    #[inline] fn lt_zero(self) -> bool { false }
}

macro_rules! float_arith {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline] fn add(self, o: Self) -> Self { self + o }
            #[inline] fn sub(self, o: Self) -> Self { self - o }
            #[inline] fn mul(self, o: Self) -> Self { self * o }
            #[inline] fn div(self, o: Self) -> Self { self / o }
            #[inline] fn floor_div(self, o: Self) -> Self {
                // PyTorch's div_floor_floating: exact for values where floor(a / b) rounds wrong.
                if o == 0.0 { return self / o; }
                let m = self % o;
                let mut d = (self - m) / o;
                if m != 0.0 && ((o < 0.0) != (m < 0.0)) { d -= 1.0; }
                if d != 0.0 {
                    let f = d.floor();
                    if d - f > 0.5 { f + 1.0 } else { f }
                } else {
                    (0.0 as $t).copysign(self / o)
                }
            }
            #[inline] fn remainder(self, o: Self) -> Self {
                let m = self % o;
                if m != 0.0 && ((o < 0.0) != (m < 0.0)) { m + o } else { m }
            }
            #[inline] fn fmod(self, o: Self) -> Self { self % o }
            #[inline] fn pow(self, o: Self) -> Self { Real::powf(self, o) }
            #[inline] fn maximum(self, o: Self) -> Self { if self.is_nan() || o.is_nan() { <$t>::NAN } else { <$t>::max(self, o) } }
            #[inline] fn minimum(self, o: Self) -> Self { if self.is_nan() || o.is_nan() { <$t>::NAN } else { <$t>::min(self, o) } }
            #[inline] fn fmax(self, o: Self) -> Self { <$t>::max(self, o) }
            #[inline] fn fmin(self, o: Self) -> Self { <$t>::min(self, o) }
            #[inline] fn neg(self) -> Self { -self }
            #[inline] fn abs(self) -> Self { <$t>::abs(self) }
            #[inline] fn sign(self) -> Self { if self.is_nan() { self } else { ((self > 0.0) as i8 - (self < 0.0) as i8) as $t } }
            #[inline] fn floor(self) -> Self { <$t>::floor(self) }
            #[inline] fn ceil(self) -> Self { <$t>::ceil(self) }
            #[inline] fn trunc(self) -> Self { <$t>::trunc(self) }
            #[inline] fn round(self) -> Self { <$t>::round_ties_even(self) }
            #[inline] fn lt_zero(self) -> bool { self < 0.0 }
            #[inline] fn is_nan(self) -> bool { <$t>::is_nan(self) }
        }
    )*};
}
float_arith!(f32, f64);

/// Bitwise ops on bool and the integers.
pub trait Bits: Element {
    fn and(self, o: Self) -> Self;
    fn or(self, o: Self) -> Self;
    fn xor(self, o: Self) -> Self;
    fn not(self) -> Self;
    fn shl(self, o: Self) -> Self;
    fn shr(self, o: Self) -> Self;
}

macro_rules! int_bits {
    ($($t:ty),*) => {$(
        impl Bits for $t {
            #[inline] fn and(self, o: Self) -> Self { self & o }
            #[inline] fn or(self, o: Self) -> Self { self | o }
            #[inline] fn xor(self, o: Self) -> Self { self ^ o }
            #[inline] fn not(self) -> Self { !self }
            #[inline] fn shl(self, o: Self) -> Self {
                // Shifts past the width give 0, as PyTorch defines them.
                if (o as i64) < 0 || (o as i64) >= <$t>::BITS as i64 { 0 } else { self.wrapping_shl(o as u32) }
            }
            #[inline] fn shr(self, o: Self) -> Self {
                let max = <$t>::BITS as i64 - 1;
                let s = if (o as i64) < 0 || (o as i64) > max { max } else { o as i64 };
                if <$t>::MIN == 0 as $t && (o as i64) > max { 0 } else { self.wrapping_shr(s as u32) }
            }
        }
    )*};
}
int_bits!(u8, i8, i16, i32, i64);

impl Bits for bool {
    #[inline] fn and(self, o: Self) -> Self { self & o }
    #[inline] fn or(self, o: Self) -> Self { self | o }
    #[inline] fn xor(self, o: Self) -> Self { self ^ o }
    #[inline] fn not(self) -> Self { !self }
    #[inline] fn shl(self, o: Self) -> Self { self & !o }
    #[inline] fn shr(self, o: Self) -> Self { self & !o }
}
