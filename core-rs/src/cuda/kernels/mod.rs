//! The CUDA C kernel modules. Hand-written templates live in the `.cu` files beside this one
//! (embedded with `include_str!`); this file assembles each module from them and emits one
//! `extern "C"` instantiation per op and dtype, walking the CPU op tables (`FloatUnaryOp::ALL`,
//! `NumericUnaryOp::ALL`, `BinaryOp::ALL`) so that every CPU op gets its CUDA kernels.
//!
//! Kernel names: `unary_<op>_<dtype>`, `binary_<op>_<dtype>` (the inputs' dtype),
//! `fill_<dtype>`, `copy_<src>_<dst>`, `reduce_<sum|max|min>_<dtype>`, with `<dtype>` from
//! [`suffix`]. Modules are large on purpose: NVRTC's cost is mostly per module.

pub mod ops;

use std::fmt::Write;

use crate::dtype::DType;
use crate::ops::binary::{BinaryKind, BinaryOp};
use crate::ops::unary::{FloatUnaryOp, NumericUnaryOp};

const PRELUDE: &str = include_str!("prelude.cu");
const ARITH: &str = include_str!("arith.cu");
const ELEMENTWISE: &str = include_str!("elementwise.cu");
const MEMORY: &str = include_str!("memory.cu");
const REDUCE: &str = include_str!("reduce.cu");

/// The float dtypes, in `DType::ALL` order.
const FLOAT_DTYPES: [DType; 4] = [DType::F16, DType::BF16, DType::F32, DType::F64];

/// One NVRTC compilation unit: its source and the kernels it defines.
#[derive(Clone, Debug)]
pub struct KernelModule {
    /// Short name, also the cache key's prefix: `memory`, `unary`, `binary`, `reduce`.
    pub name: &'static str,
    /// The complete CUDA C source.
    pub source: String,
    /// The `extern "C"` kernel names it defines.
    pub kernels: Vec<String>,
}

/// Every kernel module of the backend.
pub fn modules() -> Vec<KernelModule> {
    vec![memory_module(), unary_module(), binary_module(), reduce_module()]
}

/// The module defining `kernel`, if any.
pub fn module_of(kernel: &str) -> Option<&'static str> {
    let family = kernel.split('_').next()?;
    match family {
        "fill" | "copy" => Some("memory"),
        "unary" => Some("unary"),
        "binary" => Some("binary"),
        "reduce" => Some("reduce"),
        _ => None,
    }
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
        DType::Bool => "bool",
        DType::U8 => "u8",
        DType::I8 => "i8",
        DType::I16 => "i16",
        DType::I32 => "i32",
        DType::I64 => "i64",
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        DType::F32 => "float",
        DType::F64 => "double",
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
    Max,
    Min,
}

impl Reduction {
    pub const ALL: [Reduction; 3] = [Reduction::Sum, Reduction::Max, Reduction::Min];

