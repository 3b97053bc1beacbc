//! In-place random fills: `uniform_`, `normal_`, `random_`, `bernoulli_`, `exponential_`,
//! `geometric_`, `log_normal_`, `cauchy_`. Each checks its arguments as PyTorch does, then
//! draws one value per element in row-major order while holding the generator.

use rayon::prelude::*;

use super::philox::Draw;
use super::{check_float, cpp_double, Generator};
use crate::cpu::iter::GRAIN;
use crate::cpu::rng::GeneratorState;
use crate::dtype::{title, DType, Element};
use crate::error::Result;
use crate::ops::copy::check_no_internal_overlap;
use crate::tensor::Tensor;
use crate::{bail, with_dtype};

/// Runs `f` on `t`'s elements as one contiguous row-major slice: `t`'s own memory when it is
/// contiguous, else a scratch tensor copied into `t` afterwards. (The fills of CUDA tensors
/// draw on the device and do not come here; one that did would take the scratch path.)
pub(super) fn write_contiguous<T: Element>(t: &Tensor, f: impl FnOnce(&mut [T])) -> Result<()> {
    if t.numel() == 0 {
        return Ok(());
    }
    if t.is_contiguous() && !t.is_cuda() {
        f(unsafe { t.as_mut_slice::<T>()? });
        t.bump_version();
        return Ok(());
    }
    let tmp = Tensor::uninit(t.shape(), t.dtype())?;
    f(unsafe { tmp.as_mut_slice::<T>()? });
    t.copy_from(&tmp)
}

/// A CUDA tensor's fill: one Philox launch from the generator `g` stands for on its device.
fn on_device(t: &Tensor, draw: Draw, g: &Generator) -> Result<()> {
    crate::cuda::random::fill(t, draw, &g.for_device(t.device())?)
}

/// Writes `next()` into each element of `t` in row-major order.
pub(super) fn fill_with<T: Element>(t: &Tensor, mut next: impl FnMut() -> T) -> Result<()> {
    write_contiguous(t, |out: &mut [T]| out.iter_mut().for_each(|o| *o = next()))
}

/// Writes `f(u)` into each element, `u` a fresh `uniform_f64` draw (drawn in batches).
fn fill_from_uniform_f64<T: Element>(t: &Tensor, s: &mut GeneratorState, f: impl Fn(f64) -> T) -> Result<()> {
    let mut u = [0f64; 1024];
    write_contiguous::<T>(t, |out| {
        for chunk in out.chunks_mut(u.len()) {
            let u = &mut u[..chunk.len()];
            s.fill_uniform_f64(u);
            chunk.iter_mut().zip(u.iter()).for_each(|(o, &x)| *o = f(x));
        }
    })
}

/// Writes `f(r)` into each element, `r` a fresh `random()` draw (drawn in batches).
fn fill_from_random<T: Element>(t: &Tensor, s: &mut GeneratorState, f: impl Fn(u32) -> T) -> Result<()> {
    let mut r = [0u32; 1024];
    write_contiguous::<T>(t, |out| {
        for chunk in out.chunks_mut(r.len()) {
            let r = &mut r[..chunk.len()];
            s.fill_random(r);
            chunk.iter_mut().zip(r.iter()).for_each(|(o, &x)| *o = f(x));
        }
    })
}

/// Mantissa bits (`std::numeric_limits<T>::digits`) of a float dtype.
pub(super) fn digits(d: DType) -> u32 {
    match d {
        DType::F16 => 11,
        DType::BF16 => 8,
        DType::F32 => 24,
        _ => 53,
    }
}

/// `x` rounded to dtype `d` (`static_cast<scalar_t>(x)`), back as a double.
fn round_to(d: DType, x: f64) -> f64 {
    with_dtype!(d, T => T::from_f64(x).to_f64())
}

