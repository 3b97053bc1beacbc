//! The CUDA C kernel modules. Hand-written templates live in the `.cu` files beside this one
//! (embedded with `include_str!`); this file assembles each module from them and emits one
//! `extern "C"` instantiation per op and dtype, walking the CPU op tables (`FloatUnaryOp::ALL`,
//! `NumericUnaryOp::ALL`, `BinaryOp::ALL`) so that every CPU op gets its CUDA kernels.
//!
//! Kernel names: `unary_<op>_<dtype>`, `binary_<op>_<dtype>` (the inputs' dtype),
//! `fill_<dtype>`, `where_<dtype>`, `copy_<src>_<dst>`, `reduce_[columns_]<sum|prod|max|min>_<dtype>`,
//! `argreduce_<max|min>_<dtype>`, `scan_<sum|prod|logcumsumexp|cummax|cummin>_<dtype>`, `softmax_<f32|f64>`,
//! `gather_<dtype>`, `scatter_<assign|add|mul|max|min>_<dtype>`, `scatter_index_<how>_<dtype>`, `index_check`, with `<dtype>` from
//! [`suffix`]. NVRTC spends ~50-100 ms per kernel, so a module holds one op in every dtype
//! (`unary_exp`, `binary_add`, `copy_f32`, ...): the first use of an op compiles about a second
//! of kernels, not the whole backend; the disk cache makes later runs free.

pub mod activation;
pub mod ops;

use std::fmt::Write;

use crate::dtype::DType;
use crate::ops::binary::{BinaryKind, BinaryOp};
use crate::ops::index::kernel::Combine;
use crate::ops::nn::activation::Activation;
use crate::ops::unary::{FloatUnaryOp, NumericUnaryOp};

const PRELUDE: &str = include_str!("prelude.cu");
const ARITH: &str = include_str!("arith.cu");
const ELEMENTWISE: &str = include_str!("elementwise.cu");
const MEMORY: &str = include_str!("memory.cu");
const REDUCE: &str = include_str!("reduce.cu");
const INDEX: &str = include_str!("index.cu");
const SCAN: &str = include_str!("scan.cu");
const SOFTMAX: &str = include_str!("softmax.cu");
const ACTIVATION: &str = include_str!("activation.cu");
const OPTIM: &str = include_str!("optim.cu");
const NORM: &str = include_str!("norm.cu");
const BATCH_NORM: &str = include_str!("batch_norm.cu");
const CONV: &str = include_str!("conv.cu");
const POOL: &str = include_str!("pool.cu");
const RNN: &str = include_str!("rnn.cu");
/// The Philox engine and draw transforms, also read by the host-compiler test of the engine.
pub const PHILOX: &str = include_str!("philox.cu");
const RANDOM: &str = include_str!("random.cu");
const SORT: &str = include_str!("sort.cu");
const ATTENTION: &str = include_str!("attention.cu");
const SEARCH: &str = include_str!("search.cu");

/// The most parameters one optimizer launch updates (optim.cu's `FT_OPT_LIST`).
pub const OPT_LIST: usize = 16;

/// The longest row `sort_rows` takes (sort.cu's `FT_SORT_MAX`).
pub const SORT_MAX: usize = 2048;

/// The head dims attention.cu has kernels for (`attention_*_<dtype>_d<dim>` take heads of at
/// most `dim` elements), and its threads per block (`FT_ATTN_WARPS` warps).
pub const ATTENTION_DIMS: [usize; 3] = [64, 128, 256];
pub const ATTENTION_THREADS: u32 = 128;

/// The float dtypes, in `DType::ALL` order.
const FLOAT_DTYPES: [DType; 4] = [DType::F16, DType::BF16, DType::F32, DType::F64];

/// One NVRTC compilation unit: its source and the kernels it defines.
#[derive(Clone, Debug)]
pub struct KernelModule {
    /// Short name, also the cache key's prefix: `fill`, `copy_f32`, `unary_exp`, `binary_add`, ...
    pub name: String,
    /// The complete CUDA C source.
    pub source: String,
    /// The `extern "C"` kernel names it defines.
    pub kernels: Vec<String>,
}

/// Every kernel module of the backend.
pub fn modules() -> Vec<KernelModule> {
    let mut all = vec![fill_module(), where_module()];
    all.extend(DType::ALL.iter().map(|&from| copy_module(from)));
    all.extend(FloatUnaryOp::ALL.iter().map(|&op| unary_module(op.name(), ops::float_unary(op), &FLOAT_DTYPES)));
    all.extend(NumericUnaryOp::ALL.iter().map(|&op| unary_module(op.name(), ops::numeric_unary(op), &DType::ALL)));
    all.extend(BinaryOp::ALL.iter().map(|&op| binary_module(op)));
    all.push(reduce_module());
    all.extend([argreduce_module(), scan_module(), softmax_module(), gather_module(), scatter_module(), scatter_index_module(), index_module()]);
    all.extend(Activation::every().into_iter().map(activation_module));
    all.extend([optim_module(), norm_module(), conv_module(), pool_module(), rnn_module(), random_module(), sort_module(), search_module(), attention_module()]);
    all
}

