//! The CPU random engine: PyTorch's `CPUGeneratorImpl`, a 32-bit Mersenne Twister (mt19937)
//! plus the cached second normal sample of Box-Muller, with PyTorch's byte layout for
//! `get_state`/`set_state`. Seeding and draws follow PyTorch, so a seed gives its streams.

use crate::error::Result;

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// PyTorch's `default_rng_seed_val`: the seed of a fresh generator.
pub const DEFAULT_SEED: u64 = 67_280_421_310_721;

/// Bytes of PyTorch's `CPUGeneratorImplStateLegacy` (seed, left, seeded, next, 624 u64 words,
/// three doubles, a validity int, padding).
pub const LEGACY_STATE_SIZE: usize = 5048;
/// Bytes of PyTorch's `CPUGeneratorImplState`: the legacy block plus the cached float normal.
pub const STATE_SIZE: usize = 5056;

/// The mt19937 engine with PyTorch's bookkeeping (`left`, `next`).
#[derive(Clone)]
pub struct Mt19937 {
    state: [u32; N],
    left: i32,
    next: u32,
}

impl Mt19937 {
    /// The standard `init_genrand` seeding from the low 32 bits of `seed`.
    pub fn new(seed: u64) -> Self {
        let mut state = [0u32; N];
        state[0] = seed as u32;
        for j in 1..N {
            let prev = state[j - 1];
            state[j] = 1_812_433_253u32.wrapping_mul(prev ^ (prev >> 30)).wrapping_add(j as u32);
        }
        Mt19937 { state, left: 1, next: 0 }
    }

    #[inline]
    fn twist(u: u32, v: u32) -> u32 {
        (((u & UPPER_MASK) | (v & LOWER_MASK)) >> 1) ^ if v & 1 != 0 { MATRIX_A } else { 0 }
    }

    fn next_state(&mut self) {
        let s = &mut self.state;
        for j in 0..N - M {
            s[j] = s[j + M] ^ Self::twist(s[j], s[j + 1]);
        }
        for j in N - M..N - 1 {
            s[j] = s[j + M - N] ^ Self::twist(s[j], s[j + 1]);
        }
        s[N - 1] = s[M - 1] ^ Self::twist(s[N - 1], s[0]);
        self.left = N as i32;
        self.next = 0;
    }

    #[inline]
    fn temper(mut y: u32) -> u32 {
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// The next tempered 32-bit output.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        self.left -= 1;
        // `next` can only run off the end in a hand-made state; regenerating keeps us in bounds.
        if self.left <= 0 || self.next as usize >= N {
            self.next_state();
        }
        let y = self.state[self.next as usize];
        self.next += 1;
        Self::temper(y)
    }

    /// Fills `out` with the next outputs: the same values as repeated `next_u32`, tempered a
    /// block at a time.
    pub fn fill_u32(&mut self, out: &mut [u32]) {
        let mut i = 0;
        while i < out.len() {
            let next = self.next as usize;
            if self.left <= 1 || next >= N {
                out[i] = self.next_u32();
                i += 1;
                continue;
            }
            // `left - 1` draws come before the one that regenerates the block.
            let k = ((self.left - 1) as usize).min(N - next).min(out.len() - i);
            for (o, &y) in out[i..i + k].iter_mut().zip(&self.state[next..next + k]) {
                *o = Self::temper(y);
            }
            self.next += k as u32;
            self.left -= k as i32;
            i += k;
        }
    }
}

/// Draws per batch of the bulk fills: small enough for the stack and the L1 cache.
const BATCH: usize = 1024;

/// Everything a generator carries: engine, initial seed and the cached normal samples.
#[derive(Clone)]
pub struct GeneratorState {
    seed: u64,
    engine: Mt19937,
    /// The `r * sin(theta)` half of the last scalar Box-Muller pair (`normal_distribution<double>`).
    pub next_double_normal: Option<f64>,
    /// The same for `normal_distribution<float>`; kept only to round-trip states.
    pub next_float_normal: Option<f32>,
}

impl Default for GeneratorState {
    fn default() -> Self {
        Self::new(DEFAULT_SEED)
    }
}

impl GeneratorState {
    pub fn new(seed: u64) -> Self {
        GeneratorState { seed, engine: Mt19937::new(seed), next_double_normal: None, next_float_normal: None }
    }

    /// `manual_seed`: restarts the engine and forgets cached normals.
    pub fn set_seed(&mut self, seed: u64) {
        *self = Self::new(seed);
    }

