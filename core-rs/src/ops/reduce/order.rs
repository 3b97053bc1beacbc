//! Order statistics over whole rows: `median`, `nanmedian`, `mode`, `quantile`,
//! `nanquantile`.

use std::cmp::Ordering;

use super::{check_nonempty, reduce_mask, Plan};
use crate::cpu::iter::SendPtr;
use crate::cpu::real::Real;
use crate::cpu::reduce::{for_each_row, is_nan};
use crate::dtype::{DType, Element, Scalar};
use crate::ops::binary::{binary, where_, BinaryOp, Operand};
use crate::ops::unary::NumericUnaryOp;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, with_dtype, with_real_dtype};

/// Ascending order with NaN after every number (and equal to NaN).
fn cmp_nan_last<T: Element>(a: &T, b: &T) -> Ordering {
    match (is_nan(*a), is_nan(*b)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// The lower median of `row` and its position: the first NaN when there is one and
/// `ignore_nan` is false; with `ignore_nan`, the median of the numbers (NaN if none).
/// Among equal values the earliest position at the median rank is reported.
fn median_of<T: Element>(row: &[T], ignore_nan: bool) -> (T, i64) {
    if let Some(p) = row.iter().position(|&x| is_nan(x)) {
        if !ignore_nan || row.iter().all(|&x| is_nan(x)) {
            return (row[p], p as i64);
        }
    }
    let mut idx: Vec<usize> = (0..row.len()).filter(|&i| !is_nan(row[i])).collect();
    if idx.is_empty() {
        return (T::from_f64(f64::NAN), 0);
    }
    let kth = (idx.len() - 1) / 2;
    idx.select_nth_unstable_by(kth, |&a, &b| cmp_nan_last(&row[a], &row[b]).then(a.cmp(&b)));
    (row[idx[kth]], idx[kth] as i64)
}

/// The most frequent value of `row` (the smallest among equally frequent ones) and the last
/// position it occurs at.
fn mode_of<T: Element>(row: &[T]) -> (T, i64) {
    let mut idx: Vec<usize> = (0..row.len()).collect();
    idx.sort_by(|&a, &b| cmp_nan_last(&row[a], &row[b]).then(a.cmp(&b)));
    let (mut best, mut best_count, mut start) = (0usize, 0usize, 0usize);
    for i in 1..=idx.len() {
        let run_ends = i == idx.len() || cmp_nan_last(&row[idx[i]], &row[idx[start]]) != Ordering::Equal;
        if run_ends {
            if i - start > best_count {
                best_count = i - start;
                best = i - 1;
            }
            start = i;
        }
    }
    (row[idx[best]], idx[best] as i64)
}

/// The `(value, index)` statistics of a row.
#[derive(Clone, Copy)]
enum RowStat {
    Median,
    NanMedian,
    Mode,
}

/// How `quantile` picks a value between the two sorted neighbours of a fractional rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    Linear,
    Lower,
    Higher,
    Midpoint,
    Nearest,
}

impl Interpolation {
    /// Parses PyTorch's interpolation names.
    pub fn parse(name: &str) -> Result<Interpolation> {
        Ok(match name {
            "linear" => Interpolation::Linear,
            "lower" => Interpolation::Lower,
            "higher" => Interpolation::Higher,
            "midpoint" => Interpolation::Midpoint,
            "nearest" => Interpolation::Nearest,
            _ => bail!(
                Runtime,
                "quantile() interpolation must be one of linear, lower, higher, midpoint or nearest. Got {}",
                name
            ),
        })
    }
}

/// `torch.lerp`'s formula, exact at both ends.
fn lerp<R: Real>(a: R, b: R, w: R) -> R {
    if w < R::of(0.5) {
        a + w * (b - a)
    } else {
        b - (b - a) * (R::of(1.0) - w)
    }
}

/// Quantile `q` of the ascending `sorted` numbers, computed in the input's type as PyTorch.
fn quantile_of<R: Real>(sorted: &[R], q: f64, how: Interpolation) -> R {
    if sorted.is_empty() {
        return R::of(f64::NAN);
    }
    let rank = R::of(q) * R::of((sorted.len() - 1) as f64);
    let rank = if how == Interpolation::Nearest { rank.round_even() } else { rank };
    let (lo, hi) = (rank.floor().f64() as usize, rank.ceil().f64() as usize);
    let (a, b) = (sorted[lo], sorted[hi.min(sorted.len() - 1)]);
    match how {
        Interpolation::Lower | Interpolation::Nearest => a,
        Interpolation::Higher => b,
        Interpolation::Midpoint => lerp(a, b, R::of(0.5)),
        Interpolation::Linear => lerp(a, b, rank - rank.floor()),
    }
}

impl Tensor {
    /// `median()` / `nanmedian()` of all elements; NaN for an empty tensor.
    pub fn median_all(&self, ignore_nan: bool) -> Result<Tensor> {
        if self.numel() != 0 && crate::autograd::needs_grad(&[self]) {
            let name = if ignore_nan { "NanmedianBackward0" } else { "MedianBackward0" };
            return crate::autograd::formulas::reduce::minmax::picked(name, self, None, || self.median_all(ignore_nan));
        }
        if self.numel() == 0 {
            return Tensor::full_on(&[], crate::Scalar::Float(f64::NAN), self.dtype(), self.device());
        }
        Ok(self.reshape(&[-1])?.median_dim(0, false, ignore_nan)?.0)
    }

    /// `median(dim, keepdim)` / `nanmedian`: `(values, indices)` of the lower median.
    pub fn median_dim(&self, dim: i64, keepdim: bool, ignore_nan: bool) -> Result<(Tensor, Tensor)> {
        if crate::autograd::needs_grad(&[self]) {
            let name = if ignore_nan { "NanmedianBackward1" } else { "MedianBackward1" };
            return crate::autograd::formulas::reduce::minmax::indexed(name, self, dim, keepdim, || self.median_dim(dim, keepdim, ignore_nan));
        }
        self.row_pairs(dim, keepdim, if ignore_nan { RowStat::NanMedian } else { RowStat::Median })
    }

    /// `mode(dim, keepdim)`: `(values, indices)`.
    pub fn mode(&self, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::minmax::indexed("ModeBackward0", self, dim, keepdim, || self.mode(dim, keepdim));
        }
        self.row_pairs(dim, keepdim, RowStat::Mode)
    }

    /// Computes `stat`'s `(value, index)` for each row along `dim`.
    fn row_pairs(&self, dim: i64, keepdim: bool, stat: RowStat) -> Result<(Tensor, Tensor)> {
        if self.is_cuda() && self.ndim() > 0 && self.numel() > 0 {
            return match stat {
                RowStat::Mode => self.mode_on_device(dim, keepdim),
                _ => self.median_on_device(dim, keepdim, matches!(stat, RowStat::NanMedian)),
            };
        }
        if self.is_cuda() {
            return crate::device::on_host(self, |h| h.row_pairs(dim, keepdim, stat));
        }
        let name = match stat {
            RowStat::Median => "median()",
            RowStat::NanMedian => "nanmedian()",
            RowStat::Mode => "mode()",
        };
        let mask = reduce_mask(Some(&[dim]), self.ndim())?;
        check_nonempty(self, &mask, false, name)?;
        let plan = Plan::rows(self, &mask, keepdim)?;
        let (o, r) = (plan.outputs(), plan.reduced());
        let values = Tensor::uninit(&[o], self.dtype())?;
        let indices = Tensor::uninit(&[o], DType::I64)?;
        let ip = SendPtr(indices.data_ptr::<i64>()?);
        with_dtype!(self.dtype(), T => {
            let vp = SendPtr(values.data_ptr::<T>()?);
            unsafe {
                for_each_row(plan.src_ptr::<T>()?, o, r, |i, row| {
                    let (v, at) = match stat {
                        RowStat::Median => median_of(row, false),
                        RowStat::NanMedian => median_of(row, true),
                        RowStat::Mode => mode_of(row),
                    };
                    *vp.get().add(i) = v;
                    *ip.get().add(i) = at;
                })
            };
        });
        Ok((plan.finish(values)?, plan.finish(indices)?))
    }

    /// `mode` along `dim` of a non-empty CUDA tensor through the device sort (`mode_of`'s rules):
    /// runs of equal sorted values (NaN equal to NaN) start where a value differs from the one
    /// before; a running maximum of the run starts gives each position's run length so far,
    /// whose first maximum along the row ends the smallest of the most frequent runs; its value
    /// and original position (the run's last, the sort being stable) are gathered.
    fn mode_on_device(&self, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let d = crate::layout::wrap_dim(dim, self.ndim())? as i64;
        let (sorted, positions) = self.sort(d, false)?;
        let n = self.shape()[d as usize] as i64;
        let (before, after) = (sorted.narrow(d, 0, n - 1)?, sorted.narrow(d, 1, n - 1)?);
        let mut same = after.eq(&before)?;
        if self.dtype().is_float() {
            same = same.logical_or(&after.ne(&after)?.logical_and(&before.ne(&before)?)?)?;
        }
        let mut first_shape = self.shape().to_vec();
        first_shape[d as usize] = 1;
        let first = Tensor::full_on(&first_shape, Scalar::Bool(true), DType::Bool, self.device())?;
        let starts = crate::ops::join::cat::cat(&[first, same.logical_not()?], d)?;
        let mut iota_shape = vec![1i64; self.ndim()];
        iota_shape[d as usize] = n;
        let iota = Tensor::positions_on(n as usize, self.device())?.view(&iota_shape)?;
        let run_start = where_(&starts, &Operand::Tensor(iota.clone()), &Operand::Scalar(Scalar::Int(0)))?.cummax_cummin::<true>(d)?.0;
        let best = iota.sub(&run_start)?.argmax(Some(d), true)?;
        let (values, indices) = (sorted.gather(d, &best)?, positions.gather(d, &best)?);
        if keepdim {
            return Ok((values, indices));
        }
        Ok((values.squeeze(Some(&[d]))?, indices.squeeze(Some(&[d]))?))
    }

    /// How many elements along `d` are numbers (not NaN), kept as a dim of size 1: where the
    /// ascending (NaN-last) sort puts its first NaN.
    fn numbers_along(&self, d: i64) -> Result<Tensor> {
        // NaN is the one value unequal to itself.
        self.eq(self)?.sum(Some(&[d]), true, Some(DType::I64))
    }

    /// `median`/`nanmedian` along `dim` of a non-empty CUDA tensor through the device sort: each
    /// row's pick is a sorted position (the first NaN, which the stable sort puts right after
    /// the numbers, or the lower median of the numbers; `median_of`'s rules), gathered from the
    /// sorted values and their original positions.
    fn median_on_device(&self, dim: i64, keepdim: bool, ignore_nan: bool) -> Result<(Tensor, Tensor)> {
        let d = crate::layout::wrap_dim(dim, self.ndim())? as i64;
        let ((sorted, positions), numbers) = (self.sort(d, false)?, self.numbers_along(d)?);
        let n = self.shape()[d as usize] as f64;
        let first_nan = if ignore_nan { numbers.eq(0.0)? } else { numbers.lt(n)? };
        let lower_median = binary(&Operand::Tensor(numbers.sub(Operand::Scalar(Scalar::Int(1)))?), BinaryOp::FloorDivide, &Operand::Scalar(Scalar::Int(2)))?;
        let pick = where_(&first_nan, &Operand::Tensor(numbers), &Operand::Tensor(lower_median))?;
        let (values, indices) = (sorted.gather(d, &pick)?, positions.gather(d, &pick)?);
        if keepdim {
            return Ok((values, indices));
        }
        Ok((values.squeeze(Some(&[d]))?, indices.squeeze(Some(&[d]))?))
    }

    /// `quantile` of a checked, non-empty tensor through the device sort, in tensor ops with the
    /// row kernel's arithmetic (`quantile_of`: the rank `q * (numbers - 1)` in the input's type,
    /// the two sorted neighbours, `lerp`), NaN where the row kernel gives NaN.
    fn quantile_on_device(&self, q: &[f64], q_dims: usize, dim: Option<i64>, keepdim: bool, how: Interpolation, ignore_nan: bool) -> Result<Tensor> {
        let (x, d) = match dim {
            Some(d) => (self.clone(), crate::layout::wrap_dim(d, self.ndim())? as i64),
            None => (self.reshape(&[-1])?, 0),
        };
        let (sorted, numbers) = (x.sort(d, false)?.0, x.numbers_along(d)?);
        let n = x.shape()[d as usize] as f64;
        let last = numbers.sub(Operand::Scalar(Scalar::Int(1)))?.maximum(Operand::Scalar(Scalar::Int(0)))?;
        let nan_row = if ignore_nan { numbers.eq(0.0)? } else { numbers.lt(n)? };
        let lerp = |a: &Tensor, b: &Tensor, w: &Tensor| -> Result<Tensor> {
            let (gap, below) = (b.sub(a)?, w.lt(0.5)?);
            where_(&below, &Operand::Tensor(a.add(&w.mul(&gap)?)?), &Operand::Tensor(b.sub(&gap.mul(&w.mul(-1.0)?.add(1.0)?)?)?))
        };
        let mut results = Vec::with_capacity(q.len());
        for &p in q {
            let rank = last.to_dtype(self.dtype())?.mul(p)?;
            let rank = if how == Interpolation::Nearest { rank.round_decimals(0)? } else { rank };
            let floor = rank.numeric_unary(NumericUnaryOp::Floor)?;
            let lo = floor.to_dtype(DType::I64)?;
            let hi = rank.numeric_unary(NumericUnaryOp::Ceil)?.to_dtype(DType::I64)?.minimum(&last)?;
            let (a, b) = (sorted.gather(d, &lo)?, sorted.gather(d, &hi)?);
            let value = match how {
                Interpolation::Lower | Interpolation::Nearest => a,
                Interpolation::Higher => b,
                Interpolation::Midpoint => lerp(&a, &b, &Tensor::full_on(&[], Scalar::Float(0.5), self.dtype(), self.device())?)?,
                Interpolation::Linear => lerp(&a, &b, &rank.sub(&floor)?)?,
            };
            let value = value.masked_fill(&nan_row, Scalar::Float(f64::NAN))?;
            results.push(match (keepdim, dim) {
                (true, Some(_)) => value,
                (true, None) => value.reshape(&vec![1; self.ndim()])?,
                (false, _) => value.squeeze(Some(&[d]))?,
            });
        }
        if q_dims == 1 {
            crate::ops::join::cat::stack(&results, 0)
        } else {
            Ok(results.pop().expect("one q"))
        }
    }

    /// `quantile(q, dim, keepdim, interpolation)` / `nanquantile` (`ignore_nan`). `q` holds
    /// the probabilities; `q_dims` is 0 for a scalar `q` and 1 when the result gets a leading
    /// dim of `q.len()`. Without `ignore_nan`, a row holding NaN gives NaN.
    pub fn quantile(
        &self,
        q: &[f64],
        q_dims: usize,
        dim: Option<i64>,
        keepdim: bool,
        how: Interpolation,
        ignore_nan: bool,
    ) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run(if ignore_nan { "nanquantile" } else { "quantile" }, [self], |t| t[0].quantile(q, q_dims, dim, keepdim, how, ignore_nan)) { return r; }
        if self.numel() == 0 {
            bail!(Runtime, "quantile() input tensor must be non-empty");
        }
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::reduce::order::quantile(self, q, q_dims, dim, keepdim, how, ignore_nan);
        }
        if q_dims > 1 {
            bail!(Runtime, "quantile() q must be a scalar or 1D tensor");
        }
        if !matches!(self.dtype(), DType::F32 | DType::F64) {
            bail!(Runtime, "quantile() input tensor must be either float or double dtype");
        }
        for &p in q {
            if !(0.0..=1.0).contains(&p) {
                if q_dims == 0 {
                    bail!(Runtime, "quantile() q must be in the range [0, 1] but got {}", p);
                }
                bail!(Runtime, "quantile() q values must be in the range [0, 1]");
            }
        }
        let (x, dims) = match dim {
            Some(d) => (self.clone(), Some([d])),
            None => (self.reshape(&[-1])?, None),
        };
        let mask = reduce_mask(dims.as_ref().map(|d| &d[..]), x.ndim())?;
        check_nonempty(&x, &mask, false, "quantile()")?;
        if self.is_cuda() && self.ndim() > 0 && !q.is_empty() {
            return self.quantile_on_device(q, q_dims, dim, keepdim, how, ignore_nan);
        }
        if self.is_cuda() {
            return crate::device::on_host(self, |h| h.quantile(q, q_dims, dim, keepdim, how, ignore_nan));
        }
        let plan = Plan::rows(&x, &mask, keepdim && dim.is_some())?;
        let (o, r) = (plan.outputs(), plan.reduced());
        let out = Tensor::uninit(&[q.len() * o], self.dtype())?;
        with_real_dtype!(self.dtype(), R => {
            let dst = SendPtr(out.data_ptr::<R>()?);
            unsafe {
                for_each_row(plan.src_ptr::<R>()?, o, r, |i, row| {
                    let mut sorted = row.to_vec();
                    sorted.sort_unstable_by(cmp_nan_last);
                    let numbers = sorted.iter().take_while(|v| !v.is_nan()).count();
                    for (j, &p) in q.iter().enumerate() {
                        let v = if numbers < sorted.len() && !ignore_nan {
                            R::of(f64::NAN)
                        } else {
                            quantile_of(&sorted[..numbers], p, how)
                        };
                        *dst.get().add(j * o + i) = v;
                    }
                })
            };
        });
        let mut shape: Vec<usize> = if q_dims == 1 { vec![q.len()] } else { vec![] };
        if keepdim && dim.is_none() {
            shape.extend(std::iter::repeat_n(1, self.ndim()));
        } else {
            shape.extend_from_slice(plan.out_shape());
        }
        // Results are written row-major over `[q, rows]`, and rows follow the kept dims.
        Ok(out.with_layout(crate::layout::Layout::contiguous(&shape)))
    }
}

