//! Scalar forms of the activations and their derivatives, shared by the forward and backward
//! kernels of the table in `activation.rs`. Comparisons are written so that NaN propagates
//! like PyTorch's (a NaN input gives a NaN output; `f32::max` would drop it).

use crate::cpu::real::Real;

#[inline(always)]
fn c<R: Real>(v: f64) -> R {
    R::of(v)
}

/// `1 / (1 + e^-x)`.
#[inline(always)]
pub fn sigmoid<R: Real>(x: R) -> R {
    c::<R>(1.0) / (c::<R>(1.0) + (-x).exp())
}

/// `min(max(x, lo), hi)`, NaN passing through.
#[inline(always)]
pub fn clamp<R: Real>(x: R, lo: R, hi: R) -> R {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}

/// ELU with PyTorch's three coefficients: `x * scale` above 0, else
/// `alpha * scale * (e^(x * input_scale) - 1)`.
#[inline(always)]
pub fn elu<R: Real>(x: R, alpha: R, scale: R, input_scale: R) -> R {
    if x <= c(0.0) {
        (x * input_scale).exp_m1() * alpha * scale
    } else {
        x * scale
    }
}

/// d elu / dx.
#[inline(always)]
pub fn elu_grad<R: Real>(x: R, alpha: R, scale: R, input_scale: R) -> R {
    if x <= c(0.0) {
        input_scale * scale * alpha * (x * input_scale).exp()
    } else {
        scale
    }
}

const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// `1 / sqrt(2 pi)`.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
/// `sqrt(2 / pi)`, the tanh approximation's scale.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const GELU_CUBIC: f64 = 0.044_715;

/// `x * Phi(x)`.
#[inline(always)]
pub fn gelu<R: Real>(x: R) -> R {
    x * c(0.5) * (c::<R>(1.0) + (x * c(FRAC_1_SQRT_2)).erf())
}

/// `Phi(x) + x * phi(x)`.
#[inline(always)]
pub fn gelu_grad<R: Real>(x: R) -> R {
    let cdf = c::<R>(0.5) * (c::<R>(1.0) + (x * c(FRAC_1_SQRT_2)).erf());
    let pdf = (x * x * c(-0.5)).exp() * c(FRAC_1_SQRT_2PI);
    cdf + x * pdf
}

/// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
#[inline(always)]
pub fn gelu_tanh<R: Real>(x: R) -> R {
    let inner = c::<R>(SQRT_2_OVER_PI) * (x + c::<R>(GELU_CUBIC) * x * x * x);
    c::<R>(0.5) * x * (c::<R>(1.0) + inner.tanh())
}

/// d gelu_tanh / dx.
#[inline(always)]
pub fn gelu_tanh_grad<R: Real>(x: R) -> R {
    let inner = c::<R>(SQRT_2_OVER_PI) * (x + c::<R>(GELU_CUBIC) * x * x * x);
    let t = inner.tanh();
    let d_inner = c::<R>(SQRT_2_OVER_PI) * (c::<R>(1.0) + c::<R>(3.0 * GELU_CUBIC) * x * x);
    c::<R>(0.5) * (c::<R>(1.0) + t) + c::<R>(0.5) * x * (c::<R>(1.0) - t * t) * d_inner
}

/// `x * sigmoid(x)`.
#[inline(always)]
pub fn silu<R: Real>(x: R) -> R {
    x / (c::<R>(1.0) + (-x).exp())
}

/// `s (1 + x (1 - s))` with `s = sigmoid(x)`.
#[inline(always)]
pub fn silu_grad<R: Real>(x: R) -> R {
    let s = sigmoid(x);
    s * (c::<R>(1.0) + x * (c::<R>(1.0) - s))
}

/// `x * tanh(softplus(x))`.
#[inline(always)]
pub fn mish<R: Real>(x: R) -> R {
    x * x.exp().ln_1p().tanh()
}

/// `tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2)`.
#[inline(always)]
pub fn mish_grad<R: Real>(x: R) -> R {
    let t = x.exp().ln_1p().tanh();
    t + x * sigmoid(x) * (c::<R>(1.0) - t * t)
}

/// `log(1 + e^(beta x)) / beta`, linear once `beta x > threshold`.
#[inline(always)]
pub fn softplus<R: Real>(x: R, beta: R, threshold: R) -> R {
    if x * beta > threshold {
        x
    } else {
        (x * beta).exp().ln_1p() / beta
    }
}

/// d softplus / dx: `sigmoid(beta x)`, 1 past the threshold.
#[inline(always)]
pub fn softplus_grad<R: Real>(x: R, beta: R, threshold: R) -> R {
    if x * beta > threshold {
        c(1.0)
    } else {
        let z = (x * beta).exp();
        z / (z + c(1.0))
    }
}

/// `log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|)`, stable for large |x|.
#[inline(always)]
pub fn log_sigmoid<R: Real>(x: R) -> R {
    // A NaN `x` reaches the result through the second term.
    let m = if x < c(0.0) { x } else { c(0.0) };
    m - (-x.abs()).exp().ln_1p()
}

/// `sigmoid(-x)`, computed as PyTorch does from `e^-|x|`.
#[inline(always)]
pub fn log_sigmoid_grad<R: Real>(x: R) -> R {
    let z = (-x.abs()).exp();
    if x < c(0.0) {
        c::<R>(1.0) - z / (c::<R>(1.0) + z)
    } else {
        z / (c::<R>(1.0) + z)
    }
}

/// `x * relu6(x + 3) / 6`.
#[inline(always)]
pub fn hardswish<R: Real>(x: R) -> R {
    x * clamp(x + c(3.0), c(0.0), c(6.0)) / c(6.0)
}

/// d hardswish / dx, PyTorch's sides: 0 below -3, `x / 3 + 1/2` on [-3, 3], 1 above.
#[inline(always)]
pub fn hardswish_grad<R: Real>(x: R) -> R {
    if x < c(-3.0) {
        c(0.0)
    } else if x <= c(3.0) {
        x / c(3.0) + c(0.5)
    } else {
        c(1.0)
    }
}

/// `x - lambd` above `lambd`, `x + lambd` below `-lambd`, 0 between (NaN stays NaN).
#[inline(always)]
pub fn softshrink<R: Real>(x: R, lambd: R) -> R {
    if x > lambd {
        x - lambd
    } else if x < -lambd {
        x + lambd
    } else {
        x * c(0.0)
    }
}

/// Whether `x` lies in the dead zone `[-lambd, lambd]` of the shrink functions.
#[inline(always)]
pub fn in_shrink_zone<R: Real>(x: R, lambd: R) -> bool {
    x >= -lambd && x <= lambd
}
