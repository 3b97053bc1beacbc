//! Autograd bindings: tensor attributes (`requires_grad`, `grad`, `grad_fn`, ...), `backward`,
//! `autograd.grad`, grad modes, hooks, graph nodes, and Python `autograd.Function` nodes.
//! The graph and the engine are in the core; this file only converts arguments.

use std::sync::Arc;

use ferrotorch_core::autograd::{self as ag, BackwardRequest, Grads, Node};
use ferrotorch_core::Tensor;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::error::{stash, IntoPy};
use crate::tensor::{wrap, PyTensor};

/// A node of the graph as Python sees it (`tensor.grad_fn`).
#[pyclass(name = "Node", module = "ferrotorch.autograd.graph", frozen)]
pub struct PyNode {
    pub node: Arc<Node>,
}

#[pymethods]
impl PyNode {
    fn name(&self) -> String {
        self.node.name().to_string()
    }

    /// `((node, input_nr), ...)` for each input; `(None, 0)` where no gradient flows.
    #[getter]
    fn next_functions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let items = self
            .node
            .next_functions()
            .into_iter()
            .map(|e| match e {
                Some((n, nr)) => (Some(PyNode { node: n }), nr).into_pyobject(py).map(|b| b.into_any()),
                None => (None::<PyNode>, 0usize).into_pyobject(py).map(|b| b.into_any()),
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, items)
    }

    /// The leaf tensor of an `AccumulateGrad` node.
    #[getter]
    fn variable(&self) -> PyResult<PyTensor> {
        self.node.variable().map(PyTensor::new).ok_or_else(|| pyo3::exceptions::PyAttributeError::new_err("'Node' object has no attribute 'variable'"))
    }

    fn __repr__(&self) -> String {
        format!("<{} object at {:#x}>", self.node.name(), Arc::as_ptr(&self.node) as usize)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyNode>().is_ok_and(|o| Arc::ptr_eq(&o.get().node, &self.node))
    }

    fn __hash__(&self) -> isize {
        Arc::as_ptr(&self.node) as isize
    }

    /// Registers `hook(grad)` on output 0's gradient (a tensor pre-hook of this node).
    fn register_prehook(&self, hook: Py<PyAny>) -> RemovableHandle {
        let id = self.node.add_pre_hook(0, python_hook(hook));
        RemovableHandle { target: HookTarget::Node(self.node.clone()), id }
    }
}

enum HookTarget {
    Tensor(Tensor),
    PostAccumulate(Tensor),
    Node(Arc<Node>),
}

/// What `register_hook` returns: `handle.remove()` takes the hook away.
#[pyclass(module = "ferrotorch.utils.hooks", frozen)]
pub struct RemovableHandle {
    target: HookTarget,
    id: u64,
}

#[pymethods]
impl RemovableHandle {
    fn remove(&self) {
        match &self.target {
            HookTarget::Tensor(t) => t.remove_hook(self.id),
            HookTarget::PostAccumulate(t) => t.remove_post_accumulate_hook(self.id),
            HookTarget::Node(n) => n.remove_pre_hook(self.id),
        }
    }

