//! Counting ops: `histc`, `histogram` (equal-width bins or given edges) and `bincount`.

use rayon::prelude::*;

use crate::cpu::iter::GRAIN;
use crate::dtype::{title, DType, Scalar};
use crate::error::Result;
use crate::ops::binary::{where_, Operand};
use crate::ops::sort::search::{searchsorted, Needles, SearchOptions};
use crate::tensor::Tensor;
use crate::bail;

/// How an element finds its bin.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Position from the bin width; `local_search` then corrects it against the rounded edges.
    Linear { local_search: bool },
    /// Binary search of arbitrary edges.
    Search,
}

/// Formats a bound in messages the way C++ streams print doubles.
fn num(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else {
        format!("{}", x)
    }
}

/// The name PyTorch's dtype-mismatch messages of histograms use for a dtype.
fn type_meta(d: DType) -> &'static str {
    match d {
        DType::F32 => "float",
        DType::F64 => "double",
        DType::F16 => "c10::Half",
        DType::BF16 => "c10::BFloat16",
        DType::I64 => "long int",
        DType::I32 => "int",
        DType::I16 => "short int",
        DType::I8 => "signed char",
        DType::U8 => "unsigned char",
        DType::Bool => "bool",
    }
}

fn require_float(t: &Tensor, kernel: &str) -> Result<()> {
    if !t.dtype().is_float() {
        bail!(Runtime, "\"{}\" not implemented for '{}'", kernel, title(t.dtype()));
    }
    Ok(())
}

fn check_bins(bins: i64) -> Result<()> {
    if bins <= 0 {
        bail!(Runtime, "torch.histogram(): bins must be > 0, but got {} for dimension 0", bins);
    }
    Ok(())
}

/// Smallest and largest element (NaN when any element is NaN).
fn extrema(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
        if x.is_nan() || lo.is_nan() {
            (f64::NAN, f64::NAN)
        } else {
            (lo.min(x), hi.max(x))
        }
    })
}

/// `steps` equal-width edges from `lo` to `hi`, rounded to `dtype` as PyTorch stores them.
fn linear_edges(lo: f64, hi: f64, bins: usize, dtype: DType) -> Result<Tensor> {
    Tensor::linspace(lo, hi, bins + 1, dtype)
}

/// Weighted counts of `values` in the bins between consecutive `edges`. Elements outside
/// `[edges[0], edges[last]]` (and NaN) are skipped; the last bin includes its right edge.
fn bin_counts(values: &[f64], weights: Option<&[f64]>, edges: &[f64], rule: Rule) -> Vec<f64> {
    crate::cpu::threads::install_if(values.len(), || {
    let nb = edges.len() - 1;
    let (left, right) = (edges[0], edges[nb]);
    let bin_of = |x: f64| -> Option<usize> {
        if !(x >= left && x <= right) {
            return None;
        }
        let mut pos = match rule {
            Rule::Linear { .. } => ((x - left) * nb as f64 / (right - left)) as usize,
            Rule::Search => edges.partition_point(|&e| e <= x).saturating_sub(1),
        };
        if rule == (Rule::Linear { local_search: true }) {
            let lo = pos.saturating_sub(1).min(nb);
            let hi = (pos + 2).min(edges.len());
            pos = (lo + edges[lo..hi].partition_point(|&e| e <= x)).saturating_sub(1);
        }
        Some(pos.min(nb - 1))
    };
    let accumulate = |mut h: Vec<f64>, (xs, ws): (&[f64], Option<&[f64]>)| {
        for (i, &x) in xs.iter().enumerate() {
            if let Some(b) = bin_of(x) {
                h[b] += ws.map_or(1.0, |w| w[i]);
            }
        }
        h
    };
    let add = |mut a: Vec<f64>, b: Vec<f64>| {
        a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        a
    };
    let chunks: Vec<(&[f64], Option<&[f64]>)> = values
        .chunks(GRAIN)
        .enumerate()
        .map(|(c, xs)| (xs, weights.map(|w| &w[c * GRAIN..c * GRAIN + xs.len()])))
        .collect();
    chunks.into_par_iter().fold(|| vec![0.0; nb], accumulate).reduce(|| vec![0.0; nb], add)
})
}

fn as_f64(t: &Tensor) -> Result<Vec<f64>> {
    Ok(t.to_dtype(DType::F64)?.to_vec::<f64>()?)
}

