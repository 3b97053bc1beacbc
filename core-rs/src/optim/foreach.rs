//! The multi-tensor driver every optimizer runs on: one pass over each parameter's elements,
//! loading the parameter, its gradient and its state buffers together, updating them with the
//! optimizer's rule and storing them back.
//!
//! Elements move through small blocks of the compute type: reading a block (in place when the
//! operands are dense in the compute type, else gathered from any strides and dtype) and
//! writing the results to a block that is then scattered back keeps the rule's loop free of
//! aliasing and conversions, so it vectorizes; the block stays in L1, so memory is still read
//! and written once.

use rayon::prelude::*;

use crate::cpu::iter::{for_each_row, SendPtr, GRAIN};
use crate::cpu::real::Real;
use crate::device::Device;
use crate::dtype::{DType, Element};
use crate::error::Result;
use crate::tensor::Tensor;

/// Elements per block: K blocks of this many f64 stay well inside L1.
const BLOCK: usize = 256;

/// The compute type of an update (f32 or f64), with the fused operations PyTorch's CPU kernels use.
pub(crate) trait OptReal: Real + Element + Default {
    /// `self * a + b` with one rounding (PyTorch's `vec::fmadd`).
    fn fma(self, a: Self, b: Self) -> Self;
}

impl OptReal for f32 {
    #[inline(always)]
    fn fma(self, a: f32, b: f32) -> f32 {
        self.mul_add(a, b)
    }
}

impl OptReal for f64 {
    #[inline(always)]
    fn fma(self, a: f64, b: f64) -> f64 {
        self.mul_add(a, b)
    }
}

/// `self.lerp_(end, weight)` with a weight fixed for the whole update, as PyTorch's vectorized
/// CPU kernel computes it: from `start` when `|weight| < 0.5`, else from `end`.
#[derive(Clone, Copy)]
pub(crate) struct Lerp<R> {
    weight: R,
    from_start: bool,
}

impl<R: OptReal> Lerp<R> {
    pub(crate) fn new(weight: f64) -> Self {
        let w = R::of(weight);
        let from_start = w.abs() < R::of(0.5);
        Lerp { weight: if from_start { w } else { w - R::of(1.0) }, from_start }
    }

    #[inline(always)]
    pub(crate) fn at(self, start: R, end: R) -> R {
        self.weight.fma(end - start, if self.from_start { start } else { end })
    }
}

/// `self.addcmul(t1, t2, value=value)`: PyTorch's CPU kernel computes `self + value * t1 * t2`
/// with the last multiply-add fused (checked bit for bit against it).
#[inline(always)]
pub(crate) fn addcmul<R: OptReal>(this: R, value: R, t1: R, t2: R) -> R {
    (value * t1).fma(t2, this)
}

/// `torch.maximum`: NaN when either side is NaN.
#[inline(always)]
pub(crate) fn maximum<R: OptReal>(a: R, b: R) -> R {
    if b.is_nan() | (b > a) {
        b
    } else {
        a
    }
}

/// The gradient as the update sees it: negated under `maximize`, plus `weight_decay * param`
/// (`grad.add(param, alpha=weight_decay)`) when the decay is coupled and non-zero.
#[derive(Clone, Copy)]
pub(crate) struct EffectiveGrad<R> {
    sign: R,
    decay: R,
    coupled: bool,
}

impl<R: OptReal> EffectiveGrad<R> {
    /// `coupled_decay`: the weight decay added to the gradient (0: none).
    pub(crate) fn new(maximize: bool, coupled_decay: f64) -> Self {
        EffectiveGrad { sign: R::of(if maximize { -1.0 } else { 1.0 }), decay: R::of(coupled_decay), coupled: coupled_decay != 0.0 }
    }

    #[inline(always)]
    pub(crate) fn of(self, param: R, grad: R) -> R {
        let g = grad * self.sign; // exactly `-grad` under maximize
        if self.coupled {
            param.fma(self.decay, g)
        } else {
            g
        }
    }
}