    #[getter]
    fn id(&self) -> u64 {
        self.id
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(&self, _a: &Bound<'_, PyAny>, _b: &Bound<'_, PyAny>, _c: &Bound<'_, PyAny>) {
        self.remove()
    }
}

/// A Python callable as a core gradient hook: `hook(grad)` may return a replacement.
fn python_hook(hook: Py<PyAny>) -> ag::Hook {
    Arc::new(move |g: &Tensor| {
        Python::attach(|py| {
            let r = hook.call1(py, (PyTensor::new(g.clone()),)).map_err(stash)?;
            if r.is_none(py) {
                return Ok(None);
            }
            let t = r.cast_bound::<PyTensor>(py).map_err(|e| stash(e.into()))?.borrow().t.clone();
            Ok(Some(t))
        })
    })
}

fn tensors(list: &Bound<'_, PyAny>) -> PyResult<Vec<Tensor>> {
    if let Ok(t) = list.cast::<PyTensor>() {
        return Ok(vec![t.borrow().t.clone()]);
    }
    list.try_iter()?.map(|x| Ok(x?.cast::<PyTensor>()?.borrow().t.clone())).collect()
}

/// Gradient for a root: the given one, or ones for a scalar output.
fn root_gradient(out: &Tensor, g: Option<&Bound<'_, PyAny>>) -> PyResult<Tensor> {
    match g {
        Some(g) if !g.is_none() => Ok(g.cast::<PyTensor>()?.borrow().t.clone()),
        _ => {
            if out.numel() != 1 {
                return Err(PyRuntimeError::new_err("grad can be implicitly created only for scalar outputs"));
            }
            if !out.dtype().is_float() {
                return Err(PyRuntimeError::new_err(format!(
                    "grad can be implicitly created only for real scalar outputs but got torch.{}",
                    out.dtype().name()
                )));
            }
            Tensor::full(out.shape(), ferrotorch_core::Scalar::Float(1.0), out.dtype()).py()
        }
    }
}

/// Runs the engine with the GIL released (hooks and Python functions take it back).
fn run(py: Python<'_>, req: &BackwardRequest) -> PyResult<Vec<Option<Tensor>>> {
    py.detach(|| ag::run_backward(req)).py()
}

#[pymethods]
impl PyTensor {
    #[getter]
    fn get_requires_grad(&self) -> bool {
        self.t.requires_grad()
    }

    #[setter]
    fn set_requires_grad(&self, on: bool) -> PyResult<()> {
        self.t.set_requires_grad(on).py()
    }

