//! Data types, scalars and PyTorch's type promotion rules.

use crate::error::Result;
use half::{bf16, f16};

/// The element types a tensor can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    Bool,
    U8,
    I8,
    I16,
    I32,
    I64,
    F16,
    BF16,
    F32,
    F64,
}

impl DType {
    pub const ALL: [DType; 10] = [
        DType::Bool,
        DType::U8,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::F16,
        DType::BF16,
        DType::F32,
        DType::F64,
    ];

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::U8 | DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F16 | DType::BF16 | DType::F32 | DType::F64)
    }

    /// Integer types, bool excluded (PyTorch's `isIntegralType(t, includeBool=false)`).
    pub fn is_int(self) -> bool {
        matches!(self, DType::U8 | DType::I8 | DType::I16 | DType::I32 | DType::I64)
    }

    pub fn is_signed(self) -> bool {
        !matches!(self, DType::Bool | DType::U8)
    }

    /// PyTorch's name, as in `torch.float32`.
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "uint8",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// The C++ type name PyTorch prints for this dtype in some messages.
    pub fn cpp_name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "unsigned char",
            DType::I8 => "signed char",
            DType::I16 => "short int",
            DType::I32 => "int",
            DType::I64 => "long int",
            DType::F16 => "c10::Half",
            DType::BF16 => "c10::BFloat16",
            DType::F32 => "float",
            DType::F64 => "double",
        }
    }

    /// The type kernels compute in: half types widen to float32.
    pub fn compute_type(self) -> DType {
        match self {
            DType::F16 | DType::BF16 => DType::F32,
            t => t,
        }
    }

    /// Category rank used by promotion with scalars: bool < integer < float.
    fn category(self) -> u8 {
        if self == DType::Bool {
            0
        } else if self.is_int() {
            1
        } else {
            2
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name())
    }
}

/// A Python number: what `tensor + 2.5` carries on its right.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl Scalar {
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::Float(f) => f,
        }
    }

    pub fn to_i64(self) -> i64 {
        match self {
            Scalar::Bool(b) => b as i64,
            Scalar::Int(i) => i,
            Scalar::Float(f) => f as i64,
        }
    }

    /// The dtype a Python number has on its own: bool, int64, or the default float type.
    pub fn dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::I64,
            Scalar::Float(_) => crate::default_dtype(),
        }
    }
}

/// PyTorch's `promote_types`: the smallest type both can be cast to safely.
pub fn promote_types(a: DType, b: DType) -> DType {
    use DType::*;
    if a == b {
        return a;
    }
    if a == Bool {
        return b;
    }
    if b == Bool {
        return a;
    }
    match (a.is_float(), b.is_float()) {
        (true, true) => {
            if matches!((a, b), (F16, BF16) | (BF16, F16)) {
                F32
            } else if a.size() >= b.size() {
                a
            } else {
                b
            }
        }
        (true, false) => a,
        (false, true) => b,
        (false, false) => match (a, b) {
            (U8, I8) | (I8, U8) => I16,
            (U8, x) | (x, U8) => x,
            _ => {
                if a.size() >= b.size() {
                    a
                } else {
                    b
                }
            }
        },
    }
}

/// The three priority classes of operands in `result_type`.
#[derive(Default, Clone, Copy, Debug)]
pub struct ResultTypeState {
    dim: Option<DType>,
    zero_dim: Option<DType>,
    wrapped: Option<DType>,
}

fn promote_opt(a: Option<DType>, b: DType) -> Option<DType> {
    Some(match a {
        None => b,
        Some(a) => promote_types(a, b),
    })
}

/// PyTorch's `combine_categories`: a lower-priority operand only matters when it is of a
/// higher category (an int tensor plus a Python float becomes the default float type).
fn combine_categories(higher: Option<DType>, lower: Option<DType>) -> Option<DType> {
    match (higher, lower) {
        (None, l) => l,
        (h, None) => h,
        (Some(h), Some(l)) => {
            if h.is_float() {
                Some(h)
            } else if h == DType::Bool || l.is_float() {
                Some(promote_types(h, l))
            } else {
                Some(h)
            }
        }
    }
}