/// An optimizer's element-wise update over `K` operands: operand 0 is the parameter, operand 1
/// the gradient (read only), the rest state buffers (absent ones hold junk and are not stored).
pub(crate) trait Rule<const K: usize>: Sync {
    /// Per-parameter scalars (bias corrections, step sizes), in f64 as PyTorch computes them.
    type Coef: Sync;
    /// The update of one element's operands, in place. Every scalar is converted to the
    /// compute type here, once, so that the closure's body holds only loop-invariant values
    /// and straight-line arithmetic: the element loop then vectorizes.
    fn kernel<R: OptReal>(&self, c: &Self::Coef) -> impl Fn(&mut [R; K]) + Sync;

    /// The CUDA form of the update, when the rule has one: its kernel family in
    /// cuda/kernels/optim.cu (`adam`, `sgd`) and the scalars that kernel reads, in its order.
    /// Rules without one run on CUDA tensors through host copies.
    fn cuda(&self, _c: &Self::Coef) -> Option<(&'static str, Vec<f64>)> {
        None
    }
}

/// `EffectiveGrad`'s scalars as the CUDA rules read them: `[sign, decay, coupled]`.
pub(crate) fn grad_scalars(maximize: bool, coupled_decay: f64) -> [f64; 3] {
    [if maximize { -1.0 } else { 1.0 }, coupled_decay, f64::from(u8::from(coupled_decay != 0.0))]
}

/// The weight decay of the Adam family (Adam/AdamW, NAdam, RAdam) as optim.cu's `adam_moments`
/// and prologues read it: `[sign, decay, coupled, param_decay]`, which opens the rule's scalars
/// (the decay coupled into the gradient, or decoupled as `param_decay = 1 - lr * weight_decay`),
/// and the decoupled weight decay alone (0 when coupled), which ends them: a prologue with a
/// learning rate on the device derives param_decay from it.
pub(crate) fn adam_decay_scalars(maximize: bool, weight_decay: f64, decoupled: bool, lr: f64) -> ([f64; 4], f64) {
    let [sign, decay, coupled] = grad_scalars(maximize, if decoupled { 0.0 } else { weight_decay });
    let param_decay = if decoupled { 1.0 - lr * weight_decay } else { 1.0 };
    ([sign, decay, coupled, param_decay], if decoupled { weight_decay } else { 0.0 })
}

/// Adds 1 to every step counter (1-element tensors, `step_t += 1`) and returns the new values.
pub fn advance_steps(steps: &[Tensor]) -> Result<Vec<f64>> {
    steps.iter().map(|s| update_scalar(s, "step", |v| v + 1.0)).collect()
}

/// Multiplies every 1-element tensor by `factor` in its own dtype (`t *= factor`, as NAdam's
/// `mu_product`) and returns the new values.
pub fn scale_scalars(ts: &[Tensor], factor: f64) -> Result<Vec<f64>> {
    ts.iter()
        .map(|t| {
            let f = crate::with_dtype!(t.dtype(), T => T::from_f64(factor).to_f64());
            update_scalar(t, "mu_product", |v| v * f)
        })
        .collect()
}

fn update_scalar(t: &Tensor, what: &str, f: impl Fn(f64) -> f64) -> Result<f64> {
    if t.numel() != 1 || t.dtype() == DType::Bool || t.device() != Device::Cpu {
        crate::bail!(
            Runtime,
            "optimizer state '{}' must be a one-element numeric CPU tensor, got shape {:?} of dtype {} on {}",
            what,
            t.shape(),
            t.dtype(),
            t.device()
        );
    }
    let value = crate::with_dtype!(t.dtype(), T => unsafe {
        let p = t.data_ptr::<T>()?.add(t.offset());
        *p = T::from_f64(f((*p).to_f64()));
        (*p).to_f64()
    });
    t.bump_version();
    Ok(value)
}

