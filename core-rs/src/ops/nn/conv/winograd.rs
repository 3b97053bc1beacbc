//! Winograd F(2x2, 3x3) convolution (Lavin & Gray, 2015) for 2-d, 3x3, stride-1, dilation-1,
//! ungrouped float convolutions of at least 64 channels and 4x4 positions: the forward, the
//! input gradient (a transposed convolution, run as a forward one with the flipped,
//! transposed weight) and the weight gradient.
//!
//! Each 2x2 output tile is `A^T [(G g G^T) . (B^T d B)] A` with `d` the 4x4 input tile and `g`
//! the 3x3 kernel: the 16 products per (tile, in channel, out channel) of the transformed
//! domain replace im2col's 36 multiply-adds. Summed over channels, each of the 16 tile entries
//! `xi` is one matrix product `U[xi] (C_out x C_in) @ V[xi] (C_in x tiles)`, so the work stays
//! in the gemm kernel, 2.25x smaller than im2col's product. Tiles are processed in blocks
//! (whole tile rows) small enough that a block's transforms stay in cache; blocks are split
//! across threads. The weight gradient is the adjoint:
//! `dW = G^T [sum over tiles (A dY A^T) . (B^T d B)] G`, again 16 products per block.
//!
//! F(2x2, 3x3)'s transforms only use +-1 and 1/2, so float32 results stay within a few ulps of
//! the direct sum (larger tiles, F(4x4, 3x3), lose about a digit).

use crate::cpu::gemm::{product as gemm, GemmElement};
use crate::cpu::im2col::Window;
use crate::cpu::iter::SendPtr;
use crate::cpu::real::Real;

use super::kernel::{mat, over_batch, work, Operand};

/// Tiles per block: the block's transformed input and product (`16 * (C_in + C_out)` values
/// per tile) should fit in a core's L2 cache; bounded so the products stay large enough for
/// the gemm kernel.
fn block_tiles(channels: usize, size: usize) -> usize {
    const CACHE: usize = 768 * 1024;
    (CACHE / (16 * channels.max(1) * size)).clamp(32, 512)
}

/// Fewest channels on each side, and fewest positions along each dim of the image and the
/// output, for the Winograd path. Measured on one thread against im2col + gemm: with 32
/// channels or fewer the transforms (per channel and tile) outweigh the smaller products (3
/// input channels: 3-4x slower), and a 1x1 output fills a quarter of its tile (2-4x slower
/// at 512 channels); from 64 channels and 4x4 outputs it was as fast or up to 1.5x faster.
const MIN_CHANNELS: usize = 64;
/// See `MIN_CHANNELS`.
const MIN_SIDE: usize = 4;

/// Whether a convolution over `win` with `groups` and `channels` (in, out) runs here: 2-d,
/// 3x3, stride 1, dilation 1, one group, large enough (`MIN_CHANNELS`, `MIN_SIDE`). A
/// transposed one (the input gradient) also needs padding at most 2 (its equivalent forward
/// convolution pads by `2 - padding`).
pub(super) fn applies(win: &Window, groups: usize, transposed: bool, channels: [usize; 2]) -> bool {
    win.dims == 2
        && win.kernel == [1, 3, 3]
        && win.stride == [1; 3]
        && win.dilation == [1; 3]
        && groups == 1
        && channels.iter().all(|&c| c >= MIN_CHANNELS)
        && win.image[1..].iter().chain(&win.blocks[1..]).all(|&s| s >= MIN_SIDE)
        && (!transposed || win.padding.iter().all(|&p| p <= 2))
}

/// Element types the transforms are written in.
pub(super) trait Wino: GemmElement + Real + Default + Send + Sync + 'static {}
impl Wino for f32 {}
impl Wino for f64 {}

/// The geometry of one stride-1 3x3 convolution: `input` planes of `in_hw`, read with
/// `pad` zeros before the first row/column, giving `out_hw` outputs (any zeros past the
/// input's end are implicit).
#[derive(Clone, Copy)]
struct Geometry {
    in_hw: [usize; 2],
    pad: [usize; 2],
    out_hw: [usize; 2],
    /// Tiles per column and row: `ceil(out / 2)`.
    tiles: [usize; 2],
}

impl Geometry {
    fn new(in_hw: [usize; 2], pad: [usize; 2], out_hw: [usize; 2]) -> Geometry {
        Geometry { in_hw, pad, out_hw, tiles: [out_hw[0].div_ceil(2), out_hw[1].div_ceil(2)] }
    }

