//! The CUDA C expression of every element-wise op of the CPU tables (`for_each_float_unary_op!`,
//! `for_each_numeric_unary_op!`, `for_each_binary_op!`). Each match is exhaustive over the op
//! enum those tables generate, so adding a CPU op does not compile until its CUDA form is written
//! here. Expressions use `x` (unary) or `a`, `b` (binary) of the compute type `C`, the helpers of
//! arith.cu (which mirror core-rs/src/cpu/arith.rs) and CUDA's math functions.

use crate::ops::binary::BinaryOp;
use crate::ops::unary::{FloatUnaryOp, NumericUnaryOp};

/// The CUDA expression of a floating-point function of `x`.
pub fn float_unary(op: FloatUnaryOp) -> &'static str {
    use FloatUnaryOp::*;
    match op {
        Exp => "exp(x)",
        Exp2 => "exp2(x)",
        Expm1 => "expm1(x)",
        Log => "log(x)",
        Log2 => "log2(x)",
        Log10 => "log10(x)",
        Log1p => "log1p(x)",
        Sqrt => "sqrt(x)",
        Rsqrt => "(C)1 / sqrt(x)",
        Sin => "sin(x)",
        Cos => "cos(x)",
        Tan => "tan(x)",
        Asin => "asin(x)",
        Acos => "acos(x)",
        Atan => "atan(x)",
        Sinh => "sinh(x)",
        Cosh => "cosh(x)",
        Tanh => "tanh(x)",
        Asinh => "asinh(x)",
        Acosh => "acosh(x)",
        Atanh => "atanh(x)",
        Sigmoid => "(C)1 / ((C)1 + exp(-x))",
        Erf => "erf(x)",
        Erfc => "erfc(x)",
        Erfinv => "erfinv(x)",
        Lgamma => "lgamma(x)",
        // In double for every float type, as the CPU computes it (near the poles float loses
        // most digits).
        Digamma => "(C)ft_digamma((double)x)",
        Reciprocal => "(C)1 / x",
    }
}

/// The CUDA expression of a type-preserving function of `x`.
pub fn numeric_unary(op: NumericUnaryOp) -> &'static str {
    use NumericUnaryOp::*;
    match op {
        Neg => "ft_neg(x)",
        Abs => "ft_abs(x)",
        Sign => "ft_sign(x)",
        Floor => "ft_floor(x)",
        Ceil => "ft_ceil(x)",
        Trunc => "ft_trunc(x)",
        Square => "ft_mul(x, x)",
    }
}

/// The CUDA expression of a function of `a` and `b`.
pub fn binary(op: BinaryOp) -> &'static str {
    use BinaryOp::*;
    match op {
        Add => "ft_add(a, b)",
        Sub => "ft_sub(a, b)",
        Mul => "ft_mul(a, b)",
        Div => "a / b",
        FloorDivide => "ft_floor_div(a, b)",
        Remainder => "ft_remainder(a, b)",
        Fmod => "ft_fmod(a, b)",
        Pow => "ft_pow(a, b)",
        Maximum => "ft_maximum(a, b)",
        Minimum => "ft_minimum(a, b)",
        Fmax => "ft_fmax(a, b)",
        Fmin => "ft_fmin(a, b)",
        Atan2 => "atan2(a, b)",
        Hypot => "hypot(a, b)",
        Copysign => "copysign(a, b)",
        Logaddexp => "ft_logaddexp(a, b)",
        Logaddexp2 => "ft_logaddexp2(a, b)",
        Xlogy => "ft_xlogy(a, b)",
        BitwiseAnd => "ft_bit_and(a, b)",
        BitwiseOr => "ft_bit_or(a, b)",
        BitwiseXor => "ft_bit_xor(a, b)",
        BitwiseLeftShift => "ft_shl(a, b)",
        BitwiseRightShift => "ft_shr(a, b)",
        Eq => "a == b",
        Ne => "a != b",
        Lt => "a < b",
        Le => "a <= b",
        Gt => "a > b",
        Ge => "a >= b",
        LogicalAnd => "a && b",
        LogicalOr => "a || b",
        LogicalXor => "a != b",
    }
}
