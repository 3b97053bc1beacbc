//! Activation functions: one table of element-wise activations drives the enum, the fused
//! forward and backward CPU kernels (here), the autograd nodes (`autograd/formulas/nn/
//! activation.rs`) and the Python bindings (`py-core/src/nn/activation.rs`). Activations that
//! read a weight, a random slope or two halves of the input are in `activation/parametric.rs`.

pub mod parametric;
pub mod scalar;

use crate::cpu::iter::{for_each_row, SendPtr};
use crate::cpu::map::{map1, map2};
use crate::cpu::real::Real;
use crate::dtype::{title, DType, Element};
use crate::error::Result;
use crate::ops::unary::{float_result_type, in_compute_type};
use crate::tensor::Tensor;
use crate::{bail, with_real_dtype};

/// What an activation does with integer (and bool) inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegerInputs {
    /// Integers are accepted and the result keeps their dtype (`relu`, `hardtanh`, `threshold`).
    Keep,
    /// Integers are promoted to the default float dtype (PyTorch's composite `softsign`).
    Promote,
    /// Integers raise PyTorch's "`<kernel>` not implemented for 'Long'".
    Reject(&'static str),
}

/// Which tensor the backward kernel reads besides the gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saves {
    Input,
    Output,
}

/// The element-wise activations. Each row:
/// `Variant python_name {scalar params} integer-rule saves [node, in-place node]`
/// `|x| forward; |g, v| backward` where `v` is the input (or the output, for `Output` rows) and
/// the backward gives `grad_input` from the output gradient `g`. Bodies run over `R: Real`
/// with the params bound as `R`; `s` is `scalar.rs`.
#[macro_export]
macro_rules! for_each_activation {
    ($cb:ident) => {
        $cb! {
            Relu relu {} Keep Output ["ReluBackward0", "ReluBackward0"]
                |x| if x <= R::of(0.0) { R::of(0.0) } else { x };
                |g, y| if y <= R::of(0.0) { R::of(0.0) } else { g };
            Hardtanh hardtanh {min_val, max_val} Keep Input ["HardtanhBackward0", "HardtanhBackward0"]
                |x| s::clamp(x, min_val, max_val);
                |g, x| if x <= min_val || x >= max_val { R::of(0.0) } else { g };
            Threshold threshold {threshold, value} Keep Input ["ThresholdBackward0", "ThresholdBackward1"]
                |x| if x <= threshold { value } else { x };
                |g, x| if x <= threshold { R::of(0.0) } else { g };
            LeakyRelu leaky_relu {negative_slope} Reject("leaky_relu_cpu") Input ["LeakyReluBackward0", "LeakyReluBackward1"]
                |x| if x > R::of(0.0) { x } else { x * negative_slope };
                |g, x| if x > R::of(0.0) { g } else { g * negative_slope };
            Elu elu {alpha, scale, input_scale} Reject("elu_cpu") Input ["EluBackward0", "EluBackward1"]
                |x| s::elu(x, alpha, scale, input_scale);
                |g, x| g * s::elu_grad(x, alpha, scale, input_scale);
            Celu celu {alpha} Reject("elu_cpu") Input ["CeluBackward0", "CeluBackward1"]
                |x| s::elu(x, alpha, R::of(1.0), R::of(1.0) / alpha);
                |g, x| g * s::elu_grad(x, alpha, R::of(1.0), R::of(1.0) / alpha);
            Gelu gelu {} Reject("GeluKernelImpl") Input ["GeluBackward0", "GeluBackward0"]
                |x| s::gelu(x);
                |g, x| g * s::gelu_grad(x);
            GeluTanh gelu_tanh {} Reject("GeluKernelImpl") Input ["GeluBackward0", "GeluBackward0"]
                |x| s::gelu_tanh(x);
                |g, x| g * s::gelu_tanh_grad(x);
            Silu silu {} Reject("silu_cpu") Input ["SiluBackward0", "SiluBackward0"]
                |x| s::silu(x);
                |g, x| g * s::silu_grad(x);
            Mish mish {} Reject("mish_cpu") Input ["MishBackward0", "MishBackward0"]
                |x| s::mish(x);
                |g, x| g * s::mish_grad(x);
            Softplus softplus {beta, threshold} Reject("softplus_cpu") Input ["SoftplusBackward0", "SoftplusBackward0"]
                |x| s::softplus(x, beta, threshold);
                |g, x| g * s::softplus_grad(x, beta, threshold);
            Hardsigmoid hardsigmoid {} Reject("hardsigmoid_cpu") Input ["HardsigmoidBackward0", "HardsigmoidBackward0"]
                |x| s::clamp(x + R::of(3.0), R::of(0.0), R::of(6.0)) / R::of(6.0);
                |g, x| if x > R::of(-3.0) && x < R::of(3.0) { g / R::of(6.0) } else { R::of(0.0) };
            Hardswish hardswish {} Reject("hardswish_cpu") Input ["HardswishBackward0", "HardswishBackward0"]
                |x| s::hardswish(x);
                |g, x| g * s::hardswish_grad(x);
            LogSigmoid log_sigmoid {} Reject("log_sigmoid_cpu") Input ["LogSigmoidBackward0", "LogSigmoidBackward0"]
                |x| s::log_sigmoid(x);
                |g, x| g * s::log_sigmoid_grad(x);
            Softshrink softshrink {lambd} Reject("softshrink_check") Input ["SoftshrinkBackward0", "SoftshrinkBackward0"]
                |x| s::softshrink(x, lambd);
                |g, x| if s::in_shrink_zone(x, lambd) { R::of(0.0) } else { g };
            Hardshrink hardshrink {lambd} Reject("hardshrink_cpu") Input ["HardshrinkBackward0", "HardshrinkBackward0"]
                |x| if s::in_shrink_zone(x, lambd) { R::of(0.0) } else { x };
                |g, x| if s::in_shrink_zone(x, lambd) { R::of(0.0) } else { g };
            Softsign softsign {} Promote Input ["SoftsignBackward0", "SoftsignBackward0"]
                |x| x / (R::of(1.0) + x.abs());
                |g, x| g / ((R::of(1.0) + x.abs()) * (R::of(1.0) + x.abs()));
            Tanhshrink tanhshrink {} Promote Input ["TanhshrinkBackward0", "TanhshrinkBackward0"]
                |x| x - x.tanh();
                |g, x| g * x.tanh() * x.tanh();
        }
    };
}