/// The name of the module defining `kernel` (which need not exist): the kernel name without
/// its dtype suffix, except for the one-module families `fill`, `where`, `reduce`, `argreduce`,
/// `scan`, `softmax`, `gather`, `scatter`, `optim`, `norm`, `conv`, `pool`, `rnn`, `random` and `sort`, and the activations (`act_<name>_<fwd|bwd>_<dtype>`
/// in module `act_<name>`).
pub fn module_of(kernel: &str) -> String {
    if kernel.starts_with("act_") {
        return kernel.rsplitn(3, '_').last().unwrap_or(kernel).to_string();
    }
    for family in ["fill", "where", "reduce", "argreduce", "scan", "softmax", "gather", "scatter_index", "scatter", "optim", "norm", "conv", "pool", "rnn", "random", "sort", "search", "attention"] {
        if kernel.strip_prefix(family).is_some_and(|rest| rest.starts_with('_')) {
            return family.to_string();
        }
    }
    kernel.rsplit_once('_').map_or(kernel, |(module, _)| module).to_string()
}

/// The suffix naming `dtype` in kernel names.
pub fn suffix(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool => "bool",
        DType::U8 => "u8",
        DType::I8 => "i8",
        DType::I16 => "i16",
        DType::I32 => "i32",
        DType::I64 => "i64",
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        DType::F32 => "f32",
        DType::F64 => "f64",
    }
}

/// The CUDA C type that stores one element of `dtype` (prelude.cu's names).
pub fn storage_type(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "float",
        DType::F64 => "double",
        // The others are typedefs named like the kernel suffix.
        other => suffix(other),
    }
}

/// The CUDA C type kernels compute in for `dtype`.
fn compute_type(dtype: DType) -> &'static str {
    storage_type(dtype.compute_type())
}

/// The dtypes a binary op of `kind` has kernels for.
/// Mirrors what the CPU kernels accept after promotion.
pub fn binary_dtypes(kind: BinaryKind) -> &'static [DType] {
    const BITS: [DType; 6] = [DType::Bool, DType::U8, DType::I8, DType::I16, DType::I32, DType::I64];
    match kind {
        BinaryKind::Arith | BinaryKind::Compare => &DType::ALL,
        BinaryKind::Real => &FLOAT_DTYPES,
        BinaryKind::Bits => &BITS,
        BinaryKind::Logical => &[DType::Bool],
    }
}

fn binary_output(kind: BinaryKind, dtype: DType) -> DType {
    match kind {
        BinaryKind::Compare | BinaryKind::Logical => DType::Bool,
        _ => dtype,
    }
}

/// The reductions of reduce.cu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    Sum,
    Prod,
    Max,
    Min,
}

impl Reduction {
    pub const ALL: [Reduction; 4] = [Reduction::Sum, Reduction::Prod, Reduction::Max, Reduction::Min];

    /// The reduction's part of its kernel names (`reduce_<name>_<dtype>`).
    pub fn name(self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Prod => "prod",
            Reduction::Max => "max",
            Reduction::Min => "min",
        }
    }

    fn functor(self) -> &'static str {
        match self {
            Reduction::Sum => "SumOp",
            Reduction::Prod => "ProdOp",
            Reduction::Max => "MaxOp",
            Reduction::Min => "MinOp",
        }
    }

    /// The dtype partial results are kept in: float for the half types (as PyTorch accumulates),
    /// int64 for integer sums, int32 for max/min of the narrow integers (warp shuffles move 32
    /// or 64 bits). The second pass over partials uses the kernel of this dtype.
    pub fn accumulator(self, dtype: DType) -> DType {
        match (self, dtype) {
            (_, DType::F16 | DType::BF16 | DType::F32) => DType::F32,
            (_, DType::F64) => DType::F64,
            (Reduction::Sum | Reduction::Prod, _) => DType::I64,
            (_, DType::I64) => DType::I64,
            _ => DType::I32,
        }
    }
}

/// Appends `extern "C" __global__ void <name>(<params>) { <body> }` and records the name.
fn kernel(source: &mut String, kernels: &mut Vec<String>, name: String, params: &str, body: &str) {
    let _ = writeln!(source, "extern \"C\" __global__ void {name}({params}) {{ {body} }}");
    kernels.push(name);
}

fn module(name: String, templates: &[&str], emit: impl FnOnce(&mut String, &mut Vec<String>)) -> KernelModule {
    let mut source = String::from(PRELUDE);
    for template in templates {
        source.push_str(template);
    }
    source.push_str("\n// Generated instantiations.\n");
    let mut kernels = Vec::new();
    emit(&mut source, &mut kernels);
    KernelModule { name, source, kernels }
}

fn fill_module() -> KernelModule {
    module("fill".into(), &[MEMORY], |src, names| {
        for dtype in DType::ALL {
            let t = storage_type(dtype);
            let params = format!("i64 n, Shape shape, Strides<1> strides, int contiguous, {t}* out, {t} value");
            kernel(src, names, format!("fill_{}", suffix(dtype)), &params, "fill_loop(n, shape, strides, contiguous, out, value);");
        }
    })
}

fn where_module() -> KernelModule {
    module("where".into(), &[MEMORY], |src, names| {
        for dtype in DType::ALL {
            let t = storage_type(dtype);
            let params = format!("i64 n, Shape shape, Strides<4> strides, int contiguous, {t}* out, const bool* cond, const {t}* a, const {t}* b");
            kernel(src, names, format!("where_{}", suffix(dtype)), &params, "where_loop(n, shape, strides, contiguous, out, cond, a, b);");
        }
    })
}

