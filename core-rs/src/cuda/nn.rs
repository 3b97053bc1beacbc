//! The nn ops' kernels on CUDA tensors: activations (forward and backward maps generated from
//! the activation table, kernels/activation.rs), layer normalization (norm.cu), the
//! convolutions' im2col/col2im (conv.cu) and the LSTM cell (rnn.cu). Each entry
//! point takes operands already checked, promoted and converted to the compute type (and made
//! contiguous where it says so) by its CPU twin in `ops/nn/`.

use super::dispatch::{address, grid, index_of, launch, optional, threads_for, Elementwise, BLOCK, MAX_BLOCKS};
use super::kernels::suffix;
use crate::cpu::im2col::Window;
use crate::error::Result;
use crate::ops::nn::activation::Activation;
use crate::tensor::Tensor;

/// activation.cu's `ActParams`: an activation's parameters in table order.
#[repr(C)]
struct ActParams {
    v: [f64; 4],
}

// SAFETY: plain `#[repr(C)]` data matching the CUDA struct.
unsafe impl cudarc::driver::DeviceRepr for ActParams {}

impl ActParams {
    fn of(op: Activation) -> Self {
        let mut v = [0.0; 4];
        for (slot, (_, value)) in v.iter_mut().zip(op.params()) {
            *slot = value;
        }
        ActParams { v }
    }
}

/// `op(x)` for a float32/float64 CUDA tensor `x`, into a new tensor.
pub fn activation(op: Activation, x: &Tensor) -> Result<Tensor> {
    let out = Tensor::uninit_on(x.shape(), x.dtype(), x.device())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let e = Elementwise::new(out.shape(), [out.strides(), x.strides()])?;
    let (o, i, p) = (address(&out, 0), address(x, x.offset()), ActParams::of(op));
    let name = format!("act_{}_fwd_{}", op.name(), suffix(x.dtype()));
    launch!(index_of(x)?, name, e.config(); &e.n, &e.shape, &e.strides, &e.contiguous, &o, &i, &p)?;
    Ok(out)
}

/// The activation's input gradient from the output gradient `g` and the saved value `v`, both
/// float32/float64 CUDA tensors of one dtype; `v` broadcasts to `g`'s shape.
pub fn activation_backward(op: Activation, g: &Tensor, v: &Tensor) -> Result<Tensor> {
    let out = Tensor::uninit_on(g.shape(), v.dtype(), g.device())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let (lg, lv) = (g.layout().clone(), v.layout().broadcast_to(g.shape())?);
    let e = Elementwise::new(out.shape(), [out.strides(), &lg.strides, &lv.strides])?;
    let (o, a, b, p) = (address(&out, 0), address(g, lg.offset), address(v, lv.offset), ActParams::of(op));
    let name = format!("act_{}_bwd_{}", op.name(), suffix(v.dtype()));
    launch!(index_of(g)?, name, e.config(); &e.n, &e.shape, &e.strides, &e.contiguous, &o, &a, &b, &p)?;
    Ok(out)
}

/// Layer normalization of the contiguous float32/float64 CUDA tensor `x` over rows of `n`
/// elements, with the optional contiguous `w` and `b` of `n` elements.
pub fn row_norm(x: &Tensor, w: Option<&Tensor>, b: Option<&Tensor>, n: usize, eps: f64, centered: bool) -> Result<Tensor> {
    let out = Tensor::uninit_on(x.shape(), x.dtype(), x.device())?;
    let rows = if n == 0 { 0 } else { x.numel() / n };
    if rows == 0 {
        return Ok(out);
    }
    let (r, c) = (rows as i64, n as i64);
    let (xi, wi, bi, y) = (address(x, x.offset()), optional(w), optional(b), address(&out, 0));
    let center = centered as i32;
    launch!(index_of(x)?, format!("norm_rows_{}", suffix(x.dtype())), grid(rows); &r, &c, &xi, &wi, &bi, &y, &eps, &center)?;
    Ok(out)
}