    /// Tile rows of `n` samples, and tile rows per block for `channels` transformed channels.
    fn rows(&self, n: usize, channels: usize, size: usize) -> (usize, usize) {
        (n * self.tiles[0], (block_tiles(channels, size) / self.tiles[1]).max(1))
    }
}

/// `G v`: one 3-vector of the kernel to 4 transformed values.
#[inline(always)]
fn g4<T: Real>(v: [T; 3], half: T) -> [T; 4] {
    [v[0], half * (v[0] + v[1] + v[2]), half * (v[0] - v[1] + v[2]), v[2]]
}

/// `G^T v`: the adjoint of `g4`.
#[inline(always)]
fn gt3<T: Real>(v: [T; 4], half: T) -> [T; 3] {
    [v[0] + half * (v[1] + v[2]), half * (v[1] - v[2]), half * (v[1] + v[2]) + v[3]]
}

/// The transformed weights `U[xi][o][i] = (G g G^T)[xi]` (`16 x c_out x c_in`) of a contiguous
/// `(c_out, c_in, 3, 3)` weight, or, when `transposed`, of the `(c_in, c_out, 3, 3)` weight of
/// a transposed convolution: its kernels flipped, so that it runs as a forward one.
unsafe fn transform_weight<T: Wino>(w: *const T, c_out: usize, c_in: usize, transposed: bool) -> Vec<T> {
    let half = T::of(0.5);
    let mut u = vec![T::default(); 16 * c_out * c_in];
    for o in 0..c_out {
        for i in 0..c_in {
            let (src, flip) = if transposed { (w.add((i * c_out + o) * 9), true) } else { (w.add((o * c_in + i) * 9), false) };
            let g = |r: usize, c: usize| if flip { *src.add((2 - r) * 3 + 2 - c) } else { *src.add(r * 3 + c) };
            // Columns of G g, then G applied along rows.
            let cols: [[T; 4]; 3] = std::array::from_fn(|c| g4([g(0, c), g(1, c), g(2, c)], half));
            for r in 0..4 {
                let row = g4([cols[0][r], cols[1][r], cols[2][r]], half);
                for (c, v) in row.into_iter().enumerate() {
                    u[((r * 4 + c) * c_out + o) * c_in + i] = v;
                }
            }
        }
    }
    u
}

/// A block of tiles: global tile rows `rows` (row `r` is tile row `r % tiles[0]` of sample
/// `r / tiles[0]`), `tiles[1]` tiles each, stored `cap` apart in the transformed buffers.
struct Block {
    rows: std::ops::Range<usize>,
    cap: usize,
}

/// `out[t] = f(a[t], b[t])`: one vectorizable pass over a row of tiles.
#[inline(always)]
fn map2<T: Copy>(out: &mut [T], a: &[T], b: &[T], f: impl Fn(T, T) -> T) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

/// `out[t] = f(a[t], b[t], c[t])`.
#[inline(always)]
fn map3<T: Copy>(out: &mut [T], a: &[T], b: &[T], c: &[T], f: impl Fn(T, T, T) -> T) {
    for (((o, &x), &y), &z) in out.iter_mut().zip(a).zip(b).zip(c) {
        *o = f(x, y, z);
    }
}

/// Splits `row` into its even and odd elements (`even[k] = row[2k]`), so the tile passes
/// read contiguous slices.
#[inline(always)]
fn deinterleave<T: Copy>(row: &[T], even: &mut [T], odd: &mut [T]) {
    for (k, pair) in row.chunks_exact(2).enumerate() {
        even[k] = pair[0];
        odd[k] = pair[1];
    }
}

