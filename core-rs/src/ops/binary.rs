//! Element-wise functions of two operands with broadcasting and PyTorch's type promotion.
//! The table below is the single list of these ops: kernels here, bindings in py-core.

use crate::cpu::arith::{Arith, Bits};
use crate::cpu::map::{any_element, map2, map2_inplace};
use crate::cpu::real::Real;
use crate::device::Device;
use crate::dtype::{title, DType, ResultTypeState, Scalar};
use crate::error::Result;
use crate::layout::broadcast_shapes;
use crate::tensor::Tensor;
use crate::{bail, default_dtype, with_arith_dtype, with_real_dtype};

/// Each row: variant, Python name, kind, body over `a`, `b`.
/// Kinds: `Arith` (any numeric type), `Real` (floats; integers promote to the default float),
/// `Bits` (integers and bool), `Compare` (bool result), `Logical` (bool inputs and result).
#[macro_export]
macro_rules! for_each_binary_op {
    ($cb:ident) => {
        $cb! {
            Add add Arith |a, b| Arith::add(a, b);
            Sub sub Arith |a, b| Arith::sub(a, b);
            Mul mul Arith |a, b| Arith::mul(a, b);
            Div div Real |a, b| a / b;
            FloorDivide floor_divide Arith |a, b| Arith::floor_div(a, b);
            Remainder remainder Arith |a, b| Arith::remainder(a, b);
            Fmod fmod Arith |a, b| Arith::fmod(a, b);
            Pow pow Arith |a, b| Arith::pow(a, b);
            Maximum maximum Arith |a, b| Arith::maximum(a, b);
            Minimum minimum Arith |a, b| Arith::minimum(a, b);
            Fmax fmax Arith |a, b| Arith::fmax(a, b);
            Fmin fmin Arith |a, b| Arith::fmin(a, b);
            Atan2 atan2 Real |a, b| Real::atan2(a, b);
            Hypot hypot Real |a, b| Real::hypot(a, b);
            Copysign copysign Real |a, b| Real::copysign(a, b);
            Logaddexp logaddexp Real |a, b| logaddexp(a, b);
            Logaddexp2 logaddexp2 Real |a, b| logaddexp2(a, b);
            Xlogy xlogy Real |a, b| xlogy(a, b);
            BitwiseAnd bitwise_and Bits |a, b| Bits::and(a, b);
            BitwiseOr bitwise_or Bits |a, b| Bits::or(a, b);
            BitwiseXor bitwise_xor Bits |a, b| Bits::xor(a, b);
            BitwiseLeftShift bitwise_left_shift Bits |a, b| Bits::shl(a, b);
            BitwiseRightShift bitwise_right_shift Bits |a, b| Bits::shr(a, b);
            Eq eq Compare |a, b| a == b;
            Ne ne Compare |a, b| a != b;
            Lt lt Compare |a, b| a < b;
            Le le Compare |a, b| a <= b;
            Gt gt Compare |a, b| a > b;
            Ge ge Compare |a, b| a >= b;
            LogicalAnd logical_and Logical |a, b| a & b;
            LogicalOr logical_or Logical |a, b| a | b;
            LogicalXor logical_xor Logical |a, b| a ^ b;
        }
    };
}

/// What a binary op accepts and returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryKind {
    Arith,
    Real,
    Bits,
    Compare,
    Logical,
}

fn logaddexp<R: Real>(a: R, b: R) -> R {
    if a == b && a.is_infinite() {
        return a;
    }
    let (m, d) = if a > b { (a, b - a) } else { (b, a - b) };
    if d.is_nan() {
        return d;
    }
    m + d.exp().ln_1p()
}

fn logaddexp2<R: Real>(a: R, b: R) -> R {
    if a == b && a.is_infinite() {
        return a;
    }
    let (m, d) = if a > b { (a, b - a) } else { (b, a - b) };
    if d.is_nan() {
        return d;
    }
    m + d.exp2().ln_1p() / R::of(std::f64::consts::LN_2)
}

fn xlogy<R: Real>(a: R, b: R) -> R {
    if b.is_nan() {
        b
    } else if a == R::of(0.0) {
        R::of(0.0)
    } else {
        a * b.ln()
    }
}