/// Checks that every list (and every list of 1-element `scalars` such as step counters) has one
/// tensor per parameter and that each parameter's tensors are float tensors of its shape,
/// dtype and device.
fn check<const K: usize>(name: &str, lists: &[Option<&[Tensor]>; K], scalars: &[&[Tensor]]) -> Result<()> {
    const ROLES: [&str; 2] = ["param", "grad"];
    let n = lists[0].map_or(0, |l| l.len());
    for list in scalars {
        if list.len() != n {
            crate::bail!(Runtime, "{}: expected {} state steps, got {}", name, n, list.len());
        }
    }
    for (k, list) in lists.iter().enumerate() {
        if let Some(list) = list {
            if list.len() != n {
                crate::bail!(Runtime, "{}: expected {} tensors in list {}, got {}", name, n, k, list.len());
            }
        } else if k < 2 {
            crate::bail!(Runtime, "{}: the {} list is required", name, ROLES[k]);
        }
    }
    let params = lists[0].unwrap_or(&[]);
    for (i, p) in params.iter().enumerate() {
        if !p.dtype().is_float() {
            crate::bail!(Runtime, "{}: parameters must be floating point, but parameter {} is {}", name, i, p.dtype());
        }
        for (k, list) in lists.iter().enumerate().skip(1) {
            let Some(t) = list.map(|l| &l[i]) else { continue };
            if t.shape() != p.shape() || t.dtype() != p.dtype() || t.device() != p.device() {
                crate::bail!(
                    Runtime,
                    "{}: tensor {} of list {} has shape {:?}, dtype {} on {}, but its parameter has shape {:?}, dtype {} on {}",
                    name, i, k, t.shape(), t.dtype(), t.device(), p.shape(), p.dtype(), p.device()
                );
            }
        }
    }
    Ok(())
}

/// Applies `rule` to every parameter: `lists[k][i]` is operand `k` of parameter `i` (`None`: an
/// absent state buffer). Once the lists (and the `scalars` lists) are checked, `coefs` advances
/// the scalar state and gives each parameter's coefficients. Dense parameters run as one
/// sequence split across threads (`run_dense`); strided ones one after another, each split
/// across threads when large.
pub(crate) fn apply<const K: usize, U: Rule<K>>(
    name: &str,
    rule: &U,
    lists: [Option<&[Tensor]>; K],
    scalars: &[&[Tensor]],
    coefs: impl FnOnce() -> Result<Vec<U::Coef>>,
) -> Result<()> {
    check(name, &lists, scalars)?;
    let coefs = &coefs()?;
    let tuples: Vec<[Option<&Tensor>; K]> =
        (0..coefs.len()).map(|i| std::array::from_fn(|k| lists[k].map(|l| &l[i]))).collect();
    // Parameters go by the device of their first operand, as PyTorch's foreach groups them.
    let (on_gpu, on_cpu): (Vec<_>, Vec<_>) = tuples.iter().zip(coefs).partition(|(ts, _)| ts[0].is_some_and(|p| p.is_cuda()));
    if !on_gpu.is_empty() {
        // Rules with a CUDA kernel over dense operands: a few multi-parameter launches; the
        // rest one parameter at a time through host copies.
        let mut updates = Vec::new();
        for (ts, c) in on_gpu {
            match rule.cuda(c).filter(|_| ts.iter().flatten().all(|t| t.is_contiguous())) {
                Some((family, scalars)) => updates.push(crate::cuda::optim::Update { kernel: format!("optim_{family}{K}"), operands: ts.to_vec(), scalars, step: None, extra: None, lr: None }),
                None => run_on_host(rule, ts, c)?,
            }
        }
        crate::cuda::optim::step(&updates)?;
    }
    // The kernels below take host pointers without a further check.
    for t in on_cpu.iter().flat_map(|(ts, _)| ts.iter().flatten()) {
        t.storage().as_ptr()?;
    }
    let (dense, strided): (Vec<_>, Vec<_>) = on_cpu.into_iter().partition(|(ts, _)| ts.iter().flatten().all(|t| t.is_contiguous()));
    run_dense(rule, &dense);
    for (ts, c) in strided {
        run_tensor(rule, ts, c, None);
    }
    for ts in &tuples {
        for (k, t) in ts.iter().enumerate() {
            if let (true, Some(t)) = (k != 1, t) {
                t.bump_version();
            }
        }
    }
    Ok(())
}

