//! The two loops every index op runs on: a gather (each output element reads one input element
//! found through an offset table) and a scatter (input elements are combined into destinations
//! found through an offset table, in index order).

use half::{bf16, f16};
use rayon::prelude::*;

use crate::cpu::arith::Arith;
use crate::cpu::iter::{for_each_row, SendPtr, GRAIN};
use crate::dtype::Element;
use crate::error::Result;
use crate::layout::Layout;
use crate::tensor::Tensor;
use crate::with_dtype;

use super::checks::Deltas;

/// `out[i] = src[src.offset() + table[i]]`: the 1-d gather of the storage offsets `table`
/// (relative to `src`'s own offset), on `src`'s device.
pub(crate) fn gather_flat(src: &Tensor, table: Vec<usize>) -> Result<Tensor> {
    let n = table.len();
    gather(src, &Layout { shape: vec![n], strides: vec![0], offset: src.offset() }, &Deltas::Table(table), &Layout::contiguous(&[n]))
}

/// `out[i] = src[src_layout(i) + delta[table_layout(i)]]` for every position `i` of
/// `src_layout.shape`, into a new contiguous tensor. `src_layout` gives the part of the source
/// offset that is linear in `i` (zero strides along indexed dims); `deltas` holds the storage
/// deltas the indices select (a table already bounds-checked, or index values the CUDA kernel
/// checks).
pub(crate) fn gather(src: &Tensor, src_layout: &Layout, deltas: &Deltas, table_layout: &Layout) -> Result<Tensor> {
    if src.is_cuda() {
        return crate::cuda::index::gather(src, src_layout, deltas, table_layout);
    }
    let table = deltas.table();
    let shape = &src_layout.shape;
    let out = Tensor::uninit(shape, src.dtype())?;
    let ol = Layout::contiguous(shape);
    with_dtype!(src.dtype(), T => {
        let (sp, op) = (SendPtr(src.data_ptr::<T>()?), SendPtr(out.data_ptr::<T>()?));
        for_each_row(
            shape,
            [(&ol.strides, 0), (&src_layout.strides, src_layout.offset), (&table_layout.strides, table_layout.offset)],
            |[o, s, t], len, [so, ss, st]| unsafe {
                let (dst, src) = (op.get().add(o), sp.get().add(s));
                if st == 0 {
                    // One table entry for the whole run: a strided (often plain) copy.
                    let from = src.add(table[t]);
                    if so == 1 && ss == 1 {
                        std::ptr::copy_nonoverlapping(from, dst, len);
                    } else {
                        for j in 0..len {
                            *dst.add(j * so) = *from.add(j * ss);
                        }
                    }
                } else {
                    for j in 0..len {
                        *dst.add(j * so) = *src.add(j * ss + table[t + j * st]);
                    }
                }
            },
        );
    });
    Ok(out)
}

/// How a scatter combines a source value `s` with the destination value `d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Combine {
    /// `d = s`
    Assign,
    /// `d = d + s`
    Add,
    /// `d = d * s`
    Mul,
    /// `d = max(d, s)`, NaN propagating
    Max,
    /// `d = min(d, s)`, NaN propagating
    Min,
}

impl Combine {
    pub(crate) const ALL: [Combine; 5] = [Combine::Assign, Combine::Add, Combine::Mul, Combine::Max, Combine::Min];

    /// The name in CUDA kernel names (`scatter_<name>_<dtype>`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Combine::Assign => "assign",
            Combine::Add => "add",
            Combine::Mul => "mul",
            Combine::Max => "max",
            Combine::Min => "min",
        }
    }
}

/// The element type arithmetic runs in for a storage type (half types widen to f32), and the
/// identities of max and min.
pub(super) trait Accum: Element {
    type C: Arith;
    fn lowest() -> Self;
    fn highest() -> Self;
}

