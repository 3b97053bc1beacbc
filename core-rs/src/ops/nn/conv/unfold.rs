//! `im2col` (`F.unfold`) and `col2im` (`F.fold`) as tensor ops, each the other's gradient.
//! The window-level forms serve convolution's backward; the public forms check PyTorch's
//! arguments (2 spatial dims, batched or not).

use crate::autograd::formulas::nn::conv as formulas;
use crate::cpu::im2col::{col2im, im2col, Window};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, with_arith_dtype, with_float_dtype};

impl Tensor {
    /// The `(N, C * K, L)` columns of a `(N, C, *win.image)` tensor (sizes checked).
    pub(crate) fn im2col_window(&self, win: &Window) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return formulas::im2col(self, win);
        }
        let (n, c) = (self.shape()[0], self.shape()[1]);
        if self.is_cuda() {
            return crate::cuda::nn::im2col(&self.contiguous()?, n * c, win);
        }
        let out = Tensor::uninit(&[n, c * win.kernel_numel(), win.block_count()], self.dtype())?;
        if out.numel() == 0 {
            return Ok(out);
        }
        let planes = super::planes_of(self);
        with_float_dtype!(self.dtype(), T => unsafe {
            im2col(self.data_ptr::<T>()?.add(self.offset()), planes, n, c, win, out.data_ptr::<T>()?)
        });
        Ok(out)
    }

    /// Sums `(N, C * K, L)` columns back into `(N, C, *win.image)` planes (sizes checked).
    pub(crate) fn col2im_window(&self, win: &Window) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return formulas::col2im(self, win);
        }
        let (n, rows) = (self.shape()[0], self.shape()[1]);
        let c = rows / win.kernel_numel().max(1);
        let mut shape = vec![n, c];
        shape.extend_from_slice(win.image_shape());
        let compute = self.dtype().compute_type();
        if self.is_cuda() {
            return crate::cuda::nn::col2im(&self.contiguous_as(compute)?, &shape, win)?.to_dtype(self.dtype());
        }
        let out = Tensor::zeros(&shape, compute)?;
        if out.numel() > 0 && self.numel() > 0 {
            let src = self.contiguous_as(compute)?;
            with_arith_dtype!(compute, T => unsafe {
                col2im(src.data_ptr::<T>()?.add(src.offset()), n, c, win, out.data_ptr::<T>()?)
            });
        }
        out.to_dtype(self.dtype())
    }

    /// `torch._C._nn.im2col` (`F.unfold`): sliding blocks of a `(N, C, H, W)` or `(C, H, W)`
    /// float tensor as `(N, C * kH * kW, L)` columns.
    pub fn im2col(&self, kernel_size: &[i64], dilation: &[i64], padding: &[i64], stride: &[i64]) -> Result<Tensor> {
        for (name, v) in [("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding), ("stride", stride)] {
            check_pair(name, v)?;
        }
        check_window_args(kernel_size, dilation, padding, stride)?;
        check_floating(self, "im2col_out_cpu")?;
        let s = self.shape();
        let batched = self.ndim() == 4;
        if !((self.ndim() == 3 && s.iter().all(|&d| d != 0)) || (batched && s[1..].iter().all(|&d| d != 0))) {
            bail!(Runtime, "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: {:?}", s);
        }
        let image = &s[s.len() - 2..];
        let blocks: Vec<i64> = (0..2)
            .map(|d| (image[d] as i64 + 2 * padding[d] - (dilation[d] * (kernel_size[d] - 1) + 1)) / stride[d] + 1)
            .collect();
        if blocks.iter().any(|&b| b < 1) {
            bail!(
                Runtime,
                "Given input with spatial size ({}, {}), kernel_size=({}, {}), dilation=({}, {}), padding=({}, {}), calculated shape of the array of sliding blocks as ({}, {}), but its components must be at least one.",
                image[0], image[0], kernel_size[0], kernel_size[1], dilation[0], dilation[1], padding[0], padding[1], blocks[0], blocks[1]
            );
        }
        let win = window(image, &blocks, kernel_size, stride, padding, dilation);
        let x = if batched { self.clone() } else { self.unsqueeze(0)? };
        let cols = x.im2col_window(&win)?;
        if batched { Ok(cols) } else { cols.squeeze(Some(&[0])) }
    }

    /// `torch._C._nn.col2im` (`F.fold`): sums `(N, C * kH * kW, L)` or `(C * kH * kW, L)`
    /// columns into `(N, C, *output_size)` images.
    pub fn col2im(&self, output_size: &[i64], kernel_size: &[i64], dilation: &[i64], padding: &[i64], stride: &[i64]) -> Result<Tensor> {
        for (name, v) in [("output_size", output_size), ("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding), ("stride", stride)] {
            check_pair(name, v)?;
        }
        check_window_args(kernel_size, dilation, padding, stride)?;
        check_floating(self, "col2im_out_cpu")?;
        let s = self.shape();
        let batched = self.ndim() == 3;
        if !((self.ndim() == 2 && s.iter().all(|&d| d != 0)) || (batched && s[1..].iter().all(|&d| d != 0))) {
            bail!(Runtime, "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: {:?}", s);
        }
        let (planes, length) = (s[s.len() - 2] as i64, s[s.len() - 1] as i64);
        let kernel = kernel_size[0] * kernel_size[1];
        if planes % kernel != 0 {
            bail!(
                Runtime,
                "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)={} and kernel_size=({}, {}).",
                planes, kernel_size[0], kernel_size[1]
            );
        }
        let blocks: Vec<i64> = (0..2)
            .map(|d| (output_size[d] + 2 * padding[d] - dilation[d] * (kernel_size[d] - 1) - 1).div_euclid(stride[d]) + 1)
            .collect();
        let args = format!(
            "Given output_size=({}, {}), kernel_size=({}, {}), dilation=({}, {}), padding=({}, {}), stride=({}, {}), ",
            output_size[0], output_size[1], kernel_size[0], kernel_size[1], dilation[0], dilation[1], padding[0], padding[1], stride[0], stride[1]
        );
        if length != blocks[0] * blocks[1] {
            bail!(
                Runtime,
                "{}expected size of input's dimension 2 to match the calculated number of sliding blocks {} * {} = {}, but got input.size(2)={}.",
                args, blocks[0], blocks[1], blocks[0] * blocks[1], length
            );
        }
        if blocks.iter().any(|&b| b < 1) || output_size.iter().any(|&o| o < 1) {
            bail!(Runtime, "{}calculated shape of the array of sliding blocks as ({}, {}), which is too small (non-positive)", args, blocks[0], blocks[1]);
        }
        let image: Vec<usize> = output_size.iter().map(|&o| o as usize).collect();
        let win = window(&image, &blocks, kernel_size, stride, padding, dilation);
        let cols = if batched { self.clone() } else { self.unsqueeze(0)? };
        let out = cols.col2im_window(&win)?;
        if batched { Ok(out) } else { out.squeeze(Some(&[0])) }
    }
}

/// A window from checked (positive / non-negative) arguments.
fn window(image: &[usize], blocks: &[i64], kernel: &[i64], stride: &[i64], padding: &[i64], dilation: &[i64]) -> Window {
    let u = |v: &[i64]| v.iter().map(|&x| x as usize).collect::<Vec<_>>();
    Window::new(image, &u(blocks), &u(kernel), &u(stride), &u(padding), &u(dilation))
}

fn check_pair(name: &str, v: &[i64]) -> Result<()> {
    if v.len() != 2 {
        bail!(Runtime, "It is expected {} equals to 2, but got size {}", name, v.len());
    }
    Ok(())
}

fn check_window_args(kernel: &[i64], dilation: &[i64], padding: &[i64], stride: &[i64]) -> Result<()> {
    if kernel.iter().any(|&k| k <= 0) {
        bail!(Runtime, "kernel size should be greater than zero, but got kernel_height: {} kernel_width: {}", kernel[0], kernel[1]);
    }
    if dilation.iter().any(|&d| d <= 0) {
        bail!(Runtime, "dilation should be greater than zero, but got dilation_height: {} dilation_width: {}", dilation[0], dilation[1]);
    }
    if padding.iter().any(|&p| p < 0) {
        bail!(Runtime, "padding should be non-negative, but got pad_height: {} pad_width: {}", padding[0], padding[1]);
    }
    if stride.iter().any(|&s| s <= 0) {
        bail!(Runtime, "stride should be greater than zero, but got stride_height: {} stride_width: {}", stride[0], stride[1]);
    }
    Ok(())
}

/// im2col/col2im take floating-point tensors only, as PyTorch's CPU kernels.
fn check_floating(t: &Tensor, kernel: &str) -> Result<()> {
    if !t.dtype().is_float() {
        bail!(NotImplemented, "\"{}\" not implemented for '{}'", kernel, crate::dtype::title(t.dtype()));
    }
    Ok(())
}