/// Applies `rule` to parameters on CUDA whose step counters are float32 CUDA tensors (PyTorch's
/// `capturable=True`): the counters advance on the device and the kernel derives each step's
/// scalars there, so the step can be captured into a CUDA graph and replayed. `coef`
/// holds the host's coefficients, those the device derives being placeholders; `extras` the
/// rule's float32 scalar state on the device (NAdam's mu_product), advanced by its prologue;
/// `lr_on_device` a one-element tensor the prologue reads the learning rate from at every
/// launch (PyTorch's tensor `lr` with `capturable=True`), in place of the rule's own.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply_capturable<const K: usize, U: Rule<K>>(
    name: &str,
    rule: &U,
    lists: [Option<&[Tensor]>; K],
    steps: &[Tensor],
    extras: Option<&[Tensor]>,
    coef: U::Coef,
    lr_on_device: Option<&Tensor>,
) -> Result<()> {
    check(name, &lists, &[steps])?;
    if let Some(extras) = extras {
        check(name, &lists, &[extras])?;
        if let Some(bad) = steps.iter().zip(extras).find(|(s, x)| x.device() != s.device() || x.dtype() != DType::F32 || x.numel() != 1) {
            crate::bail!(Runtime, "{}: with capturable=True the scalar state must be a float32 tensor on the parameter's device, got {} on {}", name, bad.1.dtype(), bad.1.device());
        }
    }
    let (family, scalars) = rule.cuda(&coef).ok_or_else(|| crate::err!(Runtime, "{}: capturable=True is not supported by ferrotorch for this optimizer", name))?;
    let tuples: Vec<[Option<&Tensor>; K]> = (0..steps.len()).map(|i| std::array::from_fn(|k| lists[k].map(|l| &l[i]))).collect();
    for (ts, step) in tuples.iter().zip(steps) {
        let param = ts[0].expect("a parameter list");
        if !param.is_cuda() || step.device() != param.device() || step.dtype() != DType::F32 || step.numel() != 1 {
            crate::bail!(
                Runtime,
                "If capturable=True, params and state_steps must be on supported devices: ['cuda'] (a float32 step on the parameter's device); got a parameter on {} and a {} step on {}",
                param.device(),
                step.dtype(),
                step.device()
            );
        }
    }
    // The prologue reads a float64 on the parameters' device: a conversion, when needed, is
    // device work too, queued before the step (and captured with it); one from another device
    // is a copy, as PyTorch's.
    let lr = match (lr_on_device, steps.first()) {
        (Some(lr), Some(step)) => {
            if lr.numel() != 1 {
                crate::bail!(Runtime, "{}: Tensor lr must be 1-element, got {:?}", name, lr.shape());
            }
            Some(lr.to_device(step.device())?.contiguous_as(DType::F64)?)
        }
        _ => None,
    };
    // The kernels take dense operands: strided ones are updated in dense copies, copied back
    // (device work only, so the step stays capturable).
    let dense: Vec<Vec<Option<Tensor>>> = tuples.iter().map(|ts| ts.iter().map(|t| t.map(Tensor::contiguous).transpose()).collect()).collect::<Result<_>>()?;
    let updates: Vec<_> = dense
        .iter()
        .zip(steps)
        .enumerate()
        .map(|(i, (ts, step))| crate::cuda::optim::Update {
            kernel: format!("optim_{family}{K}"),
            operands: ts.iter().map(Option::as_ref).collect(),
            scalars: scalars.clone(),
            step: Some(step),
            extra: extras.map(|x| &x[i]),
            lr: lr.as_ref(),
        })
        .collect();
    crate::cuda::optim::step(&updates)?;
    for (ts, copies) in tuples.iter().zip(&dense) {
        for (k, (t, copy)) in ts.iter().zip(copies).enumerate() {
            if let (true, Some(t), Some(copy)) = (k != 1, t, copy) {
                if !t.is_contiguous() {
                    t.copy_from(copy)?;
                }
                t.bump_version();
            }
        }
    }
    for t in steps.iter().chain(extras.unwrap_or(&[])) {
        t.bump_version();
    }
    Ok(())
}