/// Where each quantile's value comes from: for every result (in the result's layout), the
/// linear indices in the input of its lower and upper sorted neighbours and the weight of the
/// upper one (the value is `(1 - w) lower + w upper`).
pub struct QuantilePicks {
    pub lower: Tensor,
    pub upper: Tensor,
    pub upper_weight: Tensor,
}

impl Tensor {
    /// The picks behind `quantile(q, dim, keepdim, how, ignore_nan)` (arguments already checked
    /// by `quantile`). A row whose result is NaN because of a NaN picks that NaN, as PyTorch's
    /// sort-based quantile does.
    pub fn quantile_picks(&self, q: &[f64], dim: Option<i64>, how: Interpolation, ignore_nan: bool) -> Result<QuantilePicks> {
        if self.is_cuda() {
            let p = self.to_device(crate::device::Device::Cpu)?.quantile_picks(q, dim, how, ignore_nan)?;
            let d = self.device();
            return Ok(QuantilePicks { lower: p.lower.to_device(d)?, upper: p.upper.to_device(d)?, upper_weight: p.upper_weight.to_device(d)? });
        }
        let (x, dims) = match dim {
            Some(d) => (self.clone(), Some([d])),
            None => (self.reshape(&[-1])?, None),
        };
        let mask = reduce_mask(dims.as_ref().map(|d| &d[..]), x.ndim())?;
        let plan = Plan::rows(&x, &mask, false)?;
        let positions = Plan::rows(&Tensor::arange_i64(x.shape())?, &mask, false)?;
        let (o, r) = (plan.outputs(), plan.reduced());
        let (mut lower, mut upper, mut weight) = (vec![0i64; q.len() * o], vec![0i64; q.len() * o], vec![0f64; q.len() * o]);
        with_real_dtype!(self.dtype(), R => {
            let src = unsafe { std::slice::from_raw_parts(plan.src_ptr::<R>()?, o * r) };
            let pos = unsafe { std::slice::from_raw_parts(positions.src_ptr::<i64>()?, o * r) };
            for i in 0..o {
                let row = &src[i * r..(i + 1) * r];
                let mut order: Vec<usize> = (0..r).collect();
                order.sort_by(|&a, &b| cmp_nan_last(&row[a], &row[b]).then(a.cmp(&b)));
                let numbers = order.iter().take_while(|&&k| !row[k].is_nan()).count();
                for (j, &p) in q.iter().enumerate() {
                    let (lo, hi, w) = if (numbers < r && !ignore_nan) || numbers == 0 {
                        (r - 1, r - 1, 0.0)
                    } else {
                        let rank = R::of(p) * R::of((numbers - 1) as f64);
                        let rank = if how == Interpolation::Nearest { rank.round_even() } else { rank };
                        let (lo, hi) = (rank.floor().f64() as usize, (rank.ceil().f64() as usize).min(numbers - 1));
                        let w = match how {
                            Interpolation::Lower | Interpolation::Nearest => 0.0,
                            Interpolation::Higher => 1.0,
                            Interpolation::Midpoint => 0.5,
                            Interpolation::Linear => (rank - rank.floor()).f64(),
                        };
                        (lo, hi, w)
                    };
                    lower[j * o + i] = pos[i * r + order[lo]];
                    upper[j * o + i] = pos[i * r + order[hi]];
                    weight[j * o + i] = w;
                }
            }
        });
        let n = lower.len();
        Ok(QuantilePicks {
            lower: Tensor::from_slice(&lower, &[n])?,
            upper: Tensor::from_slice(&upper, &[n])?,
            upper_weight: Tensor::from_slice(&weight, &[n])?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The device route of `mode` runs on any device: on the CPU it equals the row kernel (ties
    /// between runs, NaN runs, one-element rows, integers and bool), values and positions.
    #[test]
    fn mode_through_the_sort_equals_the_row_kernel() {
        let nan = f64::NAN;
        let rows = [3.0, 1.0, 3.0, 1.0, 5.0, 2.0, nan, 1.0, nan, 0.0, nan, 7.0, 7.0, 7.0, 1.0, 1.0, 2.0, 1.0, 4.0, 4.0, 0.0, -0.0, 2.0, 2.0];
        let x = Tensor::from_slice(&rows, &[4, 6]).unwrap();
        let cases = [x.clone(), x.to_dtype(DType::I32).unwrap(), x.gt(1.5).unwrap(), x.to_dtype(DType::F32).unwrap().t().unwrap(), x.narrow(1, 0, 1).unwrap()];
        for t in &cases {
            for (dim, keepdim) in [(1, false), (0, true), (-1, true), (0, false)] {
                let (want_v, want_i) = t.row_pairs(dim, keepdim, RowStat::Mode).unwrap();
                let (got_v, got_i) = t.mode_on_device(dim, keepdim).unwrap();
                assert_eq!(got_v.shape(), want_v.shape());
                let bits = |t: &Tensor| t.to_dtype(DType::F64).unwrap().contiguous().unwrap().to_vec::<f64>().unwrap().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got_v), bits(&want_v), "values {:?} dim={dim}", t.dtype());
                assert_eq!(got_i.contiguous().unwrap().to_vec::<i64>().unwrap(), want_i.contiguous().unwrap().to_vec::<i64>().unwrap(), "{:?} dim={dim}", t.dtype());
            }
        }
    }

    /// The device route's composition (sort, NaN count, pick, gather) runs on any device: on
    /// the CPU it must equal the row kernel, ties, NaN and all-NaN rows included.
    #[test]
    fn median_through_the_sort_equals_the_row_kernel() {
        let nan = f64::NAN;
        let rows = [3.0, 1.0, 2.0, 2.0, 5.0, 2.0, nan, 1.0, 4.0, 0.0, nan, nan, nan, nan, nan, 7.0, 7.0, 7.0, 1.0, 1.0, 2.0, nan, 3.0, 3.0];
        let x = Tensor::from_slice(&rows, &[4, 6]).unwrap();
        for (dim, keepdim, ignore_nan) in [(1, false, false), (1, true, true), (0, false, true), (0, true, false), (-1, false, true)] {
            let stat = if ignore_nan { RowStat::NanMedian } else { RowStat::Median };
            let (want_v, want_i) = x.row_pairs(dim, keepdim, stat).unwrap();
            let (got_v, got_i) = x.median_on_device(dim, keepdim, ignore_nan).unwrap();
            assert_eq!(got_v.shape(), want_v.shape());
            let bits = |t: &Tensor| t.contiguous().unwrap().to_vec::<f64>().unwrap().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got_v), bits(&want_v), "values dim={dim} ignore_nan={ignore_nan}");
            assert_eq!(got_i.contiguous().unwrap().to_vec::<i64>().unwrap(), want_i.contiguous().unwrap().to_vec::<i64>().unwrap());
        }
    }