    fn name(self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Max => "max",
            Reduction::Min => "min",
        }
    }

    fn functor(self) -> &'static str {
        match self {
            Reduction::Sum => "SumOp",
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
            (Reduction::Sum, _) => DType::I64,
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

fn module(name: &'static str, templates: &[&str], emit: impl FnOnce(&mut String, &mut Vec<String>)) -> KernelModule {
    let mut source = String::from(PRELUDE);
    for template in templates {
        source.push_str(template);
    }
    source.push_str("\n// Generated instantiations.\n");
    let mut kernels = Vec::new();
    emit(&mut source, &mut kernels);
    KernelModule { name, source, kernels }
}

fn memory_module() -> KernelModule {
    module("memory", &[MEMORY], |src, names| {
        for dtype in DType::ALL {
            let t = storage_type(dtype);
            let params = format!("i64 n, Shape shape, Strides<1> strides, int contiguous, {t}* out, {t} value");
            kernel(src, names, format!("fill_{}", suffix(dtype)), &params, "fill_loop(n, shape, strides, contiguous, out, value);");
        }
        for from in DType::ALL {
            for to in DType::ALL {
                let (s, d) = (storage_type(from), storage_type(to));
                let params = format!("i64 n, Shape shape, Strides<2> strides, int contiguous, {d}* out, const {s}* in");
                let body = format!("copy_loop<{s}, {d}>(n, shape, strides, contiguous, out, in);");
                kernel(src, names, format!("copy_{}_{}", suffix(from), suffix(to)), &params, &body);
            }
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

fn unary_module() -> KernelModule {
    fn instantiate(src: &mut String, names: &mut Vec<String>, op: &str, dtypes: &[DType]) {
        for &dtype in dtypes {
            let (t, c) = (storage_type(dtype), compute_type(dtype));
            let params = format!("i64 n, Shape shape, Strides<2> strides, int contiguous, {t}* out, const {t}* in");
            let body = format!("unary_loop<{t}, {t}, {c}, op_{op}>(n, shape, strides, contiguous, out, in);");
            kernel(src, names, format!("unary_{op}_{}", suffix(dtype)), &params, &body);
        }
    }
    module("unary", &[ARITH, ELEMENTWISE], |src, names| {
        for &op in FloatUnaryOp::ALL {
            functor(src, &format!("op_{}", op.name()), "C x", ops::float_unary(op));
            instantiate(src, names, op.name(), &FLOAT_DTYPES);
        }
        for &op in NumericUnaryOp::ALL {
            functor(src, &format!("op_{}", op.name()), "C x", ops::numeric_unary(op));
            instantiate(src, names, op.name(), &DType::ALL);
        }
    })
}

fn binary_module() -> KernelModule {
    module("binary", &[ARITH, ELEMENTWISE], |src, names| {
        for &op in BinaryOp::ALL {
            functor(src, &format!("op_{}", op.name()), "C a, C b", ops::binary(op));
            for &dtype in binary_dtypes(op.kind()) {
                let (s, c) = (storage_type(dtype), compute_type(dtype));
                let d = storage_type(binary_output(op.kind(), dtype));
                let params = format!("i64 n, Shape shape, Strides<3> strides, int contiguous, {d}* out, const {s}* a, const {s}* b");
                let body = format!("binary_loop<{s}, {d}, {c}, op_{}>(n, shape, strides, contiguous, out, a, b);", op.name());
                kernel(src, names, format!("binary_{}_{}", op.name(), suffix(dtype)), &params, &body);
            }
        }
    })
}

fn reduce_module() -> KernelModule {
    module("reduce", &[ARITH, REDUCE], |src, names| {
        for reduction in Reduction::ALL {
            for dtype in DType::ALL {
                let (s, a) = (storage_type(dtype), storage_type(reduction.accumulator(dtype)));
                let params = format!("i64 rows, i64 cols, const {s}* in, {a}* out");
                let body = format!("reduce_rows<{s}, {a}, {}>(rows, cols, in, out);", reduction.functor());
                kernel(src, names, format!("reduce_{}_{}", reduction.name(), suffix(dtype)), &params, &body);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cpu_unary_op_has_a_kernel_per_dtype_it_accepts() {
        let names = unary_module().kernels;
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
        let names = binary_module().kernels;
        for &op in BinaryOp::ALL {
            assert!(!binary_dtypes(op.kind()).is_empty());
            for &dtype in binary_dtypes(op.kind()) {
                assert!(names.contains(&format!("binary_{}_{}", op.name(), suffix(dtype))), "{op:?} {dtype:?}");
            }
        }
    }

    #[test]
    fn copy_covers_every_pair_of_dtypes() {
        let names = memory_module().kernels;
        assert_eq!(names.iter().filter(|n| n.starts_with("copy_")).count(), 100);
        assert_eq!(names.iter().filter(|n| n.starts_with("fill_")).count(), 10);
    }

    #[test]
    fn kernel_names_are_unique_and_map_to_their_module() {
        let mut seen = std::collections::HashSet::new();
        for m in modules() {
            for name in &m.kernels {
                assert!(seen.insert(name.clone()), "duplicate kernel {name}");
                assert_eq!(module_of(name), Some(m.name), "{name}");
            }
        }
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