macro_rules! accum_native {
    ($($t:ty => $lo:expr, $hi:expr),*) => {$(
        impl Accum for $t {
            type C = $t;
            fn lowest() -> Self { $lo }
            fn highest() -> Self { $hi }
        }
    )*};
}
accum_native!(
    bool => false, true,
    u8 => u8::MIN, u8::MAX,
    i8 => i8::MIN, i8::MAX,
    i16 => i16::MIN, i16::MAX,
    i32 => i32::MIN, i32::MAX,
    i64 => i64::MIN, i64::MAX,
    f32 => f32::NEG_INFINITY, f32::INFINITY,
    f64 => f64::NEG_INFINITY, f64::INFINITY
);

impl Accum for f16 {
    type C = f32;
    fn lowest() -> Self {
        f16::NEG_INFINITY
    }
    fn highest() -> Self {
        f16::INFINITY
    }
}

impl Accum for bf16 {
    type C = f32;
    fn lowest() -> Self {
        bf16::NEG_INFINITY
    }
    fn highest() -> Self {
        bf16::INFINITY
    }
}

/// Where a scatter reads and writes. For every position `p` of `outer` (in parallel) and every
/// `k` in `0..src_k.len()` (in order, so later indices win and duplicates accumulate):
/// `dst[dst(p) + delta[table(p) + k * table_k]] = combine(that, src[src(p) + src_k[k]])`.
/// Different outer positions must reach disjoint destinations (on the CPU; CUDA kernels
/// update atomically). Index values on the device come with sources stepping linearly in `k`.
pub(crate) struct ScatterPlan<'a> {
    pub outer: Vec<usize>,
    pub dst: (Vec<usize>, usize),
    pub src: (Vec<usize>, usize),
    pub table: &'a Deltas,
    pub table_outer: (Vec<usize>, usize),
    pub table_k: usize,
    pub src_k: Vec<usize>,
}

impl ScatterPlan<'_> {
    /// Every (destination, source) storage offset pair the plan writes, outer positions in
    /// row-major order and each one's `k` in order: the scatter as a flat list, for devices
    /// that run all pairs at once.
    pub(super) fn pairs(&self) -> (Vec<usize>, Vec<usize>) {
        let (d, s, t) = (linear_offsets(&self.outer, &self.dst.0), linear_offsets(&self.outer, &self.src.0), linear_offsets(&self.outer, &self.table_outer.0));
        let (n, table) = (self.src_k.len(), self.table.table());
        let (mut dst_at, mut src_at) = (Vec::with_capacity(d.len() * n), Vec::with_capacity(d.len() * n));
        for p in 0..d.len() {
            for (k, &sk) in self.src_k.iter().enumerate() {
                dst_at.push(self.dst.1 + d[p] + table[self.table_outer.1 + t[p] + k * self.table_k]);
                src_at.push(self.src.1 + s[p] + sk);
            }
        }
        (dst_at, src_at)
    }
}

/// Runs a scatter of `src` into `dst` (both of `dst`'s dtype).
pub(super) fn scatter(dst: &Tensor, src: &Tensor, plan: &ScatterPlan, how: Combine) -> Result<()> {
    debug_assert_eq!(dst.dtype(), src.dtype());
    if dst.is_cuda() || src.is_cuda() {
        if let Deltas::Values { index, rule } = plan.table {
            return crate::cuda::index::scatter_values(dst, src, plan, index, rule, how);
        }
        let (dst_at, src_at) = plan.pairs();
        return crate::cuda::index::scatter(dst, src, &dst_at, &src_at, how);
    }
    with_dtype!(dst.dtype(), T => scatter_typed::<T>(dst, src, plan, how))
}