macro_rules! define_activations {
    ($($variant:ident $name:ident {$($p:ident),*} $ints:ident$(($kernel:literal))? $saves:ident [$node:literal, $inode:literal]
        |$x:ident| $fwd:expr; |$g:ident, $v:ident| $bwd:expr;)*) => {
        /// An element-wise activation with its scalar parameters (see `for_each_activation!`).
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub enum Activation { $($variant { $($p: f64),* }),* }

        impl Activation {
            /// The Python name (`leaky_relu`, `gelu_tanh`, ...).
            pub fn name(self) -> &'static str {
                match self { $(Activation::$variant { .. } => stringify!($name)),* }
            }

            /// PyTorch's backward node of the out-of-place op, e.g. `LeakyReluBackward0`.
            pub fn node(self) -> &'static str {
                match self { $(Activation::$variant { .. } => $node),* }
            }

            /// PyTorch's backward node of the in-place op, e.g. `LeakyReluBackward1`.
            pub fn inplace_node(self) -> &'static str {
                match self { $(Activation::$variant { .. } => $inode),* }
            }

            /// The node of the backward kernel itself (for double backward).
            pub fn backward_node(self) -> &'static str {
                match self { $(Activation::$variant { .. } => concat!(stringify!($variant), "BackwardBackward0")),* }
            }

            /// Every activation, with its parameters zero (the kernels take them at run time).
            pub fn every() -> Vec<Activation> {
                vec![$(Activation::$variant { $($p: 0.0),* }),*]
            }

            /// The scalar parameters, named as in the table, in order.
            pub fn params(self) -> Vec<(&'static str, f64)> {
                match self { $(Activation::$variant { $($p),* } => vec![$((stringify!($p), $p)),*]),* }
            }

            /// Whether the backward reads the input or the output.
            pub fn saves(self) -> Saves {
                match self { $(Activation::$variant { .. } => Saves::$saves),* }
            }

            /// What the activation does with integer inputs.
            pub fn integer_inputs(self) -> IntegerInputs {
                match self { $(Activation::$variant { .. } => IntegerInputs::$ints$(($kernel))?),* }
            }

            #[allow(unused_variables)]
            fn forward_kernel<R: Real + Element>(self, t: &Tensor) -> Result<Tensor> {
                use scalar as s;
                match self {
                    $(Activation::$variant { $($p),* } => {
                        $(let $p = R::of($p);)*
                        map1::<R, R>(t, move |$x: R| $fwd)
                    })*
                }
            }

            #[allow(unused_variables)]
            fn forward_in_place<R: Real + Element>(self, t: &Tensor) -> Result<()> {
                use scalar as s;
                match self {
                    $(Activation::$variant { $($p),* } => {
                        $(let $p = R::of($p);)*
                        map_in_place::<R>(t, move |$x: R| $fwd)
                    })*
                }
            }

            #[allow(unused_variables)]
            fn backward_kernel<R: Real + Element>(self, g: &Tensor, v: &Tensor) -> Result<Tensor> {
                use scalar as s;
                match self {
                    $(Activation::$variant { $($p),* } => {
                        $(let $p = R::of($p);)*
                        map2::<R, R, R>(g, v, g.shape(), move |$g: R, $v: R| $bwd)
                    })*
                }
            }
        }
    };
}
for_each_activation!(define_activations);