/// The elements of `t` as a flat float64 tensor on its device.
fn flat_f64(t: &Tensor) -> Result<Tensor> {
    t.to_dtype(DType::F64)?.reshape(&[-1])
}

/// Smallest and largest of non-empty flat `values` (NaN when any is NaN), read back from a
/// device (the range sizes the bins, as in PyTorch).
fn extremes(values: &Tensor) -> Result<(f64, f64)> {
    if !values.is_cuda() {
        return Ok(extrema(&as_f64(values)?));
    }
    let (lo, hi) = values.aminmax(None, false)?;
    let (lo, hi) = (lo.item()?.to_f64(), hi.item()?.to_f64());
    Ok(if lo.is_nan() || hi.is_nan() { (f64::NAN, f64::NAN) } else { (lo, hi) })
}

/// `bin_counts` of flat float64 `values` (and `weights`) on their device, as a float64 tensor:
/// the host loop on the CPU, `bin_counts_by_scatter` elsewhere.
fn counts(values: &Tensor, weights: Option<&Tensor>, edges: &[f64], rule: Rule) -> Result<Tensor> {
    if values.is_cuda() {
        return bin_counts_by_scatter(values, weights, edges, rule);
    }
    let w = weights.map(as_f64).transpose()?;
    let hist = bin_counts(&as_f64(values)?, w.as_deref(), edges, rule);
    Tensor::from_slice(&hist, &[hist.len()])
}

/// `bin_counts` in device ops: each value's bin by `rule` in element-wise float64 maths (the
/// host loop's arithmetic), values outside the edges (and NaN) weighing zero, then
/// `scatter_add` of the weights into zeros.
fn bin_counts_by_scatter(values: &Tensor, weights: Option<&Tensor>, edges: &[f64], rule: Rule) -> Result<Tensor> {
    let device = values.device();
    let nb = edges.len() - 1;
    let (left, right) = (edges[0], edges[nb]);
    let long = |v: i64| Operand::Scalar(Scalar::Int(v));
    let inside = values.ge(left)?.logical_and(&values.le(right)?)?;
    let x = where_(&inside, &Operand::Tensor(values.clone()), &Operand::Scalar(Scalar::Float(left)))?;
    let edges_t = Tensor::from_slice(edges, &[nb + 1])?.to_device(device)?;
    let mut pos = match rule {
        Rule::Search => {
            let opts = SearchOptions { right: true, ..Default::default() };
            searchsorted(&edges_t, Needles::Tensor(&x), opts)?.sub(long(1))?.maximum(long(0))?
        }
        Rule::Linear { .. } => x.sub(left)?.mul(nb as f64)?.div(right - left)?.to_dtype(DType::I64)?,
    };
    if rule == (Rule::Linear { local_search: true }) {
        // The host's correction: the edges at lo, lo + 1, lo + 2 below hi that are <= x.
        let lo = pos.sub(long(1))?.maximum(long(0))?.minimum(long(nb as i64))?;
        let hi = pos.add(long(2))?.minimum(long(nb as i64 + 1))?;
        let mut count = Tensor::full_on(&[x.numel()], Scalar::Int(0), DType::I64, device)?;
        for j in 0..3 {
            let at = lo.add(long(j))?;
            let edge = edges_t.index_select(0, &at.minimum(long(nb as i64))?)?;
            count = count.add(&at.lt(&hi)?.logical_and(&edge.le(&x)?)?)?;
        }
        pos = lo.add(&count)?.sub(long(1))?.maximum(long(0))?;
    }
    let pos = where_(&inside, &Operand::Tensor(pos.minimum(long(nb as i64 - 1))?), &long(0))?;
    let w = match weights {
        Some(w) => w.clone(),
        None => Tensor::full_on(&[x.numel()], Scalar::Int(1), DType::F64, device)?,
    };
    let w = where_(&inside, &Operand::Tensor(w), &Operand::Scalar(Scalar::Float(0.0)))?;
    Tensor::full_on(&[nb], Scalar::Int(0), DType::F64, device)?.scatter_add(0, &pos, &w)
}

