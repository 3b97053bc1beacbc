//! Batch normalization with batch statistics on CUDA tensors (kernels/batch_norm.cu), the twin
//! of the CPU kernels in ops/nn/batch_norm.rs: three launches each way (per-channel sums in
//! parts, a fold of the parts into per-channel coefficients, one element-wise pass) where a
//! chain of element-wise ops and reductions took about ten passes over the activations.

use cudarc::driver::DeviceRepr;

use super::dispatch::{address, grid, index_of, launch, optional, threads_for, BLOCK};
use super::kernels::suffix;
use super::launch_layout::divider;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// The blocks the per-channel sums aim for in all (as the reductions').
const TARGET_BLOCKS: usize = 1024;

/// batch_norm.cu's `ChannelLayout`: an `(N, C, S)` input and the parts each channel's sums are
/// split into, with the 32-bit division constants of S and C.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelLayout {
    pub batch: i64,
    pub channels: i64,
    pub spatial: i64,
    pub parts: i64,
    pub s_magic: u32,
    pub s_shift: u32,
    pub c_magic: u32,
    pub c_shift: u32,
    pub narrow: i32,
}

// SAFETY: plain `#[repr(C)]` data matching the CUDA struct.
unsafe impl DeviceRepr for ChannelLayout {}

impl ChannelLayout {
    /// The layout of an input of `shape` (at least 2 dims): parts enough for about
    /// [`TARGET_BLOCKS`] blocks in all, but no fewer than four elements per thread in a part.
    pub fn of(shape: &[usize]) -> ChannelLayout {
        let (batch, channels) = (shape[0], shape[1]);
        let spatial: usize = shape[2..].iter().product();
        let count = batch * spatial;
        let parts = TARGET_BLOCKS.div_ceil(channels.max(1)).min(count.div_ceil(4 * BLOCK as usize)).max(1);
        let narrow = batch * channels * spatial < 1 << 31;
        let (s_magic, s_shift) = divider(spatial.clamp(1, (1 << 31) - 1) as u32);
        let (c_magic, c_shift) = divider(channels.clamp(1, (1 << 31) - 1) as u32);
        let i = |v: usize| v as i64;
        ChannelLayout { batch: i(batch), channels: i(channels), spatial: i(spatial), parts: i(parts), s_magic, s_shift, c_magic, c_shift, narrow: narrow as i32 }
    }

    fn blocks(&self) -> usize {
        (self.channels * self.parts) as usize
    }
}

/// Row `k` of a dense `(rows, channels)` tensor of per-channel values.
fn row(t: &Tensor, k: usize) -> u64 {
    address(t, k * t.shape()[1])
}

/// The output (in `x`'s dtype), mean and biased variance (`(C,)`, in the compute type) of the
/// contiguous float CUDA tensor `x` `(N, C, *)`, with the optional contiguous `(C,)` affine `w`
/// and `b` of `x`'s compute type.
pub fn forward(x: &Tensor, w: Option<&Tensor>, b: Option<&Tensor>, eps: f64) -> Result<(Tensor, Tensor, Tensor)> {
    let (g, sfx, index) = (ChannelLayout::of(x.shape()), suffix(x.dtype()), index_of(x)?);
    let out = Tensor::uninit_on(x.shape(), x.dtype(), x.device())?;
    // mean, var, scale (weight * invstd)
    let stats = Tensor::uninit_on(&[3, x.shape()[1]], x.dtype().compute_type(), x.device())?;
    if g.channels > 0 {
        let partials = Tensor::uninit_on(&[g.blocks() * 2], DType::F64, x.device())?;
        let (xi, p, wi, bi) = (address(x, x.offset()), address(&partials, 0), optional(w), optional(b));
        let (mean, var, scale, o) = (row(&stats, 0), row(&stats, 1), row(&stats, 2), address(&out, 0));
        launch!(index, format!("norm_batch_stats_{sfx}"), grid(g.blocks()); &g, &xi, &p)?;
        launch!(index, format!("norm_batch_stats_finish_{sfx}"), threads_for(g.channels as usize); &g, &xi, &p, &wi, &eps, &mean, &var, &scale)?;
        if out.numel() > 0 {
            launch!(index, format!("norm_batch_apply_{sfx}"), threads_for(out.numel()); &g, &xi, &mean, &scale, &bi, &o)?;
        }
    }
    Ok((out, stats.select(0, 0)?, stats.select(0, 1)?))
}

/// `(dx, dweight, dbias)` (dx in `x`'s dtype, the others `(C,)` in its compute type) from the
/// contiguous float CUDA tensors `x` and `dy` of one dtype, the optional `(C,)` weight and the
/// forward pass's contiguous `(C,)` `mean` and `invstd`, these three of the compute type.
pub fn backward(x: &Tensor, dy: &Tensor, w: Option<&Tensor>, mean: &Tensor, invstd: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    let (g, sfx, index) = (ChannelLayout::of(x.shape()), suffix(x.dtype()), index_of(x)?);
    let dx = Tensor::uninit_on(x.shape(), x.dtype(), x.device())?;
    // dweight, dbias, k, mean(dy), scale
    let coefficients = Tensor::uninit_on(&[5, x.shape()[1]], x.dtype().compute_type(), x.device())?;
    if g.channels > 0 {
        let partials = Tensor::uninit_on(&[g.blocks() * 2], DType::F64, x.device())?;
        let (xi, dyi, p, wi) = (address(x, x.offset()), address(dy, dy.offset()), address(&partials, 0), optional(w));
        let (mi, si, o) = (address(mean, mean.offset()), address(invstd, invstd.offset()), address(&dx, 0));
        let c = &coefficients;
        let (dw, db, k, mean_dy, scale) = (row(c, 0), row(c, 1), row(c, 2), row(c, 3), row(c, 4));
        launch!(index, format!("norm_batch_backward_sums_{sfx}"), grid(g.blocks()); &g, &xi, &dyi, &mi, &p)?;
        launch!(index, format!("norm_batch_backward_finish_{sfx}"), threads_for(g.channels as usize); &g, &p, &wi, &si, &dw, &db, &k, &mean_dy, &scale)?;
        if dx.numel() > 0 {
            launch!(index, format!("norm_batch_backward_apply_{sfx}"), threads_for(dx.numel()); &g, &xi, &dyi, &mi, &k, &mean_dy, &scale, &o)?;
        }
    }
    Ok((dx, coefficients.select(0, 0)?, coefficients.select(0, 1)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_split_channels_into_parts_for_about_a_thousand_blocks() {
        let g = ChannelLayout::of(&[256, 64, 32, 32]);
        assert_eq!((g.batch, g.channels, g.spatial, g.parts, g.narrow), (256, 64, 1024, 16, 1));
        // Few elements per channel: one part each.
        assert_eq!(ChannelLayout::of(&[2, 8, 3]).parts, 1);
        // Empty inputs and a channel count past 2^31 elements in all.
        assert_eq!(ChannelLayout::of(&[0, 3]).parts, 1);
        assert_eq!(ChannelLayout::of(&[1 << 16, 1 << 8, 1 << 8]).narrow, 0);
        let g = ChannelLayout::of(&[5, 7, 6, 2]);
        let (magic, shift) = divider(12);
        assert_eq!((g.s_magic, g.s_shift, g.spatial), (magic, shift, 12));
    }
}