/// `(lowest, max)` of a dtype, as doubles.
fn limits(d: DType) -> (f64, f64) {
    match d {
        DType::Bool => (0.0, 1.0),
        DType::U8 => (0.0, u8::MAX as f64),
        DType::I8 => (i8::MIN as f64, i8::MAX as f64),
        DType::I16 => (i16::MIN as f64, i16::MAX as f64),
        DType::I32 => (i32::MIN as f64, i32::MAX as f64),
        DType::I64 => (i64::MIN as f64, i64::MAX as f64),
        DType::F16 => (-65504.0, 65504.0),
        DType::BF16 => (-half::bf16::MAX.to_f64(), half::bf16::MAX.to_f64()),
        DType::F32 => (f32::MIN as f64, f32::MAX as f64),
        DType::F64 => (f64::MIN, f64::MAX),
    }
}

/// `(lowest, max)` of an integer dtype, exactly.
fn int_limits(d: DType) -> (i64, i64) {
    match d {
        DType::Bool => (0, 1),
        DType::U8 => (0, u8::MAX as i64),
        DType::I8 => (i8::MIN as i64, i8::MAX as i64),
        DType::I16 => (i16::MIN as i64, i16::MAX as i64),
        DType::I32 => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    }
}

fn check_bound(value: f64, name: &str, d: DType) -> Result<()> {
    let (lo, hi) = limits(d);
    if !(value >= lo && value <= hi) {
        bail!(Runtime, "{} is out of bounds for {}", name, d.cpp_name());
    }
    Ok(())
}

/// PyTorch's `check_from_to_in_range` for `random_`: both ends must fit the dtype.
fn check_from_to_in_range(from: i64, to_inc: i64, d: DType) -> Result<()> {
    if d.is_float() {
        check_bound(from as f64, "from", d)?;
        return check_bound(to_inc as f64, "to - 1", d);
    }
    let (lo, hi) = int_limits(d);
    if !(lo..=hi).contains(&from) {
        bail!(Runtime, "from is out of bounds for {}", d.cpp_name());
    }
    if !(lo..=hi).contains(&to_inc) {
        bail!(Runtime, "to - 1 is out of bounds for {}", d.cpp_name());
    }
    Ok(())
}

/// `static_cast<int64_t>(static_cast<scalar_t>(x))`.
fn round_int(d: DType, x: i64) -> i64 {
    round_to(d, x as f64) as i64
}

fn floor_log2(x: u64) -> u32 {
    if x == 0 {
        0
    } else {
        x.ilog2()
    }
}

/// PyTorch's `update_from`: raises `from` to the next value representable in a float dtype.
fn update_from(d: DType, from: i64) -> i64 {
    let plus1 = round_int(d, from.wrapping_add(1));
    if plus1 < from {
        let n = floor_log2(from.wrapping_add(1).unsigned_abs()) as i64;
        let shift = (n - digits(d) as i64 + 1).clamp(0, 62);
        return plus1.wrapping_add(1i64 << shift);
    }
    from
}

/// PyTorch's `update_to`: lowers `to` to the previous value representable in a float dtype.
fn update_to(d: DType, to: i64) -> i64 {
    let minus1 = round_int(d, to.wrapping_sub(1));
    if minus1 >= to {
        let n = floor_log2(to.wrapping_sub(1).unsigned_abs()) as i64;
        let shift = (n - digits(d) as i64 + 1).clamp(0, 62);
        return minus1.wrapping_sub(1i64 << shift);
    }
    to
}

/// Box-Muller on a block of 16 uniforms in place, PyTorch's `normal_fill_16`: the first 8 give
/// the radii, the last 8 the angles; cosines land in the first half, sines in the second.
#[inline]
fn normal_fill_16<T: Element>(d: &mut [T], mean: f64, std: f64) {
    for j in 0..8 {
        let u1 = 1.0 - d[j].to_f64();
        let u2 = d[j + 8].to_f64();
        let radius = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        d[j] = T::from_f64(radius * theta.cos() * std + mean);
        d[j + 8] = T::from_f64(radius * theta.sin() * std + mean);
    }
}