/// Divides counts by their total and by each bin's width.
fn to_density(hist: &Tensor, edges: &[f64]) -> Result<Tensor> {
    let widths: Vec<f64> = edges.windows(2).map(|e| e[1] - e[0]).collect();
    let widths = Tensor::from_slice(&widths, &[widths.len()])?.to_device(hist.device())?;
    hist.div(&hist.sum(None, false, None)?)?.div(&widths)
}

impl Tensor {
    /// `histc(bins, min, max)`: counts in `bins` equal bins over `[min, max]` (the data's range
    /// when `min == max`), as the input's dtype.
    pub fn histc(&self, bins: i64, min: f64, max: f64) -> Result<Tensor> {
        check_bins(bins)?;
        // As PyTorch: CUDA counts integers too, the CPU floats only.
        if !self.is_cuda() {
            require_float(self, "histogramdd_cpu")?;
        } else if self.dtype() == DType::Bool {
            bail!(Runtime, "\"histogram_cuda\" not implemented for 'Bool'");
        }
        let values = flat_f64(self)?;
        let (mut lo, mut hi) = (min, max);
        if lo == hi && self.numel() != 0 {
            (lo, hi) = extremes(&values)?;
        }
        if lo == hi {
            lo -= 1.0;
            hi += 1.0;
        }
        if !lo.is_finite() || !hi.is_finite() {
            bail!(Runtime, "torch.histc: range of [{}, {}] is not finite", num(lo), num(hi));
        }
        if lo >= hi {
            bail!(Runtime, "torch.histc: max must be larger than min");
        }
        let edges = as_f64(&linear_edges(lo, hi, bins as usize, self.dtype())?)?;
        counts(&values, None, &edges, Rule::Linear { local_search: false })?.to_dtype(self.dtype())
    }

    /// The weights of a histogram, flat in float64, checked against the input.
    fn histogram_weights(&self, weight: Option<&Tensor>) -> Result<Option<Tensor>> {
        let Some(w) = weight else { return Ok(None) };
        if w.dtype() != self.dtype() {
            bail!(
                Runtime,
                "torch.histogramdd: if weight tensor is provided, input tensor and weight tensor should have the same dtype, but got input({}), and weight({})",
                type_meta(self.dtype()),
                type_meta(w.dtype())
            );
        }
        if w.numel() != self.numel() {
            bail!(
                Runtime,
                "torch.histogramdd: if weight tensor is provided it should have the same shape as the input tensor excluding its innermost dimension, but got input with shape [{}, 1] and weight with shape [{}]",
                self.numel(),
                w.numel()
            );
        }
        Ok(Some(flat_f64(w)?))
    }

    fn histogram_finish(&self, values: &Tensor, weights: Option<Tensor>, edges: &[f64], rule: Rule, density: bool) -> Result<Tensor> {
        let hist = counts(values, weights.as_ref(), edges, rule)?;
        let hist = if density { to_density(&hist, edges)? } else { hist };
        hist.to_dtype(self.dtype())
    }

    /// `histogram(bins: int, range, weight, density)`: returns `(hist, bin_edges)`.
    pub fn histogram_count(&self, bins: i64, range: Option<(f64, f64)>, weight: Option<&Tensor>, density: bool) -> Result<(Tensor, Tensor)> {
        let device = crate::device::common_device(&[Some(self), weight].into_iter().flatten().collect::<Vec<_>>())?;
        require_float(self, "histogramdd")?;
        check_bins(bins)?;
        let values = flat_f64(self)?;
        let (mut lo, mut hi) = match range {
            Some(r) => r,
            None if self.numel() == 0 => (0.0, 1.0),
            None => extremes(&values)?,
        };
        if !lo.is_finite() || !hi.is_finite() {
            bail!(Runtime, "torch.histogramdd: dimension 0's range [{}, {}] is not finite", num(lo), num(hi));
        }
        if lo > hi {
            bail!(Runtime, "torch.histogramdd: min should not exceed max, but got min {} max {} for dimension 0", num(lo), num(hi));
        }
        if lo == hi {
            lo -= 0.5;
            hi += 0.5;
        }
        let edges_t = linear_edges(lo, hi, bins as usize, self.dtype())?;
        let edges = as_f64(&edges_t)?;
        let weights = self.histogram_weights(weight)?;
        let hist = self.histogram_finish(&values, weights, &edges, Rule::Linear { local_search: true }, density)?;
        Ok((hist, edges_t.to_device(device)?))
    }