/// `layer_norm`'s input gradient from the contiguous `dy` and, when `want_wb`, the rows of
/// `dy * xhat` whose column sums are the weight's gradient.
pub fn row_norm_backward(x: &Tensor, w: Option<&Tensor>, dy: &Tensor, n: usize, eps: f64, want_wb: bool, centered: bool) -> Result<(Tensor, Option<Tensor>)> {
    let dx = Tensor::uninit_on(x.shape(), x.dtype(), x.device())?;
    let dy_xhat = if want_wb { Some(Tensor::uninit_on(x.shape(), x.dtype(), x.device())?) } else { None };
    let rows = if n == 0 { 0 } else { x.numel() / n };
    if rows > 0 {
        let (r, c) = (rows as i64, n as i64);
        let (xi, wi, dyi, dxi, p) = (address(x, x.offset()), optional(w), address(dy, dy.offset()), address(&dx, 0), optional(dy_xhat.as_ref()));
        let (name, center) = (format!("norm_rows_backward_{}", suffix(x.dtype())), centered as i32);
        launch!(index_of(x)?, name, grid(rows); &r, &c, &xi, &wi, &dyi, &dxi, &p, &eps, &center)?;
    }
    Ok((dx, dy_xhat))
}

/// conv.cu's `ConvWindow`: a `Window`'s per-dim sizes (three dims, leading ones padded).
#[repr(C)]
struct ConvWindow {
    image: [i64; 3],
    blocks: [i64; 3],
    kernel: [i64; 3],
    stride: [i64; 3],
    padding: [i64; 3],
    dilation: [i64; 3],
}

// SAFETY: plain `#[repr(C)]` data matching the CUDA struct.
unsafe impl cudarc::driver::DeviceRepr for ConvWindow {}

impl ConvWindow {
    fn of(w: &Window) -> Self {
        let f = |v: [usize; 3]| v.map(|x| x as i64);
        ConvWindow { image: f(w.image), blocks: f(w.blocks), kernel: f(w.kernel), stride: f(w.stride), padding: f(w.padding), dilation: f(w.dilation) }
    }
}

/// The `(N, C * K, L)` columns of the contiguous `(N, C, *image)` CUDA tensor `x`.
pub fn im2col(x: &Tensor, planes: usize, win: &Window) -> Result<Tensor> {
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let out = Tensor::uninit_on(&[n, c * win.kernel_numel(), win.block_count()], x.dtype(), x.device())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let (p, s, d, w) = (planes as i64, address(x, x.offset()), address(&out, 0), ConvWindow::of(win));
    let config = rows_of(planes * win.kernel_numel(), win.block_count());
    launch!(index_of(x)?, format!("conv_im2col_{}", suffix(x.dtype())), config; &p, &s, &d, &w)?;
    Ok(out)
}

