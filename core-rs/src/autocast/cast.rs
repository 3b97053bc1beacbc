//! Casting an op's inputs under autocast (differentiably, with the weight cache) and `run`, the
//! hook at the entry of every listed op.

use std::cell::RefCell;
use std::collections::HashMap;

use super::policy::{self, Policy};
use super::state::{self, DeviceType, ExcludeGuard};
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::binary::Operand;
use crate::tensor::Tensor;

thread_local! {
    /// The op names the hooks have looked up since `trace(true)` (None: not recording).
    static TRACE: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };

    /// Fast-dtype copies of float32 leaf weights made in the current autocast region, keyed by
    /// the weight's identity and the copy's dtype (nested regions may differ). The weight itself
    /// is kept too, so its identity cannot be reused by another tensor while the entry lives.
    static CACHE: RefCell<HashMap<(usize, DType), (Tensor, Tensor)>> = RefCell::new(HashMap::new());
}

/// `torch.clear_autocast_cache()`: drops the cached weight casts (done when the outermost
/// autocast region ends).
pub fn clear_cache() {
    CACHE.with(|c| c.borrow_mut().clear())
}

/// An op's name for the policy table: a `&str`, or `format_args!(...)` for names built from
/// arguments (`max_pool3d`), which are then formatted only while autocast is on.
pub trait OpName {
    fn with_name<R>(&self, f: impl FnOnce(&str) -> R) -> R;
}

impl OpName for &str {
    fn with_name<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(self)
    }
}

impl OpName for std::fmt::Arguments<'_> {
    fn with_name<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self.as_str() {
            Some(s) => f(s),
            None => f(&self.to_string()),
        }
    }
}

/// The autocast hook of a listed op: when autocast is on for the device type of the first
/// input (and not already inside an autocast op) and `op` is on that device type's list, runs
/// `f` on the inputs cast by the op's policy, with autocast excluded so `f` (which calls the op
/// again) and the op's inner ops run as they are. `None` means "no autocast here: run the op's
/// own body". An op starts with
///
/// ```ignore
/// if let Some(r) = autocast::run("mm", [self, other], |t| t[0].mm(&t[1])) { return r; }
/// ```
pub fn run<'a, R>(op: impl OpName, inputs: impl IntoIterator<Item = &'a Tensor>, f: impl FnOnce(&[Tensor]) -> Result<R>) -> Option<Result<R>> {
    if !state::any_active() {
        return None;
    }
    let inputs: Vec<&Tensor> = inputs.into_iter().collect();
    let cast = op.with_name(|name| cast_for(name, &inputs))?;
    let _excluded = ExcludeGuard::new();
    Some(cast.and_then(|cast| f(&cast)))
}

/// `run` for an op hooked where users call it (its Python binding) rather than in its body,
/// because other ops compose it (`sum`, `exp`, `softmax`): only a user's call is cast, as
/// PyTorch casts only what reaches its dispatcher. Without autocast `f` gets the inputs.
pub fn apply<R>(op: &str, inputs: &[&Tensor], f: impl Fn(&[Tensor]) -> Result<R>) -> Result<R> {
    if let Some(r) = run(op, inputs.iter().copied(), &f) {
        return r;
    }
    f(&inputs.iter().map(|&t| t.clone()).collect::<Vec<_>>())
}

/// `apply` for operands that may be numbers (`2 ** x`, `addcmul(t, 2, x)`): the tensors among
/// `operands` are cast, in order, and `f` gets every operand back in its place.
pub fn apply_operands<const N: usize, R>(op: &str, operands: [&Operand; N], f: impl Fn([Operand; N]) -> Result<R>) -> Result<R> {
    let tensors: Vec<&Tensor> = operands.iter().filter_map(|o| o.tensor()).collect();
    apply(op, &tensors, |cast| {
        let mut cast = cast.iter();
        f(operands.map(|o| match o.tensor().and_then(|_| cast.next()) {
            Some(t) => Operand::Tensor(t.clone()),
            None => o.clone(),
        }))
    })
}

/// Starts (`on`) or stops recording the names of the ops whose hook consults a device type's
/// list (autocast on for it, not inside an autocast op); returns what was recorded so far. The
/// tests check with it that every listed op reaches its hook, on any device.
pub fn trace(on: bool) -> Vec<String> {
    TRACE.with(|t| std::mem::replace(&mut *t.borrow_mut(), on.then(Vec::new)).unwrap_or_default())
}

