//! Random fills and Poisson samples of CUDA tensors: one launch of random.cu each, drawing from
//! the device generator's Philox stream (ops/random/philox.rs) at the generator's next offset,
//! or inside a CUDA graph capture at the offset each replay supplies (graphs.rs).

use super::dispatch::{address, index_of, launch, threads_for};
use super::kernels::suffix;
use crate::error::Result;
use crate::ops::random::philox::Draw;
use crate::ops::random::{Generator, PhiloxDraw};
use crate::tensor::Tensor;

// SAFETY: `Draw` is `#[repr(C)]` plain data matching philox.cu's `RandomDraw`.
unsafe impl cudarc::driver::DeviceRepr for Draw {}

/// Writes `draw`'s values into `t` (a CUDA tensor) from the CUDA generator `g`: straight into
/// `t` when it is dense, else into a dense scratch copied into `t`.
pub fn fill(t: &Tensor, draw: Draw, g: &Generator) -> Result<()> {
    let n = t.numel();
    if n == 0 {
        return Ok(());
    }
    let PhiloxDraw { seed, offset, state } = g.philox_draw()?;
    let scratch = if t.is_contiguous() { None } else { Some(Tensor::uninit_on(t.shape(), t.dtype(), t.device())?) };
    let target = scratch.as_ref().unwrap_or(t);
    let (count, out) = (n as i64, address(target, target.offset()));
    let blocks = n.div_ceil(draw.per as usize);
    launch!(index_of(t)?, format!("random_{}", suffix(t.dtype())), threads_for(blocks); &count, &out, &seed, &offset, &state, &draw)?;
    match scratch {
        Some(s) => t.copy_from(&s),
        None => {
            t.bump_version();
            Ok(())
        }
    }
}

/// A Poisson sample per rate of the CUDA tensor `rates` (a float dtype), from the CUDA generator
/// `g`: one launch, each element drawing as many uniforms as its rejection loop needs. Negative
/// and NaN rates give NaN (the caller checks them first outside captures).
pub fn poisson(rates: &Tensor, g: &Generator) -> Result<Tensor> {
    let rates = rates.contiguous()?;
    let out = Tensor::uninit_on(rates.shape(), rates.dtype(), rates.device())?;
    let n = rates.numel();
    if n == 0 {
        return Ok(out);
    }
    let PhiloxDraw { seed, offset, state } = g.philox_draw()?;
    let (count, r, o) = (n as i64, address(&rates, rates.offset()), address(&out, 0));
    launch!(index_of(&rates)?, format!("random_poisson_{}", suffix(rates.dtype())), threads_for(n); &count, &r, &o, &seed, &offset, &state)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use crate::cuda::kernels::PHILOX;
    use crate::dtype::DType;
    use crate::ops::random::philox::{block, Draw, Kind};

    /// philox.cu, compiled for the host by the system's C++ compiler, computes the same words
    /// and values as the Rust twin for every kind of draw (skipped without a compiler).
    #[test]
    fn philox_source_matches_the_rust_twin_on_the_host() {
        let draws = [
            Draw::uniform(DType::F64, -1.0, 3.0),
            Draw::uniform(DType::F32, 0.0, 1.0),
            Draw::uniform(DType::F16, -2.0, 2.0),
            Draw::uniform(DType::BF16, 1.0, 5.0),
            Draw::normal(0.5, 2.0),
            Draw::log_normal(0.0, 0.5),
            Draw::bernoulli(0.3),
            Draw::bernoulli_scaled(0.75, 4.0 / 3.0),
            Draw::exponential(1.5),
            Draw::geometric(0.2),
            Draw::cauchy(1.0, 0.5),
            Draw::random(10, -5),
            Draw::random(1 << 40, 3),
            Draw::random(0, 0),
        ];
        let seeds = [(0u64, 0u64), (67_280_421_310_721, 5), (u64::MAX, u64::MAX - 1)];
        let mut cases = String::new();
        let mut expected = Vec::new();
        for d in &draws {
            for &(seed, offset) in &seeds {
                for b in [0u64, 1, 77, 1 << 33] {
                    let w = block(seed, offset, b);
                    for k in 0..d.per as usize {
                        let _ = writeln!(
                            cases,
                            "{{{}, {}, {}, {}, {}, {}ull, {}ll, {}ull, {}ull, {}ull, {}}},",
                            d.kind as i32, d.per, d.bits, fmt(d.a), fmt(d.b), d.range, d.base, seed, offset, b, k
                        );
                        let bits = if d.kind == Kind::Random { d.int(&w, k) as u64 } else { d.real(&w, k).to_bits() };
                        // Only the transcendental transforms may differ (in libm's last bit).
                        let exact = matches!(d.kind, Kind::Random | Kind::Uniform | Kind::Bernoulli);
                        expected.push((w, bits, exact));
                    }
                }
            }
        }
        let source = format!(
            "#include <math.h>\n#include <stdio.h>\n#include <string.h>\n#define __device__\n#define __forceinline__ inline\n\
             typedef unsigned long long u64;\n\
             static inline unsigned __umulhi(unsigned a, unsigned b) {{ return (unsigned)(((u64)a * b) >> 32); }}\n\
             {PHILOX}\n\
             struct Case {{ int kind, per, bits; double a, b; u64 range; long long base; u64 seed, offset, block; int k; }};\n\
             static const Case cases[] = {{\n{cases}}};\n\
             int main() {{\n\
               for (const Case& c : cases) {{\n\
                 RandomDraw d = {{c.kind, c.per, c.bits, 0, c.a, c.b, c.range, c.base}};\n\
                 u32 w[4];\n\
                 philox_block(c.seed, c.offset, c.block, w);\n\
                 u64 bits;\n\
                 if (c.kind == FT_DRAW_RANDOM) {{ bits = (u64)random_int(d, w, c.k); }} else {{ double v = random_real(d, w, c.k); memcpy(&bits, &v, 8); }}\n\
                 printf(\"%u %u %u %u %llu\\n\", w[0], w[1], w[2], w[3], bits);\n\
               }}\n\
             }}\n"
        );
        let dir = std::env::temp_dir().join(format!("ferrotorch-philox-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (src, exe) = (dir.join("philox.cpp"), dir.join("philox"));
        std::fs::write(&src, source).unwrap();
        let compiled = std::process::Command::new("c++").arg("-O1").arg("-o").arg(&exe).arg(&src).output();
        let Ok(compiled) = compiled else {
            eprintln!("no C++ compiler: philox.cu not checked on the host");
            return;
        };
        assert!(compiled.status.success(), "{}", String::from_utf8_lossy(&compiled.stderr));
        let run = std::process::Command::new(&exe).output().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let lines: Vec<String> = String::from_utf8(run.stdout).unwrap().lines().map(String::from).collect();
        assert_eq!(lines.len(), expected.len());
        for (i, (line, (w, bits, exact))) in lines.iter().zip(&expected).enumerate() {
            let got: Vec<u64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
            assert_eq!(got[..4], w.map(|x| x as u64), "case {i}: words");
            if *exact || got[4] == *bits {
                assert_eq!(got[4], *bits, "case {i}: value");
            } else {
                let (a, b) = (f64::from_bits(got[4]), f64::from_bits(*bits));
                assert!((a - b).abs() <= 1e-14 * a.abs().max(1.0) || (a.is_nan() && b.is_nan()), "case {i}: {a} vs {b}");
            }
        }
    }

    /// A double as a C literal that reads back exactly.
    fn fmt(x: f64) -> String {
        format!("{x:e}")
    }
}
