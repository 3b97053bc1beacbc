//! `unique` and `unique_consecutive`, over all elements or over slices along a dim.
//! Equality is the element type's `==`, so every NaN is its own unique value, as in PyTorch.

use std::cmp::Ordering;

use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::ops::binary::Operand;
use crate::ops::index::{ScatterReduce, ScatterSrc};
use crate::ops::join::cat::cat;
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

/// Runs in device ops (what CUDA tensors run), over items already in their order: `differs`
/// marks each item after the first that differs from the one before it. Returns each item's
/// run number, and each run's first item and length. The number of runs sizes the results:
/// it is read once, as PyTorch waits for the device here too.
fn runs_by_scan(differs: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    let device = differs.device();
    let n = differs.numel() + 1;
    let first = Tensor::full_on(&[1], Scalar::Bool(true), DType::Bool, device)?;
    let starts = cat(&[first, differs.clone()], 0)?;
    let run = starts.cumsum(0, Some(DType::I64))?.sub(Operand::Scalar(Scalar::Int(1)))?;
    let k = run.narrow(0, n as i64 - 1, 1)?.item()?.to_f64() as usize + 1;
    let items = Tensor::positions_on(n, device)?;
    let firsts = Tensor::full_on(&[k], Scalar::Int(n as i64), DType::I64, device)?.scatter_reduce(0, &run, &items, ScatterReduce::Amin, true)?;
    let ones = Tensor::full_on(&[n], Scalar::Int(1), DType::I64, device)?;
    let counts = Tensor::full_on(&[k], Scalar::Int(0), DType::I64, device)?.scatter_add(0, &run, &ones)?;
    Ok((run, firsts, counts))
}

/// `unique`/`unique_consecutive` over all elements of a non-empty tensor in device ops: the
/// stable sort (or the elements as they are), runs where an element is `!=` the one before
/// (every NaN its own), run numbers scattered back to the elements' places.
fn unique_flat_by_scan(t: &Tensor, consecutive: bool) -> Result<Unique> {
    let flat = t.reshape(&[-1])?;
    let n = flat.numel() as i64;
    let (sorted, order) = if consecutive { (flat, None) } else { flat.sort(0, false).map(|(s, o)| (s, Some(o)))? };
    let (run, firsts, counts) = runs_by_scan(&sorted.narrow(0, 1, n - 1)?.ne(&sorted.narrow(0, 0, n - 1)?)?)?;
    let inverse = match order {
        Some(o) => run.scatter(0, &o, &ScatterSrc::Tensor(run.clone()), None)?,
        None => run,
    };
    Ok(Unique { values: sorted.index_select(0, &firsts)?, inverse: inverse.reshape(&shape_i64(t.shape()))?, counts })
}

/// `unique`/`unique_consecutive` over the slices along `dim` of a non-empty tensor in device
/// ops: the lexicographic order of the slices by stable sorts of their elements, last one
/// first (each a stable sort of one column in the order so far); runs where any element of a
/// slice is `!=` the one before's.
fn unique_dim_by_scan(t: &Tensor, dim: usize, consecutive: bool) -> Result<Unique> {
    let n = t.shape()[dim] as i64;
    let slices = t.movedim(&[dim as i64], &[0])?.reshape(&[n, -1])?;
    let device = t.device();
    let mut order = Tensor::positions_on(n as usize, device)?;
    if !consecutive {
        for col in (0..slices.shape()[1] as i64).rev() {
            let keys = slices.select(1, col)?.index_select(0, &order)?;
            order = order.index_select(0, &keys.sort(0, false)?.1)?;
        }
    }
    let sorted = slices.index_select(0, &order)?;
    let differs = sorted.narrow(0, 1, n - 1)?.ne(&sorted.narrow(0, 0, n - 1)?)?.any(Some(&[1]), false)?;
    let (run, firsts, counts) = runs_by_scan(&differs)?;
    let inverse = run.scatter(0, &order, &ScatterSrc::Tensor(run.clone()), None)?;
    Ok(Unique { values: t.index_select(dim as i64, &order.index_select(0, &firsts)?)?, inverse, counts })
}

/// The widest slices `unique(dim=)` orders on the device (one stable sort per element).
const SORTS_PER_SLICE: usize = 16;

