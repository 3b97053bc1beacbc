//! A tensor's autograd state and the `Tensor` methods that read and change it.

use std::sync::{Arc, Weak};

use crate::autograd::node::{next_hook_id, Action, Edge, Hook, Node, TensorMeta};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::bail;

/// Hook run after a leaf's `.grad` was updated (`register_post_accumulate_grad_hook`).
pub type PostAccumulateHook = Arc<dyn Fn(&Tensor) -> Result<()> + Send + Sync>;

/// Autograd state of one tensor.
#[derive(Default)]
pub struct Meta {
    pub(crate) grad: Option<Tensor>,
    pub(crate) grad_fn: Option<Arc<Node>>,
    pub(crate) output_nr: usize,
    /// The leaf's `AccumulateGrad` node, while a graph holds it.
    pub(crate) accumulator: Weak<Node>,
    /// Hooks of a leaf (a non-leaf's hooks live on its `grad_fn`).
    pub(crate) hooks: Vec<(u64, Hook)>,
    pub(crate) post_accumulate: Vec<(u64, PostAccumulateHook)>,
    pub(crate) retains_grad: bool,
    /// For views: the storage version when `grad_fn` was set; a newer version means an
    /// in-place write happened through another alias and the history must be regenerated.
    pub(crate) view_version: u64,
}

impl Tensor {
    fn with_meta<R>(&self, f: impl FnOnce(&mut Meta) -> R) -> R {
        let mut m = self.meta();
        f(m.get_or_insert_with(Default::default))
    }

    fn read_meta<R>(&self, f: impl FnOnce(&Meta) -> R) -> Option<R> {
        self.meta().as_deref().map(f)
    }

