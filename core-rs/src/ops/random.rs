//! Random numbers: the `Generator` handle, the default generator and the random factories
//! (`rand`, `randn`, `randint`, `normal`, ...). Kernels follow PyTorch's CPU generator: the
//! same mt19937 draws per element in the same order, so contiguous results match PyTorch's for
//! a seed (normals in float32 up to rounding). Generation is serial, like PyTorch's, so results
//! never depend on the thread count; only the Box-Muller transform of large tensors runs in
//! parallel.

mod fill;
pub mod philox;
mod sample;

use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use crate::cpu::rng::{nondeterministic_seed, GeneratorState, DEFAULT_SEED};
use crate::device::Device;
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::ops::binary::{BinaryOp, Operand};
use crate::tensor::Tensor;
use crate::bail;
use philox::PhiloxState;

/// A random number generator (`torch.Generator`): a cheap handle on shared state, so a
/// Python object and the kernels it is passed to see the same stream. A CPU generator is
/// PyTorch's mt19937 engine; a CUDA generator is a Philox (seed, offset) pair for one device.
#[derive(Clone)]
pub struct Generator {
    engine: Arc<Engine>,
    /// Passed by the caller (`generator=`), rather than standing in for `generator=None`.
    given: bool,
}

/// One draw of a CUDA generator, as a random kernel takes it: the Philox key and counter
/// offset, and `state`, the device address of the `[seed, base offset]` pair a CUDA graph's
/// replay writes (0 outside captures), which the kernel then reads in place of `seed` and adds
/// to `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhiloxDraw {
    pub seed: u64,
    pub offset: u64,
    pub state: u64,
}

enum Engine {
    Cpu(Mutex<GeneratorState>),
    Cuda(usize, Mutex<PhiloxState>),
}

static DEFAULT: LazyLock<Generator> = LazyLock::new(Generator::new);

/// The default generator of each CUDA device, made on first use.
static DEFAULT_CUDA: Mutex<Vec<Generator>> = Mutex::new(Vec::new());

/// The seed CUDA default generators start from: PyTorch's default, or the last
/// `manual_seed_all`, which also reaches devices not used yet.
static CUDA_SEED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(DEFAULT_SEED);

/// A poisoned lock still holds a valid state: every update is a plain store.
fn unpoisoned<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Default for Generator {
    fn default() -> Self {
        Self::new()
    }
}

impl Generator {
    /// A new CPU generator seeded with PyTorch's default seed.
    pub fn new() -> Self {
        Generator { engine: Arc::new(Engine::Cpu(Mutex::new(GeneratorState::default()))), given: true }
    }

    /// A new generator for CUDA device `index`, seeded with PyTorch's default seed.
    pub fn new_cuda(index: usize) -> Self {
        Generator { engine: Arc::new(Engine::Cuda(index, Mutex::new(PhiloxState::new(DEFAULT_SEED)))), given: true }
    }

    /// The process-wide CPU generator (`torch.default_generator`).
    pub fn default_cpu() -> Generator {
        DEFAULT.clone()
    }

    /// What ops draw from when no `generator=` is given: the default CPU generator for CPU
    /// tensors, the device's default generator for CUDA tensors.
    pub fn unspecified() -> Generator {
        Generator { given: false, ..DEFAULT.clone() }
    }

    /// The default generator of CUDA device `index` (`torch.cuda.default_generators[index]`).
    pub fn default_cuda(index: usize) -> Generator {
        let mut all = unpoisoned(&DEFAULT_CUDA);
        while all.len() <= index {
            let g = Generator::new_cuda(all.len());
            g.manual_seed(CUDA_SEED.load(std::sync::atomic::Ordering::Relaxed));
            all.push(g);
        }
        all[index].clone()
    }

    /// `torch.cuda.manual_seed_all(seed)`: seeds every CUDA device's default generator, those
    /// made later included, without touching the driver (PyTorch queues the seed likewise).
    pub fn manual_seed_all_cuda(seed: u64) {
        let all = unpoisoned(&DEFAULT_CUDA);
        CUDA_SEED.store(seed, std::sync::atomic::Ordering::Relaxed);
        for g in all.iter() {
            g.manual_seed(seed);
        }
    }