/// `V[xi][c][t] = (B^T d B)[xi]` for every tile `t` of `block` and channel `c` of `x`, into
/// `v` (`16 x channels x cap`). `scratch` is reused across calls.
unsafe fn transform_input<T: Wino>(x: &Operand<T>, channels: usize, geo: &Geometry, block: &Block, v: &mut [T], scratch: &mut Vec<T>) {
    let [th, tw] = geo.tiles;
    // A tile row reads 2 * tw + 2 input columns (from -pad): 4 padded rows, the 4 rows of
    // B^T d, and those split into even and odd columns (tw + 1 each).
    let wp = 2 * tw + 2;
    let half = tw + 1;
    scratch.resize(12 * wp, T::default());
    let (d, rest) = scratch.split_at_mut(4 * wp);
    let (bt, t) = rest.split_at_mut(4 * wp);
    let [rs, cs] = [x.planes.spatial[1], x.planes.spatial[2]];
    // The padded row's elements that lie in the image.
    let x_lo = geo.pad[1].min(wp);
    let x_hi = (geo.pad[1] + geo.in_hw[1]).min(wp);
    for (slot, r) in block.rows.clone().enumerate() {
        let (n, ti) = (r / th, r % th);
        for c in 0..channels {
            let plane = x.at(n, c);
            for k in 0..4 {
                let row = &mut d[k * wp..(k + 1) * wp];
                let y = (2 * ti + k) as isize - geo.pad[0] as isize;
                if y < 0 || y >= geo.in_hw[0] as isize || x_lo >= x_hi {
                    row.fill(T::default());
                    continue;
                }
                row[..x_lo].fill(T::default());
                row[x_hi..].fill(T::default());
                let src = plane.add(y as usize * rs + (x_lo - geo.pad[1]) * cs);
                if cs == 1 {
                    row[x_lo..x_hi].copy_from_slice(std::slice::from_raw_parts(src, x_hi - x_lo));
                } else {
                    for (j, e) in row[x_lo..x_hi].iter_mut().enumerate() {
                        *e = *src.add(j * cs);
                    }
                }
            }
            // B^T d, down the columns (rows (1,0,-1,0), (0,1,1,0), (0,-1,1,0), (0,1,0,-1)),
            // then split into even and odd columns.
            let (d0, d1, d2, d3) = (&d[..wp], &d[wp..2 * wp], &d[2 * wp..3 * wp], &d[3 * wp..]);
            let (b0, rest) = bt.split_at_mut(wp);
            let (b1, rest) = rest.split_at_mut(wp);
            let (b2, b3) = rest.split_at_mut(wp);
            map2(b0, d0, d2, |a, b| a - b);
            map2(b1, d1, d2, |a, b| a + b);
            map2(b2, d2, d1, |a, b| a - b);
            map2(b3, d1, d3, |a, b| a - b);
            for (k, (e, o)) in t.chunks_exact_mut(wp).map(|r| r.split_at_mut(half)).enumerate() {
                deinterleave(&bt[k * wp..(k + 1) * wp], e, o);
            }
            // (B^T d) B along the rows: tile tj reads columns 2tj..2tj + 4, i.e. even[tj],
            // odd[tj], even[tj + 1], odd[tj + 1].
            for i in 0..4 {
                let (e, o) = t[i * wp..(i + 1) * wp].split_at(half);
                let (e0, e1, o0, o1) = (&e[..tw], &e[1..], &o[..tw], &o[1..]);
                let at = |j: usize| ((i * 4 + j) * channels + c) * block.cap + slot * tw;
                map2(&mut v[at(0)..at(0) + tw], e0, e1, |a, b| a - b);
                map2(&mut v[at(1)..at(1) + tw], o0, e1, |a, b| a + b);
                map2(&mut v[at(2)..at(2) + tw], e1, o0, |a, b| a - b);
                map2(&mut v[at(3)..at(3) + tw], o0, o1, |a, b| a - b);
            }
        }
    }
}

/// `Z[xi][c][t] = (A dy A^T)[xi]` for the 2x2 output-gradient tile `dy` of every tile of
/// `block` (zeros past the output's edge), into `z` (`16 x channels x cap`).
unsafe fn transform_grad<T: Wino>(a: &Operand<T>, channels: usize, geo: &Geometry, block: &Block, z: &mut [T], scratch: &mut Vec<T>) {
    let [th, tw] = geo.tiles;
    let [rs, cs] = [a.planes.spatial[1], a.planes.spatial[2]];
    let [oh, ow] = geo.out_hw;
    // dy's 2 rows, even and odd columns (tw each), then A dy's 4 rows likewise.
    scratch.resize(12 * tw, T::default());
    let (dy, s) = scratch.split_at_mut(4 * tw);
    for (slot, r) in block.rows.clone().enumerate() {
        let (n, ti) = (r / th, r % th);
        for c in 0..channels {
            let plane = a.at(n, c);
            for k in 0..2 {
                let y = 2 * ti + k;
                let (e, o) = dy[2 * k * tw..2 * (k + 1) * tw].split_at_mut(tw);
                for tj in 0..tw {
                    let x = 2 * tj;
                    let at = |x: usize| if y < oh && x < ow { *plane.add(y * rs + x * cs) } else { T::default() };
                    e[tj] = at(x);
                    o[tj] = at(x + 1);
                }
            }
            // A dy down the columns: rows (1,0), (1,1), (1,-1), (0,-1) of A.
            let (r0, r1) = dy.split_at(2 * tw);
            for (i, out) in s.chunks_exact_mut(2 * tw).enumerate() {
                match i {
                    0 => out.copy_from_slice(r0),
                    1 => map2(out, r0, r1, |a, b| a + b),
                    2 => map2(out, r0, r1, |a, b| a - b),
                    _ => map2(out, r0, r1, |_, b| -b),
                }
            }
            // ... then along the rows, the same four combinations of even and odd columns.
            for i in 0..4 {
                let (e, o) = s[2 * i * tw..2 * (i + 1) * tw].split_at(tw);
                let at = |j: usize| ((i * 4 + j) * channels + c) * block.cap + slot * tw;
                z[at(0)..at(0) + tw].copy_from_slice(e);
                map2(&mut z[at(1)..at(1) + tw], e, o, |a, b| a + b);
                map2(&mut z[at(2)..at(2) + tw], e, o, |a, b| a - b);
                map2(&mut z[at(3)..at(3) + tw], e, o, |_, b| -b);
            }
        }
    }
}