    /// `histogram(bins: Tensor, weight, density)`: counts between the given edges.
    pub fn histogram_edges(&self, bins: &Tensor, weight: Option<&Tensor>, density: bool) -> Result<(Tensor, Tensor)> {
        crate::device::common_device(&[Some(self), Some(bins), weight].into_iter().flatten().collect::<Vec<_>>())?;
        require_float(self, "histogramdd")?;
        if bins.dtype() != self.dtype() {
            bail!(
                Runtime,
                "torch.histogramdd: input tensor and bins tensors should have the same dtype, but got input with dtype {} and bins for dimension 0 with dtype {}",
                type_meta(self.dtype()),
                type_meta(bins.dtype())
            );
        }
        if bins.ndim() != 1 {
            bail!(
                Runtime,
                "torch.histogramdd: bins tensor should have one dimension, but got {} dimensions in the bins tensor for dimension 0",
                bins.ndim()
            );
        }
        if bins.numel() == 0 {
            bail!(Runtime, "torch.histogramdd: bins tensor should have at least 1 element, but got 0 elements in the bins tensor for dimension 0");
        }
        check_bins(bins.numel() as i64 - 1)?;
        let weights = self.histogram_weights(weight)?;
        // The edges are read on the host (a wait on a device): the bin arithmetic needs them.
        let edges = as_f64(&bins.to_device(crate::device::Device::Cpu)?)?;
        let hist = self.histogram_finish(&flat_f64(self)?, weights, &edges, Rule::Search, density)?;
        Ok((hist, bins.clone_contiguous()?))
    }

    /// `bincount(weights, minlength)`: occurrences (or summed weights) of each non-negative
    /// integer in a 1-D tensor. The extremes are read first (the output's length depends on
    /// them, as in PyTorch); CUDA tensors then count by `scatter_add` on the device.
    pub fn bincount(&self, weights: Option<&Tensor>, minlength: i64) -> Result<Tensor> {
        let device = crate::device::common_device(&[Some(self), weights].into_iter().flatten().collect::<Vec<_>>())?;
        if !self.dtype().is_int() {
            let kernel = if device != crate::device::Device::Cpu { "bincount_cuda" } else { "bincount_cpu" };
            bail!(Runtime, "\"{}\" not implemented for '{}'", kernel, title(self.dtype()));
        }
        if minlength < 0 {
            bail!(Runtime, "minlength should be >= 0");
        }
        if self.ndim() == 1 && self.numel() == 0 {
            return Tensor::full_on(&[minlength as usize], crate::Scalar::Int(0), DType::I64, device);
        }
        if self.ndim() != 1 {
            bail!(Runtime, "bincount only supports 1-d non-negative integral inputs.");
        }
        let x = self.to_dtype(DType::I64)?;
        let (lo, hi) = x.aminmax(None, false)?;
        let (lo, hi) = (lo.item()?.to_f64() as i64, hi.item()?.to_f64() as i64);
        if lo < 0 {
            bail!(Runtime, "bincount only supports 1-d non-negative integral inputs.");
        }
        if let Some(w) = weights {
            if w.ndim() != 1 || w.numel() != x.numel() {
                bail!(Runtime, "weights should be 1-d and have the same length as input");
            }
        }
        let bins = bin_count_for(hi, minlength)?;
        // Allocated as tensors so an absurd maximum fails cleanly instead of aborting.
        let out = Tensor::full_on(&[bins], crate::Scalar::Int(0), bincount_dtype(weights), device)?;
        if device != crate::device::Device::Cpu {
            return scatter_counts(out, &x, weights);
        }
        add_counts(out, &x, weights)
    }
}

/// Adds one (or the weight) per value of `x` to its bin of `out`, in order, on the CPU.
fn add_counts(out: Tensor, x: &Tensor, weights: Option<&Tensor>) -> Result<Tensor> {
    let values = x.to_vec::<i64>()?;
    match (weights, out.dtype()) {
        (None, _) => {
            let o = unsafe { out.as_mut_slice::<i64>()? };
            values.iter().for_each(|&v| o[v as usize] += 1);
        }
        (Some(w), DType::F32) => {
            let (w, o) = (w.contiguous()?, unsafe { out.as_mut_slice::<f32>()? });
            values.iter().zip(unsafe { w.as_slice::<f32>()? }).for_each(|(&v, &x)| o[v as usize] += x);
        }
        (Some(w), _) => {
            let (w, o) = (as_f64(w)?, unsafe { out.as_mut_slice::<f64>()? });
            values.iter().zip(&w).for_each(|(&v, &x)| o[v as usize] += x);
        }
    }
    Ok(out)
}

