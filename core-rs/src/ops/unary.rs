//! Element-wise functions of one tensor. The tables below are the single list of these ops:
//! the CPU kernels are generated from them here, and the Python bindings from the same macros.

use crate::cpu::arith::{Arith, Bits};
use crate::cpu::map::map1;
use crate::cpu::real::Real;
use crate::dtype::{DType, Element, Scalar};
use crate::error::Result;
use crate::ops::binary::Operand;
use crate::tensor::Tensor;
use crate::{bail, default_dtype};

/// Floating-point functions: integer and bool inputs are promoted to the default float type.
/// Each row: variant, Python name, body over `x: impl Real`.
#[macro_export]
macro_rules! for_each_float_unary_op {
    ($cb:ident) => {
        $cb! {
            Exp exp |x| x.exp();
            Exp2 exp2 |x| x.exp2();
            Expm1 expm1 |x| x.exp_m1();
            Log log |x| x.ln();
            Log2 log2 |x| x.log2();
            Log10 log10 |x| x.log10();
            Log1p log1p |x| x.ln_1p();
            Sqrt sqrt |x| x.sqrt();
            Rsqrt rsqrt |x| R::of(1.0) / x.sqrt();
            Sin sin |x| x.sin();
            Cos cos |x| x.cos();
            Tan tan |x| x.tan();
            Asin asin |x| x.asin();
            Acos acos |x| x.acos();
            Atan atan |x| x.atan();
            Sinh sinh |x| x.sinh();
            Cosh cosh |x| x.cosh();
            Tanh tanh |x| x.tanh();
            Asinh asinh |x| x.asinh();
            Acosh acosh |x| x.acosh();
            Atanh atanh |x| x.atanh();
            Sigmoid sigmoid |x| R::of(1.0) / (R::of(1.0) + (-x).exp());
            Erf erf |x| x.erf();
            Erfc erfc |x| x.erfc();
            Erfinv erfinv |x| x.erfinv();
            Lgamma lgamma |x| x.lgamma();
            Digamma digamma |x| x.digamma();
            Reciprocal reciprocal |x| R::of(1.0) / x;
        }
    };
}

/// Functions that keep the input's type (integers stay integers).
/// Each row: variant, Python name, body over `x: impl Arith`.
#[macro_export]
macro_rules! for_each_numeric_unary_op {
    ($cb:ident) => {
        $cb! {
            Neg neg |x| Arith::neg(x);
            Abs abs |x| Arith::abs(x);
            Sign sign |x| Arith::sign(x);
            Floor floor |x| Arith::floor(x);
            Ceil ceil |x| Arith::ceil(x);
            Trunc trunc |x| Arith::trunc(x);
            Square square |x| Arith::mul(x, x);
        }
    };
}

macro_rules! define_float_unary {
    ($($variant:ident $name:ident |$x:ident| $body:expr;)*) => {
        /// A floating-point element-wise function (see `for_each_float_unary_op!`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum FloatUnaryOp { $($variant),* }

        impl FloatUnaryOp {
            pub const ALL: &'static [FloatUnaryOp] = &[$(FloatUnaryOp::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(FloatUnaryOp::$variant => stringify!($name)),* }
            }

            /// PyTorch's name for the backward node, e.g. `ExpBackward0`.
            pub fn backward_name(self) -> &'static str {
                match self { $(FloatUnaryOp::$variant => concat!(stringify!($variant), "Backward0")),* }
            }

            fn kernel<R: Real + Element>(self, t: &Tensor) -> Result<Tensor> {
                match self { $(FloatUnaryOp::$variant => map1::<R, R>(t, |$x: R| $body)),* }
            }
        }
    };
}
for_each_float_unary_op!(define_float_unary);

macro_rules! define_numeric_unary {
    ($($variant:ident $name:ident |$x:ident| $body:expr;)*) => {
        /// A type-preserving element-wise function (see `for_each_numeric_unary_op!`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum NumericUnaryOp { $($variant),* }

        impl NumericUnaryOp {
            pub const ALL: &'static [NumericUnaryOp] = &[$(NumericUnaryOp::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(NumericUnaryOp::$variant => stringify!($name)),* }
            }

            /// PyTorch's name for the backward node, e.g. `ExpBackward0`.
            pub fn backward_name(self) -> &'static str {
                match self { $(NumericUnaryOp::$variant => concat!(stringify!($variant), "Backward0")),* }
            }

            fn kernel<T: Arith>(self, t: &Tensor) -> Result<Tensor> {
                match self { $(NumericUnaryOp::$variant => map1::<T, T>(t, |$x: T| $body)),* }
            }
        }
    };
}
for_each_numeric_unary_op!(define_numeric_unary);

