//! The backward engine: runs the graph's nodes in dependency order (later nodes first among
//! those ready), summing the gradients that meet at a node, on the calling thread.

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use crate::autograd::mode::{is_anomaly_enabled, GradModeGuard};
use crate::autograd::node::{Action, Edge, Grads, Node};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, err};

/// What a backward pass computes.
pub struct BackwardRequest<'a> {
    /// The tensors to differentiate, each with the gradient flowing into it.
    pub roots: &'a [(Tensor, Tensor)],
    pub retain_graph: bool,
    pub create_graph: bool,
    /// `inputs=`/`autograd.grad`'s inputs: only these receive gradients.
    pub inputs: Option<&'a [Tensor]>,
    /// `backward()` accumulates into `.grad`; `autograd.grad` returns the gradients instead.
    pub accumulate: bool,
}

/// Runs backward; for `accumulate == false` returns the gradient of each input
/// (`None` where it does not depend on the roots).
pub fn run_backward(req: &BackwardRequest) -> Result<Vec<Option<Tensor>>> {
    let _mode = GradModeGuard::new(req.create_graph);
    let mut roots = Vec::new();
    for (i, (t, g)) in req.roots.iter().enumerate() {
        let edge = t.gradient_edge().ok_or_else(|| err!(Runtime, "element {} of tensors does not require grad and does not have a grad_fn", i))?;
        if g.shape() != t.shape() {
            bail!(
                Runtime,
                "Mismatch in shape: grad_output[{}] has a shape of torch.Size({:?}) and output[{}] has a shape of torch.Size({:?}).",
                i,
                g.shape(),
                i,
                t.shape()
            );
        }
        roots.push((edge, g.clone()));
    }
    // Where each requested input's gradient is caught: (node, input_nr) -> index in `inputs`.
    let mut targets: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    let mut input_edges = Vec::new();
    if let Some(inputs) = req.inputs {
        for (i, t) in inputs.iter().enumerate() {
            if !t.requires_grad() {
                bail!(Runtime, "One of the differentiated Tensors does not require grad");
            }
            let e = t.gradient_edge().expect("requires grad");
            targets.entry((e.node.ptr(), e.input_nr)).or_default().push(i);
            input_edges.push(e);
        }
    }
    let graph = Graph::discover(&roots, req.inputs.is_some().then_some(&targets));
    let mut buffers: HashMap<usize, Vec<Option<Tensor>>> = HashMap::new();
    let mut deps = graph.deps.clone();
    let mut ready = BinaryHeap::new();
    for (edge, g) in &roots {
        add_to_buffer(&mut buffers, &edge.node, edge.input_nr, g.clone())?;
    }
    let mut seen_roots = HashSet::new();
    for (edge, _) in &roots {
        if deps.get(&edge.node.ptr()).copied().unwrap_or(0) == 0 && seen_roots.insert(edge.node.ptr()) {
            ready.push(Ready(edge.node.clone()));
        }
    }
    let mut captured: Vec<Option<Tensor>> = vec![None; req.inputs.map_or(0, |i| i.len())];
    while let Some(Ready(node)) = ready.pop() {
        let ptr = node.ptr();
        let mut grads = buffers.remove(&ptr).unwrap_or_default();
        grads.resize(node.outputs.len(), None);
        run_pre_hooks(&node, &mut grads)?;
        let mut is_target = false;
        for (nr, g) in grads.iter().enumerate() {
            if let Some(idx) = targets.get(&(ptr, nr)) {
                is_target = true;
                for &i in idx {
                    captured[i] = g.clone();
                }
            }
        }
        if let Action::Accumulate(leaf) = &node.action {
            if req.accumulate && (req.inputs.is_none() || is_target) {
                if let (Some(leaf), Some(g)) = (Tensor::upgrade(leaf), grads.into_iter().next().flatten()) {
                    accumulate(&leaf, g, req.create_graph)?;
                }
            }
            continue;
        }
        // A node that leads to nothing wanted (or only is wanted itself, as an input of
        // `autograd.grad`) need not run its formula.
        if !node.next.iter().flatten().any(|e| graph.needed.contains(&e.node.ptr())) {
            continue;
        }
        let input_grads = apply(&node, grads)?;
        if !req.retain_graph {
            node.release();
        }
        for (edge, g) in node.next.iter().zip(input_grads) {
            let (Some(edge), Some(g)) = (edge, g) else { continue };
            let child = edge.node.ptr();
            if !graph.needed.contains(&child) {
                continue;
            }
            add_to_buffer(&mut buffers, &edge.node, edge.input_nr, g)?;
            let d = deps.get_mut(&child).expect("child counted");
            *d -= 1;
            if *d == 0 {
                ready.push(Ready(edge.node.clone()));
            }
        }
    }
    Ok(captured)
}

