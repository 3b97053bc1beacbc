//! Gradients of the element-wise functions of two operands (`ops/binary.rs`) and `where`.
//! Formulas return gradients at the broadcast shape; the engine sums them back.

use crate::autograd::node::Grads;
use crate::autograd::record::record;
use crate::dtype::Scalar;
use crate::error::Result;
use crate::ops::binary::{binary, where_, BinaryOp, Operand};
use crate::tensor::Tensor;

/// Gradients of `op(a, b)` with respect to `a` and `b`, given the result `out`.
fn grads(op: BinaryOp, g: &Tensor, a: &Tensor, b: &Tensor, out: &Tensor, need: (bool, bool)) -> Result<(Option<Tensor>, Option<Tensor>)> {
    use BinaryOp::*;
    let ga = |f: &dyn Fn() -> Result<Tensor>| if need.0 { f().map(Some) } else { Ok(None) };
    let gb = |f: &dyn Fn() -> Result<Tensor>| if need.1 { f().map(Some) } else { Ok(None) };
    let zero = || g.zeros_like();
    Ok(match op {
        Add => (ga(&|| Ok(g.clone()))?, gb(&|| Ok(g.clone()))?),
        Sub => (ga(&|| Ok(g.clone()))?, gb(&|| g.neg())?),
        Mul => (ga(&|| g.mul(b))?, gb(&|| g.mul(a))?),
        Div => (ga(&|| g.div(b))?, gb(&|| g.mul(&a.div(&b.square()?)?)?.neg())?),
        FloorDivide => (ga(&zero)?, gb(&zero)?),
        Remainder => (ga(&|| Ok(g.clone()))?, gb(&|| g.mul(&binary(&a.into(), FloorDivide, &b.into())?)?.neg())?),
        Fmod => (ga(&|| Ok(g.clone()))?, gb(&|| g.mul(&a.div(b)?.numeric_unary(crate::ops::unary::NumericUnaryOp::Trunc)?)?.neg())?),
        Pow => (
            // b * a^(b-1), zero where b == 0 (so 0^0 has slope 0, as in PyTorch).
            ga(&|| g.mul(&b.mul(&a.pow(&b.sub(1.0)?)?)?)?.keep_where(&b.ne(0.0)?))?,
            // out * log(a), zero where a == 0 and b >= 0.
            gb(&|| g.mul(&out.mul(&a.log()?)?)?.keep_where(&a.ne(0.0)?.logical_or(&b.lt(0.0)?)?))?,
        ),
        Maximum | Minimum => {
            // Ties split the gradient evenly.
            let pick = if op == Maximum { a.gt(b)? } else { a.lt(b)? };
            let tie = a.eq(b)?;
            let half = g.mul(0.5)?;
            (
                ga(&|| where_(&tie, &(&half).into(), &g.keep_where(&pick)?.into()))?,
                gb(&|| where_(&tie, &(&half).into(), &g.keep_where(&pick.logical_or(&tie)?.logical_not()?)?.into()))?,
            )
        }
        Fmax | Fmin => {
            // The NaN-ignoring forms take `a` unless it is NaN or loses to a non-NaN `b`.
            let wins = if op == Fmax { a.ge(b)? } else { a.le(b)? };
            let take_a = wins.logical_or(&b.isnan()?)?;
            (ga(&|| g.keep_where(&take_a))?, gb(&|| g.keep_where(&take_a.logical_not()?))?)
        }
        Atan2 => {
            let r2 = a.square()?.add(&b.square()?)?;
            (ga(&|| g.mul(&b.div(&r2)?))?, gb(&|| g.mul(&a.div(&r2)?)?.neg())?)
        }
        Hypot => (ga(&|| g.mul(&a.div(out)?))?, gb(&|| g.mul(&b.div(out)?))?),
        Copysign => (ga(&|| g.mul(&out.div(a)?)?.keep_where(&a.ne(0.0)?))?, gb(&zero)?),
        Logaddexp => (ga(&|| g.mul(&a.sub(out)?.exp()?))?, gb(&|| g.mul(&b.sub(out)?.exp()?))?),
        Logaddexp2 => (ga(&|| g.mul(&a.sub(out)?.exp2()?))?, gb(&|| g.mul(&b.sub(out)?.exp2()?))?),
        Xlogy => (
            ga(&|| g.mul(&b.log()?)?.keep_where(&a.ne(0.0)?.logical_or(&b.isnan()?)?))?,
            gb(&|| g.mul(&a.div(b)?))?,
        ),
        BitwiseAnd | BitwiseOr | BitwiseXor | BitwiseLeftShift | BitwiseRightShift | Eq | Ne | Lt | Le | Gt | Ge | LogicalAnd
        | LogicalOr | LogicalXor => (None, None),
    })
}

