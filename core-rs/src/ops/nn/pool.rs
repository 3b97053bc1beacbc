//! Pooling (`max_pool*d`, `avg_pool*d`, `adaptive_{avg,max}_pool*d`, `max_unpool*d`) over 1 to 3
//! spatial dims of `(N, C, *spatial)` or unbatched `(C, *spatial)` inputs. Each op checks its
//! arguments (`geometry`), describes its windows, and runs one of the window kernels of
//! `cpu::pool`; with grad, through `autograd::formulas::nn::pool`.

pub mod geometry;

use std::sync::Arc;

use crate::autograd::formulas::nn::pool as formulas;
use crate::cpu::pool::{self as kernels, Windows};
use crate::dtype::{title, DType};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, err};
use geometry::{adaptive_axis, adaptive_output, check_adaptive_input, check_float, check_sliding_input, Sliding};

/// Autograd node names, by PyTorch's: 1-d pooling runs as 2-d there, so it takes the 2-d names.
fn node(nd: usize, two: &'static str, three: &'static str) -> &'static str {
    if nd == 3 {
        three
    } else {
        two
    }
}

fn check_nd(nd: usize) -> Result<()> {
    if !(1..=3).contains(&nd) {
        bail!(Runtime, "pooling supports 1 to 3 spatial dims, got {}", nd);
    }
    Ok(())
}

/// The node names of an average pool and of its adjoint (the "backward" op that is itself
/// recorded, so gradients of gradients flow).
#[derive(Clone, Copy)]
pub struct MeanNodes {
    pub forward: &'static str,
    pub adjoint: &'static str,
}

fn spatial(x: &Tensor, nd: usize) -> Vec<usize> {
    x.shape()[x.ndim() - nd..].to_vec()
}

/// Window maxima with their flat positions in each input plane, recorded when `x` needs grad.
fn pooled_max(x: &Tensor, w: Windows, name: &'static str) -> Result<(Tensor, Tensor)> {
    if crate::autograd::needs_grad(&[x]) {
        return formulas::window_max(x, &w, name);
    }
    kernels::window_max(x, &w)
}

impl Tensor {
    /// `max_pool{nd}d_with_indices(kernel_size, stride, padding, dilation, ceil_mode)`: the
    /// maximum of each window (NaN wins) and its flat index within the input plane. Slices of
    /// one value apply to every dim; an empty `stride` means `kernel_size`.
    pub fn max_pool(&self, nd: usize, kernel: &[i64], stride: &[i64], padding: &[i64], dilation: &[i64], ceil_mode: bool) -> Result<(Tensor, Tensor)> {
        if let Some(r) = crate::autocast::run(format_args!("max_pool{nd}d"), [self], |t| t[0].max_pool(nd, kernel, stride, padding, dilation, ceil_mode)) { return r; }
        check_nd(nd)?;
        let op = format!("max_pool{}d", nd);
        check_sliding_input(self, nd)?;
        let geometry = Sliding::new(&op, nd, kernel, stride, padding, dilation, ceil_mode)?;
        let axes = geometry.axes(self, false)?;
        if self.dtype() == DType::Bool || (nd == 1 && !self.dtype().is_float()) {
            let kernel = if nd == 1 { "max_pool1d_impl".to_string() } else { op };
            return Err(err!(NotImplemented, "\"{}\" not implemented for '{}'", kernel, title(self.dtype())));
        }
        let w = Windows { nd, input: spatial(self, nd), axes, divisor: None };
        pooled_max(self, w, node(nd, "MaxPool2DWithIndicesBackward0", "MaxPool3DWithIndicesBackward0"))
    }