    /// The default generators of the CUDA devices used so far.
    pub fn default_cuda_all() -> Vec<Generator> {
        unpoisoned(&DEFAULT_CUDA).clone()
    }

    /// The device whose tensors this generator fills.
    pub fn device(&self) -> Device {
        match &*self.engine {
            Engine::Cpu(_) => Device::Cpu,
            Engine::Cuda(i, _) => Device::Cuda(*i),
        }
    }

    /// The generator that fills a tensor on `device` when `self` is passed: without a
    /// `generator=` the device's default generator; otherwise the device types must agree, as
    /// PyTorch requires.
    pub fn for_device(&self, device: Device) -> Result<Generator> {
        match (device, &*self.engine) {
            (Device::Cpu, Engine::Cpu(_)) | (Device::Cuda(_), Engine::Cuda(..)) => Ok(self.clone()),
            (Device::Cuda(i), Engine::Cpu(_)) if !self.given => Ok(Generator::default_cuda(i)),
            (want, _) => bail!(
                Runtime,
                "Expected a '{}' device type for generator but found '{}'",
                want.type_name(),
                self.device().type_name()
            ),
        }
    }

    /// Exclusive access to a CPU generator's state for one operation (PyTorch holds the
    /// generator's mutex for a whole kernel, too).
    pub fn lock(&self) -> Result<MutexGuard<'_, GeneratorState>> {
        match &*self.engine {
            Engine::Cpu(m) => Ok(unpoisoned(m)),
            Engine::Cuda(..) => bail!(Runtime, "Expected a 'cpu' device type for generator but found 'cuda'"),
        }
    }

    /// A new draw of a CUDA generator for one kernel: its seed and offset, advancing its stream;
    /// inside a CUDA graph capture, the draw's place in the graph and the device pair each
    /// replay writes (graphs.rs), the stream advancing at replays instead.
    pub fn philox_draw(&self) -> Result<PhiloxDraw> {
        match &*self.engine {
            Engine::Cuda(index, _) => {
                if let Some(draw) = crate::cuda::graphs::captured_draw(*index, self)? {
                    return Ok(draw);
                }
                let (seed, offset) = self.philox_advance(1)?;
                Ok(PhiloxDraw { seed, offset, state: 0 })
            }
            Engine::Cpu(_) => bail!(Runtime, "Expected a 'cuda' device type for generator but found 'cpu'"),
        }
    }

    /// Advances a CUDA generator past `draws` draws (one kernel's, or a graph replay's);
    /// returns its seed and the offset of the first of them.
    pub fn philox_advance(&self, draws: u64) -> Result<(u64, u64)> {
        match &*self.engine {
            Engine::Cuda(_, m) => {
                let mut s = unpoisoned(m);
                Ok((s.seed, s.take_offsets(draws)))
            }
            Engine::Cpu(_) => bail!(Runtime, "Expected a 'cuda' device type for generator but found 'cpu'"),
        }
    }

    /// Whether `self` and `other` are handles of one generator.
    pub fn same(&self, other: &Generator) -> bool {
        Arc::ptr_eq(&self.engine, &other.engine)
    }

    /// A CPU generator for ops that sample on the host: `self` if it is one, else a fresh one
    /// seeded from this CUDA generator's next draw, so CUDA results depend on CUDA seeds only.
    pub fn host_stream(&self) -> Result<Generator> {
        match &*self.engine {
            Engine::Cpu(_) => Ok(self.clone()),
            Engine::Cuda(index, _) => {
                // Host sampling cannot be captured: a replay would repeat the host's numbers.
                crate::cuda::graphs::refuse_in_capture(*index, "Sampling on the host from a CUDA generator")?;
                let PhiloxDraw { seed, offset, .. } = self.philox_draw()?;
                let w = philox::block(seed, offset, 0);
                let g = Generator::new();
                g.manual_seed(((w[0] as u64) << 32) | w[1] as u64);
                Ok(g)
            }
        }
    }

    /// `manual_seed(seed)`.
    pub fn manual_seed(&self, seed: u64) {
        match &*self.engine {
            Engine::Cpu(m) => unpoisoned(m).set_seed(seed),
            Engine::Cuda(_, m) => *unpoisoned(m) = PhiloxState::new(seed),
        }
    }

    /// `seed()`: reseeds from the operating system's randomness and returns the seed.
    pub fn seed(&self) -> u64 {
        let s = nondeterministic_seed();
        self.manual_seed(s);
        s
    }

    pub fn initial_seed(&self) -> u64 {
        match &*self.engine {
            Engine::Cpu(m) => unpoisoned(m).initial_seed(),
            Engine::Cuda(_, m) => unpoisoned(m).seed,
        }
    }

    /// The state in PyTorch's byte layout: mt19937's 5056 bytes, or a CUDA generator's seed
    /// and offset (16 bytes).
    pub fn state_bytes(&self) -> Vec<u8> {
        match &*self.engine {
            Engine::Cpu(m) => unpoisoned(m).to_bytes(),
            Engine::Cuda(_, m) => unpoisoned(m).to_bytes(),
        }
    }

    /// Restores a state from `state_bytes` (this library's or PyTorch's).
    pub fn set_state_bytes(&self, bytes: &[u8]) -> Result<()> {
        match &*self.engine {
            Engine::Cpu(m) => *unpoisoned(m) = GeneratorState::from_bytes(bytes)?,
            Engine::Cuda(_, m) => *unpoisoned(m) = PhiloxState::from_bytes(bytes)?,
        }
        Ok(())
    }

    /// `get_state()`: the state as a uint8 tensor.
    pub fn get_state(&self) -> Result<Tensor> {
        let bytes = self.state_bytes();
        Tensor::from_slice(&bytes, &[bytes.len()])
    }

    /// `set_state(state)`: `state` is a uint8 tensor from `get_state` (this or PyTorch's).
    pub fn set_state(&self, state: &Tensor) -> Result<()> {
        if state.dtype() != DType::U8 {
            bail!(Type, "RNG state must be a torch.ByteTensor");
        }
        self.set_state_bytes(&state.to_device(Device::Cpu)?.contiguous()?.to_vec::<u8>()?)
    }

    /// Whether two handles share one state.
    pub fn is_same(&self, other: &Generator) -> bool {
        Arc::ptr_eq(&self.engine, &other.engine)
    }
}