/// Strided copies from `from` to every dtype.
fn copy_module(from: DType) -> KernelModule {
    module(format!("copy_{}", suffix(from)), &[MEMORY], |src, names| {
        for to in DType::ALL {
            let (s, d) = (storage_type(from), storage_type(to));
            let params = format!("i64 n, Shape shape, Strides<2> strides, int contiguous, {d}* out, const {s}* in");
            let body = format!("copy_loop<{s}, {d}>(n, shape, strides, contiguous, out, in);");
            kernel(src, names, format!("copy_{}_{}", suffix(from), suffix(to)), &params, &body);
        }
    })
}

/// The functor struct of one op: `apply` evaluates `expr` in the compute type `C`.
fn functor(src: &mut String, name: &str, args: &str, expr: &str) {
    let _ = writeln!(
        src,
        "struct {name} {{ template <typename C> static __device__ __forceinline__ auto apply({args}) {{ return {expr}; }} }};"
    );
}

/// One unary op (`expr` over `x`) for each of `dtypes`.
fn unary_module(op: &str, expr: &str, dtypes: &[DType]) -> KernelModule {
    module(format!("unary_{op}"), &[ARITH, ELEMENTWISE], |src, names| {
        functor(src, &format!("op_{op}"), "C x", expr);
        for &dtype in dtypes {
            let (t, c) = (storage_type(dtype), compute_type(dtype));
            let params = format!("i64 n, Shape shape, Strides<2> strides, int contiguous, {t}* out, const {t}* in");
            let body = format!("unary_loop<{t}, {t}, {c}, op_{op}>(n, shape, strides, contiguous, out, in);");
            kernel(src, names, format!("unary_{op}_{}", suffix(dtype)), &params, &body);
        }
    })
}

/// One binary op for each dtype of its kind.
fn binary_module(op: BinaryOp) -> KernelModule {
    let name = op.name();
    module(format!("binary_{name}"), &[ARITH, ELEMENTWISE], |src, names| {
        functor(src, &format!("op_{name}"), "C a, C b", ops::binary(op));
        for &dtype in binary_dtypes(op.kind()) {
            let (s, c) = (storage_type(dtype), compute_type(dtype));
            let d = storage_type(binary_output(op.kind(), dtype));
            let params = format!("i64 n, Shape shape, Strides<3> strides, int contiguous, {d}* out, const {s}* a, const {s}* b");
            let body = format!("binary_loop<{s}, {d}, {c}, op_{name}>(n, shape, strides, contiguous, out, a, b);");
            kernel(src, names, format!("binary_{name}_{}", suffix(dtype)), &params, &body);
        }
    })
}

fn reduce_module() -> KernelModule {
    module("reduce".into(), &[ARITH, REDUCE], |src, names| {
        for reduction in Reduction::ALL {
            for dtype in DType::ALL {
                let (s, a) = (storage_type(dtype), storage_type(reduction.accumulator(dtype)));
                let params = format!("i64 rows, i64 cols, Shape kept, Strides<1> kept_strides, Shape reduced, Strides<1> reduced_strides, const {s}* in, {a}* out");
                let args = "rows, cols, kept, kept_strides, reduced, reduced_strides, in, out";
                for (form, function) in [("", "reduce_rows"), ("columns_", "reduce_columns")] {
                    let body = format!("{function}<{s}, {a}, {}>({args});", reduction.functor());
                    kernel(src, names, format!("reduce_{form}{}_{}", reduction.name(), suffix(dtype)), &params, &body);
                }
            }
        }
    })
}

/// `argreduce_<max|min>_<dtype>`: each row's extreme value and its index (max/min along a dim,
/// argmax/argmin).
fn argreduce_module() -> KernelModule {
    module("argreduce".into(), &[ARITH, REDUCE], |src, names| {
        for (name, max) in [("max", true), ("min", false)] {
            for dtype in DType::ALL {
                let (s, a) = (storage_type(dtype), storage_type(Reduction::Max.accumulator(dtype)));
                let params = format!("i64 rows, i64 cols, const {s}* in, {s}* values, i64* indices");
                let body = format!("arg_reduce_rows<{s}, {a}, {max}>(rows, cols, in, values, indices);");
                kernel(src, names, format!("argreduce_{name}_{}", suffix(dtype)), &params, &body);
            }
        }
    })
}