fn shape_i64(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
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
        let u = if self.is_cuda() && self.numel() > 0 {
            unique_flat_by_scan(self, consecutive)?
        } else if self.is_cuda() {
            return crate::device::on_host(self, |h| h.unique_all(consecutive));
        } else {
            with_dtype!(self.dtype(), T => unique_flat_typed::<T>(self, consecutive))?
        };
        Ok(if consecutive {
            not_differentiable(self, u, "UniqueConsecutiveBackward0", "unique_consecutive")
        } else {
            not_differentiable(self, u, "Unique2Backward0", "_unique2")
        })
    }

    /// `unique(dim=d)` or `unique_consecutive(dim=d)`: over the slices along `dim`.
    pub fn unique_dim(&self, dim: i64, consecutive: bool) -> Result<Unique> {
        if self.is_cuda() && self.numel() == 0 {
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
            let empty = Tensor::zeros_on(&[0], DType::I64, self.device())?;
            return Ok(Unique { values: Tensor::zeros_on(self.shape(), self.dtype(), self.device())?, inverse: empty.clone(), counts: empty });
        }
        // Wide slices take a sort per element of a slice: beyond a few, the host is faster.
        let width = self.numel() / self.shape()[d];
        if self.is_cuda() && width > SORTS_PER_SLICE {
            return crate::device::on_host(self, |h| h.unique_dim(dim, consecutive));
        }
        let u = if self.is_cuda() {
            unique_dim_by_scan(self, d, consecutive)?
        } else {
            with_dtype!(self.dtype(), T => unique_dim_typed::<T>(self, d, consecutive))?
        };
        Ok(if consecutive {
            not_differentiable(self, u, "UniqueDimConsecutiveBackward0", "unique_dim_consecutive")
        } else {
            not_differentiable(self, u, "UniqueDimBackward0", "unique_dim")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(got: &Unique, want: &Unique, what: &str) {
        let bits = |t: &Tensor| t.to_dtype(DType::F64).unwrap().contiguous().unwrap().to_vec::<f64>().unwrap().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let longs = |t: &Tensor| (t.shape().to_vec(), t.contiguous().unwrap().to_vec::<i64>().unwrap());
        assert_eq!(got.values.shape(), want.values.shape(), "{what}");
        assert_eq!(bits(&got.values), bits(&want.values), "values {what}");
        assert_eq!(longs(&got.inverse), longs(&want.inverse), "inverse {what}");
        assert_eq!(longs(&got.counts), longs(&want.counts), "counts {what}");
    }

    /// The device routes' compositions run on any device: on the CPU they equal the host
    /// loops (sorted and consecutive, over elements and over slices along each dim; NaN as its
    /// own value, both zeros equal, bool and integer dtypes, one-element inputs).
    #[test]
    fn unique_by_scan_equals_the_host_loops() {
        let nan = f64::NAN;
        let v = [3.0, 1.0, nan, 1.0, 0.0, -0.0, 3.0, 3.0, nan, 2.0, 1.0, 0.0];
        let x = Tensor::from_slice(&v, &[3, 4]).unwrap();
        let ints = Tensor::from_slice(&[2i32, 2, 1, 2, 1, 2, 2, 2, 0, 2, 1, 2], &[4, 3]).unwrap();
        let cases = [x.clone(), x.t().unwrap(), ints.clone(), ints.gt(1.0).unwrap(), x.narrow(0, 0, 1).unwrap().narrow(1, 0, 1).unwrap()];
        for t in &cases {
            for consecutive in [false, true] {
                let what = format!("{:?} {:?} consecutive={consecutive}", t.dtype(), t.shape());
                let want = with_dtype!(t.dtype(), T => unique_flat_typed::<T>(t, consecutive)).unwrap();
                same(&unique_flat_by_scan(t, consecutive).unwrap(), &want, &what);
                for d in 0..t.ndim() {
                    let want = with_dtype!(t.dtype(), T => unique_dim_typed::<T>(t, d, consecutive)).unwrap();
                    same(&unique_dim_by_scan(t, d, consecutive).unwrap(), &want, &format!("{what} dim={d}"));
                }
            }
        }
    }
}
