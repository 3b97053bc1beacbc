//! Random numbers: the `Generator` handle, the default generator and the random factories
//! (`rand`, `randn`, `randint`, `normal`, ...). Kernels follow PyTorch's CPU generator: the
//! same mt19937 draws per element in the same order, so contiguous results match PyTorch's for
//! a seed (normals in float32 up to rounding). Generation is serial, like PyTorch's, so results
//! never depend on the thread count; only the Box-Muller transform of large tensors runs in
//! parallel.

mod fill;
mod sample;

use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use crate::cpu::rng::{nondeterministic_seed, GeneratorState};
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::ops::binary::{BinaryOp, Operand};
use crate::tensor::Tensor;
use crate::bail;

/// A random number generator (`torch.Generator`): a cheap handle on shared state, so a
/// Python object and the kernels it is passed to see the same stream.
#[derive(Clone)]
pub struct Generator(Arc<Mutex<GeneratorState>>);

static DEFAULT: LazyLock<Generator> = LazyLock::new(Generator::new);

impl Default for Generator {
    fn default() -> Self {
        Self::new()
    }
}

impl Generator {
    /// A new generator seeded with PyTorch's default seed.
    pub fn new() -> Self {
        Generator(Arc::new(Mutex::new(GeneratorState::default())))
    }

    /// The process-wide generator used when no `generator=` is given.
    pub fn default_cpu() -> Generator {
        DEFAULT.clone()
    }

    /// Exclusive access to the state for one operation (PyTorch holds the generator's mutex for
    /// a whole kernel, too).
    pub fn lock(&self) -> MutexGuard<'_, GeneratorState> {
        // A panic while holding the lock leaves a valid state: every update is a plain store.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `manual_seed(seed)`.
    pub fn manual_seed(&self, seed: u64) {
        self.lock().set_seed(seed);
    }

    /// `seed()`: reseeds from the operating system's randomness and returns the seed.
    pub fn seed(&self) -> u64 {
        let s = nondeterministic_seed();
        self.manual_seed(s);
        s
    }

    pub fn initial_seed(&self) -> u64 {
        self.lock().initial_seed()
    }

    /// `get_state()`: PyTorch's state layout as a uint8 tensor.
    pub fn get_state(&self) -> Result<Tensor> {
        let bytes = self.lock().to_bytes();
        Tensor::from_slice(&bytes, &[bytes.len()])
    }

    /// `set_state(state)`: `state` is a uint8 tensor from `get_state` (this or PyTorch's).
    pub fn set_state(&self, state: &Tensor) -> Result<()> {
        if state.dtype() != DType::U8 {
            bail!(Type, "RNG state must be a torch.ByteTensor");
        }
        let new = GeneratorState::from_bytes(&state.to_vec::<u8>()?)?;
        *self.lock() = new;
        Ok(())
    }

