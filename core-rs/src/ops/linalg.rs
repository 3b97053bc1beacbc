//! `torch.linalg`: decompositions and solvers batched over leading dims, and norms.
//! Every matrix is factored in f64 (inputs are float32 or float64; results are converted
//! back), one matrix per task, in parallel across a batch.

mod cholesky;
mod eigh;
mod lu;
mod norm;
mod pinv;
mod qr;
mod svd;

pub use norm::{matrix_norm, norm, vector_norm, MatrixOrd};
pub use qr::QrMode;

use rayon::prelude::*;

use crate::dtype::{title, DType};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::{bail, err};

/// A batch of row-major f64 matrices, all `rows x cols`, copied out of a tensor.
pub(crate) struct Batch {
    pub data: Vec<f64>,
    pub batch: Vec<usize>,
    pub rows: usize,
    pub cols: usize,
}

impl Batch {
    /// The matrices of `t`'s last two dims, as f64 in host memory (a CUDA tensor's are read
    /// back: the decompositions run on the host, their results go back to the device through
    /// `from_f64`).
    pub fn of(t: &Tensor) -> Result<Batch> {
        let nd = t.ndim();
        let data = t.to_device(crate::device::Device::Cpu)?.to_dtype_copy(DType::F64)?.to_vec::<f64>()?;
        Ok(Batch { data, batch: t.shape()[..nd - 2].to_vec(), rows: t.shape()[nd - 2], cols: t.shape()[nd - 1] })
    }

    pub fn count(&self) -> usize {
        self.batch.iter().product()
    }

    /// Applies `f(batch_index, matrix)` to every matrix (in place) in parallel, in order;
    /// the first error wins.
    pub fn try_each<R: Send>(&mut self, f: impl Fn(usize, &mut [f64]) -> Result<R> + Sync) -> Result<Vec<R>> {
        let size = self.rows * self.cols;
        if size == 0 {
            return (0..self.count()).map(|b| f(b, &mut [])).collect();
        }
        crate::cpu::threads::install_if(self.data.len().saturating_mul(self.rows.max(1)), || self.data.par_chunks_mut(size).enumerate().map(|(b, m)| f(b, m)).collect())
    }
}

/// Builds a tensor of `like`'s dtype, on its device, from f64 values and a shape.
pub(crate) fn from_f64(values: &[f64], shape: &[usize], like: &Tensor) -> Result<Tensor> {
    Tensor::from_slice(values, shape)?.to_dtype(like.dtype())?.to_device(like.device())
}

/// `shape` with `tail` appended.
pub(crate) fn with_tail(batch: &[usize], tail: &[usize]) -> Vec<usize> {
    [batch, tail].concat()
}

/// The checks every `torch.linalg` function makes on a matrix argument: float32/float64, at
/// least two dims, and (for `square`) square matrices.
pub(crate) fn check_matrix_input(t: &Tensor, op: &str, square: bool) -> Result<()> {
    check_float(t, op)?;
    if t.ndim() < 2 {
        bail!(Runtime, "{}: The input tensor A must have at least 2 dimensions.", op);
    }
    let (m, n) = (t.shape()[t.ndim() - 2], t.shape()[t.ndim() - 1]);
    if square && m != n {
        bail!(Runtime, "{}: A must be batches of square matrices, but they are {} by {} matrices", op, m, n);
    }
    Ok(())
}

/// LAPACK-backed functions take float32 and float64 only.
pub(crate) fn check_float(t: &Tensor, op: &str) -> Result<()> {
    match t.dtype() {
        DType::F32 | DType::F64 => Ok(()),
        DType::F16 | DType::BF16 => bail!(Runtime, "{}: Low precision dtypes not supported. Got {}", op, title(t.dtype())),
        d => bail!(Runtime, "{}: Expected a floating point or complex tensor as input. Got {}", op, title(d)),
    }
}

/// PyTorch's error prefix for a failure in one matrix of a batch.
pub(crate) fn batch_error(op: &str, batched: bool, index: usize, message: &str) -> Error {
    if batched {
        err!(Runtime, "{}: (Batch element {}): {}", op, index, message)
    } else {
        err!(Runtime, "{}: {}", op, message)
    }
}

/// Transpose of a row-major `m x n` matrix.
pub(crate) fn transpose_f64(a: &[f64], m: usize, n: usize) -> Vec<f64> {
    let mut t = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            t[j * m + i] = a[i * n + j];
        }
    }
    t
}