/// The element types `normal_fill` stores its uniforms in: doubles for float64 (53 bits),
/// floats for everything else (24 bits, exact in a float).
trait UniformStore: Element {
    fn fill_uniform(g: &mut GeneratorState, out: &mut [Self]);
}

impl UniformStore for f64 {
    fn fill_uniform(g: &mut GeneratorState, out: &mut [f64]) {
        g.fill_uniform_f64(out);
    }
}

impl UniformStore for f32 {
    fn fill_uniform(g: &mut GeneratorState, out: &mut [f32]) {
        g.fill_uniform_f32(24, out);
    }
}

/// PyTorch's `normal_fill` for 16 or more elements, in place: all uniforms first (then 16 more
/// when the length is no multiple of 16, which redo the last 16 outputs), then Box-Muller per
/// block. Only the drawing is serial, so the result is the same for any thread count.
fn normal_fill<T: UniformStore>(data: &mut [T], g: &mut GeneratorState, mean: f64, std: f64) {
    crate::cpu::threads::install_if(data.len(), || {
    let n = data.len();
    T::fill_uniform(g, data);
    let mut tail = [T::default(); 16];
    if n % 16 != 0 {
        T::fill_uniform(g, &mut tail);
    }
    let full = n - n % 16;
    if n >= GRAIN {
        data[..full].par_chunks_mut(16).for_each(|b| normal_fill_16(b, mean, std));
    } else {
        data[..full].chunks_mut(16).for_each(|b| normal_fill_16(b, mean, std));
    }
    if n % 16 != 0 {
        normal_fill_16(&mut tail, mean, std);
        data[n - 16..].copy_from_slice(&tail);
    }
})
}

impl Tensor {
    /// `uniform_(from, to)`: values on [from, to), drawn with the dtype's mantissa bits.
    pub fn uniform_(&self, from: f64, to: f64, g: &Generator) -> Result<()> {
        let d = self.dtype();
        check_float(d, "check_uniform_bounds")?;
        check_bound(from, "from", d)?;
        check_bound(to, "to", d)?;
        if !(from <= to) {
            bail!(Runtime, "uniform_ expects to return a [from, to) range, but found from={} > to={}", cpp_double(from), cpp_double(to));
        }
        if !(to - from <= limits(d).1) {
            bail!(
                Runtime,
                "uniform_ expects to-from <= std::numeric_limits<{}>::max(), but found to={} and from={} which result in to-from to exceed the limit",
                title(d),
                cpp_double(to),
                cpp_double(from)
            );
        }
        check_no_internal_overlap(self)?;
        if self.is_cuda() {
            let (from, to) = if d == DType::F64 { (from, to) } else { (round_to(d, from), round_to(d, to)) };
            return on_device(self, Draw::uniform(d, from, to), g);
        }
        let mut s = g.lock()?;
        if d == DType::F64 {
            return fill_from_uniform_f64::<f64>(self, &mut s, |u| u * (to - from) + from);
        }
        let bits = digits(d);
        let (lo, hi) = (round_to(d, from) as f32, round_to(d, to) as f32);
        let mut u = [0f32; 1024];
        with_dtype!(d, T => write_contiguous::<T>(self, |out| {
            for chunk in out.chunks_mut(u.len()) {
                let u = &mut u[..chunk.len()];
                s.fill_uniform_f32(bits, u);
                for (o, &x) in chunk.iter_mut().zip(u.iter()) {
                    *o = T::from_f64((x * (hi - lo) + lo) as f64);
                }
            }
        }))
    }