fn scatter_typed<T: Accum>(dst: &Tensor, src: &Tensor, plan: &ScatterPlan, how: Combine) -> Result<()> {
    let c = |a: T| a.cast::<T::C>();
    let back = |a: T::C| a.cast::<T>();
    match how {
        Combine::Assign => scatter_with::<T>(dst, src, plan, |_, s| s),
        Combine::Add => scatter_with::<T>(dst, src, plan, |d, s| back(c(d).add(c(s)))),
        Combine::Mul => scatter_with::<T>(dst, src, plan, |d, s| back(c(d).mul(c(s)))),
        Combine::Max => scatter_with::<T>(dst, src, plan, |d, s| back(c(d).maximum(c(s)))),
        Combine::Min => scatter_with::<T>(dst, src, plan, |d, s| back(c(d).minimum(c(s)))),
    }
}

fn scatter_with<T: Element>(dst: &Tensor, src: &Tensor, plan: &ScatterPlan, f: impl Fn(T, T) -> T + Sync) -> Result<()> {
    let (dp, sp) = (SendPtr(dst.data_ptr::<T>()?), SendPtr(src.data_ptr::<T>()?));
    crate::cpu::threads::install_if(src.numel(), || {
    let n = plan.src_k.len();
    let outer_numel: usize = plan.outer.iter().product();
    if n == 0 || outer_numel == 0 {
        return;
    }
    let (table, table_k, src_k) = (plan.table.table(), plan.table_k, &plan.src_k);
    // One outer run: every k for each of `len` outer positions.
    let run = |[d, s, t]: [usize; 3], len: usize, [sd, ss, st]: [usize; 3]| unsafe {
        if len >= 16 {
            for k in 0..n {
                let (tk, sk) = (t + k * table_k, s + src_k[k]);
                if st == 0 {
                    let base = dp.get().add(d + table[tk]);
                    for j in 0..len {
                        let p = base.add(j * sd);
                        *p = f(*p, *sp.get().add(sk + j * ss));
                    }
                } else {
                    for j in 0..len {
                        let p = dp.get().add(d + j * sd + table[tk + j * st]);
                        *p = f(*p, *sp.get().add(sk + j * ss));
                    }
                }
            }
        } else {
            for j in 0..len {
                for k in 0..n {
                    let p = dp.get().add(d + j * sd + table[t + j * st + k * table_k]);
                    *p = f(*p, *sp.get().add(s + j * ss + src_k[k]));
                }
            }
        }
    };
    let rows = |shape: &[usize], d: usize, s: usize, t: usize| {
        for_each_row(shape, [(&plan.dst.0, d), (&plan.src.0, s), (&plan.table_outer.0, t)], run);
    };
    // Long contiguous runs are walked k-major so consecutive writes are neighbours (k stays in
    // order for each position). for_each_row only splits on the outer size, so when each outer
    // position carries many k, split the first outer dim into chunks by hand.
    let (d0, s0, t0) = (plan.dst.1, plan.src.1, plan.table_outer.1);
    let chunks = plan.outer.first().copied().unwrap_or(1).min(rayon::current_num_threads() * 4);
    if chunks > 1 && outer_numel.saturating_mul(n) >= GRAIN {
        let first = plan.outer[0];
        let per = first.div_ceil(chunks);
        (0..first.div_ceil(per)).into_par_iter().for_each(|c| {
            let (lo, hi) = (c * per, ((c + 1) * per).min(first));
            let mut shape = plan.outer.clone();
            shape[0] = hi - lo;
            rows(&shape, d0 + lo * plan.dst.0[0], s0 + lo * plan.src.0[0], t0 + lo * plan.table_outer.0[0]);
        });
    } else {
        rows(&plan.outer, d0, s0, t0);
    }
});
    Ok(())
}

/// Storage offsets (relative to the layout's own offset) of every position of `shape`, in
/// row-major order, for `strides`.
pub(super) fn linear_offsets(shape: &[usize], strides: &[usize]) -> Vec<usize> {
    let mut out = vec![0usize];
    for (&size, &stride) in shape.iter().zip(strides) {
        out = out.iter().flat_map(|&base| (0..size).map(move |i| base + i * stride)).collect();
    }
    out
}