    /// The seed the engine was last started from.
    pub fn initial_seed(&self) -> u64 {
        self.seed
    }

    /// `random()`: 32 random bits.
    #[inline]
    pub fn random(&mut self) -> u32 {
        self.engine.next_u32()
    }

    /// Fills `out` with successive `random()` draws.
    pub fn fill_random(&mut self, out: &mut [u32]) {
        self.engine.fill_u32(out);
    }

    /// `random64()`: two draws, the first one high.
    #[inline]
    pub fn random64(&mut self) -> u64 {
        let hi = self.random() as u64;
        let lo = self.random() as u64;
        (hi << 32) | lo
    }

    /// `uniform_real_distribution<double>(0, 1)`: 53 random bits scaled into [0, 1).
    #[inline]
    pub fn uniform_f64(&mut self) -> f64 {
        (self.random64() & ((1u64 << 53) - 1)) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `uniform_real_distribution<T>(0, 1)` for a type with `digits` mantissa bits (24 for
    /// float, 11 for half, 8 for bfloat16), computed in float as PyTorch does.
    #[inline]
    pub fn uniform_f32(&mut self, digits: u32) -> f32 {
        (self.random() & ((1u32 << digits) - 1)) as f32 * (1.0 / (1u32 << digits) as f32)
    }

    /// Fills `out` with `uniform_f64` values, drawing in batches.
    pub fn fill_uniform_f64(&mut self, out: &mut [f64]) {
        let mut bits = [0u32; 2 * BATCH];
        for chunk in out.chunks_mut(BATCH) {
            let bits = &mut bits[..2 * chunk.len()];
            self.engine.fill_u32(bits);
            for (o, pair) in chunk.iter_mut().zip(bits.chunks_exact(2)) {
                let v = ((pair[0] as u64) << 32) | pair[1] as u64;
                *o = (v & ((1u64 << 53) - 1)) as f64 * (1.0 / (1u64 << 53) as f64);
            }
        }
    }

    /// Fills `out` with `uniform_f32(digits)` values, drawing in batches.
    pub fn fill_uniform_f32(&mut self, digits: u32, out: &mut [f32]) {
        let mut bits = [0u32; BATCH];
        let (mask, scale) = ((1u32 << digits) - 1, 1.0 / (1u32 << digits) as f32);
        for chunk in out.chunks_mut(BATCH) {
            let bits = &mut bits[..chunk.len()];
            self.engine.fill_u32(bits);
            for (o, &b) in chunk.iter_mut().zip(bits.iter()) {
                *o = (b & mask) as f32 * scale;
            }
        }
    }

    /// One standard normal the way `normal_distribution<double>` draws it: Box-Muller on two
    /// uniforms, returning the cosine half and caching the sine half for the next call.
    pub fn normal_f64(&mut self) -> f64 {
        if let Some(v) = self.next_double_normal.take() {
            return v;
        }
        let u1 = self.uniform_f64();
        let u2 = self.uniform_f64();
        let r = (-2.0 * (-u2).ln_1p()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u1;
        self.next_double_normal = Some(r * theta.sin());
        r * theta.cos()
    }

    /// The state as PyTorch's `CPUGeneratorImplState` bytes (`torch.get_rng_state()`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(STATE_SIZE);
        b.extend_from_slice(&self.seed.to_le_bytes());
        b.extend_from_slice(&self.engine.left.to_le_bytes());
        b.extend_from_slice(&1i32.to_le_bytes()); // seeded
        b.extend_from_slice(&(self.engine.next as u64).to_le_bytes());
        for w in &self.engine.state {
            b.extend_from_slice(&(*w as u64).to_le_bytes());
        }
        // normal_x and normal_rho are unused; normal_y holds the cached sample.
        b.extend_from_slice(&0f64.to_le_bytes());
        b.extend_from_slice(&self.next_double_normal.unwrap_or(0.0).to_le_bytes());
        b.extend_from_slice(&0f64.to_le_bytes());
        b.extend_from_slice(&(self.next_double_normal.is_some() as i32).to_le_bytes());
        b.extend_from_slice(&[0u8; 4]);
        b.extend_from_slice(&self.next_float_normal.unwrap_or(0.0).to_le_bytes());
        b.push(self.next_float_normal.is_some() as u8);
        b.extend_from_slice(&[0u8; 3]);
        debug_assert_eq!(b.len(), STATE_SIZE);
        b
    }

    /// Reads a state written by [`Self::to_bytes`] or PyTorch's legacy layout, validating it.
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        if b.len() != STATE_SIZE && b.len() != LEGACY_STATE_SIZE {
            crate::bail!(
                Runtime,
                "Expected either a CPUGeneratorImplStateLegacy of size {} or a CPUGeneratorImplState of size {} but found the input RNG state size to be {}",
                LEGACY_STATE_SIZE,
                STATE_SIZE,
                b.len()
            );
        }
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        let i32_at = |o: usize| i32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"));
        let f64_at = |o: usize| f64::from_bits(u64_at(o));
        let seed = u64_at(0);
        let left = i32_at(8);
        let seeded = i32_at(12) != 0;
        let next = u64_at(16) as u32;
        let mut state = [0u32; N];
        for (j, w) in state.iter_mut().enumerate() {
            *w = u64_at(24 + 8 * j) as u32;
        }
        let words_end = 24 + 8 * N;
        let (normal_x, normal_y, normal_rho) = (f64_at(words_end), f64_at(words_end + 8), f64_at(words_end + 16));
        let normal_valid = i32_at(words_end + 24) != 0;
        if !(seeded && left > 0 && left <= N as i32 && next as usize <= N) {
            crate::bail!(Runtime, "Invalid mt19937 state");
        }
        let (next_double_normal, next_float_normal) = if b.len() == LEGACY_STATE_SIZE {
            // The legacy layout kept the polar form; the cached sample is its sine half.
            let legacy = normal_rho * (2.0 * std::f64::consts::PI * normal_x).sin();
            (normal_valid.then_some(legacy), None)
        } else {
            let f = f32::from_le_bytes(b[LEGACY_STATE_SIZE..LEGACY_STATE_SIZE + 4].try_into().expect("4 bytes"));
            (normal_valid.then_some(normal_y), (b[LEGACY_STATE_SIZE + 4] != 0).then_some(f))
        };
        Ok(GeneratorState { seed, engine: Mt19937 { state, left, next }, next_double_normal, next_float_normal })
    }
}

/// 64 bits from the operating system, for `seed()`.
pub fn nondeterministic_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::io::Read;
    let mut buf = [0u8; 8];
    if std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf)).is_ok() {
        return u64::from_le_bytes(buf);
    }
    // No /dev/urandom: the standard library's per-process random hash keys, mixed with time.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    h.write_u128(now);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_mt19937_stream() {
        // std::mt19937(5489): the 10000th output is 4123659995 (C++ standard, [rand.predef]).
        let mut e = Mt19937::new(5489);
        let mut last = 0;
        for _ in 0..10000 {
            last = e.next_u32();
        }
        assert_eq!(last, 4_123_659_995);
        let mut e = Mt19937::new(0);
        assert_eq!([e.next_u32(), e.next_u32()], [2_357_136_044, 2_546_248_239]);
    }

    #[test]
    fn bulk_draws_continue_the_scalar_stream() {
        let mut a = GeneratorState::new(3);
        let mut b = a.clone();
        a.random();
        b.random();
        let mut bulk = vec![0.0; 3000];
        a.fill_uniform_f64(&mut bulk);
        let scalar: Vec<f64> = (0..3000).map(|_| b.uniform_f64()).collect();
        assert_eq!(bulk, scalar);
        let mut bulk = vec![0.0f32; 1500];
        a.fill_uniform_f32(24, &mut bulk);
        let scalar: Vec<f32> = (0..1500).map(|_| b.uniform_f32(24)).collect();
        assert_eq!(bulk, scalar);
        assert_eq!(a.random(), b.random());
    }

    #[test]
    fn state_bytes_round_trip() {
        let mut g = GeneratorState::new(42);
        g.normal_f64();
        let bytes = g.to_bytes();
        assert_eq!(bytes.len(), STATE_SIZE);
        let mut h = GeneratorState::from_bytes(&bytes).unwrap();
        assert_eq!(h.initial_seed(), 42);
        assert_eq!(h.normal_f64(), g.normal_f64());
        assert_eq!(h.random(), g.random());
    }

    #[test]
    fn invalid_states_are_rejected() {
        let mut bytes = GeneratorState::new(1).to_bytes();
        bytes[8..12].copy_from_slice(&0i32.to_le_bytes());
        assert!(GeneratorState::from_bytes(&bytes).is_err());
        assert!(GeneratorState::from_bytes(&bytes[..100]).is_err());
    }
}
