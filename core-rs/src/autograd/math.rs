//! Short names for the tensor ops backward formulas are written with. Each records history
//! like any op, so formulas differentiate again under `create_graph=True`.

use crate::dtype::Scalar;
use crate::error::Result;
use crate::ops::binary::{binary, BinaryOp, Operand};
use crate::ops::unary::{FloatUnaryOp, NumericUnaryOp};
use crate::tensor::Tensor;

impl From<&Tensor> for Operand {
    fn from(t: &Tensor) -> Self {
        Operand::Tensor(t.clone())
    }
}

impl From<f64> for Operand {
    fn from(v: f64) -> Self {
        Operand::Scalar(Scalar::Float(v))
    }
}

macro_rules! binary_methods {
    ($($name:ident $op:ident),*) => {
        impl Tensor {
            $(
                #[doc = concat!("`", stringify!($name), "(self, other)` with broadcasting and promotion.")]
                pub fn $name(&self, other: impl Into<Operand>) -> Result<Tensor> {
                    binary(&Operand::Tensor(self.clone()), BinaryOp::$op, &other.into())
                }
            )*
        }
    };
}
binary_methods!(
    add Add,
    sub Sub,
    mul Mul,
    div Div,
    pow Pow,
    eq Eq,
    ne Ne,
    lt Lt,
    le Le,
    gt Gt,
    ge Ge,
    maximum Maximum,
    minimum Minimum,
    logical_or LogicalOr,
    logical_and LogicalAnd
);

macro_rules! float_methods {
    ($($name:ident $op:ident),*) => {
        impl Tensor {
            $(
                #[doc = concat!("`", stringify!($name), "(self)`.")]
                pub fn $name(&self) -> Result<Tensor> {
                    self.float_unary(FloatUnaryOp::$op)
                }
            )*
        }
    };
}
float_methods!(
    exp Exp,
    log Log,
    sqrt Sqrt,
    rsqrt Rsqrt,
    sin Sin,
    cos Cos,
    tanh Tanh,
    sigmoid Sigmoid,
    reciprocal Reciprocal,
    digamma Digamma,
    cosh Cosh,
    sinh Sinh,
    exp2 Exp2
);

impl Tensor {
    pub fn neg(&self) -> Result<Tensor> {
        self.numeric_unary(NumericUnaryOp::Neg)
    }

    pub fn abs(&self) -> Result<Tensor> {
        self.numeric_unary(NumericUnaryOp::Abs)
    }

    pub fn sign(&self) -> Result<Tensor> {
        self.numeric_unary(NumericUnaryOp::Sign)
    }

    pub fn square(&self) -> Result<Tensor> {
        self.numeric_unary(NumericUnaryOp::Square)
    }

    pub fn isnan(&self) -> Result<Tensor> {
        self.float_test("isnan")
    }

    /// Whether any element is NaN.
    pub fn has_nan(&self) -> Result<bool> {
        Ok(self.dtype().is_float() && self.isnan()?.any(None, false)?.item()?.to_f64() != 0.0)
    }

    /// Zeros with this tensor's shape and dtype.
    pub fn zeros_like(&self) -> Result<Tensor> {
        Tensor::zeros_on(self.shape(), self.dtype(), self.device())
    }

    /// `value` with this tensor's shape and dtype.
    pub fn full_like(&self, value: f64) -> Result<Tensor> {
        Tensor::full_on(self.shape(), Scalar::Float(value), self.dtype(), self.device())
    }

    /// `where(cond, self, 0)`: keeps elements where `cond` holds.
    pub fn keep_where(&self, cond: &Tensor) -> Result<Tensor> {
        crate::ops::binary::where_(cond, &Operand::Tensor(self.clone()), &Operand::Scalar(Scalar::Float(0.0)))
    }

    /// Sums a broadcast gradient back to `shape` (the reverse of broadcasting).
    pub fn sum_to(&self, shape: &[usize]) -> Result<Tensor> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        let lead = self.ndim() - shape.len();
        let mut dims: Vec<i64> = (0..lead as i64).collect();
        for (i, &s) in shape.iter().enumerate() {
            if s == 1 && self.shape()[lead + i] != 1 {
                dims.push((lead + i) as i64);
            }
        }
        let r = if dims.is_empty() { self.clone() } else { self.sum(Some(&dims), true, None)? };
        let shape: Vec<i64> = shape.iter().map(|&s| s as i64).collect();
        r.reshape(&shape)
    }

    /// Expands to `shape` (for gradients of reductions).
    pub fn expand_to(&self, shape: &[usize]) -> Result<Tensor> {
        let sizes: Vec<i64> = shape.iter().map(|&s| s as i64).collect();
        self.expand(&sizes)
    }
}
