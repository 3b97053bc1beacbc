//! Convolution: `convolution` (PyTorch's `at::convolution`), `conv1d/2d/3d` with string padding
//! and unbatched inputs, `conv_transpose1d/2d/3d`, and `im2col`/`col2im` (`F.unfold`/`F.fold`).
//! Arguments are checked here with PyTorch's messages; everything then runs as one op over a
//! `Window` (`conv_window`), computed as im2col + gemm (`conv/kernel.rs`), or Winograd for
//! stride-1 3x3 kernels over 64 channels or more (`conv/winograd.rs`), and recorded as a
//! single `ConvolutionBackward0` node.

mod columns;
mod kernel;
mod unfold;
mod winograd;

use crate::autograd::formulas::nn::conv as formulas;
use crate::cpu::im2col::{Planes, Window};
use crate::dtype::{title, DType};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::bail;

/// The `padding` argument of `conv1d/2d/3d`.
#[derive(Clone, Debug)]
pub enum Padding {
    Explicit(Vec<i64>),
    /// `'same'`: output size = input size (stride 1); odd total padding puts the extra zero
    /// at the end, as PyTorch.
    Same,
    /// `'valid'`: no padding.
    Valid,
}

/// Where the planes of a `(N, C, *spatial)` tensor lie in its storage.
pub(crate) fn planes_of(t: &Tensor) -> Planes {
    let strides = t.strides();
    let mut spatial = [0; 3];
    spatial[5 - t.ndim()..].copy_from_slice(&strides[2..]);
    Planes { batch: strides[0], channel: strides[1], spatial }
}

/// The convolution of `x` with `w` (+ `bias`) over a checked window: the op autograd records
/// (and calls again for the input gradient, with `transposed` flipped).
pub(crate) fn conv_window(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, win: &Window, transposed: bool, groups: usize) -> Result<Tensor> {
    let mut inputs = vec![x, w];
    inputs.extend(bias);
    if crate::autograd::needs_grad(&inputs) {
        return formulas::convolution(x, w, bias, win, transposed, groups);
    }
    kernel::forward(x, w, bias, win, transposed, groups)
}

/// The weight gradient of a convolution over `win` (see `kernel::weight_grad` for `a`, `b`):
/// a fused kernel, or recorded ops when the result itself needs a gradient (double backward).
pub(crate) fn conv_weight_grad(a: &Tensor, b: &Tensor, win: &Window, groups: usize, weight_shape: &[usize]) -> Result<Tensor> {
    if crate::autograd::needs_grad(&[a, b]) {
        return formulas::weight_grad(a, b, win, groups, weight_shape);
    }
    kernel::weight_grad(a, b, win, groups, weight_shape)
}

/// Expands a one-entry list to `dims` entries (PyTorch's `expand_param_if_needed`).
fn expand_param(v: &[i64], name: &str, dims: usize) -> Result<Vec<i64>> {
    match v.len() {
        1 => Ok(vec![v[0]; dims]),
        n if n == dims => Ok(v.to_vec()),
        _ => bail!(
            Runtime,
            "expected {} to be a single integer value or a list of {} values to match the convolution dimensions, but got {}={:?}",
            name, dims, name, v
        ),
    }
}

/// `a x b x c`, as PyTorch prints sizes per channel.
fn by(v: &[i64]) -> String {
    v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(" x ")
}

/// The arguments of a convolution once expanded to one entry per spatial dim.
struct Args {
    stride: Vec<i64>,
    padding: Padding,
    dilation: Vec<i64>,
    output_padding: Vec<i64>,
    transposed: bool,
    groups: i64,
}