    /// `requires_grad_(on)`: only leaves may change it, and only floating-point tensors
    /// can require gradients.
    pub fn set_requires_grad(&self, on: bool) -> Result<()> {
        if self.grad_fn().is_some() {
            if on {
                return Ok(());
            }
            bail!(
                Runtime,
                "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            );
        }
        if on && !self.dtype().is_float() {
            bail!(Runtime, "only Tensors of floating point and complex dtype can require gradients");
        }
        self.set_requires_grad_flag(on);
        Ok(())
    }

    /// The node that computed this tensor; `None` for leaves.
    pub fn grad_fn(&self) -> Option<Arc<Node>> {
        if !self.requires_grad() {
            return None;
        }
        let (node, version) = self.read_meta(|m| (m.grad_fn.clone(), m.view_version))?;
        if let (Some(base), Some(_)) = (self.base(), &node) {
            // A differentiable view written to through another alias since it got its
            // history takes it afresh from its base (as PyTorch regenerates view history).
            if version != self.storage().version() && base.requires_grad() {
                crate::autograd::inplace::regenerate_view(self, base);
                return self.read_meta(|m| m.grad_fn.clone()).flatten();
            }
        }
        node
    }

    /// Which output of `grad_fn` this tensor is.
    pub fn output_nr(&self) -> usize {
        self.read_meta(|m| m.output_nr).unwrap_or(0)
    }

    /// `is_leaf`: not computed by a recorded op.
    pub fn is_leaf(&self) -> bool {
        self.grad_fn().is_none()
    }

    /// Makes this tensor output `nr` of `node`.
    pub(crate) fn set_history(&self, node: Arc<Node>, nr: usize) {
        let version = self.storage().version();
        self.with_meta(|m| {
            m.grad_fn = Some(node);
            m.output_nr = nr;
            m.view_version = version;
        });
        self.set_requires_grad_flag(true);
    }

    /// Where this tensor's gradient goes: its `grad_fn`, or the accumulator of a leaf
    /// that requires grad.
    pub fn gradient_edge(&self) -> Option<Edge> {
        if let Some(node) = self.grad_fn() {
            return Some(Edge { node, input_nr: self.output_nr() });
        }
        if !self.requires_grad() {
            return None;
        }
        let node = self.with_meta(|m| {
            if let Some(n) = m.accumulator.upgrade() {
                return n;
            }
            let n = Arc::new(Node::new(
                "AccumulateGrad".into(),
                Vec::new(),
                Vec::new(),
                vec![TensorMeta::of(self)],
                Action::Accumulate(self.downgrade()),
            ));
            m.accumulator = Arc::downgrade(&n);
            n
        });
        Some(Edge { node, input_nr: 0 })
    }

    /// `.grad`.
    pub fn grad(&self) -> Option<Tensor> {
        self.read_meta(|m| m.grad.clone()).flatten()
    }

    /// Assigns `.grad`, checking it matches this tensor.
    pub fn set_grad(&self, grad: Option<Tensor>) -> Result<()> {
        if let Some(g) = &grad {
            if g.dtype() != self.dtype() {
                bail!(Runtime, "assigned grad has data of a different type");
            }
            if g.shape() != self.shape() {
                bail!(Runtime, "assigned grad has data of a different size");
            }
        }
        self.with_meta(|m| m.grad = grad);
        Ok(())
    }

    /// `detach()`: the same data, out of the graph.
    pub fn detach(&self) -> Tensor {
        self.alias()
    }

    /// `detach_()`: takes this tensor out of the graph in place.
    pub fn detach_(&self) -> Result<()> {
        if self.base().is_some() && self.requires_grad() {
            bail!(Runtime, "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence detach_() cannot be called on these gradients. To fix this error, please refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.");
        }
        self.with_meta(|m| {
            m.grad_fn = None;
            m.output_nr = 0;
        });
        self.set_requires_grad_flag(false);
        Ok(())
    }

    /// `retain_grad()`: a non-leaf keeps its gradient in `.grad` after backward.
    pub fn retain_grad(&self) -> Result<()> {
        if !self.requires_grad() {
            bail!(Runtime, "can't retain_grad on Tensor that has requires_grad=False");
        }
        if let Some(node) = self.grad_fn() {
            if !self.retains_grad() {
                node.hooks().retain.push((self.output_nr(), self.downgrade()));
                self.with_meta(|m| m.retains_grad = true);
            }
        }
        Ok(())
    }

    /// `retains_grad`: whether `retain_grad()` was called on this non-leaf.
    pub fn retains_grad(&self) -> bool {
        self.read_meta(|m| m.retains_grad).unwrap_or(false)
    }

    /// `register_hook(hook)`: runs on this tensor's gradient, which it may replace.
    pub fn register_hook(&self, hook: Hook) -> Result<u64> {
        if !self.requires_grad() {
            bail!(Runtime, "cannot register a hook on a tensor that doesn't require gradient");
        }
        match self.grad_fn() {
            Some(node) => Ok(node.add_pre_hook(self.output_nr(), hook)),
            None => {
                let id = next_hook_id();
                self.with_meta(|m| m.hooks.push((id, hook)));
                Ok(id)
            }
        }
    }

    /// Removes a hook added by `register_hook`.
    pub fn remove_hook(&self, id: u64) {
        if let Some(node) = self.grad_fn() {
            node.remove_pre_hook(id);
        }
        self.with_meta(|m| m.hooks.retain(|h| h.0 != id));
    }

    /// `register_post_accumulate_grad_hook(hook)`: runs after a leaf's `.grad` is updated.
    pub fn register_post_accumulate_grad_hook(&self, hook: PostAccumulateHook) -> Result<u64> {
        if !self.requires_grad() {
            bail!(Runtime, "cannot register a hook on a tensor that doesn't require gradient");
        }
        if !self.is_leaf() {
            bail!(Runtime, "post accumulate grad hooks cannot be registered on non-leaf tensors");
        }
        let id = next_hook_id();
        self.with_meta(|m| m.post_accumulate.push((id, hook)));
        Ok(id)
    }

    pub fn remove_post_accumulate_hook(&self, id: u64) {
        self.with_meta(|m| m.post_accumulate.retain(|h| h.0 != id));
    }

    pub(crate) fn leaf_hooks(&self) -> (Vec<Hook>, Vec<PostAccumulateHook>) {
        self.read_meta(|m| (m.hooks.iter().map(|h| h.1.clone()).collect(), m.post_accumulate.iter().map(|h| h.1.clone()).collect()))
            .unwrap_or_default()
    }
}