macro_rules! binary_kernel {
    (Arith, $dt:expr, $x:expr, $y:expr, $shape:expr, |$a:ident, $b:ident| $body:expr) => {
        with_arith_dtype!($dt, T => map2::<T, T, T>($x, $y, $shape, |$a: T, $b: T| $body))
    };
    (Real, $dt:expr, $x:expr, $y:expr, $shape:expr, |$a:ident, $b:ident| $body:expr) => {
        with_real_dtype!($dt, T => map2::<T, T, T>($x, $y, $shape, |$a: T, $b: T| $body))
    };
    (Bits, $dt:expr, $x:expr, $y:expr, $shape:expr, |$a:ident, $b:ident| $body:expr) => {
        match $dt {
            DType::Bool => map2::<bool, bool, bool>($x, $y, $shape, |$a, $b| $body),
            DType::U8 => map2::<u8, u8, u8>($x, $y, $shape, |$a, $b| $body),
            DType::I8 => map2::<i8, i8, i8>($x, $y, $shape, |$a, $b| $body),
            DType::I16 => map2::<i16, i16, i16>($x, $y, $shape, |$a, $b| $body),
            DType::I32 => map2::<i32, i32, i32>($x, $y, $shape, |$a, $b| $body),
            _ => map2::<i64, i64, i64>($x, $y, $shape, |$a, $b| $body),
        }
    };
    (Compare, $dt:expr, $x:expr, $y:expr, $shape:expr, |$a:ident, $b:ident| $body:expr) => {
        with_arith_dtype!($dt, T => map2::<T, T, bool>($x, $y, $shape, |$a: T, $b: T| $body))
    };
    (Logical, $dt:expr, $x:expr, $y:expr, $shape:expr, |$a:ident, $b:ident| $body:expr) => {
        map2::<bool, bool, bool>($x, $y, $shape, |$a: bool, $b: bool| $body)
    };
}

/// The in-place form of `binary_kernel!`: `dst = f(dst, y)`; `Ok(false)` for the kinds whose
/// result dtype differs from their operands' (comparisons and logical ops).
macro_rules! binary_kernel_inplace {
    (Arith, $dt:expr, $dst:expr, $y:expr, |$a:ident, $b:ident| $body:expr) => {
        with_arith_dtype!($dt, T => map2_inplace::<T, T>($dst, $y, |$a: T, $b: T| $body)).map(|_| true)
    };
    (Real, $dt:expr, $dst:expr, $y:expr, |$a:ident, $b:ident| $body:expr) => {
        with_real_dtype!($dt, T => map2_inplace::<T, T>($dst, $y, |$a: T, $b: T| $body)).map(|_| true)
    };
    (Bits, $dt:expr, $dst:expr, $y:expr, |$a:ident, $b:ident| $body:expr) => {
        match $dt {
            DType::Bool => map2_inplace::<bool, bool>($dst, $y, |$a, $b| $body),
            DType::U8 => map2_inplace::<u8, u8>($dst, $y, |$a, $b| $body),
            DType::I8 => map2_inplace::<i8, i8>($dst, $y, |$a, $b| $body),
            DType::I16 => map2_inplace::<i16, i16>($dst, $y, |$a, $b| $body),
            DType::I32 => map2_inplace::<i32, i32>($dst, $y, |$a, $b| $body),
            _ => map2_inplace::<i64, i64>($dst, $y, |$a, $b| $body),
        }
        .map(|_| true)
    };
    (Compare, $dt:expr, $dst:expr, $y:expr, |$a:ident, $b:ident| $body:expr) => {
        Ok(false)
    };
    (Logical, $dt:expr, $dst:expr, $y:expr, |$a:ident, $b:ident| $body:expr) => {
        Ok(false)
    };
}

macro_rules! define_binary {
    ($($variant:ident $name:ident $kind:ident |$a:ident, $b:ident| $body:expr;)*) => {
        /// An element-wise function of two operands (see `for_each_binary_op!`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum BinaryOp { $($variant),* }

        impl BinaryOp {
            pub const ALL: &'static [BinaryOp] = &[$(BinaryOp::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(BinaryOp::$variant => stringify!($name)),* }
            }

            /// PyTorch's name for the backward node, e.g. `MulBackward0`.
            pub fn backward_name(self) -> &'static str {
                match self { $(BinaryOp::$variant => concat!(stringify!($variant), "Backward0")),* }
            }

            pub fn kind(self) -> BinaryKind {
                match self { $(BinaryOp::$variant => BinaryKind::$kind),* }
            }

            /// Runs the kernel on operands already converted to `compute`.
            fn kernel(self, x: &Tensor, y: &Tensor, shape: &[usize], compute: DType) -> Result<Tensor> {
                match self { $(BinaryOp::$variant => binary_kernel!($kind, compute, x, y, shape, |$a, $b| $body)),* }
            }

            /// `dst = op(dst, y)` in place, `dst` in the compute dtype; false when the op has
            /// no in-place kernel.
            fn kernel_inplace(self, dst: &Tensor, y: &Tensor, compute: DType) -> Result<bool> {
                #[allow(unused_variables)]
                match self { $(BinaryOp::$variant => binary_kernel_inplace!($kind, compute, dst, y, |$a, $b| $body)),* }
            }
        }
    };
}
for_each_binary_op!(define_binary);