/// Updates one parameter of a GPU by the CPU rule over host copies, written back (rules with
/// no CUDA form, strided operands).
fn run_on_host<const K: usize, U: Rule<K>>(rule: &U, ts: &[Option<&Tensor>; K], c: &U::Coef) -> Result<()> {
    let host: Vec<Option<Tensor>> = ts.iter().map(|t| t.map(|t| t.to_device(Device::Cpu)).transpose()).collect::<Result<_>>()?;
    let on_host: [Option<&Tensor>; K] = std::array::from_fn(|k| host[k].as_ref());
    run_tensor(rule, &on_host, c, None);
    for (k, (t, h)) in ts.iter().zip(&host).enumerate() {
        if let (true, Some(t), Some(h)) = (k != 1, t, h) {
            t.copy_from(h)?;
        }
    }
    Ok(())
}

fn numel<const K: usize>(ts: &[Option<&Tensor>; K]) -> usize {
    ts[0].map_or(0, |t| t.numel())
}

/// Updates parameters whose operands are all contiguous, taking their elements as one sequence
/// cut into equal spans, a few per thread (so that an idle thread can take over part of a
/// descheduled one's share). One parallel section per step rather than one per parameter,
/// and each thread streams through long runs of memory: the update is memory bound.
fn run_dense<const K: usize, U: Rule<K>>(rule: &U, items: &[(&[Option<&Tensor>; K], &U::Coef)]) {
    let ends: Vec<usize> = items
        .iter()
        .scan(0, |end, (ts, _)| {
            *end += numel(ts);
            Some(*end)
        })
        .collect();
    let total = ends.last().copied().unwrap_or(0);
    // Elements `lo..hi` of the sequence, parameter by parameter.
    let span = |lo: usize, hi: usize| {
        for i in ends.partition_point(|&end| end <= lo)..items.len() {
            let begin = if i == 0 { 0 } else { ends[i - 1] };
            if begin >= hi {
                break;
            }
            let (ts, c) = items[i];
            let (from, to) = (lo.max(begin), hi.min(ends[i]));
            if from < to {
                run_tensor(rule, ts, c, Some((from - begin, to - from)));
            }
        }
    };
    if total < GRAIN {
        return span(0, total);
    }
    crate::cpu::threads::install(|| {
        let pieces = (total / GRAIN).min(rayon::current_num_threads() * 4).max(1);
        // Whole cache lines per piece (for 4-byte elements), so threads rarely share one.
        let per = total.div_ceil(pieces).next_multiple_of(16);
        (0..pieces).into_par_iter().for_each(|p| span((p * per).min(total), ((p + 1) * per).min(total)));
    });
}

/// Updates one parameter: elements `start..start + len` of its (contiguous) operands when
/// `span` is `Some((start, len))`, else all of them through their strides.
fn run_tensor<const K: usize, U: Rule<K>>(rule: &U, ts: &[Option<&Tensor>; K], c: &U::Coef, span: Option<(usize, usize)>) {
    match ts[0].map(|t| t.dtype()) {
        Some(DType::F64) => run_typed::<K, U, f64, f64>(rule, ts, c, span),
        Some(DType::F32) => run_typed::<K, U, f32, f32>(rule, ts, c, span),
        Some(DType::F16) => run_typed::<K, U, half::f16, f32>(rule, ts, c, span),
        Some(DType::BF16) => run_typed::<K, U, half::bf16, f32>(rule, ts, c, span),
        _ => {} // `check` admits only float parameters
    }
}

