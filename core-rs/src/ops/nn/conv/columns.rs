//! Convolution as whole-tensor im2col/col2im and batched matrix products: the form that runs on
//! any device. CUDA tensors take it (im2col/col2im kernels of cuda/nn.rs, products through
//! cuBLAS); the CPU keeps its fused kernels (kernel.rs, winograd.rs), against which the tests
//! here check this form.

use crate::cpu::im2col::Window;
use crate::error::Result;
use crate::tensor::Tensor;

fn i(v: usize) -> i64 {
    v as i64
}

/// `kernel::forward` (same arguments and result) by columns: a normal convolution multiplies
/// each group's `(C_out/g, C_in/g * K)` weight by that group's rows of the input's columns; the
/// transposed one multiplies the group's transposed weight by its input planes and folds the
/// columns (col2im). Each group is one batched product with the weight shared across the batch
/// (stride 0), so no operand is copied per sample.
pub fn forward(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, win: &Window, transposed: bool, groups: usize) -> Result<Tensor> {
    let (n, g, k, l) = (i(x.shape()[0]), i(groups), i(win.kernel_numel()), i(win.block_count()));
    let c_in = i(x.shape()[1]);
    let cig = c_in / g;
    // Group `j`'s slice of `t` along `dim`, `size` wide.
    let group = |t: &Tensor, dim: i64, size: i64, j: i64| t.narrow(dim, j * size, size);
    let by_group = |f: &dyn Fn(i64) -> Result<Tensor>| -> Result<Tensor> {
        if g == 1 {
            return f(0);
        }
        crate::ops::join::cat(&(0..g).map(f).collect::<Result<Vec<_>>>()?, 1)
    };
    let (c_out, out) = if transposed {
        let cog = i(w.shape()[1]);
        let planes = x.reshape(&[n, c_in, l])?;
        let weight = w.reshape(&[c_in, cog * k])?;
        let cols = by_group(&|j| group(&weight, 0, cig, j)?.transpose(0, 1)?.matmul(&group(&planes, 1, cig, j)?))?;
        (g * cog, cols.col2im_window(win)?)
    } else {
        let c_out = i(w.shape()[0]);
        let cols = x.im2col_window(win)?;
        let weight = w.reshape(&[c_out, cig * k])?;
        let prod = by_group(&|j| group(&weight, 0, c_out / g, j)?.matmul(&group(&cols, 1, cig * k, j)?))?;
        let mut shape = vec![n, c_out];
        shape.extend(win.blocks_shape().iter().map(|&s| i(s)));
        (c_out, prod.reshape(&shape)?)
    };
    match bias {
        Some(b) => {
            let mut view = vec![1, c_out];
            view.extend(std::iter::repeat_n(1, win.dims));
            out.add(&b.reshape(&view)?)?.to_dtype(x.dtype())
        }
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use crate::ops::random::Generator;
    use crate::testing::max_diff;

    /// Normal and transposed, grouped, strided, padded and dilated 2-d windows: the columns
    /// form equals the CPU kernels.
    #[test]
    fn columns_match_the_cpu_kernels() {
        let g = Generator::new();
        let win = Window::new(&[7, 6], &[4, 2], &[2, 3], &[2, 2], &[1, 1], &[2, 1]);
        for groups in [1, 2] {
            let x = Tensor::randn(&[3, 4, 7, 6], DType::F64, &g).unwrap();
            let w = Tensor::randn(&[6, 4 / groups, 2, 3], DType::F64, &g).unwrap();
            let b = Tensor::randn(&[6], DType::F64, &g).unwrap();
            let want = super::super::kernel::forward(&x, &w, Some(&b), &win, false, groups).unwrap();
            let got = forward(&x, &w, Some(&b), &win, false, groups).unwrap();
            assert!(max_diff(&want, &got) < 1e-12, "normal, groups {groups}");
            // The adjoint: blocks-shaped input, weight (C_in, C_out / groups, *kernel).
            let y = Tensor::randn(&[3, 6, 4, 2], DType::F64, &g).unwrap();
            let wt = Tensor::randn(&[6, 4 / groups, 2, 3], DType::F64, &g).unwrap();
            let want = super::super::kernel::forward(&y, &wt, None, &win, true, groups).unwrap();
            let got = forward(&y, &wt, None, &win, true, groups).unwrap();
            assert!(max_diff(&want, &got) < 1e-12, "transposed, groups {groups}");
        }
    }
}