/// `scan_<sum|prod|logcumsumexp|cummax|cummin>_<dtype>`: cumsum and cumprod, with `sum`'s result types (integers and bool
/// to int64) and the reductions' accumulators.
fn scan_module() -> KernelModule {
    module("scan".into(), &[ARITH, SCAN], |src, names| {
        for (scan, functor, reduction) in [(Scan::Sum, "ScanSum", Reduction::Sum), (Scan::Prod, "ScanProd", Reduction::Prod)] {
            let name = scan.name();
            for dtype in DType::ALL {
                let s = storage_type(dtype);
                let d = storage_type(scan_output(dtype));
                let a = storage_type(reduction.accumulator(dtype));
                let params = format!("i64 outer, i64 size, i64 inner, const {s}* in, {d}* out");
                let body = format!("scan_lines<{s}, {d}, {a}, {functor}>(outer, size, inner, in, out, (i64*)0);");
                kernel(src, names, format!("scan_{name}_{}", suffix(dtype)), &params, &body);
            }
        }
        for dtype in FLOAT_DTYPES {
            let (s, a) = (storage_type(dtype), compute_type(dtype));
            let params = format!("i64 outer, i64 size, i64 inner, const {s}* in, {s}* out");
            let body = format!("scan_lines<{s}, {s}, {a}, ScanLogAddExp>(outer, size, inner, in, out, (i64*)0);");
            kernel(src, names, format!("scan_{}_{}", Scan::LogSumExp.name(), suffix(dtype)), &params, &body);
        }
        for (name, max) in [("cummax", true), ("cummin", false)] {
            for dtype in DType::ALL {
                let s = storage_type(dtype);
                let a = storage_type(Reduction::Max.accumulator(dtype));
                let params = format!("i64 outer, i64 size, i64 inner, const {s}* in, {s}* out, i64* indices");
                let body = format!("scan_lines<{s}, {s}, Extreme<{a}>, ScanExtreme<{max}> >(outer, size, inner, in, out, indices);");
                kernel(src, names, format!("scan_{name}_{}", suffix(dtype)), &params, &body);
            }
        }
    })
}

/// The running combinations of scan.cu with a single output (`scan_<name>_<dtype>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    Sum,
    Prod,
    /// `logcumsumexp` (float dtypes only).
    LogSumExp,
}

impl Scan {
    pub fn name(self) -> &'static str {
        match self {
            Scan::Sum => "sum",
            Scan::Prod => "prod",
            Scan::LogSumExp => "logcumsumexp",
        }
    }
}

/// The dtype of a running sum or product of `dtype`: floats keep theirs, the rest give int64.
pub fn scan_output(dtype: DType) -> DType {
    if dtype.is_float() { dtype } else { DType::I64 }
}

/// `softmax_<f32|f64>` (with a flag for the log form).
fn softmax_module() -> KernelModule {
    module("softmax".into(), &[ARITH, REDUCE, SOFTMAX], |src, names| {
        for dtype in [DType::F32, DType::F64] {
            let r = storage_type(dtype);
            let params = format!("i64 outer, i64 size, i64 inner, const {r}* in, {r}* out, int log_form");
            kernel(src, names, format!("softmax_{}", suffix(dtype)), &params, "softmax_lines(outer, size, inner, in, out, log_form);");
        }
    })
}

fn gather_module() -> KernelModule {
    module("gather".into(), &[INDEX], |src, names| {
        for dtype in DType::ALL {
            let t = storage_type(dtype);
            let params = format!("i64 n, Shape shape, Strides<3> strides, {t}* out, const {t}* src, {INDEX_PARAMS}");
            kernel(src, names, format!("gather_{}", suffix(dtype)), &params, &format!("gather_loop(n, shape, strides, out, src, {INDEX_ARGS});"));
        }
    })
}

/// The parameters (and their names as arguments) of index values read on the device: the
/// values, the rule turning them into deltas, the fault's code and the device's fault word.
const INDEX_PARAMS: &str = "const i64* index, i64 size, i64 stride, i64 wrap, i64 fault, i64* faults";
const INDEX_ARGS: &str = "index, size, stride, wrap, fault, faults";

/// `index_check`: reports the first index value out of range (module `index`).
fn index_module() -> KernelModule {
    module("index".into(), &[INDEX], |src, names| {
        kernel(src, names, "index_check".into(), &format!("i64 n, {INDEX_PARAMS}"), &format!("index_check_loop(n, {INDEX_ARGS});"));
    })
}

/// A module of one kernel `<name>_<how>_<dtype>` per combine rule of the CPU scatter
/// (`ops::index::kernel::Combine`) and dtype: `params(t)` for storage type `t`, and the call of
/// `loop<t, functor>` with `args`.
fn scatter_kernels(name: &str, params: impl Fn(&str) -> String, call: &str, args: &str) -> KernelModule {
    module(name.into(), &[ARITH, INDEX], |src, names| {
        for how in Combine::ALL {
            let functor = format!("Scatter{}{}", how.name()[..1].to_uppercase(), &how.name()[1..]);
            for dtype in DType::ALL {
                let t = storage_type(dtype);
                let body = format!("{call}<{t}, {functor}>({args});");
                kernel(src, names, format!("{name}_{}_{}", how.name(), suffix(dtype)), &params(t), &body);
            }
        }
    })
}

/// `scatter_<how>_<dtype>`: over (destination, source) offset pairs built on the host.
fn scatter_module() -> KernelModule {
    let params = |t: &str| format!("i64 n, {t}* dst, const {t}* src, const i64* dst_at, const i64* src_at");
    scatter_kernels("scatter", params, "scatter_loop", "n, dst, src, dst_at, src_at")
}

/// `scatter_index_<how>_<dtype>`: the one-dim scatters through index values on the device.
fn scatter_index_module() -> KernelModule {
    let params = |t: &str| format!("i64 n, Shape shape, Strides<3> strides, {t}* dst, const {t}* src, {INDEX_PARAMS}");
    scatter_kernels("scatter_index", params, "scatter_index_loop", &format!("n, shape, strides, dst, src, {INDEX_ARGS}"))
}

