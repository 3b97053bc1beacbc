//! Counting ops: `histc`, `histogram` (equal-width bins or given edges) and `bincount`.

use rayon::prelude::*;

use crate::cpu::iter::GRAIN;
use crate::dtype::{title, DType};
use crate::error::Result;
use crate::device::Movable;
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

fn from_f64(v: &[f64], dtype: DType) -> Result<Tensor> {
    Tensor::from_slice(v, &[v.len()])?.to_dtype(dtype)
}

/// Divides counts by their total and by each bin's width.
fn to_density(hist: &mut [f64], edges: &[f64]) {
    let total: f64 = hist.iter().sum();
    for (i, h) in hist.iter_mut().enumerate() {
        *h = *h / total / (edges[i + 1] - edges[i]);
    }
}

impl Tensor {
    /// `histc(bins, min, max)`: counts in `bins` equal bins over `[min, max]` (the data's range
    /// when `min == max`), as the input's dtype.
    pub fn histc(&self, bins: i64, min: f64, max: f64) -> Result<Tensor> {
        if self.is_cuda() {
            return crate::device::on_host(self, |h| h.histc(bins, min, max));
        }
        check_bins(bins)?;
        require_float(self, "histogramdd_cpu")?;
        let values = as_f64(self)?;
        let (mut lo, mut hi) = (min, max);
        if lo == hi && !values.is_empty() {
            (lo, hi) = extrema(&values);
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
        from_f64(&bin_counts(&values, None, &edges, Rule::Linear { local_search: false }), self.dtype())
    }

    fn histogram_weights(&self, weight: Option<&Tensor>) -> Result<Option<Vec<f64>>> {
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
        Ok(Some(as_f64(w)?))
    }

    fn histogram_finish(&self, values: &[f64], weights: Option<Vec<f64>>, edges: &[f64], rule: Rule, density: bool) -> Result<Tensor> {
        let mut hist = bin_counts(values, weights.as_deref(), edges, rule);
        if density {
            to_density(&mut hist, edges);
        }
        from_f64(&hist, self.dtype())
    }

    /// `histogram(bins: int, range, weight, density)`: returns `(hist, bin_edges)`.
    pub fn histogram_count(&self, bins: i64, range: Option<(f64, f64)>, weight: Option<&Tensor>, density: bool) -> Result<(Tensor, Tensor)> {
        if self.is_cuda() || weight.is_some_and(|w| w.is_cuda()) {
            let device = crate::device::common_device(&[Some(self), weight].into_iter().flatten().collect::<Vec<_>>())?;
            let w = weight.map(|w| w.to_device(crate::device::Device::Cpu)).transpose()?;
            return crate::device::on_host(self, |h| h.histogram_count(bins, range, w.as_ref(), density))?.moved_to(device);
        }
        require_float(self, "histogramdd")?;
        check_bins(bins)?;
        let values = as_f64(self)?;
        let (mut lo, mut hi) = match range {
            Some(r) => r,
            None if values.is_empty() => (0.0, 1.0),
            None => extrema(&values),
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
        Ok((hist, edges_t))
    }

    /// `histogram(bins: Tensor, weight, density)`: counts between the given edges.
    pub fn histogram_edges(&self, bins: &Tensor, weight: Option<&Tensor>, density: bool) -> Result<(Tensor, Tensor)> {
        if self.is_cuda() || bins.is_cuda() || weight.is_some_and(|w| w.is_cuda()) {
            let device = crate::device::common_device(&[Some(self), Some(bins), weight].into_iter().flatten().collect::<Vec<_>>())?;
            let cpu = crate::device::Device::Cpu;
            let (b, w) = (bins.to_device(cpu)?, weight.map(|w| w.to_device(cpu)).transpose()?);
            return crate::device::on_host(self, |h| h.histogram_edges(&b, w.as_ref(), density))?.moved_to(device);
        }
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
        let edges = as_f64(bins)?;
        let hist = self.histogram_finish(&as_f64(self)?, weights, &edges, Rule::Search, density)?;
        Ok((hist, bins.clone_contiguous()?))
    }

    /// `bincount(weights, minlength)`: occurrences (or summed weights) of each non-negative
    /// integer in a 1-D tensor.
    pub fn bincount(&self, weights: Option<&Tensor>, minlength: i64) -> Result<Tensor> {
        if self.is_cuda() || weights.is_some_and(|w| w.is_cuda()) {
            crate::device::common_device(&[Some(self), weights].into_iter().flatten().collect::<Vec<_>>())?;
            return self.bincount_by_scatter(weights, minlength);
        }
        if !self.dtype().is_int() {
            bail!(Runtime, "\"bincount_cpu\" not implemented for '{}'", title(self.dtype()));
        }
        if minlength < 0 {
            bail!(Runtime, "minlength should be >= 0");
        }
        if self.ndim() == 1 && self.numel() == 0 {
            return Tensor::zeros(&[minlength as usize], DType::I64);
        }
        let values = self.to_dtype(DType::I64)?.to_vec::<i64>()?;
        if self.ndim() != 1 || values.iter().any(|&v| v < 0) {
            bail!(Runtime, "bincount only supports 1-d non-negative integral inputs.");
        }
        if let Some(w) = weights {
            if w.ndim() != 1 || w.numel() != values.len() {
                bail!(Runtime, "weights should be 1-d and have the same length as input");
            }
        }
        let max = values.iter().copied().max().unwrap_or(0);
        let nbins = bin_count_for(max, minlength)?;
        // Allocated as tensors so an absurd maximum fails cleanly instead of aborting.
        let dtype = bincount_dtype(weights);
        let out = Tensor::zeros(&[nbins], dtype)?;
        match (weights, dtype) {
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

    /// `bincount` in device ops (what CUDA tensors run): the checks above, the extremes read
    /// back once (the output's length depends on them, as in PyTorch), then `scatter_add` of
    /// ones or the weights into zeros.
    fn bincount_by_scatter(&self, weights: Option<&Tensor>, minlength: i64) -> Result<Tensor> {
        if !self.dtype().is_int() {
            bail!(Runtime, "\"bincount_cuda\" not implemented for '{}'", title(self.dtype()));
        }
        if minlength < 0 {
            bail!(Runtime, "minlength should be >= 0");
        }
        if self.ndim() == 1 && self.numel() == 0 {
            return Tensor::full_on(&[minlength as usize], crate::Scalar::Int(0), DType::I64, self.device());
        }
        let x = self.to_dtype(DType::I64)?;
        let (lo, hi) = x.aminmax(None, false)?;
        let (lo, hi) = (lo.item()?.to_f64() as i64, hi.item()?.to_f64() as i64);
        if self.ndim() != 1 || lo < 0 {
            bail!(Runtime, "bincount only supports 1-d non-negative integral inputs.");
        }
        if let Some(w) = weights {
            if w.ndim() != 1 || w.numel() != x.numel() {
                bail!(Runtime, "weights should be 1-d and have the same length as input");
            }
        }
        let dtype = bincount_dtype(weights);
        let out = Tensor::full_on(&[bin_count_for(hi, minlength)?], crate::Scalar::Int(0), dtype, self.device())?;
        let src = match weights {
            Some(w) => w.to_dtype(dtype)?,
            None => Tensor::full_on(&[x.numel()], crate::Scalar::Int(1), DType::I64, self.device())?,
        };
        out.scatter_add(0, &x, &src)
    }
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

    /// The device route's composition runs on any device: on the CPU it equals the counting
    /// loop (counts, float32 and float64 weights, minlength beyond the data, errors).
    #[test]
    fn bincount_by_scatter_equals_the_counting_loop() {
        let x = Tensor::from_slice(&[3i64, 0, 3, 7, 1, 3, 0], &[7]).unwrap();
        let w32 = Tensor::from_slice(&[0.5f32, 1.25, -2.0, 3.0, 0.125, 1.0, 4.0], &[7]).unwrap();
        let w16 = w32.to_dtype(DType::F16).unwrap();
        for (w, minlength) in [(None, 0), (None, 12), (Some(&w32), 3), (Some(&w16), 9)] {
            let (want, got) = (x.bincount(w, minlength).unwrap(), x.bincount_by_scatter(w, minlength).unwrap());
            assert_eq!(got.dtype(), want.dtype());
            let (g, e) = (got.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap(), want.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap());
            assert_eq!(g, e, "weights {:?} minlength {minlength}", w.map(|w| w.dtype()));
        }
        let negative = Tensor::from_slice(&[1i64, -1], &[2]).unwrap();
        assert!(negative.bincount_by_scatter(None, 0).is_err());
        assert_eq!(Tensor::from_slice::<i64>(&[], &[0]).unwrap().bincount_by_scatter(None, 4).unwrap().shape(), &[4]);
    }
}