/// The part of the graph a backward pass runs.
struct Graph {
    /// Incoming edge count of each needed node.
    deps: HashMap<usize, usize>,
    /// Nodes that lead to something that takes a gradient.
    needed: HashSet<usize>,
}

impl Graph {
    fn discover(roots: &[(Edge, Tensor)], targets: Option<&HashMap<(usize, usize), Vec<usize>>>) -> Graph {
        // Iterative post-order walk: a node is needed when it is a target, an accumulator
        // (with no explicit targets), or leads to a needed node.
        let mut needed = HashSet::new();
        let mut visited = HashSet::new();
        let mut order = Vec::new();
        let mut stack: Vec<(Arc<Node>, usize)> = Vec::new();
        for (e, _) in roots {
            if visited.insert(e.node.ptr()) {
                stack.push((e.node.clone(), 0));
            }
        }
        while let Some((node, i)) = stack.pop() {
            if i < node.next.len() {
                stack.push((node.clone(), i + 1));
                if let Some(e) = &node.next[i] {
                    if visited.insert(e.node.ptr()) {
                        stack.push((e.node.clone(), 0));
                    }
                }
                continue;
            }
            let ptr = node.ptr();
            let is_target = match targets {
                Some(t) => (0..node.outputs.len()).any(|nr| t.contains_key(&(ptr, nr))),
                None => matches!(node.action, Action::Accumulate(_)),
            };
            let leads = node.next.iter().flatten().any(|e| needed.contains(&e.node.ptr()));
            if is_target || leads {
                needed.insert(ptr);
            }
            order.push(node);
        }
        let mut deps = HashMap::new();
        for node in &order {
            if !needed.contains(&node.ptr()) {
                continue;
            }
            for e in node.next.iter().flatten() {
                if needed.contains(&e.node.ptr()) {
                    *deps.entry(e.node.ptr()).or_insert(0) += 1;
                }
            }
        }
        Graph { deps, needed }
    }
}

/// A node ready to run, ordered so the most recently created runs first.
struct Ready(Arc<Node>);

impl PartialEq for Ready {
    fn eq(&self, o: &Self) -> bool {
        self.0.seq == o.0.seq
    }
}
impl Eq for Ready {}
impl PartialOrd for Ready {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ready {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.seq.cmp(&o.0.seq)
    }
}

fn add_to_buffer(buffers: &mut HashMap<usize, Vec<Option<Tensor>>>, node: &Arc<Node>, nr: usize, g: Tensor) -> Result<()> {
    let slots = buffers.entry(node.ptr()).or_insert_with(|| vec![None; node.outputs.len().max(nr + 1)]);
    slots[nr] = Some(match slots[nr].take() {
        None => g,
        Some(prev) => prev.add(&g)?,
    });
    Ok(())
}

/// Tensor hooks of the node's outputs, then `retain_grad` copies.
fn run_pre_hooks(node: &Node, grads: &mut [Option<Tensor>]) -> Result<()> {
    let (pre, retain) = {
        let h = node.hooks();
        if h.pre.is_empty() && h.retain.is_empty() {
            return Ok(());
        }
        (h.pre.clone(), h.retain.clone())
    };
    for (_, nr, hook) in pre {
        if let Some(g) = &grads[nr] {
            if let Some(new) = hook(g)? {
                grads[nr] = Some(new);
            }
        }
    }
    for (nr, t) in retain {
        if let (Some(t), Some(g)) = (Tensor::upgrade(&t), &grads[nr]) {
            let new = match t.grad() {
                None => g.clone_contiguous()?,
                Some(prev) => prev.add(g)?,
            };
            t.set_grad(Some(new))?;
        }
    }
    Ok(())
}