    /// Whether two handles share one state.
    pub fn is_same(&self, other: &Generator) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The generator an op uses: the one given, else the default.
pub fn generator_or_default(g: Option<&Generator>) -> Generator {
    g.cloned().unwrap_or_else(Generator::default_cpu)
}

/// A double as C++ streams print it (`%g`): `2`, `0.5`, `1e+10`, `inf`.
pub(crate) fn cpp_double(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = format!("{:.5e}", x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if (-4..6).contains(&exp) {
        strip(&format!("{:.*}", (5 - exp) as usize, x))
    } else {
        format!("{}e{}{:02}", strip(mantissa), if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

/// Raises PyTorch's "not implemented" error unless `dtype` is floating point.
pub(crate) fn check_float(dtype: DType, kernel: &str) -> Result<()> {
    if !dtype.is_float() {
        bail!(Runtime, "\"{}\" not implemented for '{}'", kernel, crate::dtype::title(dtype));
    }
    Ok(())
}

impl Tensor {
    /// `rand(shape)`: uniform on [0, 1).
    pub fn rand(shape: &[usize], dtype: DType, g: &Generator) -> Result<Tensor> {
        let t = Tensor::uninit(shape, dtype)?;
        t.uniform_(0.0, 1.0, g)?;
        Ok(t)
    }

    /// `randn(shape)`: standard normal.
    pub fn randn(shape: &[usize], dtype: DType, g: &Generator) -> Result<Tensor> {
        let t = Tensor::uninit(shape, dtype)?;
        t.normal_(0.0, 1.0, g)?;
        Ok(t)
    }

    /// `randint(low, high, shape)`: integers uniform on [low, high).
    pub fn randint(low: i64, high: i64, shape: &[usize], dtype: DType, g: &Generator) -> Result<Tensor> {
        let t = Tensor::uninit(shape, dtype)?;
        t.random_(low, Some(high), g)?;
        Ok(t)
    }

    /// `normal(mean, std, size)` with float mean and std.
    pub fn normal_scalars(mean: f64, std: f64, shape: &[usize], dtype: DType, g: &Generator) -> Result<Tensor> {
        let t = Tensor::uninit(shape, dtype)?;
        t.normal_(mean, std, g)?;
        Ok(t)
    }

    /// `normal(mean, std)` with tensors: `N(0, 1) * std + mean`, broadcast, of `mean`'s dtype.
    pub fn normal_tensors(mean: &Tensor, std: &Tensor, g: &Generator) -> Result<Tensor> {
        check_normal_std_tensor(std)?;
        let shape = crate::layout::broadcast_shapes(mean.shape(), std.shape())?;
        let out = Tensor::randn(&shape, mean.dtype(), g)?;
        out.binary_(BinaryOp::Mul, &Operand::Tensor(std.clone()))?;
        out.binary_(BinaryOp::Add, &Operand::Tensor(mean.clone()))?;
        Ok(out)
    }

    /// `normal(mean, std)` with a tensor mean and a float std, of `mean`'s shape and dtype.
    pub fn normal_tensor_mean(mean: &Tensor, std: f64, g: &Generator) -> Result<Tensor> {
        let out = Tensor::uninit(mean.shape(), mean.dtype())?;
        out.normal_(0.0, std, g)?;
        out.binary_(BinaryOp::Add, &Operand::Tensor(mean.clone()))?;
        Ok(out)
    }

    /// `normal(mean, std)` with a float mean and a tensor std, of `std`'s shape and dtype.
    pub fn normal_tensor_std(mean: f64, std: &Tensor, g: &Generator) -> Result<Tensor> {
        check_normal_std_tensor(std)?;
        let out = Tensor::randn(std.shape(), std.dtype(), g)?;
        out.binary_(BinaryOp::Mul, &Operand::Tensor(std.clone()))?;
        out.binary_(BinaryOp::Add, &Operand::Scalar(Scalar::Float(mean)))?;
        Ok(out)
    }
}

/// `std` of `normal` must be non-negative everywhere (NaN fails too).
fn check_normal_std_tensor(std: &Tensor) -> Result<()> {
    let values = std.to_dtype(DType::F64)?.to_vec::<f64>()?;
    if values.iter().any(|v| !(*v >= 0.0)) {
        bail!(Runtime, "normal expects all elements of std >= 0.0");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_cpp_streams() {
        assert_eq!(cpp_double(2.0), "2");
        assert_eq!(cpp_double(-1.0), "-1");
        assert_eq!(cpp_double(0.5), "0.5");
        assert_eq!(cpp_double(1e10), "1e+10");
        assert_eq!(cpp_double(1.5e-5), "1.5e-05");
        assert_eq!(cpp_double(123456.0), "123456");
        assert_eq!(cpp_double(1234567.0), "1.23457e+06");
        assert_eq!(cpp_double(0.1), "0.1");
    }

    #[test]
    fn seeded_rand_matches_pytorch() {
        let g = Generator::new();
        g.manual_seed(0);
        let v = Tensor::rand(&[2], DType::F32, &g).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(v, [8325804.0 / 16777216.0, 12888623.0 / 16777216.0]);
    }
}
