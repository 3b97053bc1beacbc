//! Reductions: the dims they reduce, the shapes they return, and how an input is laid out
//! for the kernels in `cpu::reduce`. The ops themselves live in the submodules.

use crate::bail;
use crate::cpu::reduce::Reducer;
use crate::dtype::Element;
use crate::error::Result;
use crate::layout::{wrap_dim, Layout};
use crate::tensor::Tensor;

/// Runs `$body` with `$T` bound to the Rust type of a floating-point `$dtype` (callers
/// have rejected other dtypes).
#[macro_export]
macro_rules! with_float_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {{
        match $dtype {
            $crate::dtype::DType::F16 => { type $T = half::f16; $body }
            $crate::dtype::DType::BF16 => { type $T = half::bf16; $body }
            $crate::dtype::DType::F32 => { type $T = f32; $body }
            _ => { type $T = f64; $body }
        }
    }};
}

pub mod minmax;
pub mod order;
pub mod scan;
pub mod softmax;
pub mod stats;
pub mod sum;

/// Which dims of an `ndim`-d tensor `dims` reduces. `None` and an empty list mean all dims
/// (as PyTorch's `dim=None` / `dim=[]`); negative dims wrap; repeats are an error.
pub fn reduce_mask(dims: Option<&[i64]>, ndim: usize) -> Result<Vec<bool>> {
    let mut mask = vec![false; ndim];
    match dims {
        None | Some([]) => mask.fill(true),
        Some(ds) => {
            let mut seen = vec![false; ndim.max(1)];
            for &d in ds {
                let w = wrap_dim(d, ndim)?;
                if seen[w] {
                    bail!(Runtime, "dim {} appears multiple times in the list of dims", w);
                }
                seen[w] = true;
                if w < ndim {
                    mask[w] = true;
                }
            }
        }
    }
    Ok(mask)
}

/// The result shape of reducing `mask` dims of `shape`: kept as size 1 with `keepdim`.
pub fn reduced_shape(shape: &[usize], mask: &[bool], keepdim: bool) -> Vec<usize> {
    shape
        .iter()
        .zip(mask)
        .filter(|(_, &m)| keepdim || !m)
        .map(|(&s, &m)| if m { 1 } else { s })
        .collect()
}

/// PyTorch's check that a reduction without identity (max, argmax, median, ...) has elements
/// to reduce along each of `mask` dims; `what` is the op's name, as `"max()"`.
pub fn check_nonempty(t: &Tensor, mask: &[bool], all_dims: bool, what: &str) -> Result<()> {
    if t.numel() != 0 {
        return Ok(());
    }
    if all_dims {
        bail!(
            Runtime,
            "{}: Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.",
            what
        );
    }
    for (d, &m) in mask.iter().enumerate() {
        if m && t.shape()[d] == 0 {
            bail!(Index, "{}: Expected reduction dim {} to have non-zero size.", what, d);
        }
    }
    Ok(())
}

/// How a reduction reads its input: a contiguous `[o, r, k]` block of `src` whose `o` and `k`
/// parts are the kept dims (`kept`, in the order their results are written) and whose `r`
/// part is the reduced dims.
pub struct Plan {
    src: Tensor,
    o: usize,
    r: usize,
    k: usize,
    /// (dim, size) of the kept dims of size > 1, in kernel order.
    kept: Vec<(usize, usize)>,
    out_shape: Vec<usize>,
}

/// The non-size-1 dims of `t` from outermost to innermost in memory, when `t` is a permutation
/// of a contiguous tensor (no gaps, no overlaps); `None` otherwise.
fn dense_order(t: &Tensor) -> Option<Vec<usize>> {
    let mut dims: Vec<usize> = (0..t.ndim()).filter(|&d| t.shape()[d] != 1).collect();
    dims.sort_by(|&a, &b| t.strides()[b].cmp(&t.strides()[a]));
    let mut expected = 1;
    for &d in dims.iter().rev() {
        if t.strides()[d] != expected {
            return None;
        }
        expected *= t.shape()[d];
    }
    Some(dims)
}

impl Plan {
    /// Lays out `t` for reducing its `mask` dims. Dense inputs (contiguous or permuted) are
    /// read in place when, in memory order, the reduced dims form one block; other inputs are
    /// copied with the reduced dims last.
    pub fn new(t: &Tensor, mask: &[bool], keepdim: bool) -> Result<Plan> {
        if t.numel() != 0 {
            if let Some(order) = dense_order(t) {
                let first = order.iter().position(|&d| mask[d]);
                let last = order.iter().rposition(|&d| mask[d]);
                let block = match (first, last) {
                    (Some(f), Some(l)) => order[f..=l].iter().all(|&d| mask[d]).then_some((f, l + 1)),
                    _ => Some((order.len(), order.len())),
                };
                if let Some((f, l)) = block {
                    let size = |ds: &[usize]| ds.iter().map(|&d| t.shape()[d]).product::<usize>();
                    return Ok(Plan {
                        src: t.clone(),
                        o: size(&order[..f]),
                        r: size(&order[f..l]),
                        k: size(&order[l..]),
                        kept: order.iter().filter(|&&d| !mask[d]).map(|&d| (d, t.shape()[d])).collect(),
                        out_shape: reduced_shape(t.shape(), mask, keepdim),
                    });
                }
            }
        }
        Self::rows(t, mask, keepdim)
    }

