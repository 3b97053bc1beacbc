//! Floating-point maths shared by f32 and f64 kernels, including the special functions
//! (erfinv, digamma) that the standard library lacks.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// The float operations element-wise kernels are written with.
pub trait Real:
    Copy + PartialOrd + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> + Neg<Output = Self>
{
    fn of(v: f64) -> Self;
    fn f64(self) -> f64;
    fn exp(self) -> Self;
    fn exp2(self) -> Self;
    fn exp_m1(self) -> Self;
    fn ln(self) -> Self;
    fn log2(self) -> Self;
    fn log10(self) -> Self;
    fn ln_1p(self) -> Self;
    fn sqrt(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn tan(self) -> Self;
    fn asin(self) -> Self;
    fn acos(self) -> Self;
    fn atan(self) -> Self;
    fn sinh(self) -> Self;
    fn cosh(self) -> Self;
    fn tanh(self) -> Self;
    fn asinh(self) -> Self;
    fn acosh(self) -> Self;
    fn atanh(self) -> Self;
    fn erf(self) -> Self;
    fn erfc(self) -> Self;
    fn lgamma(self) -> Self;
    fn abs(self) -> Self;
    fn floor(self) -> Self;
    fn ceil(self) -> Self;
    fn trunc(self) -> Self;
    fn round_even(self) -> Self;
    fn powf(self, e: Self) -> Self;
    fn atan2(self, o: Self) -> Self;
    fn hypot(self, o: Self) -> Self;
    fn fmod(self, o: Self) -> Self;
    fn copysign(self, o: Self) -> Self;
    fn is_nan(self) -> bool;
    fn is_infinite(self) -> bool;
    fn is_finite(self) -> bool;
    fn is_sign_negative(self) -> bool;
    fn max_value() -> Self;
    fn min_value() -> Self;
    fn erfinv(self) -> Self {
        Self::of(erfinv(self.f64()))
    }
    fn digamma(self) -> Self {
        Self::of(digamma(self.f64()))
    }
}

macro_rules! real_impl {
    ($t:ty, $exp:path, $tanh:path, $erf:path, $erfc:path, $lgamma:path) => {
        impl Real for $t {
            #[inline] fn of(v: f64) -> Self { v as $t }
            #[inline] fn f64(self) -> f64 { self as f64 }
            #[inline] fn exp(self) -> Self { $exp(self) }
            #[inline] fn exp2(self) -> Self { <$t>::exp2(self) }
            #[inline] fn exp_m1(self) -> Self { <$t>::exp_m1(self) }
            #[inline] fn ln(self) -> Self { <$t>::ln(self) }
            #[inline] fn log2(self) -> Self { <$t>::log2(self) }
            #[inline] fn log10(self) -> Self { <$t>::log10(self) }
            #[inline] fn ln_1p(self) -> Self { <$t>::ln_1p(self) }
            #[inline] fn sqrt(self) -> Self { <$t>::sqrt(self) }
            #[inline] fn sin(self) -> Self { <$t>::sin(self) }
            #[inline] fn cos(self) -> Self { <$t>::cos(self) }
            #[inline] fn tan(self) -> Self { <$t>::tan(self) }
            #[inline] fn asin(self) -> Self { <$t>::asin(self) }
            #[inline] fn acos(self) -> Self { <$t>::acos(self) }
            #[inline] fn atan(self) -> Self { <$t>::atan(self) }
            #[inline] fn sinh(self) -> Self { <$t>::sinh(self) }
            #[inline] fn cosh(self) -> Self { <$t>::cosh(self) }
            #[inline] fn tanh(self) -> Self { $tanh(self) }
            #[inline] fn asinh(self) -> Self { <$t>::asinh(self) }
            #[inline] fn acosh(self) -> Self { <$t>::acosh(self) }
            #[inline] fn atanh(self) -> Self { <$t>::atanh(self) }
            #[inline] fn erf(self) -> Self { $erf(self) }
            #[inline] fn erfc(self) -> Self { $erfc(self) }
            #[inline] fn lgamma(self) -> Self { $lgamma(self) }
            #[inline] fn abs(self) -> Self { <$t>::abs(self) }
            #[inline] fn floor(self) -> Self { <$t>::floor(self) }
            #[inline] fn ceil(self) -> Self { <$t>::ceil(self) }
            #[inline] fn trunc(self) -> Self { <$t>::trunc(self) }
            #[inline] fn round_even(self) -> Self { <$t>::round_ties_even(self) }
            #[inline] fn powf(self, e: Self) -> Self { <$t>::powf(self, e) }
            #[inline] fn atan2(self, o: Self) -> Self { <$t>::atan2(self, o) }
            #[inline] fn hypot(self, o: Self) -> Self { <$t>::hypot(self, o) }
            #[inline] fn fmod(self, o: Self) -> Self { self % o }
            #[inline] fn copysign(self, o: Self) -> Self { <$t>::copysign(self, o) }
            #[inline] fn is_nan(self) -> bool { <$t>::is_nan(self) }
            #[inline] fn is_infinite(self) -> bool { <$t>::is_infinite(self) }
            #[inline] fn is_finite(self) -> bool { <$t>::is_finite(self) }
            #[inline] fn is_sign_negative(self) -> bool { <$t>::is_sign_negative(self) }
            #[inline] fn max_value() -> Self { <$t>::MAX }
            #[inline] fn min_value() -> Self { <$t>::MIN }
        }
    };
}
real_impl!(f32, crate::cpu::vecmath::exp_f32, crate::cpu::vecmath::tanh_f32, crate::cpu::vecmath::erf_f32, libm::erfcf, libm::lgammaf);
real_impl!(f64, crate::cpu::vecmath::exp_f64, f64::tanh, libm::erf, libm::erfc, libm::lgamma);

/// Inverse error function: Giles' single-precision approximation refined by two Newton steps.
pub fn erfinv(y: f64) -> f64 {
    if y.is_nan() || !(-1.0..=1.0).contains(&y) {
        return f64::NAN;
    }
    if y == 1.0 || y == -1.0 {
        return f64::INFINITY.copysign(y);
    }
    let w = -((1.0 - y) * (1.0 + y)).ln();
    let mut x = if w < 5.0 {
        let w = w - 2.5;
        let mut p = 2.810_226_36e-08;
        for c in [3.432_739_39e-07, -3.523_387_7e-06, -4.391_506_54e-06, 0.000_218_580_87, -0.001_253_725_03, -0.004_177_681_64, 0.246_640_727, 1.501_409_41] {
            p = c + p * w;
        }
        p * y
    } else {
        let w = w.sqrt() - 3.0;
        let mut p = -0.000_200_214_257;
        for c in [0.000_100_950_558, 0.001_349_343_22, -0.003_673_428_44, 0.005_739_507_73, -0.007_622_461_3, 0.009_438_870_47, 1.001_674_06, 2.832_976_82] {
            p = c + p * w;
        }
        p * y
    };
    let two_over_sqrt_pi = 2.0 / std::f64::consts::PI.sqrt();
    for _ in 0..2 {
        x -= (libm::erf(x) - y) / (two_over_sqrt_pi * (-x * x).exp());
    }
    x
}

/// Digamma (psi) function, following PyTorch's `calc_digamma`.
pub fn digamma(mut x: f64) -> f64 {
    const PSI_10: f64 = 2.251_752_589_066_721_107_647_456_163_885_851_5;
    if x == 0.0 {
        return f64::INFINITY.copysign(-x);
    }
    if x < 0.0 {
        if x == x.trunc() {
            return f64::NAN;
        }
        // Reflection: psi(1 - x) - pi / tan(pi x), with the fractional part keeping accuracy.
        let q = x - x.floor();
        return digamma(1.0 - x) - std::f64::consts::PI / (std::f64::consts::PI * q).tan();
    }
    let mut result = 0.0;
    while x < 10.0 {
        result -= 1.0 / x;
        x += 1.0;
    }
    if x == 10.0 {
        return result + PSI_10;
    }
    const A: [f64; 7] = [
        8.333_333_333_333_333_333_33e-2,
        -2.109_279_609_279_609_279_61e-2,
        7.575_757_575_757_575_757_58e-3,
        -4.166_666_666_666_666_666_67e-3,
        3.968_253_968_253_968_253_97e-3,
        -8.333_333_333_333_333_333_33e-3,
        8.333_333_333_333_333_333_33e-2,
    ];
    let y = if x < 1.0e17 {
        let z = 1.0 / (x * x);
        let mut p = 0.0;
        for a in A {
            p = p * z + a;
        }
        z * p
    } else {
        0.0
    };
    result + x.ln() - 0.5 / x - y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfinv_inverts_erf() {
        for &y in &[-0.999, -0.5, -1e-8, 0.0, 0.3, 0.9, 0.999999] {
            assert!((libm::erf(erfinv(y)) - y).abs() < 1e-14, "{y}");
        }
    }

    #[test]
    fn digamma_known_values() {
        let euler = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler).abs() < 1e-14);
        assert!((digamma(0.5) + euler + 2.0 * 2f64.ln()).abs() < 1e-14);
        assert!(digamma(-1.0).is_nan());
        // psi(x + 1) = psi(x) + 1 / x, also through the reflection branch.
        for &x in &[-2.5, -0.3, 0.7, 3.2, 12.5] {
            assert!((digamma(x + 1.0) - digamma(x) - 1.0 / x).abs() < 1e-12, "{x}");
        }
    }
}