/// `out[n][o] (+)= A^T M A` for every tile of `block`, `M` = `m` (`16 x c_out x cap`); outputs
/// past the plane's edge are dropped. `out` is a contiguous `(N, c_out, out_hw)` tensor.
unsafe fn transform_output<T: Wino>(m: &[T], c_out: usize, geo: &Geometry, block: &Block, out: *mut T, accumulate: bool, scratch: &mut Vec<T>) {
    let [th, tw] = geo.tiles;
    let [oh, ow] = geo.out_hw;
    let plane = oh * ow;
    let stride = c_out * block.cap;
    // A^T M's 2 rows of 4 (tw each), then the 2x2 outputs.
    scratch.resize(12 * tw, T::default());
    let (s, y) = scratch.split_at_mut(8 * tw);
    for (slot, r) in block.rows.clone().enumerate() {
        let (n, ti) = (r / th, r % th);
        for o in 0..c_out {
            let base = o * block.cap + slot * tw;
            let e = |xi: usize| &m[xi * stride + base..xi * stride + base + tw];
            // Rows (1,1,1,0) and (0,1,-1,-1) of A^T, down the columns then along the rows.
            for j in 0..4 {
                let (s0, s1) = s.split_at_mut(4 * tw);
                map3(&mut s0[j * tw..(j + 1) * tw], e(j), e(4 + j), e(8 + j), |a, b, c| a + b + c);
                map3(&mut s1[j * tw..(j + 1) * tw], e(4 + j), e(8 + j), e(12 + j), |a, b, c| a - b - c);
            }
            for a in 0..2 {
                let row = &s[a * 4 * tw..(a + 1) * 4 * tw];
                let (q0, q1, q2, q3) = (&row[..tw], &row[tw..2 * tw], &row[2 * tw..3 * tw], &row[3 * tw..]);
                let (y0, y1) = y[a * 2 * tw..(a + 1) * 2 * tw].split_at_mut(tw);
                map3(y0, q0, q1, q2, |a, b, c| a + b + c);
                map3(y1, q1, q2, q3, |a, b, c| a - b - c);
            }
            let dst = out.add((n * c_out + o) * plane);
            for a in 0..2.min(oh - 2 * ti) {
                let line = std::slice::from_raw_parts_mut(dst.add((2 * ti + a) * ow), ow);
                let (y0, y1) = y[a * 2 * tw..(a + 1) * 2 * tw].split_at(tw);
                for ((pair, &v0), &v1) in line.chunks_mut(2).zip(y0).zip(y1) {
                    for (p, val) in pair.iter_mut().zip([v0, v1]) {
                        *p = if accumulate { *p + val } else { val };
                    }
                }
            }
        }
    }
}

/// Block `b` of `rows` tile rows cut `per` rows at a time, `tw` tiles each.
fn block(b: usize, per: usize, rows: usize, tw: usize) -> Block {
    Block { rows: b * per..((b + 1) * per).min(rows), cap: per * tw }
}

