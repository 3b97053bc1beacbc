//! Broadcast views of several tensors together: `broadcast_tensors`, `meshgrid` and
//! `cartesian_prod`.

use crate::error::Result;
use crate::layout::broadcast_shapes;
use crate::tensor::Tensor;
use crate::bail;

/// `broadcast_tensors(*tensors)`: views of every input expanded to their common shape.
pub fn broadcast_tensors(tensors: &[Tensor]) -> Result<Vec<Tensor>> {
    let mut shape: Vec<usize> = Vec::new();
    for t in tensors {
        shape = broadcast_shapes(&shape, t.shape())?;
    }
    tensors.iter().map(|t| broadcast_view(t, &shape)).collect()
}

/// `t` broadcast to `shape` as a view; with history to record, an `expand` (`ExpandBackward0`).
fn broadcast_view(t: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if crate::autograd::needs_grad(&[t]) {
        return t.expand_to(shape);
    }
    Ok(t.with_layout(t.layout().broadcast_to(shape)?))
}

/// How `meshgrid` orders its outputs' first two dims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indexing {
    /// Matrix indexing: output `i` varies along dim `i`.
    Ij,
    /// Cartesian indexing: the first input varies along dim 1, the second along dim 0.
    Xy,
}

impl Indexing {
    pub fn parse(s: &str) -> Result<Indexing> {
        match s {
            "ij" => Ok(Indexing::Ij),
            "xy" => Ok(Indexing::Xy),
            _ => bail!(Runtime, "torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {}", s),
        }
    }
}

/// `meshgrid(*tensors, indexing)`: expanded views of 0-D or 1-D inputs over their product grid.
pub fn meshgrid(tensors: &[Tensor], indexing: Indexing) -> Result<Vec<Tensor>> {
    if tensors.is_empty() {
        bail!(Runtime, "meshgrid expects a non-empty TensorList");
    }
    if tensors.windows(2).any(|w| w[0].dtype() != w[1].dtype()) {
        bail!(Runtime, "meshgrid expects all tensors to have the same dtype");
    }
    let mut inputs = tensors.to_vec();
    let swap = indexing == Indexing::Xy && inputs.len() >= 2;
    if swap {
        inputs.swap(0, 1);
    }
    for t in &inputs {
        if t.ndim() > 1 {
            bail!(
                Runtime,
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a tensor of shape {:?}",
                t.shape()
            );
        }
    }
    let shape: Vec<usize> = inputs.iter().map(|t| t.numel()).collect();
    let mut grids = Vec::with_capacity(inputs.len());
    for (i, t) in inputs.iter().enumerate() {
        let mut view_shape = vec![1i64; inputs.len()];
        view_shape[i] = -1;
        let v = t.view(&view_shape)?;
        grids.push(broadcast_view(&v, &shape)?);
    }
    if swap {
        // Outputs go back to the callers' order; each already varies along the right dim.
        grids.swap(0, 1);
    }
    Ok(grids)
}

/// `cartesian_prod(*tensors)`: rows of every combination of the 1-D inputs' elements.
pub fn cartesian_prod(tensors: &[Tensor]) -> Result<Tensor> {
    for t in tensors {
        if t.ndim() != 1 {
            bail!(Runtime, "Expect a 1D vector, but got shape {:?}", t.shape());
        }
    }
    if tensors.len() == 1 {
        return Ok(tensors[0].clone());
    }
    let grids = meshgrid(tensors, Indexing::Ij)?;
    let flat = grids.iter().map(|g| g.reshape(&[-1])).collect::<Result<Vec<_>>>()?;
    super::stack(&flat, 1)
}