/// `act_<name>_fwd_<f32|f64>` and `act_<name>_bwd_<f32|f64>`: one activation's forward map and
/// its backward map of (gradient, saved value), with the parameters passed as `ActParams`.
fn activation_module(op: Activation) -> KernelModule {
    let name = op.name();
    let (forward, backward) = activation::expressions(op);
    let params: String = op.params().iter().enumerate().map(|(i, (p, _))| format!("const R {p} = (R)p.v[{i}]; ")).collect();
    module(format!("act_{name}"), &[ACTIVATION], |src, names| {
        for dtype in [DType::F32, DType::F64] {
            let (r, sfx) = (storage_type(dtype), suffix(dtype));
            let head = format!("typedef {r} R; {params}");
            let fparams = "i64 n, Shape shape, Strides<2> strides, int contiguous, R_* out, const R_* in, ActParams p".replace("R_", r);
            let fbody = format!("{head}map1(n, shape, strides, contiguous, out, in, [=](R x) {{ return (R)({forward}); }});");
            kernel(src, names, format!("act_{name}_fwd_{sfx}"), &fparams, &fbody);
            let bparams = "i64 n, Shape shape, Strides<3> strides, int contiguous, R_* out, const R_* gs, const R_* vs, ActParams p".replace("R_", r);
            let bbody = format!("{head}map2(n, shape, strides, contiguous, out, gs, vs, [=](R g, R v) {{ return (R)({backward}); }});");
            kernel(src, names, format!("act_{name}_bwd_{sfx}"), &bparams, &bbody);
        }
    })
}

/// `norm_rows_<f32|f64>` and `norm_rows_backward_<f32|f64>`: layer and RMS normalization, a block
/// per row; `norm_batch_<step>_<dtype>`: batch normalization's three launches each way, for every
/// float dtype (the input's; per-channel values in its compute type).
fn norm_module() -> KernelModule {
    module("norm".into(), &[ARITH, REDUCE, NORM, BATCH_NORM], |src, names| {
        for dtype in [DType::F32, DType::F64] {
            let (r, sfx) = (storage_type(dtype), suffix(dtype));
            let params = format!("i64 rows, i64 n, const {r}* x, const {r}* w, const {r}* b, {r}* y, double eps, int center");
            kernel(src, names, format!("norm_rows_{sfx}"), &params, "row_norm_rows(rows, n, x, w, b, y, eps, center);");
            let params = format!("i64 rows, i64 n, const {r}* x, const {r}* w, const {r}* dy, {r}* dx, {r}* dy_xhat, double eps, int center");
            kernel(src, names, format!("norm_rows_backward_{sfx}"), &params, "row_norm_backward_rows(rows, n, x, w, dy, dx, dy_xhat, eps, center);");
        }
        for dtype in FLOAT_DTYPES {
            let (t, a, sfx) = (storage_type(dtype), storage_type(dtype.compute_type()), suffix(dtype));
            let batch_norm = [
                ("stats", "const T* x, double* partials", "bn_stats(g, x, partials);"),
                (
                    "stats_finish",
                    "const T* x, const double* partials, const A* w, double eps, A* mean, A* var, A* scale",
                    "bn_stats_finish(g, x, partials, w, eps, mean, var, scale);",
                ),
                ("apply", "const T* x, const A* mean, const A* scale, const A* b, T* out", "bn_apply(g, x, mean, scale, b, out);"),
                ("backward_sums", "const T* x, const T* dy, const A* mean, double* partials", "bn_backward_sums(g, x, dy, mean, partials);"),
                (
                    "backward_finish",
                    "const double* partials, const A* w, const A* invstd, A* dw, A* db, A* k, A* mean_dy, A* scale",
                    "bn_backward_finish(g, partials, w, invstd, dw, db, k, mean_dy, scale);",
                ),
                (
                    "backward_apply",
                    "const T* x, const T* dy, const A* mean, const A* k, const A* mean_dy, const A* scale, T* dx",
                    "bn_backward_apply(g, x, dy, mean, k, mean_dy, scale, dx);",
                ),
            ];
            for (step, params, body) in batch_norm {
                let params = format!("ChannelLayout g, {}", params.replace("T*", &format!("{t}*")).replace("A*", &format!("{a}*")));
                kernel(src, names, format!("norm_batch_{step}_{sfx}"), &params, body);
            }
        }
    })
}

/// `conv_im2col_<dtype>` for every float dtype (a copy) and `conv_col2im_<f32|f64>` (sums, in
/// the compute type).
fn conv_module() -> KernelModule {
    module("conv".into(), &[CONV], |src, names| {
        for dtype in FLOAT_DTYPES {
            let t = storage_type(dtype);
            let params = format!("i64 planes, const {t}* src, {t}* dst, ConvWindow w");
            kernel(src, names, format!("conv_im2col_{}", suffix(dtype)), &params, "im2col_loop(planes, src, dst, w);");
        }
        for dtype in [DType::F32, DType::F64] {
            let t = storage_type(dtype);
            let params = format!("i64 planes, const {t}* src, {t}* dst, ConvWindow w");
            kernel(src, names, format!("conv_col2im_{}", suffix(dtype)), &params, "col2im_loop(planes, src, dst, w);");
        }
    })
}