    /// `normal_(mean, std)`.
    pub fn normal_(&self, mean: f64, std: f64, g: &Generator) -> Result<()> {
        if !(std >= 0.0) {
            bail!(Runtime, "normal expects std >= 0.0, but found std {}", cpp_double(std));
        }
        let d = self.dtype();
        check_float(d, "normal_kernel_cpu")?;
        check_no_internal_overlap(self)?;
        if self.is_cuda() {
            return on_device(self, Draw::normal(mean, std), g);
        }
        let mut s = g.lock()?;
        if self.numel() >= 16 {
            let (mean, std) = (round_to(d, mean), round_to(d, std));
            return match d {
                DType::F64 => write_contiguous::<f64>(self, |out| normal_fill(out, &mut s, mean, std)),
                DType::F32 => write_contiguous::<f32>(self, |out| normal_fill(out, &mut s, mean, std)),
                // Reduced types: generated in float32 and rounded (their own 11 or 8 uniform
                // bits would cap |x| near 3.9).
                _ => {
                    let mut f = vec![0f32; self.numel()];
                    normal_fill(&mut f, &mut s, mean, std);
                    with_dtype!(d, T => write_contiguous::<T>(self, |out| {
                        out.iter_mut().zip(&f).for_each(|(o, &x)| *o = T::from_f64(x as f64))
                    }))
                }
            };
        }
        // Small tensors draw one `normal_distribution<double>` sample at a time.
        with_dtype!(d, T => fill_with::<T>(self, || T::from_f64(s.normal_f64() * std + mean)))
    }

    /// `random_(from, to)`: integers on [from, to); `to = None` means up to the dtype's maximum
    /// (2^digits for floats), and `from = i64::MIN, to = None` the whole 64-bit range.
    pub fn random_(&self, from: i64, to: Option<i64>, g: &Generator) -> Result<()> {
        let d = self.dtype();
        check_no_internal_overlap(self)?;
        let (range, base) = match to {
            Some(to) => {
                if from >= to {
                    bail!(Runtime, "random_ expects 'from' to be less than 'to', but got from={} >= to={}", from, to);
                }
                let (from, to) = if d.is_float() { (update_from(d, from), update_to(d, to)) } else { (from, to) };
                if from >= to {
                    bail!(Runtime, "random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, but got from={} >= to={}", from, to);
                }
                check_from_to_in_range(from, to - 1, d)?;
                ((to as u64).wrapping_sub(from as u64), from)
            }
            None if from != i64::MIN => {
                let (from, to_inc) = if d.is_float() {
                    let to_inc = if digits(d) >= 63 { i64::MAX } else { 1i64 << digits(d) };
                    let from = update_from(d, from);
                    if from >= to_inc {
                        bail!(Runtime, "random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' casted to dtype, but got from={} > to_inc={}", from, to_inc);
                    }
                    (from, to_inc)
                } else {
                    (from, int_limits(d).1)
                };
                check_from_to_in_range(from, to_inc, d)?;
                ((to_inc as u64).wrapping_sub(from as u64).wrapping_add(1), from)
            }
            None => {
                if !matches!(d, DType::I64 | DType::F64 | DType::F32 | DType::BF16) {
                    bail!(Runtime, "random_full_64_bits_range_kernel_cpu handles only int64, double, float and bfloat16");
                }
                if self.is_cuda() {
                    return on_device(self, Draw::random(0, 0), g);
                }
                let mut s = g.lock()?;
                return with_dtype!(d, T => fill_with::<T>(self, || T::from_i64(s.random64() as i64)));
            }
        };
        if self.is_cuda() {
            return on_device(self, Draw::random(range, base), g);
        }
        let pick = move |v: u64| v.checked_rem(range).unwrap_or(v).wrapping_add(base as u64) as i64;
        let mut s = g.lock()?;
        // 64-bit draws only when the range needs them, as PyTorch's uniform_int_from_to does.
        if matches!(d, DType::I64 | DType::F64 | DType::F32 | DType::BF16) && range >= 1 << 32 {
            return with_dtype!(d, T => fill_with::<T>(self, || T::from_i64(pick(s.random64()))));
        }
        with_dtype!(d, T => fill_from_random::<T>(self, &mut s, |r| T::from_i64(pick(r as u64))))
    }

