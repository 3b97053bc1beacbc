//! Graph nodes: a backward function, the edges to the nodes of its inputs, and what it saved.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::{Tensor, TensorImpl};

/// A gradient hook: sees a gradient and may return a replacement.
pub type Hook = Arc<dyn Fn(&Tensor) -> Result<Option<Tensor>> + Send + Sync>;

/// A backward formula: gradients of the inputs from the gradients of the outputs.
pub type Formula = Arc<dyn Fn(&Grads) -> Result<Vec<Option<Tensor>>> + Send + Sync>;

/// Where a gradient flows: input `input_nr` of `node`.
#[derive(Clone)]
pub struct Edge {
    pub node: Arc<Node>,
    pub input_nr: usize,
}

/// Shape and dtype of a tensor a node receives or produces a gradient for.
#[derive(Clone, Debug)]
pub struct TensorMeta {
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub device: crate::device::Device,
}

impl TensorMeta {
    pub fn of(t: &Tensor) -> Self {
        TensorMeta { shape: t.shape().to_vec(), dtype: t.dtype(), device: t.device() }
    }
}

/// What a node does when gradients reach it.
pub(crate) enum Action {
    /// Runs a formula; `None` once the graph has been freed.
    Formula { formula: Mutex<Option<Formula>>, saves: bool },
    /// Accumulates into a leaf's `.grad`.
    Accumulate(Weak<TensorImpl>),
}

/// Hooks attached to a node's outputs.
#[derive(Default)]
pub(crate) struct NodeHooks {
    /// Tensor hooks of output `nr`, by id.
    pub pre: Vec<(u64, usize, Hook)>,
    /// Tensors whose `.grad` keeps output `nr`'s gradient (`retain_grad()`).
    pub retain: Vec<(usize, Weak<TensorImpl>)>,
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A node of the autograd graph (`grad_fn`).
pub struct Node {
    name: Cow<'static, str>,
    /// Creation order: later nodes run first when both are ready.
    pub(crate) seq: u64,
    /// One edge per input; `None` for inputs that need no gradient.
    pub(crate) next: Vec<Option<Edge>>,
    /// What each input's gradient must look like.
    pub(crate) inputs: Vec<TensorMeta>,
    /// What each output looks like (gradients that never arrive are zeros of this).
    pub(crate) outputs: Vec<TensorMeta>,
    pub(crate) action: Action,
    pub(crate) hooks: Mutex<NodeHooks>,
    /// Where the forward op ran, when anomaly detection was on.
    pub(crate) trace: Option<String>,
}

impl Node {
    pub(crate) fn new(
        name: Cow<'static, str>,
        next: Vec<Option<Edge>>,
        inputs: Vec<TensorMeta>,
        outputs: Vec<TensorMeta>,
        action: Action,
    ) -> Node {
        Node {
            name,
            seq: SEQUENCE.fetch_add(1, Ordering::Relaxed),
            next,
            inputs,
            outputs,
            action,
            hooks: Mutex::new(NodeHooks::default()),
            trace: crate::autograd::mode::is_anomaly_enabled().then(crate::autograd::anomaly::current_trace).flatten(),
        }
    }

    /// PyTorch's class name of this node, e.g. `MulBackward0`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `next_functions`: the node and input number each input's gradient flows to.
    pub fn next_functions(&self) -> Vec<Option<(Arc<Node>, usize)>> {
        self.next.iter().map(|e| e.as_ref().map(|e| (e.node.clone(), e.input_nr))).collect()
    }

    /// The leaf tensor of an `AccumulateGrad` node.
    pub fn variable(&self) -> Option<Tensor> {
        match &self.action {
            Action::Accumulate(w) => Tensor::upgrade(w),
            _ => None,
        }
    }

    /// The forward stack recorded under anomaly detection.
    pub fn trace(&self) -> Option<&str> {
        self.trace.as_deref()
    }

    pub(crate) fn hooks(&self) -> MutexGuard<'_, NodeHooks> {
        self.hooks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a hook on the gradient of output `nr`; returns its id.
    pub fn add_pre_hook(&self, nr: usize, hook: Hook) -> u64 {
        let id = next_hook_id();
        self.hooks().pre.push((id, nr, hook));
        id
    }

    pub fn remove_pre_hook(&self, id: u64) {
        self.hooks().pre.retain(|h| h.0 != id);
    }

