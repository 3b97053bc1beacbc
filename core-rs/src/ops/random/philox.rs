//! The device generator: PyTorch's CUDA generator keeps a seed and an offset and draws with
//! Philox4x32-10, a counter-based engine. Here block `g` of a draw is
//! `philox(counter = (g, offset), key = seed)` and every draw (one kernel launch) takes the next
//! offset, so values depend on the seed and the draw's place in the stream, never on the launch
//! shape. `Draw` describes one launch for random.cu; its transforms live in philox.cu, and the
//! twins below (`Draw::real`, `Draw::int`) are the reference the CUDA source is tested against.

use crate::dtype::DType;
use crate::error::Result;
use crate::bail;

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Ten rounds of Philox4x32 (Salmon et al., SC'11) on counter `ctr` with key `key`.
pub fn philox4x32_10(mut ctr: [u32; 4], mut key: [u32; 2]) -> [u32; 4] {
    for round in 0..10 {
        if round > 0 {
            key[0] = key[0].wrapping_add(W0);
            key[1] = key[1].wrapping_add(W1);
        }
        let p0 = M0 as u64 * ctr[0] as u64;
        let p1 = M1 as u64 * ctr[2] as u64;
        ctr = [(p1 >> 32) as u32 ^ ctr[1] ^ key[0], p1 as u32, (p0 >> 32) as u32 ^ ctr[3] ^ key[1], p0 as u32];
    }
    ctr
}

/// The four words of block `block` of the draw at `offset` of stream `seed` (philox.cu's
/// `philox_block`).
pub fn block(seed: u64, offset: u64, block: u64) -> [u32; 4] {
    philox4x32_10([block as u32, (block >> 32) as u32, offset as u32, (offset >> 32) as u32], [seed as u32, (seed >> 32) as u32])
}

/// A device generator's state: PyTorch's `CUDAGeneratorImpl` seed and offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhiloxState {
    pub seed: u64,
    pub offset: u64,
}

/// Bytes of `get_state()`: the seed, then the offset, little-endian (PyTorch's layout).
pub const STATE_SIZE: usize = 16;

impl PhiloxState {
    pub fn new(seed: u64) -> Self {
        PhiloxState { seed, offset: 0 }
    }

    /// The offset of the next of `draws` draws, advancing the stream past them.
    pub fn take_offsets(&mut self, draws: u64) -> u64 {
        let at = self.offset;
        self.offset = self.offset.wrapping_add(draws);
        at
    }

    pub fn to_bytes(self) -> Vec<u8> {
        [self.seed.to_le_bytes(), self.offset.to_le_bytes()].concat()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != STATE_SIZE {
            bail!(Runtime, "RNG state is wrong size: expected {} bytes, got {}", STATE_SIZE, bytes.len());
        }
        let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("eight bytes"));
        Ok(PhiloxState { seed: word(0), offset: word(8) })
    }
}

/// The distributions of one launch (philox.cu's `FT_DRAW_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Kind {
    Uniform = 0,
    Normal = 1,
    Bernoulli = 2,
    Exponential = 3,
    Geometric = 4,
    LogNormal = 5,
    Cauchy = 6,
    Random = 7,
}

/// One launch's draw (philox.cu's `RandomDraw`): `per` elements per block of four words.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Draw {
    pub kind: Kind,
    pub per: i32,
    pub bits: i32,
    pad: i32,
    pub a: f64,
    pub b: f64,
    /// `Random`: values on `[base, base + range)`; 0 means all 64 bits.
    pub range: u64,
    pub base: i64,
}

/// 2^-53 and 2^-32.
const U53: f64 = 1.0 / 9_007_199_254_740_992.0;
const U32: f64 = 1.0 / 4_294_967_296.0;

fn u53(hi: u32, lo: u32) -> f64 {
    ((((hi as u64) << 32) | lo as u64) >> 11) as f64 * U53
}

impl Draw {
    fn new(kind: Kind, per: i32, a: f64, b: f64) -> Draw {
        Draw { kind, per, bits: 0, pad: 0, a, b, range: 0, base: 0 }
    }

    /// Uniform on [from, to) for a float `dtype`: 53 bits for float64, else the dtype's mantissa
    /// bits computed in float between the bounds rounded to the dtype (as `uniform_` on the CPU).
    pub fn uniform(dtype: DType, from: f64, to: f64) -> Draw {
        match dtype {
            DType::F64 => Draw::new(Kind::Uniform, 2, from, to),
            _ => Draw { bits: super::fill::digits(dtype) as i32, ..Draw::new(Kind::Uniform, 4, from, to) },
        }
    }

    /// Normal(mean, std) by Box-Muller: a cosine and a sine per block.
    pub fn normal(mean: f64, std: f64) -> Draw {
        Draw::new(Kind::Normal, 2, mean, std)
    }

    /// `exp` of Normal(mean, std).
    pub fn log_normal(mean: f64, std: f64) -> Draw {
        Draw::new(Kind::LogNormal, 2, mean, std)
    }

    /// One with probability `p` (a 32-bit uniform below `p`), else zero.
    pub fn bernoulli(p: f64) -> Draw {
        Draw::bernoulli_scaled(p, 1.0)
    }

    /// `value` with probability `p`, else zero: dropout's scale in one draw.
    pub fn bernoulli_scaled(p: f64, value: f64) -> Draw {
        Draw::new(Kind::Bernoulli, 4, p, value)
    }