/// Checks a convolution's arguments in PyTorch's order and messages; returns its window.
fn check(input: &Tensor, weight: &Tensor, bias: Option<&Tensor>, a: &Args) -> Result<Window> {
    if weight.dtype() != input.dtype() {
        bail!(Runtime, "expected scalar type {} but found {}", title(input.dtype()), title(weight.dtype()));
    }
    if let Some(b) = bias.filter(|b| b.dtype() != input.dtype()) {
        bail!(Runtime, "Input type ({}) and bias type ({}) should be the same", input.dtype().cpp_name(), b.dtype().cpp_name());
    }
    let k = weight.ndim();
    if k < 3 {
        bail!(Runtime, "weight should have at least three dimensions");
    }
    if k > 5 {
        bail!(Runtime, "only 1, 2 and 3 spatial dimensions are supported, but got a {}-dimensional weight {:?}", k, weight.shape());
    }
    if a.groups <= 0 {
        bail!(Runtime, "non-positive groups is not supported");
    }
    let dims = k - 2;
    let stride = expand_param(&a.stride, "stride", dims)?;
    let dilation = expand_param(&a.dilation, "dilation", dims)?;
    let output_padding = expand_param(&a.output_padding, "output_padding", dims)?;
    let padding = match &a.padding {
        Padding::Explicit(p) => expand_param(p, "padding", dims)?,
        _ => vec![0; dims],
    };
    if padding.iter().any(|&p| p < 0) {
        bail!(Runtime, "negative padding is not supported");
    }
    if output_padding.iter().any(|&p| p < 0) {
        bail!(Runtime, "negative output_padding is not supported");
    }
    if stride.iter().any(|&s| s <= 0) {
        bail!(Runtime, "non-positive stride is not supported");
    }
    if dilation.iter().any(|&d| d <= 0) {
        bail!(Runtime, "dilation should be greater than zero");
    }
    let ws = weight.shape();
    if input.ndim() != k {
        bail!(
            Runtime,
            "Expected {}-dimensional input for {}-dimensional weight {:?}, but got {}-dimensional input of size {:?} instead",
            k, k, ws, input.ndim(), input.shape()
        );
    }
    let groups = a.groups as usize;
    if ws[0] < groups {
        bail!(Runtime, "Given groups={}, expected weight to be at least {} at dimension 0, but got weight of size {:?} instead", groups, groups, ws);
    }
    if ws[0] % groups != 0 {
        bail!(Runtime, "Given groups={}, expected weight to be divisible by {} at dimension 0, but got weight of size [{:?}] instead", groups, groups, ws);
    }
    let spatial: Vec<i64> = input.shape()[2..].iter().map(|&s| s as i64).collect();
    let kernel: Vec<i64> = ws[2..].iter().map(|&s| s as i64).collect();
    let span: Vec<i64> = (0..dims).map(|d| dilation[d] * (kernel[d] - 1) + 1).collect();
    let channels = input.shape()[1];
    let win = if !a.transposed {
        if channels != ws[1] * groups {
            bail!(
                Runtime,
                "Given groups={}, weight of size {:?}, expected input{:?} to have {} channels, but got {} channels instead",
                groups, ws, input.shape(), ws[1] * groups, channels
            );
        }
        check_bias(bias, ws[0], || format!("Given weight of size {:?}", ws))?;
        let same = matches!(a.padding, Padding::Same);
        if same && stride.iter().any(|&s| s != 1) {
            bail!(Runtime, "padding='same' is not supported for strided convolutions");
        }
        // 'same' pads by the kernel's span minus one in total, the odd zero at the end.
        let total: Vec<i64> = (0..dims).map(|d| if same { span[d] - 1 } else { 2 * padding[d] }).collect();
        let padded: Vec<i64> = (0..dims).map(|d| spatial[d] + total[d]).collect();
        if (0..dims).any(|d| padded[d] < span[d]) {
            bail!(
                Runtime,
                "Calculated padded input size per channel: ({}). Kernel size: ({}). Kernel size can't be greater than actual input size",
                by(&padded), by(&span)
            );
        }
        let blocks: Vec<i64> = (0..dims).map(|d| (padded[d] - span[d]) / stride[d] + 1).collect();
        let lo: Vec<i64> = if same { total.iter().map(|t| t / 2).collect() } else { padding.clone() };
        make_window(&spatial, &blocks, &kernel, &stride, &lo, &dilation)
    } else {
        if channels != ws[0] {
            bail!(
                Runtime,
                "Given transposed=1, weight of size {:?}, expected input{:?} to have {} channels, but got {} channels instead",
                ws, input.shape(), ws[0], channels
            );
        }
        check_bias(bias, ws[1] * groups, || format!("Given transposed=1, weight of size {:?}", ws))?;
        if (0..dims).any(|d| output_padding[d] >= stride[d] && output_padding[d] >= dilation[d]) {
            bail!(Runtime, "output padding must be smaller than either stride or dilation, but got {}", output_padding_report(&output_padding, &stride, &dilation));
        }
        let image: Vec<i64> = (0..dims).map(|d| (spatial[d] - 1) * stride[d] - 2 * padding[d] + span[d] + output_padding[d]).collect();
        if image.iter().any(|&s| s <= 0) {
            // PyTorch runs a 1-d transposed convolution as a 2-d one of height 1.
            let lead: &[i64] = if dims == 1 { &[1] } else { &[] };
            bail!(
                Runtime,
                "Given input size per channel: ({}). Calculated output size per channel: ({}). Output size is too small",
                by(&[lead, &spatial].concat()), by(&[lead, &image].concat())
            );
        }
        make_window(&image, &spatial, &kernel, &stride, &padding, &dilation)
    };
    let in_shape = input.shape();
    if input.numel() == 0 && in_shape[0] != 0 && in_shape[1] != 0 {
        // PyTorch runs 1-d convolutions as 2-d ones of height 1.
        let mut shape = in_shape.to_vec();
        if dims == 1 {
            shape.insert(2, 1);
        }
        bail!(Runtime, "Only zero batch or zero channel inputs are supported, but got input shape: {:?}", shape);
    }
    if kernel.contains(&0) {
        match dims {
            3 => bail!(Runtime, "kernel size should be greater than zero, but got: {} (TxHxW)", by(&kernel)),
            _ => bail!(
                Runtime,
                "kernel size should be greater than zero, but got kernel_height: {} kernel_width: {}",
                if dims == 1 { 1 } else { kernel[0] }, kernel[dims - 1]
            ),
        }
    }
    if input.dtype() == DType::Bool {
        bail!(NotImplemented, "\"slow_conv2d_cpu\" not implemented for 'Bool'");
    }
    Ok(win)
}