/// Runs `$body` with `$T` bound to a compute type that implements `Arith`.
#[macro_export]
macro_rules! with_arith_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {{
        use $crate::dtype::DType;
        match $dtype {
            DType::Bool => { type $T = bool; $body }
            DType::U8 => { type $T = u8; $body }
            DType::I8 => { type $T = i8; $body }
            DType::I16 => { type $T = i16; $body }
            DType::I32 => { type $T = i32; $body }
            DType::I64 => { type $T = i64; $body }
            DType::F32 | DType::F16 | DType::BF16 => { type $T = f32; $body }
            DType::F64 => { type $T = f64; $body }
        }
    }};
}

/// Runs `$body` with `$T` bound to f32 or f64 (the compute type of a float dtype).
#[macro_export]
macro_rules! with_real_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {{
        if $dtype == $crate::dtype::DType::F64 {
            type $T = f64;
            $body
        } else {
            type $T = f32;
            $body
        }
    }};
}

/// The float type a float function of `dtype` returns.
pub fn float_result_type(dtype: DType) -> DType {
    if dtype.is_float() {
        dtype
    } else {
        default_dtype()
    }
}

/// Runs `kernel` on `t` converted to its compute type, and casts the result to `out`.
pub fn in_compute_type(t: &Tensor, out: DType, kernel: impl FnOnce(&Tensor, DType) -> Result<Tensor>) -> Result<Tensor> {
    let compute = out.compute_type();
    let r = kernel(&t.to_dtype(compute)?, compute)?;
    r.to_dtype(out)
}