/// The right-hand side of a binary op: a tensor or a Python number.
#[derive(Clone)]
pub enum Operand {
    Tensor(Tensor),
    Scalar(Scalar),
}

impl Operand {
    /// The tensor, when this operand is one.
    pub fn tensor(&self) -> Option<&Tensor> {
        match self {
            Operand::Tensor(t) => Some(t),
            Operand::Scalar(_) => None,
        }
    }

    fn add_to(&self, state: ResultTypeState) -> ResultTypeState {
        match self {
            Operand::Tensor(t) => state.tensor(t.dtype(), t.ndim()),
            Operand::Scalar(s) => state.scalar(*s),
        }
    }

    fn shape(&self) -> &[usize] {
        match self {
            Operand::Tensor(t) => t.shape(),
            Operand::Scalar(_) => &[],
        }
    }

    fn as_tensor(&self, dtype: DType) -> Result<Tensor> {
        match self {
            Operand::Tensor(t) => t.to_dtype(dtype),
            Operand::Scalar(s) => Ok(Tensor::scalar(*s, dtype)),
        }
    }

    /// `as_tensor` moved to `device` (0-d CPU tensors and numbers join GPU operands). A number
    /// is written on the device by a fill kernel (the value travels as a launch argument), not
    /// uploaded from host memory: the same launch a CUDA graph can capture.
    fn as_tensor_on(&self, dtype: DType, device: Device) -> Result<Tensor> {
        match self {
            Operand::Scalar(s) if device != Device::Cpu => Tensor::full_on(&[], *s, dtype, device),
            _ => self.as_tensor(dtype)?.to_device(device),
        }
    }
}

impl From<Tensor> for Operand {
    fn from(t: Tensor) -> Self {
        Operand::Tensor(t)
    }
}

impl From<Scalar> for Operand {
    fn from(s: Scalar) -> Self {
        Operand::Scalar(s)
    }
}

/// The dtype `op` gives for inputs promoting to `promoted`, checking it is supported.
fn result_dtype(op: BinaryOp, promoted: DType) -> Result<DType> {
    Ok(match op.kind() {
        BinaryKind::Real if !promoted.is_float() => default_dtype(),
        BinaryKind::Bits if promoted.is_float() => {
            bail!(Runtime, "\"{}_cpu\" not implemented for '{}'", op.name(), title(promoted))
        }
        BinaryKind::Compare | BinaryKind::Logical => DType::Bool,
        _ if op == BinaryOp::Sub && promoted == DType::Bool => bail!(
            Runtime,
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead."
        ),
        _ => promoted,
    })
}

/// Integer division by zero and negative integer powers are errors in PyTorch, not values.
fn check_integer_domain(op: BinaryOp, y: &Tensor) -> Result<()> {
    if y.dtype().is_float() || y.dtype() == DType::Bool {
        return Ok(());
    }
    with_arith_dtype!(y.dtype(), T => {
        match op {
            BinaryOp::FloorDivide | BinaryOp::Remainder | BinaryOp::Fmod if any_element::<T>(y, |v| v.is_zero())? => {
                bail!(Runtime, "ZeroDivisionError")
            }
            BinaryOp::Pow if any_element::<T>(y, |v| v.lt_zero())? => {
                bail!(Runtime, "Integers to negative integer powers are not allowed.")
            }
            _ => Ok(()),
        }
    })
}

impl Tensor {
    /// `op(self, other)` with broadcasting and type promotion.
    pub fn binary(&self, op: BinaryOp, other: &Operand) -> Result<Tensor> {
        binary(&Operand::Tensor(self.clone()), op, other)
    }

    /// The in-place form `self.op_(other)`: the result must broadcast to and cast into `self`.
    pub fn binary_(&self, op: BinaryOp, other: &Operand) -> Result<()> {
        let others: Vec<&Tensor> = match other {
            Operand::Tensor(t) => vec![t],
            Operand::Scalar(_) => vec![],
        };
        crate::ops::copy::check_no_internal_overlap(self)?;
        crate::autograd::inplace_direct(self, &others, || self.binary_direct(op, other), |x| x.binary(op, other))
    }