fn check_bias(bias: Option<&Tensor>, expected: usize, what: impl Fn() -> String) -> Result<()> {
    if let Some(b) = bias {
        if b.ndim() != 1 || b.shape()[0] != expected {
            bail!(
                Runtime,
                "{}, expected bias to be 1-dimensional with {} elements, but got bias of size {:?} instead",
                what(), expected, b.shape()
            );
        }
    }
    Ok(())
}

/// PyTorch's `output_padding_height: .. stride_width: ..` listing (1-d reports as 2-d).
fn output_padding_report(op: &[i64], stride: &[i64], dilation: &[i64]) -> String {
    let names: &[&str] = match op.len() {
        3 => &["depth", "height", "width"],
        _ => &["height", "width"],
    };
    let pad = |v: &[i64], fill: i64| {
        let mut out = vec![fill; names.len() - v.len()];
        out.extend_from_slice(v);
        out
    };
    let mut parts = Vec::new();
    for (label, values) in [("output_padding", pad(op, 0)), ("stride", pad(stride, 1)), ("dilation", pad(dilation, 1))] {
        for (n, v) in names.iter().zip(values) {
            parts.push(format!("{}_{}: {}", label, n, v));
        }
    }
    parts.join(" ")
}

fn make_window(image: &[i64], blocks: &[i64], kernel: &[i64], stride: &[i64], padding: &[i64], dilation: &[i64]) -> Window {
    let u = |v: &[i64]| v.iter().map(|&x| x as usize).collect::<Vec<_>>();
    Window::new(&u(image), &u(blocks), &u(kernel), &u(stride), &u(padding), &u(dilation))
}

fn run(input: &Tensor, weight: &Tensor, bias: Option<&Tensor>, a: &Args) -> Result<Tensor> {
    let win = check(input, weight, bias, a)?;
    conv_window(input, weight, bias, &win, a.transposed, a.groups as usize)
}

/// `torch.convolution`: a batched convolution (transposed when asked) with every argument.
#[allow(clippy::too_many_arguments)]
pub fn convolution(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    transposed: bool,
    output_padding: &[i64],
    groups: i64,
) -> Result<Tensor> {
    let args = Args {
        stride: stride.to_vec(),
        padding: Padding::Explicit(padding.to_vec()),
        dilation: dilation.to_vec(),
        output_padding: output_padding.to_vec(),
        transposed,
        groups,
    };
    run(input, weight, bias, &args)
}

/// Runs `f` on `input` with a batch dim added when it has `dims + 1` dims (an unbatched
/// sample), removing it from the result; any rank but `dims + 1` and `dims + 2` is an error.
fn batchify(input: &Tensor, dims: usize, name: &str, f: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let n = input.ndim();
    if n == dims + 2 {
        return f(input);
    }
    if n != dims + 1 {
        bail!(
            Runtime,
            "Expected {}D (unbatched) or {}D (batched) input to {}, but got input of size: {:?}",
            dims + 1, dims + 2, name, input.shape()
        );
    }
    f(&input.unsqueeze(0)?)?.squeeze(Some(&[0]))
}

/// `torch.conv1d/2d/3d` (`dims` spatial dims): padding may be `'same'` or `'valid'`, input
/// may be unbatched.
#[allow(clippy::too_many_arguments)]
pub fn conv(input: &Tensor, weight: &Tensor, bias: Option<&Tensor>, stride: &[i64], padding: Padding, dilation: &[i64], groups: i64, dims: usize) -> Result<Tensor> {
    if let Some(r) = crate::autocast::run(format_args!("conv{dims}d"), [input, weight].into_iter().chain(bias), |t| conv(&t[0], &t[1], t.get(2), stride, padding.clone(), dilation, groups, dims)) { return r; }
    let name = format!("conv{}d", dims);
    let padding = if let Padding::Valid = padding { Padding::Explicit(vec![0]) } else { padding };
    let args = Args { stride: stride.to_vec(), padding, dilation: dilation.to_vec(), output_padding: vec![0], transposed: false, groups };
    batchify(input, dims, &name, |x| run(x, weight, bias, &args))
}

/// `torch.conv_transpose1d/2d/3d` (`dims` spatial dims); input may be unbatched.
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    output_padding: &[i64],
    groups: i64,
    dilation: &[i64],
    dims: usize,
) -> Result<Tensor> {
    if let Some(r) = crate::autocast::run(format_args!("conv_transpose{dims}d"), [input, weight].into_iter().chain(bias), |t| conv_transpose(&t[0], &t[1], t.get(2), stride, padding, output_padding, groups, dilation, dims)) { return r; }
    let name = format!("conv_transpose{}d", dims);
    let args = Args {
        stride: stride.to_vec(),
        padding: Padding::Explicit(padding.to_vec()),
        dilation: dilation.to_vec(),
        output_padding: output_padding.to_vec(),
        transposed: true,
        groups,
    };
    batchify(input, dims, &name, |x| run(x, weight, bias, &args))
}