    /// The formula to run, or the error for a graph already freed.
    pub(crate) fn formula(&self) -> Result<Option<Formula>> {
        match &self.action {
            Action::Formula { formula, saves } => {
                let f = formula.lock().unwrap_or_else(|e| e.into_inner()).clone();
                if f.is_none() && *saves {
                    crate::bail!(Runtime, "{}", FREED);
                }
                Ok(f)
            }
            Action::Accumulate(_) => Ok(None),
        }
    }

    /// Drops the saved tensors (after a backward without `retain_graph`).
    pub(crate) fn release(&self) {
        if let Action::Formula { formula, saves: true } = &self.action {
            formula.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
    }

    pub(crate) fn ptr(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }
}

pub(crate) const FREED: &str = "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.";

static HOOK_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_hook_id() -> u64 {
    HOOK_ID.fetch_add(1, Ordering::Relaxed)
}

/// The gradients a formula receives: one per output of its node (zeros where none arrived),
/// and which inputs need a gradient.
pub struct Grads<'a> {
    pub outputs: &'a [Tensor],
    pub needs: &'a [bool],
    /// Which output gradients arrived (the rest are materialized zeros).
    pub present: &'a [bool],
}

impl Grads<'_> {
    /// Whether output `i`'s gradient arrived rather than being materialized as zeros.
    pub fn present(&self, i: usize) -> bool {
        self.present.get(i).copied().unwrap_or(false)
    }

    /// The gradient of the (first) output.
    pub fn g(&self) -> &Tensor {
        &self.outputs[0]
    }

    /// Whether input `i` needs a gradient.
    pub fn needs(&self, i: usize) -> bool {
        self.needs.get(i).copied().unwrap_or(false)
    }

    /// `f()` when input `i` needs a gradient, else `None` without computing it.
    pub fn when(&self, i: usize, f: impl FnOnce() -> Result<Tensor>) -> Result<Option<Tensor>> {
        if self.needs(i) {
            f().map(Some)
        } else {
            Ok(None)
        }
    }
}

/// A tensor saved for backward, with the storage version it had, so backward can tell
/// when it was overwritten in place.
pub struct Saved {
    tensor: Tensor,
    version: u64,
    /// For a node's own output: the node, so unpacking re-attaches history without a cycle.
    output_of: Option<(Weak<Node>, usize)>,
}

impl Saved {
    pub(crate) fn input(t: &Tensor) -> Saved {
        Saved { tensor: t.clone(), version: t.storage().version(), output_of: None }
    }

    pub(crate) fn output(t: &Tensor, node: Weak<Node>, nr: usize) -> Saved {
        Saved { tensor: t.alias(), version: t.storage().version(), output_of: Some((node, nr)) }
    }

    /// ", which is output 0 of Mul": the op that now produces the saved tensor, named as
    /// PyTorch names it in this message.
    fn producer(&self) -> String {
        let current = match &self.output_of {
            Some((node, nr)) => node.upgrade().map(|n| (*nr, n.name().to_string())),
            None => self.tensor.grad_fn().map(|n| (self.tensor.output_nr(), n.name().to_string())),
        };
        match current {
            Some((nr, name)) => {
                let op = name.trim_end_matches(|c: char| c.is_ascii_digit());
                format!(", which is output {} of {}", nr, op.strip_suffix("Backward").unwrap_or(op))
            }
            None => String::new(),
        }
    }

    /// The saved tensor, or PyTorch's error when it was modified in place since.
    pub fn get(&self) -> Result<Tensor> {
        let now = self.tensor.storage().version();
        if now != self.version {
            crate::bail!(
                Runtime,
                "one of the variables needed for gradient computation has been modified by an inplace operation: [{} {:?}]{}, is at version {}; expected version {} instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).",
                legacy_type_name(self.tensor.dtype()),
                self.tensor.shape(),
                self.producer(),
                now,
                self.version
            );
        }
        if let Some((node, nr)) = &self.output_of {
            if let Some(node) = node.upgrade() {
                let t = self.tensor.alias();
                t.set_history(node, *nr);
                return Ok(t);
            }
        }
        Ok(self.tensor.clone())
    }
}

/// `torch.FloatTensor` and friends, as PyTorch names tensors in autograd messages.
pub fn legacy_type_name(d: DType) -> String {
    format!("torch.{}Tensor", crate::dtype::title(d))
}
