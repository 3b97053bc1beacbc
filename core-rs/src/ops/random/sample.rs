//! Sampling ops that return new tensors: `multinomial`, `randperm`, `poisson`, `bernoulli`.

use std::cmp::Ordering;

use super::fill::{fill_with, write_contiguous};
use super::{check_float, Generator};
use crate::cpu::rng::GeneratorState;
use crate::dtype::{title, DType, Element, Scalar};
use crate::error::Result;
use crate::ops::binary::{BinaryOp, Operand};
use crate::ops::sort::search::{searchsorted, Needles, SearchOptions};
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

/// Categories `multinomial` accepts: its indices must be exact in float32.
const MAX_CATEGORIES: usize = 1 << 24;

/// Descending order with NaN first (NaN is the largest value, as in `topk`), ties by index.
fn descending(a: (f64, usize), b: (f64, usize)) -> Ordering {
    let by_value = match (a.0.is_nan(), b.0.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => b.0.partial_cmp(&a.0).unwrap_or(Ordering::Equal),
    };
    by_value.then(a.1.cmp(&b.1))
}

/// The indices of the `k` largest entries of `row`, largest first (`topk(k).indices`).
fn top_k(row: &[f64], k: usize) -> Vec<usize> {
    let mut keyed: Vec<(f64, usize)> = row.iter().copied().zip(0..).collect();
    if k < keyed.len() {
        keyed.select_nth_unstable_by(k, |a, b| descending(*a, *b));
        keyed.truncate(k);
    }
    keyed.sort_unstable_by(|a, b| descending(*a, *b));
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Rounds to float32 unless the distribution is double: PyTorch accumulates in the input type.
#[inline]
fn acc(double: bool, x: f64) -> f64 {
    if double {
        x
    } else {
        x as f32 as f64
    }
}

/// Draws `n_sample` indices of one row with replacement, PyTorch's CPU kernel: normalised
/// cumulative sums, then a binary search per double uniform.
fn sample_with_replacement(row: &[f64], double: bool, n_sample: usize, s: &mut GeneratorState, out: &mut [i64]) -> Result<()> {
    let mut cum = Vec::with_capacity(row.len());
    let mut sum = 0.0;
    for &v in row {
        // NaN fails the first check, as in PyTorch.
        if !(v >= 0.0) {
            bail!(Runtime, "invalid multinomial distribution (encountering probability entry < 0)");
        }
        if !v.is_finite() {
            bail!(Runtime, "invalid multinomial distribution (encountering probability entry = infinity or NaN)");
        }
        sum = acc(double, sum + v);
        cum.push(sum);
    }
    if !(sum > 0.0) {
        bail!(Runtime, "invalid multinomial distribution (sum of probabilities <= 0)");
    }
    for c in cum.iter_mut() {
        *c = acc(double, *c / sum);
    }
    if let Some(last) = cum.last_mut() {
        *last = 1.0;
    }
    for o in out.iter_mut().take(n_sample) {
        let u = s.uniform_f64();
        *o = cum.partition_point(|&c| c < u) as i64;
    }
    Ok(())
}

impl Tensor {
    /// `multinomial(num_samples, replacement)`: indices drawn from each row of probabilities
    /// (1-D or 2-D, not necessarily normalised). Without replacement (or for one sample) it is
    /// PyTorch's exponential-race trick: the top `num_samples` of `p / Exp(1)`.
    pub fn multinomial(&self, num_samples: i64, replacement: bool, g: &Generator) -> Result<Tensor> {
        if self.ndim() == 0 || self.ndim() > 2 {
            bail!(Runtime, "prob_dist must be 1 or 2 dim");
        }
        let d = self.dtype();
        if !d.is_float() {
            bail!(Runtime, "multinomial only supports floating-point dtypes for input, got: {}", title(d));
        }
        if num_samples <= 0 {
            bail!(Runtime, "cannot sample n_sample <= 0 samples");
        }
        let n_sample = num_samples as usize;
        let n_cat = self.shape()[self.ndim() - 1];
        if !replacement && n_sample > n_cat {
            bail!(Runtime, "cannot sample n_sample > prob_dist.size(-1) samples without replacement");
        }
        if n_cat > MAX_CATEGORIES {
            bail!(Runtime, "number of categories cannot exceed 2^24");
        }
        let n_dist = if self.ndim() == 2 { self.shape()[0] } else { 1 };
        let out_shape: Vec<usize> = if self.ndim() == 2 { vec![n_dist, n_sample] } else { vec![n_sample] };
        if self.is_cuda() {
            return self.detach().multinomial_on_device(&out_shape, replacement, &g.for_device(self.device())?);
        }
        let out = Tensor::zeros(&out_shape, DType::I64)?;
        if out.numel() == 0 {
            return Ok(out);
        }
        let probs = self.to_dtype_copy(DType::F64)?.to_vec::<f64>()?;
        let indices = unsafe { out.as_mut_slice::<i64>()? };
        if !replacement || n_sample == 1 {
            if probs.iter().any(|p| !(*p >= 0.0 && *p < f64::INFINITY)) {
                bail!(Runtime, "probability tensor contains either `inf`, `nan` or element < 0");
            }
            if n_cat == 0 || probs.chunks(n_cat).any(|row| row.iter().sum::<f64>() == 0.0) {
                bail!(Runtime, "invalid multinomial distribution (sum of probabilities <= 0)");
            }
            let q = Tensor::uninit(self.shape(), d)?;
            q.exponential_(1.0, g)?;
            let keys = self.binary(BinaryOp::Div, &Operand::Tensor(q))?;
            let keys = keys.to_dtype_copy(DType::F64)?.to_vec::<f64>()?;
            for (row, dst) in keys.chunks(n_cat).zip(indices.chunks_mut(n_sample)) {
                for (o, i) in dst.iter_mut().zip(top_k(row, n_sample)) {
                    *o = i as i64;
                }
            }
            return Ok(out);
        }
        if n_cat == 0 {
            bail!(Runtime, "invalid multinomial distribution (sum of probabilities <= 0)");
        }
        let mut s = g.lock()?;
        for (row, dst) in probs.chunks(n_cat).zip(indices.chunks_mut(n_sample)) {
            sample_with_replacement(row, d == DType::F64, n_sample, &mut s, dst)?;
        }
        Ok(out)
    }

    /// `multinomial` of a CUDA tensor (checked by the caller) into `out_shape`, as PyTorch's
    /// CUDA kernel computes it, with one wait for the distribution's checks: without replacement
    /// (or for one sample) the top samples of `p / Exp(1)`; with replacement a search per
    /// uniform in the rows' cumulative sums (in float64), normalised so the last is exactly 1.
    fn multinomial_on_device(&self, out_shape: &[usize], replacement: bool, g: &Generator) -> Result<Tensor> {
        let n_sample = *out_shape.last().expect("a samples dim");
        if out_shape.iter().product::<usize>() == 0 {
            return Tensor::zeros_on(out_shape, DType::I64, self.device());
        }
        let last = self.ndim() as i64 - 1;
        let row_sums = self.sum(Some(&[last]), true, Some(DType::F64))?;
        // NaN is neither >= 0 nor infinite: it fails the first check, as on the host.
        let flags = [self.ge(0.0)?.logical_not()?, self.float_test("isinf")?, row_sums.le(0.0)?];
        let flags = flags.iter().map(|f| f.any(None, false)).collect::<Result<Vec<_>>>()?;
        let [negative, infinite, empty_row] = crate::ops::join::cat::stack(&flags, 0)?.to_vec::<bool>()?[..] else {
            unreachable!("three flags")
        };
        if !replacement || n_sample == 1 {
            if negative || infinite {
                bail!(Runtime, "probability tensor contains either `inf`, `nan` or element < 0");
            }
            if empty_row {
                bail!(Runtime, "invalid multinomial distribution (sum of probabilities <= 0)");
            }
            // Exp(1) draws in the compute type: a half draw of a uniform below 2^-25 rounds
            // to 0, and p / 0 would outrank every category (PyTorch's CUDA exponential clamps
            // to avoid the same).
            let compute = self.dtype().compute_type();
            let q = Tensor::uninit_on(self.shape(), compute, self.device())?;
            q.exponential_(1.0, g)?;
            return self.to_dtype(compute)?.div(q)?.topk(n_sample as i64, -1, true, true).map(|(_, indices)| indices);
        }
        if negative {
            bail!(Runtime, "invalid multinomial distribution (encountering probability entry < 0)");
        }
        if infinite {
            bail!(Runtime, "invalid multinomial distribution (encountering probability entry = infinity or NaN)");
        }
        if empty_row {
            bail!(Runtime, "invalid multinomial distribution (sum of probabilities <= 0)");
        }
        // The device scan adds in a different order per element, so the sums are made flat
        // across zero probabilities (and non-decreasing) by a running maximum over the sums of
        // the positive ones: searching for the first sum above a uniform then never lands on a
        // category of probability 0, and x / x is exactly 1, so every uniform (below 1) finds one.
        let sums = self.cumsum(last, Some(DType::F64))?;
        let positive = self.gt(0.0)?;
        let cumulative = crate::ops::binary::where_(&positive, &Operand::Tensor(sums), &Operand::Scalar(Scalar::Float(0.0)))?.cummax_cummin::<true>(last)?.0;
        let total = cumulative.narrow(last, cumulative.shape()[last as usize] as i64 - 1, 1)?;
        let normalised = cumulative.div(total)?;
        let uniforms = Tensor::uninit_on(out_shape, DType::F64, self.device())?;
        uniforms.uniform_(0.0, 1.0, g)?;
        let right = SearchOptions { out_int32: false, right: true, side: None, sorter: None };
        searchsorted(&normalised, Needles::Tensor(&uniforms), right)
    }

    /// `randperm(n)`: a random permutation of `0..n` (PyTorch's Fisher-Yates on 32-bit draws).
    pub fn randperm(n: i64, dtype: DType, g: &Generator) -> Result<Tensor> {
        if n < 0 {
            bail!(Runtime, "n must be non-negative, got{}", n);
        }
        let largest = (n - 1).max(0);
        match dtype {
            DType::Bool | DType::BF16 => bail!(Runtime, "\"randperm\" not implemented for '{}'", title(dtype)),
            DType::F16 if n > (1 << 11) + 1 => bail!(Runtime, "n cannot be greater than 2049 for Half type."),
            DType::F32 if n > (1 << 24) + 1 => bail!(Runtime, "n cannot be greater than 2^24+1 for Float type."),
            d if d.is_int() && with_dtype!(d, T => T::from_i64(largest).to_i64() != largest) => {
                bail!(Runtime, "n is too large for result tensor type: 'torch.{}Tensor'", title(d))
            }
            _ => {}
        }
        let n = n as usize;
        let mut perm: Vec<i64> = (0..n as i64).collect();
        {
            let mut s = g.lock()?;
            // 32-bit draws keep PyTorch's stream; past u32::MAX / 20 their modulo bias would show.
            let small = n < (u32::MAX / 20) as usize;
            for i in 0..n.saturating_sub(1) {
                let r = if small { s.random() as u64 } else { s.random64() };
                let z = (r % (n - i) as u64) as usize;
                perm.swap(i, i + z);
            }
        }
        let t = Tensor::uninit(&[n], dtype)?;
        with_dtype!(dtype, T => write_contiguous::<T>(&t, |out| {
            for (o, &v) in out.iter_mut().zip(&perm) {
                *o = T::from_i64(v);
            }
        }))?;
        Ok(t)
    }

    /// `poisson(rates)`: a Poisson sample per rate, of the rates' dtype.
    pub fn poisson(&self, g: &Generator) -> Result<Tensor> {
        let d = self.dtype();
        if let crate::device::Device::Cuda(index) = self.device() {
            check_float(d, "poisson_cuda")?;
            let g = g.for_device(self.device())?;
            // Checking waits for the device, which a capture cannot: captured, a negative
            // rate's sample is NaN.
            if !crate::cuda::graphs::is_current_stream_capturing(index)? && self.ge(0.0)?.logical_not()?.any(None, false)?.item()?.to_f64() != 0.0 {
                bail!(Runtime, "invalid Poisson rate, expected rate to be non-negative");
            }
            return crate::cuda::random::poisson(&self.detach(), &g);
        }
        check_float(d, "poisson_cpu")?;
        let rates = self.to_dtype_copy(DType::F64)?.to_vec::<f64>()?;
        if rates.iter().any(|r| !(*r >= 0.0)) {
            bail!(Runtime, "invalid Poisson rate, expected rate to be non-negative");
        }
        let out = Tensor::uninit(self.shape(), d)?;
        let mut s = g.lock()?;
        let mut it = rates.iter();
        with_dtype!(d, T => fill_with::<T>(&out, || T::from_f64(sample_poisson(*it.next().unwrap_or(&0.0), &mut s) as f64)))?;
        Ok(out)
    }

    /// `bernoulli(self)`: ones with the probabilities in `self`, of `self`'s dtype.
    pub fn bernoulli(&self, g: &Generator) -> Result<Tensor> {
        let out = Tensor::uninit_on(self.shape(), self.dtype(), self.device())?;
        out.bernoulli_tensor_(self, g)?;
        Ok(out)
    }

    /// `bernoulli(self, p)`: ones with probability `p`, shaped and typed like `self`.
    pub fn bernoulli_p(&self, p: f64, g: &Generator) -> Result<Tensor> {
        let out = Tensor::uninit_on(self.shape(), self.dtype(), self.device())?;
        out.bernoulli_scalar_(p, g)?;
        Ok(out)
    }
}

/// PyTorch's `sample_poisson`: Hörmann's transformed rejection (PTRS) for rates of 10 and
/// more, multiplication of uniforms below.
fn sample_poisson(lambda: f64, s: &mut GeneratorState) -> i64 {
    if lambda >= 10.0 {
        let slam = lambda.sqrt();
        let loglam = lambda.ln();
        let b = 0.931 + 2.53 * slam;
        let a = -0.059 + 0.02483 * b;
        let invalpha = 1.1239 + 1.1328 / (b - 3.4);
        let vr = 0.9277 - 3.6224 / (b - 2.0);
        loop {
            let u = s.uniform_f64() - 0.5;
            let v = s.uniform_f64();
            let us = 0.5 - u.abs();
            let k = ((2.0 * a / us + b) * u + lambda + 0.43).floor() as i64;
            if us >= 0.07 && v <= vr {
                return k;
            }
            if k < 0 || (us < 0.013 && v > us) {
                continue;
            }
            if v.ln() + invalpha.ln() - (a / (us * us) + b).ln() <= -lambda + k as f64 * loglam - libm::lgamma(k as f64 + 1.0) {
                return k;
            }
        }
    } else if lambda == 0.0 {
        0
    } else {
        let enlam = (-lambda).exp();
        let mut x = 0;
        let mut prod = 1.0;
        loop {
            prod *= s.uniform_f64();
            if prod > enlam {
                x += 1;
            } else {
                return x;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_orders_descending_with_nan_first() {
        assert_eq!(top_k(&[0.1, 3.0, f64::NAN, 2.0], 3), [2, 1, 3]);
        assert_eq!(top_k(&[1.0, 1.0, 0.0], 2), [0, 1]);
    }

    #[test]
    fn randperm_is_a_permutation() {
        let g = Generator::new();
        let mut v = Tensor::randperm(1000, DType::I64, &g).unwrap().to_vec::<i64>().unwrap();
        v.sort();
        assert_eq!(v, (0..1000).collect::<Vec<_>>());
    }
}