    /// The same for `quantile`: every interpolation, with and without NaN skipping, one and
    /// several q, every keepdim/dim form, bit for bit against the row kernel.
    #[test]
    fn quantile_through_the_sort_equals_the_row_kernel() {
        let nan = f64::NAN;
        let rows = [3.0, 1.0, 2.5, 2.0, 5.0, 2.0, nan, 1.0, 4.0, 0.0, nan, nan, nan, nan, nan, 7.0, 7.0, 7.0, 1.0, 1.5, 2.0, nan, 3.0, 3.0];
        let hows = [Interpolation::Linear, Interpolation::Lower, Interpolation::Higher, Interpolation::Midpoint, Interpolation::Nearest];
        for dtype in [DType::F64, DType::F32] {
            let x = Tensor::from_slice(&rows, &[4, 6]).unwrap().to_dtype(dtype).unwrap();
            for how in hows {
                for (q, q_dims) in [(vec![0.3], 0), (vec![0.0, 0.5, 0.75, 1.0], 1)] {
                    for (dim, keepdim, ignore_nan) in [(Some(1), false, false), (Some(1), true, true), (Some(0), false, true), (None, true, true), (None, false, false)] {
                        let want = x.quantile(&q, q_dims, dim, keepdim, how, ignore_nan).unwrap();
                        let got = x.quantile_on_device(&q, q_dims, dim, keepdim, how, ignore_nan).unwrap();
                        assert_eq!(got.shape(), want.shape(), "{how:?} {dim:?} {keepdim}");
                        let bits = |t: &Tensor| t.to_dtype(DType::F64).unwrap().contiguous().unwrap().to_vec::<f64>().unwrap().iter().map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() }).collect::<Vec<_>>();
                        assert_eq!(bits(&got), bits(&want), "{how:?} {dim:?} {keepdim} {ignore_nan} {dtype:?}");
                    }
                }
            }
        }
    }
}
