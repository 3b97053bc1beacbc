//! Argument checks and window geometry of the pooling ops: PyTorch's output-size rules and its
//! error messages, turned into the per-dim windows (`cpu::pool::Axis`) the kernels read.

use crate::cpu::pool::Axis;
use crate::dtype::title;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, err};

/// "one", "two", "three": how PyTorch counts tuple elements in messages.
fn count_word(n: usize) -> &'static str {
    ["zero", "one", "two", "three"].get(n).copied().unwrap_or("many")
}

/// A per-dim argument given as one value for every dim or one per dim.
pub fn per_dim(op: &str, what: &str, v: &[i64], nd: usize) -> Result<Vec<i64>> {
    match v.len() {
        1 => Ok(vec![v[0]; nd]),
        n if n == nd => Ok(v.to_vec()),
        _ => {
            let ints = if nd == 1 { "int" } else { "ints" };
            bail!(Runtime, "{}: {} must either be a single int, or a tuple of {} {}", op, what, count_word(nd), ints)
        }
    }
}

/// Sliding-window pooling input: `(C, *spatial)` or `(N, C, *spatial)` with non-empty
/// non-batch dims.
pub fn check_sliding_input(x: &Tensor, nd: usize) -> Result<()> {
    let ok_rank = x.ndim() == nd + 1 || x.ndim() == nd + 2;
    let lead = x.ndim().saturating_sub(nd + 1);
    if !ok_rank || x.shape()[lead..].contains(&0) {
        bail!(
            Runtime,
            "Expected {}D or {}D (batch mode) tensor with optional 0 dim batch size for input, but got:{:?}",
            nd + 1,
            nd + 2,
            x.shape()
        );
    }
    Ok(())
}

/// Adaptive pooling input: the same ranks, each non-batch dim non-empty.
pub fn check_adaptive_input(op: &str, x: &Tensor, nd: usize) -> Result<()> {
    if x.ndim() != nd + 1 && x.ndim() != nd + 2 {
        bail!(Runtime, "{}(): Expected {}D or {}D tensor, but got {:?}", op, nd + 1, nd + 2, x.shape());
    }
    let lead = x.ndim() - nd - 1;
    if let Some(d) = (lead..x.ndim()).find(|&d| x.shape()[d] == 0) {
        bail!(
            Runtime,
            "{}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes {:?} with dimension {} being empty",
            op,
            x.shape(),
            d
        );
    }
    Ok(())
}

/// Floating-point inputs only (PyTorch's dispatch error otherwise).
pub fn check_float(op: &str, x: &Tensor) -> Result<()> {
    if !x.dtype().is_float() {
        return Err(err!(NotImplemented, "\"{}\" not implemented for '{}'", op, title(x.dtype())));
    }
    Ok(())
}

/// The options of a sliding-window pool, already expanded to one value per spatial dim.
pub struct Sliding {
    pub kernel: Vec<i64>,
    pub stride: Vec<i64>,
    pub padding: Vec<i64>,
    pub dilation: Vec<i64>,
    pub ceil_mode: bool,
}