/// One operand: its storage base pointer (null when absent) and whether it is present.
struct Operand<T> {
    ptr: SendPtr<T>,
    present: bool,
}

fn run_typed<const K: usize, U: Rule<K>, T: Element, R: OptReal>(
    rule: &U,
    ts: &[Option<&Tensor>; K],
    c: &U::Coef,
    span: Option<(usize, usize)>,
) {
    let Some(p) = ts[0] else { return };
    let update = rule.kernel::<R>(c);
    let ops: [Operand<T>; K] = std::array::from_fn(|k| match ts[k] {
        // `apply` checked that every operand is in host memory.
        Some(t) => Operand { ptr: SendPtr(t.storage().address() as *mut T), present: true },
        None => Operand { ptr: SendPtr(std::ptr::null_mut()), present: false },
    });
    // Absent operands walk the parameter's layout; they are never dereferenced.
    let layouts: [(&[usize], usize); K] =
        std::array::from_fn(|k| ts[k].map_or((p.strides(), p.offset()), |t| (t.strides(), t.offset())));
    if let Some((start, len)) = span {
        let offsets = std::array::from_fn(|k| layouts[k].1 + start);
        return unsafe { process_row::<K, _, T, R>(&update, &ops, offsets, len, [1; K]) };
    }
    for_each_row(p.shape(), layouts, |offsets, len, strides| unsafe {
        process_row::<K, _, T, R>(&update, &ops, offsets, len, strides)
    });
}

/// One run of elements, compiled for AVX2+FMA when the CPU has them (the wheel targets
/// baseline x86-64).
#[inline(always)]
unsafe fn process_row<const K: usize, F: Fn(&mut [R; K]), T: Element, R: OptReal>(
    update: &F,
    ops: &[Operand<T>; K],
    offsets: [usize; K],
    len: usize,
    strides: [usize; K],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        return process_row_avx2::<K, F, T, R>(update, ops, offsets, len, strides);
    }
    process_row_body::<K, F, T, R>(update, ops, offsets, len, strides)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn process_row_avx2<const K: usize, F: Fn(&mut [R; K]), T: Element, R: OptReal>(
    update: &F,
    ops: &[Operand<T>; K],
    offsets: [usize; K],
    len: usize,
    strides: [usize; K],
) {
    process_row_body::<K, F, T, R>(update, ops, offsets, len, strides)
}

#[inline(always)]
unsafe fn process_row_body<const K: usize, F: Fn(&mut [R; K]), T: Element, R: OptReal>(
    update: &F,
    ops: &[Operand<T>; K],
    offsets: [usize; K],
    len: usize,
    strides: [usize; K],
) {
    // Operands dense in the compute type (the usual case) are updated in place, absent ones
    // through a scratch block; others are gathered (converted) into blocks, updated there and
    // scattered back. Either way the element loop sees only non-aliasing slices: it vectorizes.
    let dense = T::DTYPE == R::DTYPE && (0..K).all(|k| !ops[k].present || strides[k] == 1) && distinct(ops, offsets, len);
    // Dense operands that are all present need no scratch block, so the vectorized loop is
    // entered once per run instead of once every BLOCK elements.
    let chunk = if dense && ops.iter().all(|o| o.present) { len.max(1) } else { BLOCK };
    let mut block = [[R::default(); BLOCK]; K];
    let mut start = 0;
    while start < len {
        let n = (len - start).min(chunk);
        let at = |k: usize| ops[k].ptr.get().add(offsets[k] + start * strides[k]);
        if dense {
            let mut parts = block.iter_mut();
            let cols: [&mut [R]; K] = std::array::from_fn(|k| {
                let scratch = parts.next().expect("K blocks");
                if ops[k].present {
                    std::slice::from_raw_parts_mut(at(k) as *mut R, n)
                } else {
                    &mut scratch[..n]
                }
            });
            update_in_place(update, cols);
        } else {
            for k in 0..K {
                if ops[k].present {
                    gather(&mut block[k][..n], at(k), strides[k]);
                }
            }
            update_block(update, &mut block, n);
            for k in 0..K {
                if k != 1 && ops[k].present {
                    scatter(&block[k][..n], at(k), strides[k]);
                }
            }
        }
        start += n;
    }
}