/// Storage offset of the element at row-major position `flat` of `layout`.
pub(super) fn flat_to_offset(layout: &Layout, mut flat: usize) -> usize {
    let mut off = layout.offset;
    for d in (0..layout.ndim()).rev() {
        let size = layout.shape[d];
        off += (flat % size) * layout.strides[d];
        flat /= size;
    }
    off
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_offsets_walk_row_major() {
        assert_eq!(linear_offsets(&[2, 3], &[1, 10]), vec![0, 10, 20, 1, 11, 21]);
        assert_eq!(linear_offsets(&[], &[]), vec![0]);
        assert!(linear_offsets(&[0, 3], &[3, 1]).is_empty());
    }

    #[test]
    fn flat_positions_map_through_strides() {
        let l = Layout::contiguous(&[2, 3]).transpose(0, 1); // shape [3, 2], strides [1, 3]
        let offs: Vec<usize> = (0..6).map(|p| flat_to_offset(&l, p)).collect();
        assert_eq!(offs, vec![0, 3, 1, 4, 2, 5]);
    }

    #[test]
    fn scatter_accumulates_duplicates_in_order() {
        let dst = Tensor::zeros(&[3], crate::DType::F32).unwrap();
        let src = Tensor::from_slice(&[1.0f32, 2.0, 4.0], &[3]).unwrap();
        let table = Deltas::Table(vec![2usize, 0, 2]);
        let plan = ScatterPlan {
            outer: vec![],
            dst: (vec![], 0),
            src: (vec![], 0),
            table: &table,
            table_outer: (vec![], 0),
            table_k: 1,
            src_k: vec![0, 1, 2],
        };
        scatter(&dst, &src, &plan, Combine::Add).unwrap();
        assert_eq!(dst.to_vec::<f32>().unwrap(), vec![2.0, 0.0, 5.0]);
        scatter(&dst, &src, &plan, Combine::Assign).unwrap();
        assert_eq!(dst.to_vec::<f32>().unwrap(), vec![2.0, 0.0, 4.0]);
    }

    /// Applies `pairs` one after another on the host: what the CPU scatter must equal.
    fn replay(dst: &mut [f64], src: &[f64], plan: &ScatterPlan, how: Combine) {
        let (dst_at, src_at) = plan.pairs();
        for (&d, &s) in dst_at.iter().zip(&src_at) {
            let (a, b) = (dst[d], src[s]);
            dst[d] = match how {
                Combine::Assign => b,
                Combine::Add => a + b,
                Combine::Mul => a * b,
                Combine::Max => a.max(b),
                Combine::Min => a.min(b),
            };
        }
    }

    #[test]
    fn pairs_list_the_scatter_in_its_order() {
        // dst (3, 4) transposed storage; two outer positions (dim 1 of a (2, 3) src, strided),
        // three k each through a table with an outer stride and duplicates.
        let dst_init: Vec<f64> = (0..12).map(|i| i as f64 * 0.5 + 1.0).collect();
        let src_vals: Vec<f64> = (0..6).map(|i| i as f64 - 2.5).collect();
        let table = Deltas::Table(vec![1usize, 3, 1, 0, 2, 2]);
        let plan = ScatterPlan {
            outer: vec![2],
            dst: (vec![6], 1),
            src: (vec![1], 0),
            table: &table,
            table_outer: (vec![3], 0),
            table_k: 1,
            src_k: vec![0, 2, 4],
        };
        for how in Combine::ALL {
            let dst = Tensor::from_slice(&dst_init, &[12]).unwrap();
            let src = Tensor::from_slice(&src_vals, &[6]).unwrap();
            scatter(&dst, &src, &plan, how).unwrap();
            let mut expect = dst_init.clone();
            replay(&mut expect, &src_vals, &plan, how);
            assert_eq!(dst.to_vec::<f64>().unwrap(), expect, "{how:?}");
        }
        let (dst_at, src_at) = plan.pairs();
        assert_eq!(dst_at, vec![2, 4, 2, 7, 9, 9]);
        assert_eq!(src_at, vec![0, 2, 4, 1, 3, 5]);
    }
}