impl ResultTypeState {
    /// Adds a tensor operand of `ndim` dimensions.
    pub fn tensor(mut self, dtype: DType, ndim: usize) -> Self {
        if ndim == 0 {
            self.zero_dim = promote_opt(self.zero_dim, dtype);
        } else {
            self.dim = promote_opt(self.dim, dtype);
        }
        self
    }

    /// Adds a Python number operand.
    pub fn scalar(mut self, s: Scalar) -> Self {
        self.wrapped = promote_opt(self.wrapped, s.dtype());
        self
    }

    pub fn result(self) -> DType {
        combine_categories(self.dim, combine_categories(self.zero_dim, self.wrapped))
            .unwrap_or_else(crate::default_dtype)
    }
}

/// PyTorch's `can_cast`: whether an in-place op may write a `from` result into a `to` tensor.
pub fn can_cast(from: DType, to: DType) -> bool {
    from.category() <= to.category()
}

/// Raises PyTorch's error when an in-place result of type `result` cannot be stored in `out`.
pub fn check_can_cast(result: DType, out: DType) -> Result<()> {
    if !can_cast(result, out) {
        crate::bail!(Runtime, "result type {} can't be cast to the desired output type {}", title(result), title(out));
    }
    Ok(())
}

/// PyTorch writes dtypes in some messages as `Float`, `Long`, ...
pub fn title(d: DType) -> &'static str {
    match d {
        DType::Bool => "Bool",
        DType::U8 => "Byte",
        DType::I8 => "Char",
        DType::I16 => "Short",
        DType::I32 => "Int",
        DType::I64 => "Long",
        DType::F16 => "Half",
        DType::BF16 => "BFloat16",
        DType::F32 => "Float",
        DType::F64 => "Double",
    }
}

/// A Rust type that can be a tensor element.
pub trait Element: Copy + Send + Sync + PartialEq + PartialOrd + Default + 'static {
    const DTYPE: DType;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
    fn to_i64(self) -> i64;
    fn from_i64(v: i64) -> Self;
    fn from_bool(v: bool) -> Self;
    fn is_nonzero(self) -> bool;

    /// Converts to another element type with C++ cast semantics, keeping integers exact.
    #[inline]
    fn cast<D: Element>(self) -> D {
        if Self::DTYPE == D::DTYPE {
            // Same type (known at compile time): no conversion, so loops stay vectorised.
            return unsafe { std::mem::transmute_copy(&self) };
        }
        if D::DTYPE == DType::Bool {
            D::from_bool(self.is_nonzero())
        } else if Self::DTYPE.is_float() || D::DTYPE.is_float() {
            D::from_f64(self.to_f64())
        } else {
            D::from_i64(self.to_i64())
        }
    }

    /// Converts a scalar with C++ cast semantics (floats truncate towards zero, ints wrap).
    fn from_scalar(s: Scalar) -> Self {
        match s {
            Scalar::Bool(b) => Self::from_bool(b),
            Scalar::Int(i) => Self::from_i64(i),
            Scalar::Float(f) => Self::from_f64(f),
        }
    }
}

macro_rules! int_element {
    ($($t:ty => $d:ident),*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            #[inline] fn to_f64(self) -> f64 { self as f64 }
            #[inline] fn from_f64(v: f64) -> Self {
                // Casting a float to a narrow int goes through i64 and wraps, as C++ does on x86.
                if v.is_finite() { (v as i64) as $t } else { 0 as $t }
            }
            #[inline] fn to_i64(self) -> i64 { self as i64 }
            #[inline] fn from_i64(v: i64) -> Self { v as $t }
            #[inline] fn from_bool(v: bool) -> Self { v as $t }
            #[inline] fn is_nonzero(self) -> bool { self != 0 }
        }
    )*};
}
int_element!(u8 => U8, i8 => I8, i16 => I16, i32 => I32, i64 => I64);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    #[inline]
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    #[inline]
    fn to_i64(self) -> i64 {
        self as i64
    }
    #[inline]
    fn from_i64(v: i64) -> Self {
        v != 0
    }
    #[inline]
    fn from_bool(v: bool) -> Self {
        v
    }
    #[inline]
    fn is_nonzero(self) -> bool {
        self
    }
}