    /// `avg_pool{nd}d(kernel_size, stride, padding, ceil_mode, count_include_pad,
    /// divisor_override)`: the mean of each window; the divisor counts the padding a window
    /// covers when `count_include_pad`, or is `divisor_override` when given.
    #[allow(clippy::too_many_arguments)]
    pub fn avg_pool(
        &self,
        nd: usize,
        kernel: &[i64],
        stride: &[i64],
        padding: &[i64],
        ceil_mode: bool,
        count_include_pad: bool,
        divisor_override: Option<i64>,
    ) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run(format_args!("avg_pool{nd}d"), [self], |t| t[0].avg_pool(nd, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)) { return r; }
        check_nd(nd)?;
        let op = format!("avg_pool{}d", nd);
        check_sliding_input(self, nd)?;
        let geometry = Sliding::new(&op, nd, kernel, stride, padding, &[1], ceil_mode)?;
        if divisor_override == Some(0) {
            bail!(Runtime, "divisor must be not zero");
        }
        geometry.check_input_covers_kernel(self)?;
        let axes = geometry.axes(self, count_include_pad)?;
        check_float(&op, self)?;
        let w = Windows { nd, input: spatial(self, nd), axes, divisor: divisor_override.map(|d| d as f64) };
        let names = MeanNodes {
            forward: node(nd, "AvgPool2DBackward0", "AvgPool3DBackward0"),
            adjoint: node(nd, "AvgPool2DBackwardBackward0", "AvgPool3DBackwardBackward0"),
        };
        formulas::window_mean(self, &Arc::new(w), names)
    }

    /// The windows of adaptive pooling to `output_size` (checked as PyTorch's `op`).
    fn adaptive_windows(&self, op: &str, nd: usize, output_size: &[i64]) -> Result<Windows> {
        check_nd(nd)?;
        check_adaptive_input(op, self, nd)?;
        let out = adaptive_output(op, output_size, nd)?;
        check_float(op, self)?;
        let input = spatial(self, nd);
        let axes = input.iter().zip(&out).map(|(&l, &o)| adaptive_axis(l, o)).collect();
        Ok(Windows { nd, input, axes, divisor: None })
    }

    /// `adaptive_avg_pool{nd}d(output_size)`: means over windows that split each spatial dim
    /// into `output_size` near-equal overlapping parts.
    pub fn adaptive_avg_pool(&self, nd: usize, output_size: &[i64]) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run(format_args!("adaptive_avg_pool{nd}d"), [self], |t| t[0].adaptive_avg_pool(nd, output_size)) { return r; }
        let w = self.adaptive_windows(&format!("adaptive_avg_pool{}d", nd), nd, output_size)?;
        let names = MeanNodes {
            forward: node(nd, "AdaptiveAvgPool2DBackward0", "AdaptiveAvgPool3DBackward0"),
            adjoint: node(nd, "AdaptiveAvgPool2DBackwardBackward0", "AdaptiveAvgPool3DBackwardBackward0"),
        };
        formulas::window_mean(self, &Arc::new(w), names)
    }

    /// `adaptive_max_pool{nd}d(output_size)`: maxima (and their flat indices) over adaptive
    /// windows.
    pub fn adaptive_max_pool(&self, nd: usize, output_size: &[i64]) -> Result<(Tensor, Tensor)> {
        if let Some(r) = crate::autocast::run(format_args!("adaptive_max_pool{nd}d"), [self], |t| t[0].adaptive_max_pool(nd, output_size)) { return r; }
        let w = self.adaptive_windows(&format!("adaptive_max_pool{}d", nd), nd, output_size)?;
        pooled_max(self, w, node(nd, "AdaptiveMaxPool2DBackward0", "AdaptiveMaxPool3DBackward0"))
    }

    /// `max_unpool{nd}d(indices, output_size)`: zeros of spatial shape `output_size` per plane,
    /// with each element of `self` at its flat index from `indices` (a max pool's indices).
    pub fn max_unpool(&self, nd: usize, indices: &Tensor, output_size: &[i64]) -> Result<Tensor> {
        if let Some(r) = crate::autocast::run(format_args!("max_unpool{nd}d"), [self], |t| t[0].max_unpool(nd, indices, output_size)) { return r; }
        check_nd(nd)?;
        if self.ndim() != nd + 1 && self.ndim() != nd + 2 {
            bail!(
                Runtime,
                "Input to max_unpooling{}d should be a {}d or {}d Tensor, but got a tensor with {} dimensions.",
                nd,
                nd + 1,
                nd + 2,
                self.ndim()
            );
        }
        if output_size.len() != nd {
            bail!(Runtime, "There should be exactly {} elements in output_size, but got {} elements.", nd, output_size.len());
        }
        if output_size.iter().any(|&s| s < 0) {
            bail!(Runtime, "max_unpooling{}d(): output_size must contain non-negative spatial dimensions, but got output_size={:?}", nd, output_size);
        }
        if indices.dtype() != DType::I64 {
            bail!(Runtime, "elements in indices should be type int64 but got: {}", title(indices.dtype()));
        }
        if indices.shape() != self.shape() {
            bail!(
                Runtime,
                "Expected shape of indices to be same as that of the input tensor ({:?}) but got indices tensor with shape: {:?}",
                self.shape(),
                indices.shape()
            );
        }
        let lead = self.ndim() - nd - 1;
        if let Some(d) = (lead..self.ndim()).find(|&d| self.shape()[d] == 0) {
            bail!(
                Runtime,
                "max_unpooling{}d_forward_out_cpu(): Expected input to have non-zero size for non-batch dimensions, but input has sizes {:?} with dimension {} being empty",
                nd,
                self.shape(),
                d
            );
        }
        if self.dtype() == DType::Bool {
            return Err(err!(NotImplemented, "\"max_unpool{}d\" not implemented for 'Bool'", nd));
        }
        let output: Vec<usize> = output_size.iter().map(|&s| s as usize).collect();
        formulas::unpool(self, indices, nd, &output, node(nd, "MaxUnpool2DBackward0", "MaxUnpool3DBackward0"))
    }
}