/// `add_counts` in device ops (what CUDA tensors run): `scatter_add` of ones or the weights.
fn scatter_counts(out: Tensor, x: &Tensor, weights: Option<&Tensor>) -> Result<Tensor> {
    let src = match weights {
        Some(w) => w.to_dtype(out.dtype())?,
        None => Tensor::full_on(&[x.numel()], crate::Scalar::Int(1), DType::I64, x.device())?,
    };
    out.scatter_add(0, x, &src)
}

/// Bins of a `bincount` whose largest value is `max`.
fn bin_count_for(max: i64, minlength: i64) -> Result<usize> {
    Ok(max.checked_add(1).ok_or_else(|| crate::err!(Runtime, "bincount: too many bins"))?.max(minlength) as usize)
}

/// `bincount`'s result dtype: int64 counts; float32 weights accumulate in float32, any other
/// dtype in float64, as PyTorch.
fn bincount_dtype(weights: Option<&Tensor>) -> DType {
    match weights {
        None => DType::I64,
        Some(w) if w.dtype() == DType::F32 => DType::F32,
        Some(_) => DType::F64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The device route's bin arithmetic runs on any device: on the CPU it equals the host
    /// loop for every rule, values on and between the edges, outside them, infinities and NaN,
    /// with and without weights.
    #[test]
    fn bins_by_scatter_equal_the_host_loop() {
        let nan = f64::NAN;
        let xs = [0.0, 1.0, 0.1, 0.3, 0.7, 1e-17, 0.9999999999999999, -0.0, 1.5, -0.5, nan, f64::INFINITY, 0.2, 0.6, 0.30000000000000004, 0.5];
        let ws: Vec<f64> = (0..xs.len()).map(|i| (i as f64 - 4.0) / 8.0).collect();
        let values = Tensor::from_slice(&xs, &[xs.len()]).unwrap();
        let weights = Tensor::from_slice(&ws, &[ws.len()]).unwrap();
        let linear = as_f64(&linear_edges(0.0, 1.0, 10, DType::F32).unwrap()).unwrap();
        let uneven = [-0.25, 0.0, 0.2, 0.2, 0.35, 1.0];
        for (edges, rule) in [
            (&linear[..], Rule::Linear { local_search: false }),
            (&linear[..], Rule::Linear { local_search: true }),
            (&uneven[..], Rule::Search),
            (&linear[..], Rule::Search),
        ] {
            for w in [None, Some(&weights)] {
                let want = bin_counts(&xs, w.map(|_| &ws[..]), edges, rule);
                let got = bin_counts_by_scatter(&values, w, edges, rule).unwrap().to_vec::<f64>().unwrap();
                for (g, e) in got.iter().zip(&want) {
                    assert!((g - e).abs() < 1e-12, "{edges:?} weighted={}: {got:?} vs {want:?}", w.is_some());
                }
            }
        }
    }

    /// The device route's counting runs on any device: on the CPU it equals the counting loop
    /// (counts, float32 and float64 weights, minlength beyond the data).
    #[test]
    fn scatter_counts_equal_the_counting_loop() {
        let x = Tensor::from_slice(&[3i64, 0, 3, 7, 1, 3, 0], &[7]).unwrap();
        let w32 = Tensor::from_slice(&[0.5f32, 1.25, -2.0, 3.0, 0.125, 1.0, 4.0], &[7]).unwrap();
        let w64 = w32.to_dtype(DType::F16).unwrap().to_dtype(DType::F64).unwrap();
        for (w, bins) in [(None, 8), (None, 12), (Some(&w32), 8), (Some(&w64), 9)] {
            let zeros = || Tensor::zeros(&[bins], bincount_dtype(w)).unwrap();
            let (want, got) = (add_counts(zeros(), &x, w).unwrap(), scatter_counts(zeros(), &x, w).unwrap());
            assert_eq!(got.dtype(), want.dtype());
            let (g, e) = (got.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap(), want.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap());
            assert_eq!(g, e, "weights {:?} bins {bins}", w.map(|w| w.dtype()));
        }
    }
}
