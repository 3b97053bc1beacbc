//! Recording ops into the graph: run the forward without recording, then attach a node whose
//! formula turns output gradients into input gradients.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, Weak};

use crate::autograd::mode::{is_grad_enabled, no_grad};
use crate::autograd::node::{Action, Formula, Grads, Node, Saved, TensorMeta};
use crate::error::Result;
use crate::tensor::Tensor;

/// Whether an op over `inputs` must record history.
#[inline]
pub fn needs_grad(inputs: &[&Tensor]) -> bool {
    inputs.iter().any(|t| t.requires_grad()) && is_grad_enabled()
}

/// Handed to a formula's builder: saves tensors for backward.
pub struct Saver<'a> {
    node: &'a Weak<Node>,
    outputs: &'a [Tensor],
    saves: bool,
}

impl Saver<'_> {
    /// Saves an input (or any tensor other than the node's outputs).
    pub fn save(&mut self, t: &Tensor) -> Saved {
        self.saves = true;
        Saved::input(t)
    }

    /// Saves output `nr` of the node; unpacking gives it back with its history.
    pub fn output(&mut self, nr: usize) -> Saved {
        self.saves = true;
        Saved::output(&self.outputs[nr], self.node.clone(), nr)
    }

    /// Marks the formula as holding saved state (e.g. indices), so a second backward
    /// through a freed graph raises as in PyTorch.
    pub fn keeps_state(&mut self) {
        self.saves = true;
    }
}

/// Runs `forward`; when recording, attaches node `name` with the formula `build` returns.
/// `inputs` are the differentiable tensor inputs, in the order the formula returns gradients.
pub fn record<F>(
    name: &'static str,
    inputs: &[&Tensor],
    forward: impl FnOnce() -> Result<Tensor>,
    build: impl FnOnce(&mut Saver) -> F,
) -> Result<Tensor>
where
    F: Fn(&Grads) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
{
    if !needs_grad(inputs) {
        return forward();
    }
    let out = no_grad(forward)?;
    // An op that returns its input unchanged (`contiguous()`, `to(same dtype)`) records nothing.
    if inputs.iter().any(|t| t.is_same(&out)) {
        return Ok(out);
    }
    let mut outs = attach(name.into(), inputs, vec![out], build);
    Ok(outs.pop().expect("one output"))
}

/// `record` for ops with several outputs; only floating-point outputs get history.
pub fn record_multi<F>(
    name: &'static str,
    inputs: &[&Tensor],
    forward: impl FnOnce() -> Result<Vec<Tensor>>,
    build: impl FnOnce(&mut Saver) -> F,
) -> Result<Vec<Tensor>>
where
    F: Fn(&Grads) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
{
    if !needs_grad(inputs) {
        return forward();
    }
    let outs = no_grad(forward)?;
    Ok(attach(name.into(), inputs, outs, build))
}

/// Makes `outputs` the results of a new node over `inputs`.
pub fn attach<F>(name: Cow<'static, str>, inputs: &[&Tensor], outputs: Vec<Tensor>, build: impl FnOnce(&mut Saver) -> F) -> Vec<Tensor>
where
    F: Fn(&Grads) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
{
    if !outputs.iter().any(|o| o.dtype().is_float()) {
        return outputs;
    }
    let next = inputs.iter().map(|t| t.gradient_edge()).collect();
    let input_meta = inputs.iter().map(|t| TensorMeta::of(t)).collect();
    let output_meta = outputs.iter().map(TensorMeta::of).collect();
    let node = Arc::new_cyclic(|weak| {
        let mut saver = Saver { node: weak, outputs: &outputs, saves: false };
        let formula: Formula = Arc::new(build(&mut saver));
        let saves = saver.saves;
        Node::new(name.clone(), next, input_meta, output_meta, Action::Formula { formula: Mutex::new(Some(formula)), saves })
    });
    for (i, o) in outputs.iter().enumerate() {
        if o.dtype().is_float() {
            o.set_history(node.clone(), i);
        }
    }
    outputs
}