/// The generator an op uses: the one given, else the default of the device it fills.
pub fn generator_or_default(g: Option<&Generator>) -> Generator {
    g.cloned().unwrap_or_else(Generator::unspecified)
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

    /// `normal(mean, std)` with tensors: `N(0, 1) * std + mean`, broadcast, of `mean`'s dtype.
    pub fn normal_tensors(mean: &Tensor, std: &Tensor, g: &Generator) -> Result<Tensor> {
        check_normal_std_tensor(std)?;
        let shape = crate::layout::broadcast_shapes(mean.shape(), std.shape())?;
        let device = crate::device::common_device(&[mean, std])?;
        let out = Tensor::uninit_on(&shape, mean.dtype(), device)?;
        out.normal_(0.0, 1.0, g)?;
        out.binary_(BinaryOp::Mul, &Operand::Tensor(std.clone()))?;
        out.binary_(BinaryOp::Add, &Operand::Tensor(mean.clone()))?;
        Ok(out)
    }

    /// `normal(mean, std)` with a tensor mean and a float std, of `mean`'s shape and dtype.
    pub fn normal_tensor_mean(mean: &Tensor, std: f64, g: &Generator) -> Result<Tensor> {
        let out = Tensor::uninit_on(mean.shape(), mean.dtype(), mean.device())?;
        out.normal_(0.0, std, g)?;
        out.binary_(BinaryOp::Add, &Operand::Tensor(mean.clone()))?;
        Ok(out)
    }

    /// `normal(mean, std)` with a float mean and a tensor std, of `std`'s shape and dtype.
    pub fn normal_tensor_std(mean: f64, std: &Tensor, g: &Generator) -> Result<Tensor> {
        check_normal_std_tensor(std)?;
        let out = Tensor::uninit_on(std.shape(), std.dtype(), std.device())?;
        out.normal_(0.0, 1.0, g)?;
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