/// `pool_max_<dtype>` for every dtype; `pool_mean_<dtype>` and `pool_mean_adjoint_<dtype>` for
/// the float dtypes.
fn pool_module() -> KernelModule {
    module("pool".into(), &[ARITH, POOL], |src, names| {
        for dtype in DType::ALL {
            let t = storage_type(dtype);
            let params = format!("i64 planes, const {t}* src, {t}* values, i64* indices, const i64* table, PoolGeometry g");
            kernel(src, names, format!("pool_max_{}", suffix(dtype)), &params, "window_max_loop(planes, src, values, indices, table, g);");
        }
        for dtype in FLOAT_DTYPES {
            let t = storage_type(dtype);
            let params = format!("i64 planes, const {t}* src, {t}* out, const i64* table, const double* divisors, PoolGeometry g");
            kernel(src, names, format!("pool_mean_{}", suffix(dtype)), &params, "window_mean_loop(planes, src, out, table, divisors, g);");
            kernel(src, names, format!("pool_mean_adjoint_{}", suffix(dtype)), &params, "window_mean_adjoint_loop(planes, src, out, table, divisors, g);");
        }
    })
}

/// `rnn_lstm_cell_<f32|f64>` and `rnn_lstm_cell_backward_<f32|f64>` (an LSTM step's fused
/// element-wise part), `rnn_lstm_layer_step[_backward]_<f32|f64>` (a step of a whole LSTM
/// layer, in place on the layer's buffers) and the GRU's pairs of both kinds.
fn rnn_module() -> KernelModule {
    module("rnn".into(), &[RNN], |src, names| {
        for dtype in [DType::F32, DType::F64] {
            let (r, sfx) = (storage_type(dtype), suffix(dtype));
            let params = format!("i64 rows, i64 h, const {r}* gates, const {r}* c, {r}* hy, {r}* cy");
            kernel(src, names, format!("rnn_lstm_cell_{sfx}"), &params, "lstm_cell_loop(rows, h, gates, c, hy, cy);");
            let params = format!("i64 rows, i64 h, const {r}* gates, const {r}* c, const {r}* cy, const {r}* dh, const {r}* dcy, {r}* dgates, {r}* dc");
            kernel(src, names, format!("rnn_lstm_cell_backward_{sfx}"), &params, "lstm_cell_backward_loop(rows, h, gates, c, cy, dh, dcy, dgates, dc);");
            let params = format!("i64 rows, i64 h, {r}* gates, {r}* hs, {r}* cs, {r}* out, {r}* c_prev, {r}* tanh_c, {r}* h_prev");
            kernel(src, names, format!("rnn_lstm_layer_step_{sfx}"), &params, "lstm_layer_step_loop(rows, h, gates, hs, cs, out, c_prev, tanh_c, h_prev);");
            let params = format!("i64 rows, i64 h, const {r}* gates, const {r}* c_prev, const {r}* tanh_c, const {r}* d_out, const {r}* dh, {r}* dc, {r}* d_gates");
            let body = "lstm_layer_step_backward_loop(rows, h, gates, c_prev, tanh_c, d_out, dh, dc, d_gates);";
            kernel(src, names, format!("rnn_lstm_layer_step_backward_{sfx}"), &params, body);
            let params = format!("i64 rows, i64 h, {r}* gates, const {r}* gh, const {r}* b_hh, {r}* hs, {r}* out, {r}* gh_n, {r}* h_prev");
            kernel(src, names, format!("rnn_gru_layer_step_{sfx}"), &params, "gru_layer_step_loop(rows, h, gates, gh, b_hh, hs, out, gh_n, h_prev);");
            let params = format!("i64 rows, i64 h, const {r}* gates, const {r}* gh_n, const {r}* h_prev, const {r}* d_out, {r}* dh, {r}* d_gi, {r}* d_gh");
            let body = "gru_layer_step_backward_loop(rows, h, gates, gh_n, h_prev, d_out, dh, d_gi, d_gh);";
            kernel(src, names, format!("rnn_gru_layer_step_backward_{sfx}"), &params, body);
            let params = format!("i64 rows, i64 h, const {r}* gi, const {r}* gh, const {r}* hp, {r}* hy");
            kernel(src, names, format!("rnn_gru_cell_{sfx}"), &params, "gru_cell_loop(rows, h, gi, gh, hp, hy);");
            let params = format!("i64 rows, i64 h, const {r}* gi, const {r}* gh, const {r}* hp, const {r}* dy, {r}* dgi, {r}* dgh, {r}* dh");
            kernel(src, names, format!("rnn_gru_cell_backward_{sfx}"), &params, "gru_cell_backward_loop(rows, h, gi, gh, hp, dy, dgi, dgh, dh);");
        }
    })
}

/// `sort_rows_<dtype>` (rows of at most `SORT_MAX` elements sorted in shared memory),
/// `sort_runs_<dtype>` and `sort_merge_<dtype>` (longer rows: sorted runs, then merge passes)
/// for every dtype (sort.cu).
fn sort_module() -> KernelModule {
    module("sort".into(), &[SORT], |src, names| {
        for dtype in DType::ALL {
            let (t, sfx) = (storage_type(dtype), suffix(dtype));
            let params = format!("i64 rows, i64 n, const {t}* in, {t}* values, i64* indices, int descending, i64 first, i64 count");
            kernel(src, names, format!("sort_rows_{sfx}"), &params, "sort_rows(rows, n, in, values, indices, descending, first, count);");
            let params = format!("i64 rows, i64 n, const {t}* in, {t}* values, i64* positions, int descending");
            kernel(src, names, format!("sort_runs_{sfx}"), &params, "sort_runs(rows, n, in, values, positions, descending);");
            let params = format!("i64 rows, i64 n, i64 width, const {t}* values, const i64* positions, {t}* values_out, i64* positions_out, int descending");
            let body = "merge_runs(rows, n, width, values, positions, values_out, positions_out, descending);";
            kernel(src, names, format!("sort_merge_{sfx}"), &params, body);
        }
    })
}

