//! `unique` and `unique_consecutive`, over all elements or over slices along a dim.
//! Equality is the element type's `==`, so every NaN is its own unique value, as in PyTorch.

use std::cmp::Ordering;

use crate::dtype::DType;
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::ops::join::gather_slices;
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

use super::keys::Sortable;

/// The three results of `unique`: the unique values (or slices), for each input element (or
/// slice) the index of its unique value, and how often each unique value occurs.
pub struct Unique {
    pub values: Tensor,
    pub inverse: Tensor,
    pub counts: Tensor,
}

/// Groups items visited in `order` into runs of equal neighbours. Returns each run's first
/// item, each item's run number (by item) and each run's length.
fn runs(order: &[usize], same: impl Fn(usize, usize) -> bool) -> (Vec<usize>, Vec<i64>, Vec<i64>) {
    let mut firsts = Vec::new();
    let mut counts: Vec<i64> = Vec::new();
    let mut inverse = vec![0i64; order.len()];
    for (i, &p) in order.iter().enumerate() {
        if i == 0 || !same(order[i - 1], p) {
            firsts.push(p);
            counts.push(0);
        }
        if let Some(c) = counts.last_mut() {
            *c += 1;
        }
        inverse[p] = firsts.len() as i64 - 1;
    }
    (firsts, inverse, counts)
}

/// Positions of `v`'s elements in stable ascending order.
fn sorted_order<T: Sortable>(v: &[T]) -> Vec<usize> {
    let mut packed: Vec<T::Packed> = v.iter().enumerate().map(|(i, &x)| x.pack(i, false)).collect();
    T::sort_packed(&mut packed, &mut Vec::new());
    packed.into_iter().map(T::position).collect()
}

fn long(v: &[i64], shape: &[usize]) -> Result<Tensor> {
    Tensor::from_slice(v, shape)
}

fn unique_flat_typed<T: Sortable>(t: &Tensor, consecutive: bool) -> Result<Unique> {
    let data = t.to_vec::<T>()?;
    let order: Vec<usize> = if consecutive { (0..data.len()).collect() } else { sorted_order(&data) };
    let (firsts, inverse, counts) = runs(&order, |a, b| data[a] == data[b]);
    let values: Vec<T> = firsts.iter().map(|&p| data[p]).collect();
    Ok(Unique {
        values: Tensor::from_slice(&values, &[values.len()])?,
        inverse: long(&inverse, t.shape())?,
        counts: long(&counts, &[counts.len()])?,
    })
}

/// Lexicographic order of two slices under the sort keys (NaN largest).
fn cmp_slices<T: Sortable>(a: &[T], b: &[T]) -> Ordering {
    a.iter().zip(b).map(|(&x, &y)| x.pack(0, false).cmp(&y.pack(0, false))).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
}

fn unique_dim_typed<T: Sortable>(t: &Tensor, dim: usize, consecutive: bool) -> Result<Unique> {
    let n = t.shape()[dim];
    let slices = t.movedim(&[dim as i64], &[0])?.contiguous()?;
    let data = unsafe { slices.as_slice::<T>()? };
    let m = data.len() / n.max(1);
    let slice = |i: usize| &data[i * m..(i + 1) * m];
    let mut order: Vec<usize> = (0..n).collect();
    if !consecutive {
        order.sort_by(|&a, &b| cmp_slices(slice(a), slice(b)));
    }
    let (firsts, inverse, counts) = runs(&order, |a, b| slice(a) == slice(b));
    Ok(Unique { values: gather_slices(t, dim, &firsts)?, inverse: long(&inverse, &[n])?, counts: long(&counts, &[counts.len()])? })
}

/// PyTorch records `unique`'s values with a backward that raises (`not_implemented`).
fn not_differentiable(t: &Tensor, u: Unique, name: &'static str, op: &'static str) -> Unique {
    if !crate::autograd::needs_grad(&[t]) {
        return u;
    }
    Unique { values: crate::autograd::formulas::sort::not_implemented(name, op, t, u.values), ..u }
}

impl crate::device::Movable for Unique {
    fn moved_to(self, device: crate::device::Device) -> Result<Self> {
        Ok(Unique { values: self.values.to_device(device)?, inverse: self.inverse.to_device(device)?, counts: self.counts.to_device(device)? })
    }
}

impl Tensor {
    /// `unique(dim=None)` (sorted ascending) or `unique_consecutive(dim=None)`: over all
    /// elements; the inverse has the input's shape.
    pub fn unique_all(&self, consecutive: bool) -> Result<Unique> {
        if self.is_cuda() {
            return crate::device::on_host(self, |h| h.unique_all(consecutive));
        }
        let u = with_dtype!(self.dtype(), T => unique_flat_typed::<T>(self, consecutive))?;
        Ok(if consecutive {
            not_differentiable(self, u, "UniqueConsecutiveBackward0", "unique_consecutive")
        } else {
            not_differentiable(self, u, "Unique2Backward0", "_unique2")
        })
    }

    /// `unique(dim=d)` or `unique_consecutive(dim=d)`: over the slices along `dim`.
    pub fn unique_dim(&self, dim: i64, consecutive: bool) -> Result<Unique> {
        if self.is_cuda() {
            return crate::device::on_host(self, |h| h.unique_dim(dim, consecutive));
        }
        if self.ndim() == 0 {
            bail!(Index, "Dimension specified as {} but tensor has no dimensions", dim);
        }
        let d = wrap_dim(dim, self.ndim())?;
        if self.numel() == 0 {
            if self.shape().iter().filter(|&&s| s == 0).count() > 1 {
                bail!(Runtime, "Number of zero sized dimensions is more than one, so unique cannot be applied ");
            }
            let empty = Tensor::zeros(&[0], DType::I64)?;
            return Ok(Unique { values: Tensor::zeros(self.shape(), self.dtype())?, inverse: empty.clone(), counts: empty });
        }
        let u = with_dtype!(self.dtype(), T => unique_dim_typed::<T>(self, d, consecutive))?;
        Ok(if consecutive {
            not_differentiable(self, u, "UniqueDimConsecutiveBackward0", "unique_dim_consecutive")
        } else {
            not_differentiable(self, u, "UniqueDimBackward0", "unique_dim")
        })
    }
}