    /// `random_()`: integers on [0, max] for integer dtypes, [0, 2^digits] for floats, and
    /// {False, True} for bool.
    pub fn random_default_(&self, g: &Generator) -> Result<()> {
        let d = self.dtype();
        check_no_internal_overlap(self)?;
        let modulus = match d {
            DType::Bool => 2,
            _ if d.is_float() => (1u64 << digits(d)) + 1,
            _ => int_limits(d).1 as u64 + 1,
        };
        if self.is_cuda() {
            return on_device(self, Draw::random(modulus, 0), g);
        }
        let mut s = g.lock()?;
        if d == DType::Bool {
            return fill_with::<bool>(self, || s.random() & 1 == 1);
        }
        let wide = matches!(d, DType::I64 | DType::F64);
        with_dtype!(d, T => fill_with::<T>(self, || {
            let v = if wide { s.random64() } else { s.random() as u64 };
            T::from_i64((v % modulus) as i64)
        }))
    }

    /// `bernoulli_(p)` with a float probability: ones with probability `p`.
    pub fn bernoulli_scalar_(&self, p: f64, g: &Generator) -> Result<()> {
        if !(0.0..=1.0).contains(&p) {
            bail!(Runtime, "bernoulli_ expects p to be in [0, 1], but got p={}", cpp_double(p));
        }
        check_no_internal_overlap(self)?;
        if self.is_cuda() {
            return on_device(self, Draw::bernoulli(p), g);
        }
        let mut s = g.lock()?;
        with_dtype!(self.dtype(), T => fill_from_uniform_f64::<T>(self, &mut s, |u| T::from_bool(u < p)))
    }

    /// Dropout's scale in place: `1 / keep` with probability `keep`, else zero (one launch on a
    /// GPU; on the CPU `bernoulli_(keep)` divided by `keep`, as PyTorch's `_dropout_impl`).
    pub fn dropout_scale_(&self, keep: f64, g: &Generator) -> Result<()> {
        if !(keep > 0.0 && keep <= 1.0) {
            bail!(Runtime, "dropout probability has to be between 0 and 1, but got {}", cpp_double(1.0 - keep));
        }
        if self.is_cuda() {
            check_no_internal_overlap(self)?;
            return on_device(self, Draw::bernoulli_scaled(keep, 1.0 / keep), g);
        }
        self.bernoulli_scalar_(keep, g)?;
        self.binary_(crate::ops::binary::BinaryOp::Div, &crate::ops::binary::Operand::Scalar(crate::dtype::Scalar::Float(keep)))
    }

    /// `bernoulli_(p)` with a tensor of probabilities broadcast to `self`.
    pub fn bernoulli_tensor_(&self, p: &Tensor, g: &Generator) -> Result<()> {
        check_float(p.dtype(), "bernoulli_tensor_cpu_p_")?;
        check_no_internal_overlap(self)?;
        let sizes: Vec<i64> = self.shape().iter().map(|&s| s as i64).collect();
        // On the host: `p`'s own elements for a CUDA target (not a broadcast copy), every
        // element's probability for a CPU one.
        let host = if self.is_cuda() { p.clone() } else { p.expand(&sizes)? };
        let probs = host.to_device(crate::device::Device::Cpu)?.to_dtype_copy(DType::F64)?.to_vec::<f64>()?;
        if probs.iter().any(|p| !(0.0..=1.0).contains(p)) {
            bail!(Runtime, "Expected p_in >= 0 && p_in <= 1 to be true, but got false.");
        }
        if self.is_cuda() {
            // Uniforms drawn on the device, compared with the probabilities there.
            let u = Tensor::uninit_on(self.shape(), DType::F64, self.device())?;
            on_device(&u, Draw::uniform(DType::F64, 0.0, 1.0), g)?;
            let p = p.to_device(self.device())?.expand(&sizes)?;
            return self.copy_from(&u.binary(crate::ops::binary::BinaryOp::Lt, &crate::ops::binary::Operand::Tensor(p))?);
        }
        // Double probabilities compare against 53-bit uniforms, the others against float ones.
        let double = p.dtype() == DType::F64;
        let mut s = g.lock()?;
        let mut it = probs.iter();
        with_dtype!(self.dtype(), T => fill_with::<T>(self, || {
            let p = *it.next().unwrap_or(&0.0);
            T::from_bool(if double { s.uniform_f64() < p } else { s.uniform_f32(24) < p as f32 })
        }))
    }