/// SELU's fixed ELU coefficients.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_284_817_042_991_671_7;
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_493_419_334_985_294_6;

impl Activation {
    /// `selu` as the ELU it is.
    pub fn selu() -> Activation {
        Activation::Elu { alpha: SELU_ALPHA, scale: SELU_SCALE, input_scale: 1.0 }
    }

    /// The result dtype for an input of `dtype`, or PyTorch's error for rejected integers.
    fn result_dtype(self, dtype: DType) -> Result<DType> {
        if dtype.is_float() {
            return Ok(dtype);
        }
        match self.integer_inputs() {
            IntegerInputs::Keep if dtype == DType::Bool => {
                bail!(NotImplemented, "Boolean inputs not supported for {}", self.name())
            }
            IntegerInputs::Keep => Ok(dtype),
            IntegerInputs::Promote => Ok(float_result_type(dtype)),
            IntegerInputs::Reject(kernel) => bail!(NotImplemented, "\"{}\" not implemented for '{}'", kernel, title(dtype)),
        }
    }
}

/// `f(x)` written over every element of `t` in place; `t` holds `R` and no two of its
/// elements share memory.
fn map_in_place<R: Element>(t: &Tensor, f: impl Fn(R) -> R + Sync) -> Result<()> {
    let p = SendPtr(t.data_ptr::<R>()?);
    for_each_row(t.shape(), [(t.strides(), t.offset())], |[o], len, [st]| unsafe {
        let d = p.get().add(o);
        if st == 1 {
            for e in std::slice::from_raw_parts_mut(d, len) {
                *e = f(*e);
            }
        } else {
            for j in 0..len {
                *d.add(j * st) = f(*d.add(j * st));
            }
        }
    });
    Ok(())
}

/// Whether the CPU kernel may write `t` element by element: host memory, a float compute type
/// and no broadcast (stride 0) dims, whose elements would alias.
fn writable_in_place(t: &Tensor) -> bool {
    !t.is_cuda() && matches!(t.dtype(), DType::F32 | DType::F64) && t.shape().iter().zip(t.strides()).all(|(&n, &s)| n <= 1 || s != 0)
}

impl Tensor {
    /// `op(self)` element-wise (`relu`, `gelu`, `softplus(beta, threshold)`, ...).
    pub fn activation(&self, op: Activation) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            return crate::autograd::formulas::nn::activation::forward(self, op, op.node());
        }
        let out = op.result_dtype(self.dtype())?;
        // Integers (kept by `relu`, `hardtanh`, `threshold`) go through f64, exact below 2^53.
        let compute = if out.is_float() { out.compute_type() } else { DType::F64 };
        let x = self.to_dtype(compute)?;
        let r = if x.is_cuda() { crate::cuda::nn::activation(op, &x)? } else { with_real_dtype!(compute, R => op.forward_kernel::<R>(&x))? };
        r.to_dtype(out)
    }

    /// `op(self)` written into `self` (`relu_`, `leaky_relu_`, ...). Integer results must fit
    /// `self`'s dtype, as for any in-place op.
    pub fn activation_(&self, op: Activation) -> Result<()> {
        op.result_dtype(self.dtype())?;
        crate::autograd::inplace_with(
            self,
            &[],
            || {
                if writable_in_place(self) {
                    with_real_dtype!(self.dtype(), R => op.forward_in_place::<R>(self))?;
                    self.bump_version();
                    Ok(())
                } else {
                    let r = self.activation(op)?;
                    crate::dtype::check_can_cast(r.dtype(), self.dtype())?;
                    self.copy_from(&r)
                }
            },
            |old| crate::autograd::formulas::nn::activation::forward(old, op, op.inplace_node()),
        )
    }

    /// The activation's `grad_input` from the output gradient `self` and the saved input (or
    /// output, see `Activation::saves`) `v`, in one fused kernel.
    pub fn activation_backward(&self, op: Activation, v: &Tensor) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self, v]) {
            return crate::autograd::formulas::nn::activation::backward(self, v, op);
        }
        let dtype = float_result_type(v.dtype());
        let g = self.to_dtype(dtype.compute_type())?;
        crate::device::common_device(&[self, v])?;
        in_compute_type(v, dtype, |v, c| {
            if v.is_cuda() {
                crate::cuda::nn::activation_backward(op, &g, v)
            } else {
                with_real_dtype!(c, R => op.backward_kernel::<R>(&g, v))
            }
        })
    }
}