impl Tensor {
    /// A floating-point element-wise function (`exp`, `sin`, ...).
    pub fn float_unary(&self, op: FloatUnaryOp) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::unary::float(self, op);
        }
        if self.is_cuda() {
            return crate::cuda::dispatch::unary(op.name(), self, float_result_type(self.dtype()));
        }
        in_compute_type(self, float_result_type(self.dtype()), |t, c| with_real_dtype!(c, R => op.kernel::<R>(t)))
    }

    /// A type-preserving element-wise function (`neg`, `abs`, `floor`, ...).
    pub fn numeric_unary(&self, op: NumericUnaryOp) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::unary::numeric(self, op);
        }
        if self.dtype() == DType::Bool && op == NumericUnaryOp::Neg {
            bail!(
                Runtime,
                "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
            );
        }
        if self.is_cuda() {
            return crate::cuda::dispatch::unary(op.name(), self, self.dtype());
        }
        in_compute_type(self, self.dtype(), |t, c| with_arith_dtype!(c, T => op.kernel::<T>(t)))
    }

    /// `frac`: `x - trunc(x)`, floats only.
    pub fn frac(&self) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::unary::frac(self);
        }
        require_float(self, "frac")?;
        if self.is_cuda() {
            return self.sub(&self.numeric_unary(NumericUnaryOp::Trunc)?);
        }
        in_compute_type(self, self.dtype(), |t, c| with_real_dtype!(c, R => map1::<R, R>(t, |x| x - x.trunc())))
    }

    /// `round(decimals=d)`: half to even at the given decimal place.
    pub fn round_decimals(&self, decimals: i64) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::unary::round(self, decimals);
        }
        if !self.dtype().is_float() {
            if decimals != 0 {
                bail!(Runtime, "round_cpu not implemented for '{}' with decimals", crate::dtype::title(self.dtype()));
            }
            return self.clone_contiguous();
        }
        if self.is_cuda() {
            return crate::device::on_host(self, |h| h.round_decimals(decimals));
        }
        let scale = 10f64.powi(decimals.unsigned_abs() as i32);
        in_compute_type(self, self.dtype(), |t, c| {
            with_real_dtype!(c, R => {
                let s = R::of(scale);
                match decimals {
                    0 => map1::<R, R>(t, |x| x.round_even()),
                    d if d > 0 => map1::<R, R>(t, |x| (x * s).round_even() / s),
                    _ => map1::<R, R>(t, |x| (x / s).round_even() * s),
                }
            })
        })
    }

    /// `logit(eps)`: `log(p / (1 - p))` with `p` clamped to `[eps, 1 - eps]` when given.
    pub fn logit(&self, eps: Option<f64>) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::unary::logit(self, eps);
        }
        if self.is_cuda() {
            return crate::device::on_host(self, |h| h.logit(eps));
        }
        in_compute_type(self, float_result_type(self.dtype()), |t, c| {
            with_real_dtype!(c, R => match eps {
                None => map1::<R, R>(t, |x| (x / (R::of(1.0) - x)).ln()),
                Some(e) => {
                    let (lo, hi) = (R::of(e), R::of(1.0 - e));
                    map1::<R, R>(t, move |x| {
                        let p = if x < lo { lo } else if x > hi { hi } else { x };
                        (p / (R::of(1.0) - p)).ln()
                    })
                }
            })
        })
    }

    /// `nan_to_num(nan, posinf, neginf)`; infinities default to the dtype's extremes.
    pub fn nan_to_num(&self, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::unary::nan_to_num(self, nan, posinf, neginf);
        }
        if !self.dtype().is_float() {
            return self.clone_contiguous();
        }
        let (max, min) = match self.dtype() {
            DType::F16 => (65504.0, -65504.0),
            DType::BF16 => (3.389_531_389_251_535_5e38, -3.389_531_389_251_535_5e38),
            DType::F32 => (f32::MAX as f64, f32::MIN as f64),
            _ => (f64::MAX, f64::MIN),
        };
        let (pos, neg) = (posinf.unwrap_or(max), neginf.unwrap_or(min));
        if self.is_cuda() {
            // Three selections on the device: NaN, then each infinity, replaced.
            let pick = |mask: Tensor, v: f64, rest: Tensor| crate::ops::binary::where_(&mask, &Operand::Scalar(Scalar::Float(v)), &Operand::Tensor(rest));
            let x = pick(self.eq(f64::NEG_INFINITY)?, neg, self.clone())?;
            let x = pick(self.eq(f64::INFINITY)?, pos, x)?;
            return pick(self.ne(self)?, nan, x);
        }
        in_compute_type(self, self.dtype(), |t, c| {
            with_real_dtype!(c, R => map1::<R, R>(t, |x| {
                if x.is_nan() { R::of(nan) } else if x.is_infinite() { if x > R::of(0.0) { R::of(pos) } else { R::of(neg) } } else { x }
            }))
        })
    }

    /// A bool test of each element: `isnan`, `isinf`, `isfinite`, `isposinf`, `isneginf`, `signbit`.
    pub fn float_test(&self, name: &str) -> Result<Tensor> {
        if !self.dtype().is_float() {
            if name == "signbit" {
                return self.lt_scalar_zero();
            }
            return Tensor::full_on(self.shape(), Scalar::Bool(name == "isfinite"), DType::Bool, self.device());
        }
        if self.is_cuda() {
            // Comparisons on the device: NaN is the one value unequal to itself, and x - x is
            // 0 exactly for finite x. The sign of zeros and NaNs needs the bits: the host.
            return match name {
                "isnan" => self.ne(self),
                "isinf" => self.abs()?.eq(f64::INFINITY),
                "isfinite" => self.sub(self)?.eq(0.0),
                "isposinf" => self.eq(f64::INFINITY),
                "isneginf" => self.eq(f64::NEG_INFINITY),
                _ => crate::device::on_host(self, |h| h.float_test(name)),
            };
        }
        let t = self.to_dtype(self.dtype().compute_type())?;
        with_real_dtype!(t.dtype(), R => match name {
            "isnan" => map1::<R, bool>(&t, |x| x.is_nan()),
            "isinf" => map1::<R, bool>(&t, |x| x.is_infinite()),
            "isfinite" => map1::<R, bool>(&t, |x| x.is_finite()),
            "isposinf" => map1::<R, bool>(&t, |x| x.is_infinite() && x > R::of(0.0)),
            "isneginf" => map1::<R, bool>(&t, |x| x.is_infinite() && x < R::of(0.0)),
            "signbit" => map1::<R, bool>(&t, |x| x.is_sign_negative()),
            _ => bail!(Runtime, "unknown float test {}", name),
        })
    }

    fn lt_scalar_zero(&self) -> Result<Tensor> {
        if self.is_cuda() {
            return self.lt(0.0);
        }
        let t = self.to_dtype(self.dtype().compute_type())?;
        with_arith_dtype!(t.dtype(), T => map1::<T, bool>(&t, |x| Arith::lt_zero(x)))
    }

    /// `logical_not`: bool result.
    pub fn logical_not(&self) -> Result<Tensor> {
        if self.is_cuda() {
            // Zero is the one value that is not "nonzero" (NaN is nonzero, and unequal to 0).
            return self.eq(0.0);
        }
        let t = self.to_dtype(self.dtype().compute_type())?;
        with_arith_dtype!(t.dtype(), T => map1::<T, bool>(&t, |x| !x.is_nonzero()))
    }

    /// `bitwise_not` (`~`): integers and bool only.
    pub fn bitwise_not(&self) -> Result<Tensor> {
        if self.is_cuda() && self.dtype() == DType::Bool {
            return self.logical_not();
        }
        if self.is_cuda() && self.dtype().is_int() {
            // In two's complement (and modulo 2^8 for uint8), !x = -x - 1.
            return self.neg()?.sub(Operand::Scalar(Scalar::Int(1)));
        }
        macro_rules! go { ($($d:ident $t:ty),*) => { match self.dtype() {
            $(DType::$d => map1::<$t, $t>(self, |x| x.not()),)*
            d => bail!(Runtime, "\"bitwise_not_cpu\" not implemented for '{}'", crate::dtype::title(d)),
        } } }
        go!(Bool bool, U8 u8, I8 i8, I16 i16, I32 i32, I64 i64)
    }
}

/// Raises PyTorch's "not implemented for 'Long'" error for non-float inputs.
pub fn require_float(t: &Tensor, op: &str) -> Result<()> {
    if !t.dtype().is_float() {
        bail!(Runtime, "\"{}_cpu\" not implemented for '{}'", op, crate::dtype::title(t.dtype()));
    }
    Ok(())
}