/// The forward convolution `out = conv(x, w)` (`out` pre-filled with the bias when
/// `accumulate`). Normal: `w` is `(c_out, c_in, 3, 3)` and `x` spans `win.image`; transposed:
/// `w` is `(c_in, c_out, 3, 3)`, `x` spans `win.blocks` and is padded by `2 - padding`.
///
/// # Safety
/// `x` valid for `(n, c_in)` planes of its span, `w` contiguous, `out` a contiguous
/// `(n, c_out, span)` buffer not overlapping them.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn forward<T: Wino>(x: &Operand<T>, w: SendPtr<T>, out: SendPtr<T>, n: usize, c_in: usize, c_out: usize, win: &Window, transposed: bool, accumulate: bool) {
    let (image, blocks) = ([win.image[1], win.image[2]], [win.blocks[1], win.blocks[2]]);
    let pad = [win.padding[1], win.padding[2]];
    let geo = if transposed { Geometry::new(blocks, [2 - pad[0], 2 - pad[1]], image) } else { Geometry::new(image, pad, blocks) };
    let u = transform_weight(w.get(), c_out, c_in, transposed);
    let size = std::mem::size_of::<T>();
    let (rows, per) = geo.rows(n, c_in + c_out, size);
    let tw = geo.tiles[1];
    over_batch(rows.div_ceil(per), work(&[rows * tw, 16, c_in, c_out]), |blocks, threads| {
        let cap = per * tw;
        let (mut v, mut m, mut scratch) = (vec![T::default(); 16 * c_in * cap], vec![T::default(); 16 * c_out * cap], Vec::new());
        for i in blocks {
            let block = block(i, per, rows, tw);
            let count = block.rows.len() * tw;
            transform_input(x, c_in, &geo, &block, &mut v, &mut scratch);
            for xi in 0..16 {
                let dst = mat(m.as_mut_ptr().add(xi * c_out * cap), cap, 1);
                let lhs = mat(u.as_ptr().add(xi * c_out * c_in) as *mut T, c_in, 1);
                let rhs = mat(v.as_mut_ptr().add(xi * c_in * cap), cap, 1);
                gemm(c_out, count, c_in, dst, lhs, rhs, false, threads);
            }
            transform_output(&m, c_out, &geo, &block, out.get(), accumulate, &mut scratch);
        }
    });
}

/// The weight gradient `(c_a, c_b, 3, 3)` into the contiguous `dst`: `a` (`c_a` channels)
/// spans `win.blocks` (the output gradient of a normal convolution), `b` (`c_b` channels)
/// `win.image`; see `kernel::weight_grad`.
///
/// # Safety
/// Operands valid for `n` samples of their spans; `dst` valid for the weight.
pub(super) unsafe fn weight_grad<T: Wino>(a: &Operand<T>, b: &Operand<T>, n: usize, c_a: usize, c_b: usize, win: &Window, dst: *mut T) {
    let geo = Geometry::new([win.image[1], win.image[2]], [win.padding[1], win.padding[2]], [win.blocks[1], win.blocks[2]]);
    let size = std::mem::size_of::<T>();
    let (rows, per) = geo.rows(n, c_a + c_b, size);
    let tw = geo.tiles[1];
    let partials = over_batch(rows.div_ceil(per), work(&[rows * tw, 16, c_a, c_b]), |blocks, threads| {
        let cap = per * tw;
        let (mut v, mut z, mut scratch, mut scratch2) = (vec![T::default(); 16 * c_b * cap], vec![T::default(); 16 * c_a * cap], Vec::new(), Vec::new());
        let mut acc = vec![T::default(); 16 * c_a * c_b];
        for i in blocks {
            let block = block(i, per, rows, tw);
            let count = block.rows.len() * tw;
            transform_input(b, c_b, &geo, &block, &mut v, &mut scratch);
            transform_grad(a, c_a, &geo, &block, &mut z, &mut scratch2);
            for xi in 0..16 {
                let d = mat(acc.as_mut_ptr().add(xi * c_a * c_b), c_b, 1);
                let lhs = mat(z.as_mut_ptr().add(xi * c_a * cap), cap, 1);
                let rhs = mat(v.as_mut_ptr().add(xi * c_b * cap), 1, cap);
                gemm(c_a, c_b, count, d, lhs, rhs, true, threads);
            }
        }
        acc
    });
    let mut sum = vec![T::default(); 16 * c_a * c_b];
    for part in partials {
        for (s, p) in sum.iter_mut().zip(part) {
            *s = *s + p;
        }
    }
    // dW = G^T S G per channel pair: columns of G^T S, then G^T along rows.
    let half = T::of(0.5);
    let plane = c_a * c_b;
    for pair in 0..plane {
        let s = |xi: usize| sum[xi * plane + pair];
        let cols: [[T; 3]; 4] = std::array::from_fn(|j| gt3([s(j), s(4 + j), s(8 + j), s(12 + j)], half));
        for r in 0..3 {
            let row = gt3([cols[0][r], cols[1][r], cols[2][r], cols[3][r]], half);
            for (c, val) in row.into_iter().enumerate() {
                *dst.add(pair * 9 + r * 3 + c) = val;
            }
        }
    }
}