    /// Lays out `t` as contiguous rows (`k == 1`) of the reduced dims, one row per result in
    /// row-major order of the kept dims (for kernels that need whole rows).
    pub fn rows(t: &Tensor, mask: &[bool], keepdim: bool) -> Result<Plan> {
        let nd = t.ndim();
        let kept: Vec<usize> = (0..nd).filter(|&d| !mask[d]).collect();
        let reduced: Vec<usize> = (0..nd).filter(|&d| mask[d]).collect();
        let perm: Vec<usize> = kept.iter().chain(&reduced).copied().collect();
        let src = t.with_layout(t.layout().permute(&perm)?).contiguous()?;
        let size = |ds: &[usize]| ds.iter().map(|&d| t.shape()[d]).product::<usize>();
        Ok(Plan {
            src,
            o: size(&kept),
            r: size(&reduced),
            k: 1,
            kept: kept.into_iter().filter(|&d| t.shape()[d] != 1).map(|d| (d, t.shape()[d])).collect(),
            out_shape: reduced_shape(t.shape(), mask, keepdim),
        })
    }

    /// The input as laid out for the kernels.
    pub fn src(&self) -> &Tensor {
        &self.src
    }

    /// Number of results.
    pub fn outputs(&self) -> usize {
        self.o * self.k
    }

    /// Results per reduced block that are interleaved in memory (1: each result's elements
    /// form one contiguous row).
    pub fn inner(&self) -> usize {
        self.k
    }

    /// Number of elements folded into each result.
    pub fn reduced(&self) -> usize {
        self.r
    }

    /// The shape of the results.
    pub fn out_shape(&self) -> &[usize] {
        &self.out_shape
    }

    /// The input's first element. `T` must be the input's dtype.
    pub fn src_ptr<T: Element>(&self) -> Result<*const T> {
        Ok(unsafe { self.src.data_ptr::<T>()?.add(self.src.offset()) })
    }

    /// Runs `rd` into `out` (`outputs()` results in kernel order).
    ///
    /// # Safety
    /// `out` must be valid for `outputs()` writes; `R::In` must be the input's dtype.
    pub unsafe fn run_into<R: Reducer>(&self, rd: &R, out: *mut R::Out) -> Result<()> {
        crate::cpu::reduce::reduce(rd, self.src_ptr::<R::In>()?, self.o, self.r, self.k, out);
        Ok(())
    }

    /// Runs `rd`, whose results are tensor elements, into a new tensor.
    pub fn reduce<R: Reducer>(&self, rd: &R) -> Result<Tensor>
    where
        R::Out: Element,
    {
        let buf = Tensor::uninit(&[self.outputs()], R::Out::DTYPE)?;
        unsafe { self.run_into(rd, buf.data_ptr::<R::Out>()?)? };
        self.finish(buf)
    }

    /// Runs `rd`, whose results are pairs, into two new tensors.
    pub fn reduce_pair<R, A, B>(&self, rd: &R) -> Result<(Tensor, Tensor)>
    where
        R: Reducer<Out = (A, B)>,
        A: Element,
        B: Element,
    {
        let mut pairs = Vec::with_capacity(self.outputs());
        unsafe {
            self.run_into(rd, pairs.as_mut_ptr())?;
            pairs.set_len(self.outputs());
        }
        let a: Vec<A> = pairs.iter().map(|p| p.0).collect();
        let b: Vec<B> = pairs.iter().map(|p| p.1).collect();
        Ok((self.finish(Tensor::from_slice(&a, &[a.len()])?)?, self.finish(Tensor::from_slice(&b, &[b.len()])?)?))
    }

    /// Turns a flat buffer of results in kernel order into the result tensor.
    pub fn finish(&self, buf: Tensor) -> Result<Tensor> {
        let sizes: Vec<usize> = self.kept.iter().map(|&(_, s)| s).collect();
        let mut logical: Vec<usize> = (0..self.kept.len()).collect();
        logical.sort_by_key(|&i| self.kept[i].0);
        let t = buf.with_layout(Layout::contiguous(&sizes).permute(&logical)?).contiguous()?;
        Ok(t.with_layout(Layout { offset: t.offset(), ..Layout::contiguous(&self.out_shape) }))
    }
}

/// `(outer, size, inner)` element counts around dim `d` of `shape` (a 0-d shape is one
/// element along its only dim), for ops that run along one dim and keep the shape.
pub fn split_at_dim(shape: &[usize], d: usize) -> (usize, usize, usize) {
    if shape.is_empty() {
        return (1, 1, 1);
    }
    (shape[..d].iter().product(), shape[d], shape[d + 1..].iter().product())
}
