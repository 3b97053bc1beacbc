//! Branch-free float functions the compiler can vectorize (the standard library's `exp` is a
//! scalar libm call). Cephes-style range reduction and polynomials, about 1 ulp.

/// `e^x` for f32. Overflow gives inf, underflow goes through subnormals to 0, NaN stays NaN.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding then subtracting 1.5 * 2^23 rounds to the nearest integer with plain SSE2 ops.
    const ROUND: f32 = 12_582_912.0;
    let xc = x.clamp(-104.0, 88.8);
    let t = xc * LOG2E + ROUND;
    let n = t - ROUND;
    // t = ROUND + n exactly, so the difference of the bit patterns is n as an integer: no
    // float-to-int conversion, whose saturating semantics would keep the loop scalar.
    let ni = t.to_bits() as i32 - ROUND.to_bits() as i32;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 5.000_000_1e-1;
    let y = p * r * r + r + 1.0;
    // Split 2^n in two factors so that each stays a normal number over the whole range.
    let n1 = ni >> 1;
    let n2 = ni - n1;
    let s1 = f32::from_bits(((n1 + 127) as u32) << 23);
    let s2 = f32::from_bits(((n2 + 127) as u32) << 23);
    let res = y * s1 * s2;
    if x.is_nan() {
        x
    } else {
        res
    }
}

/// `e^x` for f64, with a degree-13 Taylor polynomial on |r| <= ln2 / 2.
#[inline(always)]
pub fn exp_f64(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 6.931_471_803_691_238_2e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const ROUND: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
    let xc = x.clamp(-746.0, 709.8);
    let n = (xc * LOG2E + ROUND) - ROUND;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0;
    for c in [1.0 / 479_001_600.0, 1.0 / 39_916_800.0, 1.0 / 3_628_800.0, 1.0 / 362_880.0, 1.0 / 40_320.0, 1.0 / 5_040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = p * r + c;
    }
    let ni = n as i64;
    let n1 = ni >> 1;
    let n2 = ni - n1;
    let s1 = f64::from_bits(((n1 + 1023) as u64) << 52);
    let s2 = f64::from_bits(((n2 + 1023) as u64) << 52);
    let res = p * s1 * s2;
    if x.is_nan() {
        x
    } else {
        res
    }
}

/// `tanh(x)` for f32: Cephes' odd polynomial below |x| = 0.625, `1 - 2 / (e^{2|x|} + 1)` above
/// (both computed, then selected, so the loop vectorizes). About 2 ulp; NaN stays NaN.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let z = x.abs();
    let s = x * x;
    let p = -5.704_988_7e-3_f32;
    let p = p * s + 2.063_908_9e-2;
    let p = p * s - 5.373_971_6e-2;
    let p = p * s + 1.333_144_2e-1;
    let p = p * s - 3.333_328_2e-1;
    // copysign keeps the sign of zero (tanh(-0) = -0), which the sum loses.
    let small = (p * s * x + x).copysign(x);
    let large = (1.0 - 2.0 / (exp_f32(z + z) + 1.0)).copysign(x);
    if z < 0.625 {
        small
    } else {
        large
    }
}

/// `erf(x)` for f32: Cephes' odd polynomial below |x| = 1 (keeps the relative accuracy near
/// zero), Abramowitz-Stegun 7.1.26 `1 - t P(t) e^{-x^2}` above (the form PyTorch's vectorized
/// CPU kernel uses everywhere). Both computed, then selected, so the loop vectorizes; relative
/// error below 2.5e-7 (2 ulp). NaN stays NaN.
#[inline(always)]
pub fn erf_f32(x: f32) -> f32 {
    let s = x * x;
    let p = 7.853_861_4e-5_f32;
    let p = p * s - 8.010_193_6e-4;
    let p = p * s + 5.188_327_7e-3;
    let p = p * s - 2.685_381_2e-2;
    let p = p * s + 1.128_358_5e-1;
    let p = p * s - 3.761_262_6e-1;
    let p = p * s + 1.128_379_2;
    let small = x * p;
    let a = x.abs();
    let t = 1.0 / (0.327_591_1 * a + 1.0);
    let r = 1.061_405_4_f32;
    let r = r * t - 1.453_152;
    let r = r * t + 1.421_413_8;
    let r = r * t - 0.284_496_74;
    let r = r * t + 0.254_829_6;
    let large = (1.0 - r * t * exp_f32(-s)).copysign(x);
    if a < 1.0 {
        small
    } else {
        large
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps32(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn exp_f32_is_within_two_ulps_of_the_correctly_rounded_value() {
        let mut x = -103.0f32;
        while x < 88.7 {
            let exact = (x as f64).exp() as f32;
            assert!(ulps32(exp_f32(x), exact) <= 2, "x={x} got {} want {exact}", exp_f32(x));
            x += 0.0137;
        }
    }

    #[test]
    fn exp_f32_edges() {
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(89.0), f32::INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-200.0), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert_eq!(exp_f32(0.0), 1.0);
    }

    #[test]
    fn tanh_f32_is_within_three_ulps() {
        let mut x = -12.0f32;
        while x < 12.0 {
            let exact = (x as f64).tanh() as f32;
            assert!(ulps32(tanh_f32(x), exact) <= 3, "x={x} got {} want {exact}", tanh_f32(x));
            x += 0.00173;
        }
        for x in [0.0f32, -0.0, 1e-30, -1e-30, 0.625, -0.625, 0.624_999_9] {
            let exact = (x as f64).tanh() as f32;
            assert!(ulps32(tanh_f32(x), exact) <= 3, "x={x}");
        }
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(100.0), 1.0);
        assert!(tanh_f32(f32::NAN).is_nan());
        assert!(tanh_f32(-0.0).is_sign_negative());
    }

    #[test]
    fn erf_f32_is_within_two_ulps_relative() {
        let mut x = -7.0f32;
        while x < 7.0 {
            let exact = libm::erf(x as f64);
            let rel = ((erf_f32(x) as f64 - exact) / exact.abs().max(1e-30)).abs();
            assert!(rel < 2.5e-7, "x={x} got {} want {exact}", erf_f32(x));
            x += 0.000_731;
        }
        assert_eq!(erf_f32(f32::INFINITY), 1.0);
        assert_eq!(erf_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(erf_f32(0.0), 0.0);
        assert!(erf_f32(-0.0).is_sign_negative());
        assert!(erf_f32(f32::NAN).is_nan());
        assert!((erf_f32(1e-20) - 1.128_379_2e-20).abs() < 1e-26);
    }

    #[test]
    fn exp_f64_is_accurate() {
        let mut x = -745.0f64;
        while x < 709.7 {
            let (got, want) = (exp_f64(x), x.exp());
            let ok = if want > f64::MIN_POSITIVE { ((got - want) / want).abs() < 4e-16 } else { (got - want).abs() <= 1e-323 };
            assert!(ok, "x={x} got {got} want {want}");
            x += 0.0371;
        }
        assert_eq!(exp_f64(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
        assert!(exp_f64(f64::NAN).is_nan());
    }
}