impl Sliding {
    /// Reads the options of `op` over `nd` dims; an empty `stride` means the kernel size.
    pub fn new(op: &str, nd: usize, kernel: &[i64], stride: &[i64], padding: &[i64], dilation: &[i64], ceil_mode: bool) -> Result<Sliding> {
        let kernel = per_dim(op, "kernel_size", kernel, nd)?;
        let stride = if stride.is_empty() { kernel.clone() } else { per_dim(op, "stride", stride, nd)? };
        let padding = per_dim(op, "padding", padding, nd)?;
        let dilation = per_dim(op, "dilation", dilation, nd)?;
        let s = Sliding { kernel, stride, padding, dilation, ceil_mode };
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> Result<()> {
        // Stride first: with the default stride, a zero kernel reads as PyTorch's zero stride.
        if self.stride.contains(&0) {
            bail!(Runtime, "stride should not be zero");
        }
        if self.stride.iter().any(|&s| s < 0) {
            bail!(Runtime, "stride should be greater than zero, but got stride={:?}", self.stride);
        }
        if self.kernel.iter().any(|&k| k <= 0) {
            bail!(Runtime, "kernel size should be greater than zero, but got kernel_size={:?}", self.kernel);
        }
        if self.dilation.iter().any(|&d| d <= 0) {
            let labels = ["dilationT", "dilationH", "dilationW"];
            let nd = self.dilation.len();
            let parts: Vec<String> = self.dilation.iter().zip(&labels[3 - nd..]).map(|(d, l)| format!("{}: {}", l, d)).collect();
            bail!(Runtime, "dilation should be greater than zero, but got {}", parts.join(" "));
        }
        for d in 0..self.kernel.len() {
            let (k, p, dil) = (self.kernel[d], self.padding[d], self.dilation[d]);
            if p < 0 {
                bail!(Runtime, "pad must be non-negative, but got pad: {}", p);
            }
            if p > ((k - 1) * dil + 1) / 2 {
                bail!(Runtime, "pad should be at most half of effective kernel size, but got pad={}, kernel_size={} and dilation={}", p, k, dil);
            }
        }
        // PyTorch's shape check also bounds the padding by half the undilated kernel.
        if self.kernel.iter().zip(&self.padding).any(|(k, p)| *p > k / 2) {
            let (k, p) = (&self.kernel, &self.padding);
            match k.len() {
                // 1-d pooling runs as 2-d pooling over a height of 1 there.
                1 => bail!(Runtime, "pad should be smaller than or equal to half of kernel size, but got padW = {}, padH = 0, kW = {}, kH = 1", p[0], k[0]),
                2 => bail!(Runtime, "pad should be smaller than or equal to half of kernel size, but got padW = {}, padH = {}, kW = {}, kH = {}", p[1], p[0], k[1], k[0]),
                _ => bail!(
                    Runtime,
                    "pad should be smaller than or equal to half of kernel size, but got kT: {} kW: {} kH: {} padT: {} padW: {} padH: {}",
                    k[0], k[2], k[1], p[0], p[2], p[1]
                ),
            }
        }
        Ok(())
    }

    /// 3-d average pooling also wants the unpadded input at least as large as the kernel.
    pub fn check_input_covers_kernel(&self, x: &Tensor) -> Result<()> {
        let nd = self.kernel.len();
        let spatial = &x.shape()[x.ndim() - nd..];
        if nd == 3 && spatial.iter().zip(&self.kernel).any(|(&l, &k)| (l as i64) < k) {
            let (s, k) = (spatial, &self.kernel);
            bail!(
                Runtime,
                "input image (T: {} H: {} W: {}) smaller than kernel size (kT: {} kH: {} kW: {})",
                s[0], s[1], s[2], k[0], k[1], k[2]
            );
        }
        Ok(())
    }

    /// Output size along dim `d` for an input of `len`, PyTorch's `pooling_output_shape`: in ceil
    /// mode, the last window must start inside the input or its left padding.
    fn output_len(&self, d: usize, len: i64) -> i64 {
        let (k, s, p, dil) = (self.kernel[d], self.stride[d], self.padding[d], self.dilation[d]);
        let span = len + 2 * p - dil * (k - 1) - 1 + if self.ceil_mode { s - 1 } else { 0 };
        let mut out = span.div_euclid(s) + 1;
        if self.ceil_mode && (out - 1) * s >= len + p {
            out -= 1;
        }
        out
    }

    /// The windows along each spatial dim of `x`; `count_include_pad` says whether an
    /// average's divisor counts the padding a window covers.
    pub fn axes(&self, x: &Tensor, count_include_pad: bool) -> Result<Vec<Axis>> {
        let nd = self.kernel.len();
        let spatial = &x.shape()[x.ndim() - nd..];
        let out: Vec<i64> = spatial.iter().enumerate().map(|(d, &l)| self.output_len(d, l as i64)).collect();
        if out.iter().any(|&o| o < 1) {
            let channels = x.shape()[x.ndim() - nd - 1];
            let join = |v: Vec<String>| v.join("x");
            bail!(
                Runtime,
                "Given input size: ({}x{}). Calculated output size: ({}x{}). Output size is too small",
                channels,
                join(spatial.iter().map(|s| s.to_string()).collect()),
                channels,
                join(out.iter().map(|s| s.to_string()).collect())
            );
        }
        Ok((0..nd).map(|d| self.axis(d, spatial[d] as i64, out[d] as usize, count_include_pad)).collect())
    }

    fn axis(&self, d: usize, len: i64, out: usize, count_include_pad: bool) -> Axis {
        let (k, s, p, dil) = (self.kernel[d], self.stride[d], self.padding[d], self.dilation[d]);
        let mut axis = Axis { first: Vec::with_capacity(out), end: Vec::with_capacity(out), step: dil as usize, count: Vec::with_capacity(out) };
        for o in 0..out as i64 {
            let start = o * s - p;
            // The first position on the input: skip the window's taps in the left padding.
            let first = if start < 0 { start + (-start + dil - 1) / dil * dil } else { start };
            let end = (start + (k - 1) * dil + 1).min(len);
            let padded_end = (start + k).min(len + p);
            let count = if count_include_pad { padded_end - start } else { end.min(padded_end) - start.max(0) };
            axis.first.push(first as usize);
            axis.end.push(end.max(first) as usize);
            axis.count.push(count as f64);
        }
        axis
    }
}

/// Adaptive pooling's windows: output `o` of `out` covers `[floor(o*L/out), ceil((o+1)*L/out))`.
pub fn adaptive_axis(len: usize, out: usize) -> Axis {
    let first: Vec<usize> = (0..out).map(|o| o * len / out).collect();
    let end: Vec<usize> = (0..out).map(|o| ((o + 1) * len).div_ceil(out)).collect();
    let count = first.iter().zip(&end).map(|(&f, &e)| (e - f) as f64).collect();
    Axis { first, end, step: 1, count }
}

/// Adaptive output sizes: one non-negative size per spatial dim.
pub fn adaptive_output(op: &str, output_size: &[i64], nd: usize) -> Result<Vec<usize>> {
    if output_size.len() != nd {
        bail!(Runtime, "{}: output_size must be {}", op, nd);
    }
    if output_size.iter().any(|&s| s < 0) {
        let list: Vec<String> = output_size.iter().map(|s| s.to_string()).collect();
        bail!(Runtime, "{}: elements of output_size must be greater than or equal to 0 but received {{{}}}", op, list.join(", "));
    }
    Ok(output_size.iter().map(|&s| s as usize).collect())
}