/// Whether the formula of `op` reads the result.
fn uses_result(op: BinaryOp) -> bool {
    matches!(op, BinaryOp::Pow | BinaryOp::Hypot | BinaryOp::Copysign | BinaryOp::Logaddexp | BinaryOp::Logaddexp2)
}

/// Whether the formula of `op` reads its operands.
fn uses_operands(op: BinaryOp) -> bool {
    !matches!(op, BinaryOp::Add | BinaryOp::Sub | BinaryOp::FloorDivide)
}

/// Records `op(lhs, rhs)`; scalar operands take no gradient.
pub fn binary_op(lhs: &Operand, op: BinaryOp, rhs: &Operand) -> Result<Tensor> {
    let tensors: Vec<&Tensor> = [lhs, rhs].into_iter().filter_map(|o| if let Operand::Tensor(t) = o { Some(t) } else { None }).collect();
    let slots = [matches!(lhs, Operand::Tensor(_)), matches!(rhs, Operand::Tensor(_))];
    record(op.backward_name(), &tensors, || binary(lhs, op, rhs), |s| {
        let mut save = |o: &Operand| match o {
            Operand::Tensor(t) if uses_operands(op) => Some(s.save(t)),
            _ => None,
        };
        let (sa, sb) = (save(lhs), save(rhs));
        let (ca, cb) = (constant(lhs), constant(rhs));
        let out = uses_result(op).then(|| s.output(0));
        move |gr: &Grads| {
            let g = gr.g();
            let operand = |saved: &Option<crate::autograd::Saved>, c: &Option<Scalar>| -> Result<Tensor> {
                match (saved, c) {
                    (Some(t), _) => t.get(),
                    (None, Some(v)) => Ok(Tensor::scalar(*v, g.dtype())),
                    (None, None) => Ok(g.zeros_like()?),
                }
            };
            let (a, b) = (operand(&sa, &ca)?, operand(&sb, &cb)?);
            let out = match &out {
                Some(o) => o.get()?,
                None => g.clone(),
            };
            // Gradient slot i of the node is the i-th tensor operand.
            let mut k = 0;
            let mut need = [false; 2];
            for (i, &is_tensor) in slots.iter().enumerate() {
                if is_tensor {
                    need[i] = gr.needs(k);
                    k += 1;
                }
            }
            let (da, db) = grads(op, g, &a, &b, &out, (need[0], need[1]))?;
            Ok([(slots[0], da), (slots[1], db)].into_iter().filter(|(t, _)| *t).map(|(_, d)| d).collect())
        }
    })
}

fn constant(o: &Operand) -> Option<Scalar> {
    match o {
        Operand::Scalar(s) => Some(*s),
        Operand::Tensor(_) => None,
    }
}

/// Records `where(cond, a, b)`.
pub fn where_op(cond: &Tensor, a: &Operand, b: &Operand) -> Result<Tensor> {
    let tensors: Vec<&Tensor> = [a, b].into_iter().filter_map(|o| if let Operand::Tensor(t) = o { Some(t) } else { None }).collect();
    let slots = [matches!(a, Operand::Tensor(_)), matches!(b, Operand::Tensor(_))];
    record("WhereBackward0", &tensors, || where_(cond, a, b), |s| {
        s.keeps_state();
        let cond = cond.clone();
        move |gr: &Grads| {
            let g = gr.g();
            let mut out = Vec::new();
            if slots[0] {
                out.push(gr.when(0, || g.keep_where(&cond))?);
            }
            if slots[1] {
                out.push(gr.when(out.len(), || g.keep_where(&cond.logical_not()?))?);
            }
            Ok(out)
        }
    })
}