macro_rules! float_element {
    ($($t:ty => $d:ident),*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            #[inline] fn to_f64(self) -> f64 { self as f64 }
            #[inline] fn from_f64(v: f64) -> Self { v as $t }
            #[inline] fn to_i64(self) -> i64 { self as i64 }
            #[inline] fn from_i64(v: i64) -> Self { v as $t }
            #[inline] fn from_bool(v: bool) -> Self { v as u8 as $t }
            #[inline] fn is_nonzero(self) -> bool { self != 0.0 }
        }
    )*};
}
float_element!(f32 => F32, f64 => F64);

macro_rules! half_element {
    ($($t:ty => $d:ident),*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            #[inline] fn to_f64(self) -> f64 { self.to_f64() }
            #[inline] fn from_f64(v: f64) -> Self { <$t>::from_f64(v) }
            #[inline] fn to_i64(self) -> i64 { self.to_f32() as i64 }
            #[inline] fn from_i64(v: i64) -> Self { <$t>::from_f64(v as f64) }
            #[inline] fn from_bool(v: bool) -> Self { <$t>::from_f32(v as u8 as f32) }
            #[inline] fn is_nonzero(self) -> bool { self.to_f32() != 0.0 }
        }
    )*};
}
half_element!(f16 => F16, bf16 => BF16);

/// Runs `$body` with `$T` bound to the Rust type of `$dtype`.
#[macro_export]
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {{
        use $crate::dtype::DType;
        match $dtype {
            DType::Bool => { type $T = bool; $body }
            DType::U8 => { type $T = u8; $body }
            DType::I8 => { type $T = i8; $body }
            DType::I16 => { type $T = i16; $body }
            DType::I32 => { type $T = i32; $body }
            DType::I64 => { type $T = i64; $body }
            DType::F16 => { type $T = half::f16; $body }
            DType::BF16 => { type $T = half::bf16; $body }
            DType::F32 => { type $T = f32; $body }
            DType::F64 => { type $T = f64; $body }
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use DType::*;

    #[test]
    fn promotion_matches_pytorch_table() {
        assert_eq!(promote_types(U8, I8), I16);
        assert_eq!(promote_types(U8, I32), I32);
        assert_eq!(promote_types(Bool, U8), U8);
        assert_eq!(promote_types(I64, F16), F16);
        assert_eq!(promote_types(F16, BF16), F32);
        assert_eq!(promote_types(BF16, F64), F64);
        assert_eq!(promote_types(I16, I32), I32);
    }

    #[test]
    fn scalars_only_raise_the_category() {
        let s = ResultTypeState::default().tensor(I8, 1).scalar(Scalar::Int(1000));
        assert_eq!(s.result(), I8);
        let s = ResultTypeState::default().tensor(I32, 2).scalar(Scalar::Float(2.5));
        assert_eq!(s.result(), F32);
        let s = ResultTypeState::default().tensor(Bool, 1).scalar(Scalar::Int(1));
        assert_eq!(s.result(), I64);
        let s = ResultTypeState::default().tensor(F16, 1).tensor(F64, 0);
        assert_eq!(s.result(), F16);
        let s = ResultTypeState::default().tensor(U8, 1).tensor(F64, 0);
        assert_eq!(s.result(), F64);
        let s = ResultTypeState::default().tensor(I32, 0).tensor(I64, 0);
        assert_eq!(s.result(), I64);
    }
}