    /// `self = op(self, other)` written straight into `self`, when that needs no temporary:
    /// the result has `self`'s dtype, which is its own compute type; `self` has the broadcast
    /// shape (and holds each element once: `binary_` checked); `other` has memory of its own. False otherwise (the
    /// caller then computes out of place and copies, raising any error there).
    fn binary_direct(&self, op: BinaryOp, other: &Operand) -> Result<bool> {
        let lhs = Operand::Tensor(self.clone());
        let (out, compute) = result_types(&lhs, op, other)?;
        let device = operand_device(&lhs, other)?;
        let compute = kernel_dtype(op, out, compute, device);
        let shares = other.tensor().is_some_and(|t| t.shares_storage(self));
        if out != self.dtype() || compute != out || shares || broadcast_shapes(self.shape(), other.shape())? != self.shape() {
            return Ok(false);
        }
        if device != Device::Cpu {
            crate::cuda::dispatch::binary_into(op, self, self, &other.as_tensor_on(compute, device)?)?;
            return Ok(true);
        }
        let y = other.as_tensor(compute)?;
        check_integer_domain(op, &y)?;
        op.kernel_inplace(self, &y, compute)
    }
}

/// The result dtype of `op(lhs, rhs)` and the dtype its kernel computes in.
fn result_types(lhs: &Operand, op: BinaryOp, rhs: &Operand) -> Result<(DType, DType)> {
    let promoted = rhs.add_to(lhs.add_to(ResultTypeState::default())).result();
    let out = result_dtype(op, promoted)?;
    let compute = match op.kind() {
        BinaryKind::Compare => promoted.compute_type(),
        BinaryKind::Logical => DType::Bool,
        _ => out.compute_type(),
    };
    Ok((out, compute))
}

/// The device of a binary op's operands (PyTorch's same-device rule).
fn operand_device(lhs: &Operand, rhs: &Operand) -> Result<Device> {
    let tensors: Vec<&Tensor> = [lhs, rhs].into_iter().filter_map(Operand::tensor).collect();
    crate::device::common_device(&tensors)
}

/// The dtype the kernel computes in on `device`: the CPU widens half types to float
/// (`compute`); CUDA kernels take every dtype of their kind and widen inside.
fn kernel_dtype(op: BinaryOp, out: DType, compute: DType, device: Device) -> DType {
    match (device, op.kind()) {
        (Device::Cpu, _) | (_, BinaryKind::Compare | BinaryKind::Logical) => compute,
        _ => out,
    }
}

/// `op(lhs, rhs)`: either side may be a Python number (`2 ** t`).
pub fn binary(lhs: &Operand, op: BinaryOp, rhs: &Operand) -> Result<Tensor> {
    if [lhs, rhs].iter().any(|o| o.tensor().is_some_and(Tensor::requires_grad)) && crate::autograd::is_grad_enabled() {
        return crate::autograd::formulas::binary::binary_op(lhs, op, rhs);
    }
    let (out, compute) = result_types(lhs, op, rhs)?;
    let shape = broadcast_shapes(lhs.shape(), rhs.shape())?;
    let device = operand_device(lhs, rhs)?;
    if device != Device::Cpu {
        // Integer division by zero is not checked on the GPU (PyTorch's CUDA kernels do not).
        let k = kernel_dtype(op, out, compute, device);
        let (x, y) = (lhs.as_tensor_on(k, device)?, rhs.as_tensor_on(k, device)?);
        let kernel_out = if matches!(op.kind(), BinaryKind::Compare | BinaryKind::Logical) { DType::Bool } else { k };
        return crate::cuda::dispatch::binary(op, &x, &y, &shape, kernel_out)?.to_dtype(out);
    }
    let (x, y) = (lhs.as_tensor(compute)?, rhs.as_tensor(compute)?);
    check_integer_domain(op, &y)?;
    let r = op.kernel(&x, &y, &shape, compute)?;
    r.to_dtype(out)
}

/// `where(cond, a, b)`: elements of `a` where `cond` is true, else of `b`.
pub fn where_(cond: &Tensor, a: &Operand, b: &Operand) -> Result<Tensor> {
    if [a, b].iter().any(|o| o.tensor().is_some_and(Tensor::requires_grad)) && crate::autograd::is_grad_enabled() {
        return crate::autograd::formulas::binary::where_op(cond, a, b);
    }
    let dtype = b.add_to(a.add_to(ResultTypeState::default())).result();
    let shape = broadcast_shapes(&broadcast_shapes(cond.shape(), a.shape())?, b.shape())?;
    let cond = cond.to_dtype(DType::Bool)?;
    let tensors: Vec<&Tensor> = [Some(&cond), a.tensor(), b.tensor()].into_iter().flatten().collect();
    let device = crate::device::common_device(&tensors)?;
    if device != Device::Cpu {
        let (c, x, y) = (cond.to_device(device)?, a.as_tensor_on(dtype, device)?, b.as_tensor_on(dtype, device)?);
        return crate::cuda::dispatch::where_(&c, &x, &y, &shape);
    }
    let (x, y) = (a.as_tensor(dtype)?, b.as_tensor(dtype)?);
    crate::with_dtype!(dtype, T => crate::cpu::map::map3::<bool, T, T, T>(&cond, &x, &y, &shape, |c, a, b| if c { a } else { b }))
}