    pub fn exponential(lambd: f64) -> Draw {
        Draw::new(Kind::Exponential, 2, lambd, 0.0)
    }

    /// Trials up to the first success of Bernoulli(p).
    pub fn geometric(p: f64) -> Draw {
        Draw::new(Kind::Geometric, 2, (-p).ln_1p(), 0.0)
    }

    pub fn cauchy(median: f64, sigma: f64) -> Draw {
        Draw::new(Kind::Cauchy, 2, median, sigma)
    }

    /// Integers on `[base, base + range)` (`range == 0`: every 64-bit value), one word each when
    /// the range fits 32 bits.
    pub fn random(range: u64, base: i64) -> Draw {
        let per = if range != 0 && range < 1 << 32 { 4 } else { 2 };
        Draw { range, base, ..Draw::new(Kind::Random, per, 0.0, 0.0) }
    }

    /// Element `k` of a block for every kind but `Random` (philox.cu's `random_real`).
    pub fn real(&self, w: &[u32; 4], k: usize) -> f64 {
        let u = |k: usize| u53(w[2 * k], w[2 * k + 1]);
        match self.kind {
            Kind::Uniform if self.per == 4 => {
                let u = (w[k] >> (32 - self.bits)) as f32 * (1.0 / (1u32 << self.bits) as f32);
                (u * (self.b as f32 - self.a as f32) + self.a as f32) as f64
            }
            Kind::Uniform => u(k) * (self.b - self.a) + self.a,
            Kind::Normal | Kind::LogNormal => {
                let radius = (-2.0 * (1.0 - u53(w[0], w[1])).ln()).sqrt();
                let theta = 2.0 * std::f64::consts::PI * u53(w[2], w[3]);
                let x = radius * if k == 0 { theta.cos() } else { theta.sin() } * self.b + self.a;
                if self.kind == Kind::Normal { x } else { x.exp() }
            }
            Kind::Bernoulli => if (w[k] as f64 * U32) < self.a { self.b } else { 0.0 },
            Kind::Exponential => -1.0 / self.a * (-u(k)).ln_1p(),
            Kind::Geometric => (u(k).ln() / self.a).ceil(),
            Kind::Cauchy => self.a + self.b * (std::f64::consts::PI * (u(k) - 0.5)).tan(),
            Kind::Random => f64::NAN,
        }
    }

    /// Element `k` of a `Random` block (philox.cu's `random_int`).
    pub fn int(&self, w: &[u32; 4], k: usize) -> i64 {
        if self.per == 4 {
            return (w[k] % self.range as u32) as i64 + self.base;
        }
        let v = ((w[2 * k] as u64) << 32) | w[2 * k + 1] as u64;
        if self.range == 0 { v as i64 } else { (v % self.range).wrapping_add(self.base as u64) as i64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123's known answers for philox4x32-10 (kat_vectors).
    #[test]
    fn philox_matches_random123_known_answers() {
        assert_eq!(philox4x32_10([0; 4], [0; 2]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
        assert_eq!(philox4x32_10([u32::MAX; 4], [u32::MAX; 2]), [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
        assert_eq!(
            philox4x32_10([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn state_round_trips_and_rejects_bad_sizes() {
        let mut s = PhiloxState::new(42);
        assert_eq!((s.take_offsets(1), s.take_offsets(1), s.offset), (0, 1, 2));
        assert_eq!((s.take_offsets(3), s.offset), (2, 5));
        assert_eq!(PhiloxState::from_bytes(&s.to_bytes()).unwrap(), s);
        assert!(PhiloxState::from_bytes(&[0; 15]).is_err());
    }

    /// Uniform words give the distributions' moments (10^5 draws, five-sigma bounds).
    #[test]
    fn draws_have_their_distributions_moments() {
        let n = 100_000;
        let sample = |d: Draw| -> Vec<f64> {
            let per = d.per as usize;
            (0..n).map(|i| d.real(&block(7, 3, (i / per) as u64), i % per)).collect()
        };
        let moments = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            (m, v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64)
        };
        let (m, var) = moments(&sample(Draw::uniform(DType::F64, 2.0, 4.0)));
        assert!((m - 3.0).abs() < 5.0 * (1.0f64 / 3.0 / n as f64).sqrt() && (var - 1.0 / 3.0).abs() < 0.01);
        let (m, var) = moments(&sample(Draw::normal(1.0, 2.0)));
        assert!((m - 1.0).abs() < 5.0 * 2.0 / (n as f64).sqrt() && (var - 4.0).abs() < 0.1, "{m} {var}");
        let (m, _) = moments(&sample(Draw::exponential(2.0)));
        assert!((m - 0.5).abs() < 0.01);
        let (m, _) = moments(&sample(Draw::bernoulli(0.3)));
        assert!((m - 0.3).abs() < 5.0 * (0.21f64 / n as f64).sqrt());
        let (m, _) = moments(&sample(Draw::geometric(0.25)));
        assert!((m - 4.0).abs() < 0.1);
        let u = sample(Draw::uniform(DType::F32, 0.0, 1.0));
        assert!(u.iter().all(|&x| (0.0..1.0).contains(&x) && (x * 16_777_216.0).fract() == 0.0));
        let d = Draw::random(10, -5);
        let ints: Vec<i64> = (0..n).map(|i| d.int(&block(7, 3, (i / 4) as u64), i % 4)).collect();
        assert!(ints.iter().all(|v| (-5..5).contains(v)));
        assert!((-5..5).all(|v| ints.contains(&v)));
    }
}