/// `search_<dtype>` for every dtype: searchsorted's binary searches (search.cu).
fn search_module() -> KernelModule {
    module("search".into(), &[SEARCH], |src, names| {
        for dtype in DType::ALL {
            let t = storage_type(dtype);
            let params = format!("i64 count, i64 n, i64 per_row, const {t}* boundaries, const {t}* values, const i64* sorter, i64* out, int right");
            kernel(src, names, format!("search_{}", suffix(dtype)), &params, "search_loop(count, n, per_row, boundaries, values, sorter, out, right);");
        }
    })
}

/// `attention_forward_<dtype>_d<dim>`, `attention_backward_q_<dtype>_d<dim>` and
/// `attention_backward_kv_<dtype>_d<dim>` for the float dtypes and head dims up to each of
/// `ATTENTION_DIMS` (attention.cu).
fn attention_module() -> KernelModule {
    module("attention".into(), &[ARITH, ATTENTION], |src, names| {
        for dtype in FLOAT_DTYPES {
            let (t, a, sfx) = (storage_type(dtype), compute_type(dtype), suffix(dtype));
            for dim in ATTENTION_DIMS {
                let (dpl, shape) = (dim / 32, "i64 heads, i64 group, i64 L, i64 S, i64 E, i64 Ev");
                let params = format!("{shape}, const {t}* q, const {t}* k, const {t}* v, {t}* out, {a}* lse, double scale, int causal");
                let body = format!("attention_forward<{t}, {dpl}>(heads, group, L, S, E, Ev, q, k, v, out, lse, scale, causal);");
                kernel(src, names, format!("attention_forward_{sfx}_d{dim}"), &params, &body);
                let params = format!(
                    "{shape}, const {t}* q, const {t}* k, const {t}* v, const {t}* out, const {t}* dout, const {a}* lse, {a}* delta, {t}* dq, double scale, int causal"
                );
                let body = format!("attention_backward_q<{t}, {dpl}>(heads, group, L, S, E, Ev, q, k, v, out, dout, lse, delta, dq, scale, causal);");
                kernel(src, names, format!("attention_backward_q_{sfx}_d{dim}"), &params, &body);
                let params = format!(
                    "{shape}, const {t}* q, const {t}* k, const {t}* v, const {t}* dout, const {a}* lse, const {a}* delta, {t}* dk, {t}* dv, double scale, int causal"
                );
                let body = format!("attention_backward_kv<{t}, {dpl}>(heads, group, L, S, E, Ev, q, k, v, dout, lse, delta, dk, dv, scale, causal);");
                kernel(src, names, format!("attention_backward_kv_{sfx}_d{dim}"), &params, &body);
            }
        }
    })
}

/// `random_<dtype>` for every dtype: the Philox fills of random.cu, and `random_poisson_<dtype>`
/// for the float dtypes: Poisson samples (`state`: null, or the
/// `[seed, base offset]` pair a CUDA graph's replay writes, which then replace `seed` and offset
/// `offset`).
fn random_module() -> KernelModule {
    module("random".into(), &[PHILOX, RANDOM], |src, names| {
        for dtype in DType::ALL {
            let t = storage_type(dtype);
            let params = format!("i64 n, {t}* out, u64 seed, u64 offset, const u64* state, RandomDraw d");
            kernel(src, names, format!("random_{}", suffix(dtype)), &params, "random_loop(n, out, seed, offset, state, d);");
        }
        for dtype in FLOAT_DTYPES {
            let t = storage_type(dtype);
            let params = format!("i64 n, const {t}* rates, {t}* out, u64 seed, u64 offset, const u64* state");
            kernel(src, names, format!("random_poisson_{}", suffix(dtype)), &params, "poisson_loop(n, rates, out, seed, offset, state);");
        }
    })
}

/// The optimizer rules with a CUDA form (optim.cu), by kernel name (`optim_<rule><K>`, K the
/// operand count) and the rule functor.
pub const OPTIM_RULES: [(&str, &str); 9] = [
    ("optim_adam4", "OptAdam<4>"),
    ("optim_adam5", "OptAdam<5>"),
    ("optim_sgd3", "OptSgd"),
    ("optim_adagrad3", "OptAdagrad"),
    ("optim_rmsprop5", "OptRmsprop"),
    ("optim_adamax4", "OptAdamax"),
    ("optim_adadelta4", "OptAdadelta"),
    ("optim_nadam4", "OptNAdam"),
    ("optim_radam4", "OptRAdam"),
];

/// The rules with capturable steps (`optim_prepare_<family>`: the prologue that advances the
/// device step counters and derives the step's scalars).
pub const OPTIM_PREPARE: [(&str, &str); 6] =
    [("adam", "OptAdam<4>"), ("rmsprop", "OptRmsprop"), ("adamax", "OptAdamax"), ("adadelta", "OptAdadelta"), ("nadam", "OptNAdam"), ("radam", "OptRAdam")];