/// Whether the present operands' dense runs of `n` elements are pairwise disjoint (they are
/// unless a state buffer was made to share memory with the parameter or gradient).
unsafe fn distinct<const K: usize, T: Element>(ops: &[Operand<T>; K], offsets: [usize; K], n: usize) -> bool {
    let range = |k: usize| {
        let p = ops[k].ptr.get().add(offsets[k]) as usize;
        p..p + n * std::mem::size_of::<T>()
    };
    (0..K).all(|a| (a + 1..K).all(|b| !ops[a].present || !ops[b].present || {
        let (ra, rb) = (range(a), range(b));
        ra.end <= rb.start || rb.end <= ra.start
    }))
}

/// Runs `update` over equal-length, pairwise disjoint columns (operand 1, the gradient, is
/// only read). Each arity has its own function taking the columns as separate slice
/// arguments, which the compiler knows do not alias.
#[inline(always)]
fn update_in_place<const K: usize, F: Fn(&mut [R; K]), R: OptReal>(update: &F, cols: [&mut [R]; K]) {
    let mut cols = cols.into_iter();
    let mut next = || cols.next().expect("K columns");
    match K {
        3 => columns3(update, next(), next(), next()),
        4 => columns4(update, next(), next(), next(), next()),
        5 => columns5(update, next(), next(), next(), next(), next()),
        _ => unreachable!("optimizer rules take 3 to 5 operands"),
    }
}

macro_rules! columns_fn {
    ($name:ident, $first:ident; $($c:ident : $k:literal),+) => {
        #[inline(always)]
        fn $name<const K: usize, F: Fn(&mut [R; K]), R: OptReal>(update: &F, $($c: &mut [R]),+) {
            let n = $first.len();
            $(let $c = &mut $c[..n];)+
            for i in 0..n {
                let mut v: [R; K] = std::array::from_fn(|k| match k { $($k => $c[i],)+ _ => R::default() });
                update(&mut v);
                $(if $k != 1 { $c[i] = v[$k]; })+
            }
        }
    };
}
columns_fn!(columns3, c0; c0: 0, c1: 1, c2: 2);
columns_fn!(columns4, c0; c0: 0, c1: 1, c2: 2, c3: 3);
columns_fn!(columns5, c0; c0: 0, c1: 1, c2: 2, c3: 3, c4: 4);

#[inline(always)]
fn update_block<const K: usize, F: Fn(&mut [R; K]), R: OptReal>(update: &F, block: &mut [[R; BLOCK]; K], n: usize) {
    for i in 0..n.min(BLOCK) {
        let mut v: [R; K] = std::array::from_fn(|k| block[k][i]);
        update(&mut v);
        for k in 0..K {
            block[k][i] = v[k];
        }
    }
}

#[inline(always)]
unsafe fn gather<T: Element, R: OptReal>(dst: &mut [R], src: *const T, stride: usize) {
    if stride == 1 {
        for (i, d) in dst.iter_mut().enumerate() {
            *d = (*src.add(i)).cast::<R>();
        }
    } else {
        for (i, d) in dst.iter_mut().enumerate() {
            *d = (*src.add(i * stride)).cast::<R>();
        }
    }
}

#[inline(always)]
unsafe fn scatter<T: Element, R: OptReal>(src: &[R], dst: *mut T, stride: usize) {
    if stride == 1 {
        for (i, s) in src.iter().enumerate() {
            *dst.add(i) = s.cast::<T>();
        }
    } else {
        for (i, s) in src.iter().enumerate() {
            *dst.add(i * stride) = s.cast::<T>();
        }
    }
}