/// `inputs` of op `name` cast as autocast says now, or None when it does not apply (off for
/// the first input's device type, inside an autocast op, or `name` not on that type's list).
/// Shared by `run` and the Python composite ops' hook.
pub fn cast_for(name: &str, inputs: &[&Tensor]) -> Option<Result<Vec<Tensor>>> {
    let device = DeviceType::of(inputs.first()?.device());
    if state::is_excluded() || !state::is_enabled(device) {
        return None;
    }
    TRACE.with(|t| t.borrow_mut().as_mut().map(|names| names.push(name.to_string())));
    let policy = policy::policy(device, name)?;
    Some(cast_inputs(device, policy, inputs))
}

/// Floating tensors other than float64 on the region's device type are what autocast casts
/// (PyTorch's `is_autocast_eligible`).
fn eligible(t: &Tensor, device: DeviceType) -> bool {
    t.dtype().is_float() && t.dtype() != DType::F64 && DeviceType::of(t.device()) == device
}

/// `inputs` cast as `policy` says for `device`: eligible inputs of another dtype are cast with
/// history (gradients flow back in their own dtype), the others are passed through.
pub fn cast_inputs(device: DeviceType, policy: Policy, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let fast = state::dtype(device);
    let target = policy::target_dtype(policy, fast, inputs.iter().filter(|t| eligible(t, device)).map(|t| t.dtype()))?;
    inputs
        .iter()
        .map(|&t| if eligible(t, device) && t.dtype() != target { cached_cast(t, target, fast) } else { Ok(t.clone()) })
        .collect()
}

/// `t.to(target)` with history, reusing this region's earlier cast of the same weight. As in
/// PyTorch only float32 leaves that require grad (weights) cast to the fast dtype are cached;
/// unlike PyTorch, not while grad mode is off, so a cast made under `no_grad` (without
/// history) is never handed to a later op that needs the gradient.
fn cached_cast(t: &Tensor, target: DType, fast: DType) -> Result<Tensor> {
    let cacheable = target == fast
        && t.dtype() == DType::F32
        && t.requires_grad()
        && t.base().is_none()
        && state::is_cache_enabled()
        && crate::autograd::is_grad_enabled()
        && t.is_leaf();
    if !cacheable {
        return t.cast(target);
    }
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&(t.id(), target)).map(|(_, cast)| cast.clone())) {
        return Ok(hit);
    }
    let cast = t.cast(target)?;
    CACHE.with(|c| c.borrow_mut().insert((t.id(), target), (t.clone(), cast.clone())));
    Ok(cast)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::Scalar;

    /// A number before a tensor must not take the tensor's cast (`2 ** x` under CUDA autocast):
    /// checked on the CPU's list, where `mm` casts to bfloat16.
    #[test]
    fn operands_get_their_own_casts_back_in_place() {
        state::set_enabled(DeviceType::Cpu, true);
        let x = Tensor::zeros(&[2, 2], DType::F32).unwrap();
        let two = Operand::Scalar(Scalar::Int(2));
        let got = apply_operands("mm", [&two, &Operand::Tensor(x.clone()), &two], |[a, b, c]| Ok((a.tensor().is_none(), b.tensor().map(|t| t.dtype()), c.tensor().is_none())));
        let untouched = apply_operands("not_listed", [&two, &Operand::Tensor(x)], |[_, b]| Ok(b.tensor().map(|t| t.dtype())));
        state::set_enabled(DeviceType::Cpu, false);
        assert_eq!(got.unwrap(), (true, Some(DType::BF16), true));
        assert_eq!(untouched.unwrap(), Some(DType::F32));
    }

    #[test]
    fn trace_records_the_lookups_of_an_active_region_only() {
        let x = Tensor::zeros(&[2], DType::F32).unwrap();
        trace(true);
        let _ = cast_for("exp", &[&x]);
        state::set_enabled(DeviceType::Cpu, true);
        let _ = cast_for("exp", &[&x]);
        let _ = cast_for("mm", &[&x, &x]);
        state::set_enabled(DeviceType::Cpu, false);
        assert_eq!(trace(false), vec!["exp".to_string(), "mm".to_string()]);
        assert!(trace(false).is_empty(), "stopped");
    }
}