/// `optim_<rule><K>_<dtype>` for every float dtype: the fused updates of optim.cu, each launch
/// over a list of up to `OPT_LIST` parameters.
fn optim_module() -> KernelModule {
    module("optim".into(), &[OPTIM], |src, names| {
        for (name, functor) in OPTIM_RULES {
            let k: usize = name[name.len() - 1..].parse().expect("arity suffix");
            for dtype in FLOAT_DTYPES {
                let (t, c) = (storage_type(dtype), compute_type(dtype));
                let body = format!("optim_loop<{t}, {c}, {k}, {functor}>(list);");
                kernel(src, names, format!("{name}_{}", suffix(dtype)), "OptList list", &body);
            }
        }
        for (family, functor) in OPTIM_PREPARE {
            kernel(src, names, format!("optim_prepare_{family}"), "OptList list", &format!("prepare_steps<{functor}>(list);"));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_kernels() -> Vec<String> {
        modules().into_iter().flat_map(|m| m.kernels).collect()
    }

    #[test]
    fn every_cpu_unary_op_has_a_kernel_per_dtype_it_accepts() {
        let names = all_kernels();
        for &op in FloatUnaryOp::ALL {
            for dtype in FLOAT_DTYPES {
                assert!(names.contains(&format!("unary_{}_{}", op.name(), suffix(dtype))));
            }
        }
        for &op in NumericUnaryOp::ALL {
            for dtype in DType::ALL {
                assert!(names.contains(&format!("unary_{}_{}", op.name(), suffix(dtype))));
            }
        }
    }

    #[test]
    fn every_cpu_binary_op_has_a_kernel_per_dtype_of_its_kind() {
        let names = all_kernels();
        for &op in BinaryOp::ALL {
            assert!(!binary_dtypes(op.kind()).is_empty());
            for &dtype in binary_dtypes(op.kind()) {
                assert!(names.contains(&format!("binary_{}_{}", op.name(), suffix(dtype))), "{op:?} {dtype:?}");
            }
        }
    }

    #[test]
    fn copy_covers_every_pair_of_dtypes() {
        let names = all_kernels();
        assert_eq!(names.iter().filter(|n| n.starts_with("copy_")).count(), 100);
        assert_eq!(names.iter().filter(|n| n.starts_with("fill_")).count(), 10);
        assert_eq!(names.iter().filter(|n| n.starts_with("where_")).count(), 10);
        assert_eq!(names.iter().filter(|n| n.starts_with("gather_")).count(), 10);
        assert_eq!(names.iter().filter(|n| n.starts_with("scatter_index_")).count(), 50);
        assert_eq!(names.iter().filter(|n| n.starts_with("scatter_")).count(), 100);
    }

    #[test]
    fn kernel_and_module_names_are_unique_and_kernels_map_to_their_module() {
        let mut kernels = std::collections::HashSet::new();
        let mut modules_seen = std::collections::HashSet::new();
        for m in modules() {
            assert!(modules_seen.insert(m.name.clone()), "duplicate module {}", m.name);
            for name in &m.kernels {
                assert!(kernels.insert(name.clone()), "duplicate kernel {name}");
                assert_eq!(module_of(name), m.name, "{name}");
            }
        }
    }

    #[test]
    fn module_of_handles_op_names_with_underscores() {
        assert_eq!(module_of("binary_bitwise_left_shift_i64"), "binary_bitwise_left_shift");
        assert_eq!(module_of("copy_f16_bf16"), "copy_f16");
        assert_eq!(module_of("reduce_sum_f32"), "reduce");
        assert_eq!(module_of("fill_bool"), "fill");
        assert_eq!(module_of("where_f32"), "where");
        assert_eq!(module_of("gather_i64"), "gather");
        assert_eq!(module_of("argreduce_max_f16"), "argreduce");
        assert_eq!(module_of("scan_prod_u8"), "scan");
        assert_eq!(module_of("softmax_f32"), "softmax");
        assert_eq!(module_of("scatter_add_bf16"), "scatter");
        assert_eq!(module_of("scatter_index_add_bf16"), "scatter_index");
        assert_eq!(module_of("index_check"), "index");
        assert_eq!(module_of("act_leaky_relu_bwd_f64"), "act_leaky_relu");
        assert_eq!(module_of("act_relu_fwd_f32"), "act_relu");
    }

    #[test]
    fn every_activation_has_forward_and_backward_kernels_with_its_parameters() {
        let names = all_kernels();
        for op in Activation::every() {
            for dir in ["fwd", "bwd"] {
                for dtype in ["f32", "f64"] {
                    assert!(names.contains(&format!("act_{}_{dir}_{dtype}", op.name())), "{op:?}");
                }
            }
            let m = activation_module(op);
            for (p, _) in op.params() {
                assert!(m.source.contains(&format!("const R {p} = ")), "{op:?} {p}");
            }
        }
        assert!(Activation::every().iter().all(|op| op.params().len() <= 4), "ActParams holds four");
    }

    #[test]
    fn sources_include_no_headers() {
        for m in modules() {
            assert!(!m.source.lines().any(|l| l.trim_start().starts_with("#include")), "{} includes a header", m.name);
        }
    }

    #[test]
    fn second_pass_kernels_exist_for_every_accumulator() {
        for reduction in Reduction::ALL {
            for dtype in DType::ALL {
                let acc = reduction.accumulator(dtype);
                assert_eq!(reduction.accumulator(acc), acc, "{reduction:?} {dtype:?}");
            }
        }
    }
}