    /// `exponential_(lambd)`: `-log(1 - u) / lambd`.
    pub fn exponential_(&self, lambd: f64, g: &Generator) -> Result<()> {
        let d = self.dtype();
        if !d.is_float() {
            bail!(
                Runtime,
                "Exponential distribution is a continuous probability distribution. dtype must be a floating point but you specified {}",
                title(d)
            );
        }
        if !(lambd > 0.0) {
            bail!(Runtime, "exponential_ expects lambda > 0.0, but found lambda={}", cpp_double(lambd));
        }
        check_no_internal_overlap(self)?;
        if self.is_cuda() {
            return on_device(self, Draw::exponential(lambd), g);
        }
        let mut s = g.lock()?;
        with_dtype!(d, T => fill_from_uniform_f64::<T>(self, &mut s, |u| T::from_f64(-1.0 / lambd * (-u).ln_1p())))
    }

    /// `geometric_(p)`: the number of Bernoulli(p) trials up to the first success.
    pub fn geometric_(&self, p: f64, g: &Generator) -> Result<()> {
        if !(p > 0.0 && p < 1.0) {
            bail!(Runtime, "geometric_ expects p to be in (0, 1), but got p={}", cpp_double(p));
        }
        let d = self.dtype();
        if d == DType::Bool {
            bail!(Runtime, "\"geometric_cpu\" not implemented for 'Bool'");
        }
        check_no_internal_overlap(self)?;
        if self.is_cuda() {
            return on_device(self, Draw::geometric(p), g);
        }
        let log_q = (-p).ln_1p();
        let mut s = g.lock()?;
        with_dtype!(d, T => fill_from_uniform_f64::<T>(self, &mut s, |u| T::from_f64((u.ln() / log_q).ceil())))
    }

    /// `log_normal_(mean, std)`: `exp` of a normal sample.
    pub fn log_normal_(&self, mean: f64, std: f64, g: &Generator) -> Result<()> {
        if !(std > 0.0) {
            bail!(Runtime, "log_normal_ expects std > 0.0, but found std={}", cpp_double(std));
        }
        let d = self.dtype();
        check_float(d, "log_normal_cpu")?;
        check_no_internal_overlap(self)?;
        if self.is_cuda() {
            return on_device(self, Draw::log_normal(mean, std), g);
        }
        let mut s = g.lock()?;
        with_dtype!(d, T => fill_with::<T>(self, || T::from_f64((s.normal_f64() * std + mean).exp())))
    }

    /// `cauchy_(median, sigma)`: `median + sigma * tan(pi * (u - 1/2))`.
    pub fn cauchy_(&self, median: f64, sigma: f64, g: &Generator) -> Result<()> {
        if !(sigma > 0.0) {
            bail!(Runtime, "cauchy_ expects sigma > 0.0, but found sigma={}", cpp_double(sigma));
        }
        let d = self.dtype();
        check_float(d, "cauchy_cpu")?;
        check_no_internal_overlap(self)?;
        if self.is_cuda() {
            return on_device(self, Draw::cauchy(median, sigma), g);
        }
        let mut s = g.lock()?;
        with_dtype!(d, T => fill_from_uniform_f64::<T>(self, &mut s, |u| {
            T::from_f64(median + sigma * (std::f64::consts::PI * (u - 0.5)).tan())
        }))
    }
}