/// conv.cu's launch: a block row (y) per row of `len` elements, threads (x) along the row; a
/// block is as wide as the row (in warps) up to `BLOCK`, so short rows leave few threads idle.
fn rows_of(rows: usize, len: usize) -> cudarc::driver::LaunchConfig {
    let threads = len.next_multiple_of(32).clamp(32, BLOCK as usize);
    cudarc::driver::LaunchConfig {
        grid_dim: (len.div_ceil(threads).clamp(1, MAX_BLOCKS) as u32, rows.clamp(1, MAX_BLOCKS) as u32, 1),
        block_dim: (threads as u32, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// The contiguous float32/float64 columns `cols` (`(N, C * K, L)`) summed back into planes of
/// `shape` (`(N, C, *image)`).
pub fn col2im(cols: &Tensor, shape: &[usize], win: &Window) -> Result<Tensor> {
    let out = Tensor::uninit_on(shape, cols.dtype(), cols.device())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let planes = shape[0] * shape[1];
    let (p, s, d, w) = (planes as i64, address(cols, cols.offset()), address(&out, 0), ConvWindow::of(win));
    let config = rows_of(planes, win.image.iter().product());
    launch!(index_of(cols)?, format!("conv_col2im_{}", suffix(cols.dtype())), config; &p, &s, &d, &w)?;
    Ok(out)
}

/// An LSTM step's new hidden state and cell from the contiguous pre-activation `gates`
/// (B, 4H) and cell `c` (B, H), float32/float64 on one GPU.
pub fn lstm_cell(gates: &Tensor, c: &Tensor) -> Result<(Tensor, Tensor)> {
    crate::device::common_device(&[gates, c])?;
    let (rows, h) = (c.shape()[0], c.shape()[1]);
    let (hy, cy) = (Tensor::uninit_on(&[rows, h], c.dtype(), c.device())?, Tensor::uninit_on(&[rows, h], c.dtype(), c.device())?);
    if rows * h > 0 {
        let (r, hh) = (rows as i64, h as i64);
        let (g, cp, ho, co) = (address(gates, gates.offset()), address(c, c.offset()), address(&hy, 0), address(&cy, 0));
        launch!(index_of(c)?, format!("rnn_lstm_cell_{}", suffix(c.dtype())), threads_for(rows * h); &r, &hh, &g, &cp, &ho, &co)?;
    }
    Ok((hy, cy))
}

/// `lstm_cell`'s gradients `(d gates, d c)` from the contiguous inputs, the cell it returned
/// and the outputs' gradients (all contiguous, one dtype, one GPU).
pub fn lstm_cell_backward(gates: &Tensor, c: &Tensor, cy: &Tensor, dh: &Tensor, dcy: &Tensor) -> Result<(Tensor, Tensor)> {
    crate::device::common_device(&[gates, c, cy, dh, dcy])?;
    let (rows, h) = (c.shape()[0], c.shape()[1]);
    let (dg, dc) = (Tensor::uninit_on(&[rows, 4 * h], c.dtype(), c.device())?, Tensor::uninit_on(&[rows, h], c.dtype(), c.device())?);
    if rows * h > 0 {
        let (r, hh) = (rows as i64, h as i64);
        let at = |t: &Tensor| address(t, t.offset());
        let (g, cp, cn, dho, dcn, dgo, dco) = (at(gates), at(c), at(cy), at(dh), at(dcy), address(&dg, 0), address(&dc, 0));
        let name = format!("rnn_lstm_cell_backward_{}", suffix(c.dtype()));
        launch!(index_of(c)?, name, threads_for(rows * h); &r, &hh, &g, &cp, &cn, &dho, &dcn, &dgo, &dco)?;
    }
    Ok((dg, dc))
}

/// A GRU step's new state from the contiguous input and hidden gates (B, 3H) and state (B, H),
/// float32/float64 on one GPU.
pub fn gru_cell(gi: &Tensor, gh: &Tensor, h: &Tensor) -> Result<Tensor> {
    crate::device::common_device(&[gi, gh, h])?;
    let (rows, hid) = (h.shape()[0], h.shape()[1]);
    let hy = Tensor::uninit_on(&[rows, hid], h.dtype(), h.device())?;
    if rows * hid > 0 {
        let (r, hh) = (rows as i64, hid as i64);
        let at = |t: &Tensor| address(t, t.offset());
        let (a, b, hp, out) = (at(gi), at(gh), at(h), address(&hy, 0));
        launch!(index_of(h)?, format!("rnn_gru_cell_{}", suffix(h.dtype())), threads_for(rows * hid); &r, &hh, &a, &b, &hp, &out)?;
    }
    Ok(hy)
}

/// `gru_cell`'s gradients `(d gi, d gh, d h)` from the contiguous inputs and the output's
/// gradient (one dtype, one GPU).
pub fn gru_cell_backward(gi: &Tensor, gh: &Tensor, h: &Tensor, dy: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    crate::device::common_device(&[gi, gh, h, dy])?;
    let (rows, hid) = (h.shape()[0], h.shape()[1]);
    let new = |cols: usize| Tensor::uninit_on(&[rows, cols], h.dtype(), h.device());
    let (dgi, dgh, dh) = (new(3 * hid)?, new(3 * hid)?, new(hid)?);
    if rows * hid > 0 {
        let (r, hh) = (rows as i64, hid as i64);
        let at = |t: &Tensor| address(t, t.offset());
        let (a, b, hp, d) = (at(gi), at(gh), at(h), at(dy));
        let (o1, o2, o3) = (address(&dgi, 0), address(&dgh, 0), address(&dh, 0));
        let name = format!("rnn_gru_cell_backward_{}", suffix(h.dtype()));
        launch!(index_of(h)?, name, threads_for(rows * hid); &r, &hh, &a, &b, &hp, &d, &o1, &o2, &o3)?;
    }
    Ok((dgi, dgh, dh))
}