/// Runs a node's formula and fits each gradient to its input (broadcast dims summed, cast).
fn apply(node: &Node, grads: Vec<Option<Tensor>>) -> Result<Vec<Option<Tensor>>> {
    let Some(formula) = node.formula()? else {
        return Ok(vec![None; node.next.len()]);
    };
    let present: Vec<bool> = grads.iter().map(Option::is_some).collect();
    let outputs = grads
        .into_iter()
        .zip(&node.outputs)
        .map(|(g, m)| match g {
            Some(g) => Ok(g),
            None => Tensor::zeros_on(&m.shape, m.dtype, m.device),
        })
        .collect::<Result<Vec<_>>>()?;
    let needs: Vec<bool> = node.next.iter().map(|e| e.is_some()).collect();
    let mut result = formula(&Grads { outputs: &outputs, needs: &needs, present: &present })?;
    if result.len() != node.next.len() {
        bail!(Runtime, "function {} returned an incorrect number of gradients (expected {}, got {})", node.name(), node.next.len(), result.len());
    }
    for (i, (g, meta)) in result.iter_mut().zip(&node.inputs).enumerate() {
        let Some(t) = g.take() else { continue };
        if node.next[i].is_none() {
            continue;
        }
        let t = if t.shape() != meta.shape.as_slice() {
            if crate::layout::broadcast_shapes(&meta.shape, t.shape()).ok().as_deref() != Some(t.shape()) {
                bail!(
                    Runtime,
                    "Function {} returned an invalid gradient at index {} - got {:?} but expected shape compatible with {:?}",
                    node.name(),
                    i,
                    t.shape(),
                    meta.shape
                );
            }
            t.sum_to(&meta.shape)?
        } else {
            t
        };
        let t = if t.dtype() != meta.dtype { t.to_dtype(meta.dtype)? } else { t };
        // A gradient computed on another device (the backward of `to(device)`) goes back to
        // the input's device.
        let t = if t.device() != meta.device { t.to_device(meta.device)? } else { t };
        if is_anomaly_enabled() && t.has_nan()? {
            bail!(
                Runtime,
                "Function '{}' returned nan values in its {}th output.{}",
                node.name(),
                i,
                node.trace().map(|s| format!("\nTraceback of forward call that caused the error:\n{}", s)).unwrap_or_default()
            );
        }
        *g = Some(t);
    }
    Ok(result)
}

/// Adds `g` into a leaf's `.grad`, then runs its post-accumulate hooks.
fn accumulate(leaf: &Tensor, g: Tensor, create_graph: bool) -> Result<()> {
    let (hooks, post) = leaf.leaf_hooks();
    let mut g = g;
    for hook in hooks {
        if let Some(new) = hook(&g)? {
            g = new;
        }
    }
    let new = match leaf.grad() {
        None => {
            let g = if create_graph { g } else { g.detach() };
            // Own the buffer: a gradient may be a broadcast view or shared with another leaf.
            if !create_graph && (!g.is_contiguous() || Arc::strong_count(g.storage()) > 1) {
                g.clone_contiguous()?
            } else {
                g
            }
        }
        Some(prev) if !create_graph && !prev.requires_grad() => {
            prev.binary_(crate::ops::binary::BinaryOp::Add, &(&g).into())?;
            prev
        }
        Some(prev) => prev.add(&g)?,
    };
    let new = if new.dtype() != leaf.dtype() { new.to_dtype(leaf.dtype())? } else { new };
    leaf.set_grad(Some(new))?;
    for hook in post {
        hook(leaf)?;
    }
    Ok(())
}