    #[pyo3(signature = (requires_grad=true))]
    fn requires_grad_(slf: Bound<'_, Self>, requires_grad: bool) -> PyResult<Bound<'_, Self>> {
        slf.borrow().t.set_requires_grad(requires_grad).py()?;
        Ok(slf)
    }

    #[getter]
    fn get_grad(&self) -> Option<PyTensor> {
        self.t.grad().map(PyTensor::new)
    }

    #[setter]
    fn set_grad(&self, g: Option<PyRef<'_, PyTensor>>) -> PyResult<()> {
        self.t.set_grad(g.map(|g| g.t.clone())).py()
    }

    #[getter]
    fn grad_fn(&self) -> Option<PyNode> {
        self.t.grad_fn().map(|node| PyNode { node })
    }

    #[getter]
    fn is_leaf(&self) -> bool {
        self.t.is_leaf()
    }

    #[getter]
    fn retains_grad(&self) -> bool {
        self.t.retains_grad()
    }

    #[getter]
    fn output_nr(&self) -> usize {
        self.t.output_nr()
    }

    fn retain_grad(&self) -> PyResult<()> {
        self.t.retain_grad().py()
    }

    /// `.data`: the same values outside the graph.
    #[getter]
    fn get_data(&self) -> PyTensor {
        PyTensor::new(self.t.detach())
    }

    /// `.data = other`: this tensor now shows `other`'s memory, keeping its autograd state.
    #[setter]
    fn set_data(&mut self, other: PyRef<'_, PyTensor>) -> PyResult<()> {
        let t = other.t.alias();
        if self.t.requires_grad() && self.t.is_leaf() {
            t.set_requires_grad(true).py()?;
        }
        if let Some(g) = self.t.grad() {
            if g.shape() == t.shape() && g.dtype() == t.dtype() {
                t.set_grad(Some(g)).py()?;
            }
        }
        self.t = t;
        Ok(())
    }

    fn detach(&self) -> PyTensor {
        PyTensor::new(self.t.detach())
    }

    fn detach_(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.borrow().t.detach_().py()?;
        Ok(slf)
    }

    /// `clone()`: a copy that keeps history.
    #[pyo3(signature = (*, memory_format=None))]
    fn clone(&self, memory_format: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let _ = memory_format;
        wrap(self.t.duplicate())
    }

    fn register_hook(&self, hook: Py<PyAny>) -> PyResult<RemovableHandle> {
        let id = self.t.register_hook(python_hook(hook)).py()?;
        Ok(RemovableHandle { target: HookTarget::Tensor(self.t.clone()), id })
    }

    fn register_post_accumulate_grad_hook(&self, hook: Py<PyAny>) -> PyResult<RemovableHandle> {
        let f: ag::meta::PostAccumulateHook = Arc::new(move |t: &Tensor| {
            Python::attach(|py| hook.call1(py, (PyTensor::new(t.clone()),)).map(|_| ()).map_err(stash))
        });
        let id = self.t.register_post_accumulate_grad_hook(f).py()?;
        Ok(RemovableHandle { target: HookTarget::PostAccumulate(self.t.clone()), id })
    }

    #[pyo3(signature = (gradient=None, retain_graph=None, create_graph=false, inputs=None))]
    fn backward(
        &self,
        py: Python<'_>,
        gradient: Option<&Bound<'_, PyAny>>,
        retain_graph: Option<bool>,
        create_graph: bool,
        inputs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if !self.t.requires_grad() {
            return Err(PyRuntimeError::new_err("element 0 of tensors does not require grad and does not have a grad_fn"));
        }
        let g = root_gradient(&self.t, gradient)?;
        let inputs = inputs.map(tensors).transpose()?;
        if inputs.as_ref().is_some_and(|i| i.is_empty()) {
            return Err(PyRuntimeError::new_err("'inputs' argument to backward() cannot be empty."));
        }
        let roots = [(self.t.clone(), g)];
        run(py, &BackwardRequest {
            roots: &roots,
            retain_graph: retain_graph.unwrap_or(create_graph),
            create_graph,
            inputs: inputs.as_deref(),
            accumulate: true,
        })?;
        Ok(())
    }
}

/// `torch.autograd.backward(tensors, grad_tensors, retain_graph, create_graph, inputs)`.
#[pyfunction]
#[pyo3(signature = (tensors, grad_tensors=None, retain_graph=None, create_graph=false, inputs=None))]
fn _backward(
    py: Python<'_>,
    tensors: &Bound<'_, PyAny>,
    grad_tensors: Option<&Bound<'_, PyAny>>,
    retain_graph: Option<bool>,
    create_graph: bool,
    inputs: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let outs = self::tensors(tensors)?;
    let roots = roots(&outs, grad_tensors)?;
    let inputs = inputs.map(self::tensors).transpose()?;
    run(py, &BackwardRequest { roots: &roots, retain_graph: retain_graph.unwrap_or(create_graph), create_graph, inputs: inputs.as_deref(), accumulate: true })?;
    Ok(())
}

fn roots(outs: &[Tensor], grads: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(Tensor, Tensor)>> {
    let grads: Vec<Option<Bound<'_, PyAny>>> = match grads {
        None => vec![None; outs.len()],
        Some(g) if g.cast::<PyTensor>().is_ok() => vec![Some(g.clone())],
        Some(g) if g.is_none() => vec![None; outs.len()],
        Some(g) => g.try_iter()?.map(|x| x.map(Some)).collect::<PyResult<_>>()?,
    };
    if grads.len() != outs.len() {
        return Err(PyRuntimeError::new_err(format!("grad can be implicitly created only for scalar outputs; got {} tensors and {} gradients", outs.len(), grads.len())));
    }
    outs.iter().zip(&grads).map(|(o, g)| Ok((o.clone(), root_gradient(o, g.as_ref())?))).collect()
}

/// `torch.autograd.grad(...)`: returns the gradients instead of accumulating them.
#[pyfunction]
#[pyo3(signature = (outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=false, allow_unused=None, materialize_grads=false))]
#[allow(clippy::too_many_arguments)]
fn _grad<'py>(
    py: Python<'py>,
    outputs: &Bound<'py, PyAny>,
    inputs: &Bound<'py, PyAny>,
    grad_outputs: Option<&Bound<'py, PyAny>>,
    retain_graph: Option<bool>,
    create_graph: bool,
    allow_unused: Option<bool>,
    materialize_grads: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let outs = tensors(outputs)?;
    let ins = tensors(inputs)?;
    for (i, o) in outs.iter().enumerate() {
        if !o.requires_grad() {
            return Err(PyRuntimeError::new_err(format!("element {} of tensors does not require grad and does not have a grad_fn", i)));
        }
    }
    let roots = roots(&outs, grad_outputs)?;
    let grads = run(py, &BackwardRequest { roots: &roots, retain_graph: retain_graph.unwrap_or(create_graph), create_graph, inputs: Some(&ins), accumulate: false })?;
    let allow_unused = allow_unused.unwrap_or(materialize_grads);
    let items = grads
        .into_iter()
        .zip(&ins)
        .map(|(g, x)| match g {
            Some(g) => Ok(Some(PyTensor::new(g))),
            None if materialize_grads => Ok(Some(PyTensor::new(Tensor::zeros(x.shape(), x.dtype()).py()?))),
            None if allow_unused => Ok(None),
            None => Err(PyRuntimeError::new_err(
                "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior.",
            )),
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, items)
}

#[pyfunction]
fn is_grad_enabled() -> bool {
    ag::is_grad_enabled()
}

/// Sets the grad mode; returns the previous one.
#[pyfunction]
fn _set_grad_enabled(on: bool) -> bool {
    ag::set_grad_enabled(on)
}

#[pyfunction]
fn is_inference_mode_enabled() -> bool {
    ag::mode::is_inference_mode_enabled()
}

#[pyfunction]
fn _set_inference_mode(on: bool) -> bool {
    ag::mode::set_inference_mode(on)
}

#[pyfunction]
fn is_anomaly_enabled() -> bool {
    ag::mode::is_anomaly_enabled()
}

#[pyfunction]
fn _set_anomaly_enabled(on: bool) -> bool {
    ag::mode::set_anomaly_enabled(on)
}

/// The Python stack, for nodes made under anomaly detection.
fn python_trace() -> Option<String> {
    Python::attach(|py| {
        let tb = py.import("traceback").ok()?;
        let lines = tb.call_method0("format_stack").ok()?;
        let lines: Vec<String> = lines.extract().ok()?;
        Some(lines.join(""))
    })
}

/// Makes `outputs` the results of a Python `autograd.Function`: a node named `name` over the
/// tensors `inputs` whose backward calls `backward(*grads)` (a list of output gradients, with
/// `None` for absent ones when `materialize` is false) and gets one gradient per input.
#[pyfunction]
fn _record_function(
    py: Python<'_>,
    name: String,
    backward: Py<PyAny>,
    inputs: Vec<PyRef<'_, PyTensor>>,
    outputs: Vec<PyRef<'_, PyTensor>>,
    materialize: bool,
) -> PyResult<()> {
    let _ = py;
    let ins: Vec<Tensor> = inputs.iter().map(|t| t.t.clone()).collect();
    let outs: Vec<Tensor> = outputs.iter().map(|t| t.t.clone()).collect();
    let refs: Vec<&Tensor> = ins.iter().collect();
    ag::attach(name.into(), &refs, outs, move |s| {
        s.keeps_state();
        move |gr: &Grads| {
            Python::attach(|py| {
                let grads = gr
                    .outputs
                    .iter()
                    .enumerate()
                    .map(|(i, g)| if materialize || gr.present(i) { Some(PyTensor::new(g.clone())) } else { None })
                    .collect::<Vec<_>>();
                let r = backward.call1(py, (grads,)).map_err(stash)?;
                let list = r.bind(py).cast::<PyList>().map_err(|e| stash(PyErr::from(e)))?;
                list.iter()
                    .map(|g| if g.is_none() { Ok(None) } else { Ok(Some(g.cast::<PyTensor>().map_err(|e| stash(PyErr::from(e)))?.borrow().t.clone())) })
                    .collect()
            })
        }
    });
    Ok(())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    ag::anomaly::set_trace_provider(python_trace);
    m.add_class::<PyNode>()?;
    m.add_class::<RemovableHandle>()?;
    m.add_function(wrap_pyfunction!(_backward, m)?)?;
    m.add_function(wrap_pyfunction!(_grad, m)?)?;
    m.add_function(wrap_pyfunction!(is_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_set_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(is_inference_mode_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_set_inference_mode, m)?)?;
    m.add_function(wrap_pyfunction!(is_anomaly_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_set_anomaly_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_record_function, m)?)?;
    Ok(())
}
