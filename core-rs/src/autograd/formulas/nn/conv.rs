//! Gradients of `ops/nn/conv.rs`. Convolution records one `ConvolutionBackward0` node: the
//! input gradient is the adjoint convolution of the output gradient (itself recorded, so it
//! differentiates again), the weight gradient a fused kernel or, under `create_graph`,
//! im2col + matmul + sum, and the bias gradient a sum. im2col and col2im are each other's
//! gradient.

use crate::autograd::node::Grads;
use crate::autograd::record::record;
use crate::cpu::im2col::Window;
use crate::error::Result;
use crate::ops::nn::conv::{conv_weight_grad, conv_window};
use crate::tensor::Tensor;

/// Records `conv_window(x, w, bias, win, transposed, groups)`.
pub fn convolution(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, win: &Window, transposed: bool, groups: usize) -> Result<Tensor> {
    let mut inputs = vec![x, w];
    inputs.extend(bias);
    let has_bias = bias.is_some();
    record("ConvolutionBackward0", &inputs, || conv_window(x, w, bias, win, transposed, groups), |s| {
        // The input gradient reads the weight; the weight gradient reads the input.
        let sw = x.requires_grad().then(|| s.save(w));
        let sx = w.requires_grad().then(|| s.save(x));
        let weight_shape = w.shape().to_vec();
        let win = win.clone();
        move |gr: &Grads| {
            let g = gr.g();
            let get = |t: &Option<crate::autograd::Saved>| t.as_ref().expect("saved when its partner requires grad").get();
            let mut out = vec![
                gr.when(0, || conv_window(g, &get(&sw)?, None, &win, !transposed, groups))?,
                gr.when(1, || {
                    let x = get(&sx)?;
                    let (a, b) = if transposed { (&x, g) } else { (g, &x) };
                    conv_weight_grad(a, b, &win, groups, &weight_shape)
                })?,
            ];
            if has_bias {
                let dims: Vec<i64> = std::iter::once(0).chain(2..g.ndim() as i64).collect();
                out.push(gr.when(2, || g.sum(Some(&dims), false, None))?);
            }
            Ok(out)
        }
    })
}

/// The weight gradient from recorded ops: `sum_n a[n, g] @ im2col(b)[n, g]^T`, reshaped to
/// the weight (see `ops::nn::conv::conv_weight_grad`).
pub fn weight_grad(a: &Tensor, b: &Tensor, win: &Window, groups: usize, weight_shape: &[usize]) -> Result<Tensor> {
    let (n, g) = (a.shape()[0] as i64, groups as i64);
    let (ca, cb) = (a.shape()[1] as i64 / g, b.shape()[1] as i64 / g);
    let (k, l) = (win.kernel_numel() as i64, win.block_count() as i64);
    let cols = b.im2col_window(win)?.reshape(&[n, g, cb * k, l])?;
    let prod = a.reshape(&[n, g, ca, l])?.matmul(&cols.transpose(-1, -2)?)?;
    let shape: Vec<i64> = weight_shape.iter().map(|&s| s as i64).collect();
    prod.sum(Some(&[0]), false, None)?.reshape(&shape)
}

/// Records `x.im2col_window(win)`: the gradient folds the columns back (col2im).
pub fn im2col(x: &Tensor, win: &Window) -> Result<Tensor> {
    let saved = win.clone();
    record("Im2ColBackward0", &[x], || x.im2col_window(win), |_| move |gr: &Grads| Ok(vec![Some(gr.g().col2im_window(&saved)?)]))
}

/// Records `cols.col2im_window(win)`: the gradient unfolds the image (im2col).
pub fn col2im(cols: &Tensor, win: &Window) -> Result<Tensor> {
    let saved = win.clone();
    record("Col2ImBackward0", &[cols], || cols.col2im_window(win), |_| move |gr: &Grads| Ok(vec![Some(gr.g().im2col_window(&saved)?)]))
}
