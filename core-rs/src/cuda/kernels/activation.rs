//! The CUDA C forms of the activation table (`for_each_activation!` in ops/nn/activation.rs):
//! the forward over `x` and the backward over the output gradient `g` and the saved value `v`
//! (the input, or the output for rows that save it). The match is exhaustive over the
//! generated `Activation` enum, so a new table row does not compile until its CUDA form exists.
//! Parameters are in scope under their table names, in the compute type `R`; helpers are in
//! activation.cu.

use crate::ops::nn::activation::Activation;

/// `(forward, backward)` CUDA expressions of `op`.
pub fn expressions(op: Activation) -> (&'static str, &'static str) {
    use Activation::*;
    match op {
        Relu {} => ("x <= (R)0 ? (R)0 : x", "v <= (R)0 ? (R)0 : g"),
        Hardtanh { .. } => ("act_clamp(x, min_val, max_val)", "(v <= min_val || v >= max_val) ? (R)0 : g"),
        Threshold { .. } => ("x <= threshold ? value : x", "v <= threshold ? (R)0 : g"),
        LeakyRelu { .. } => ("x > (R)0 ? x : x * negative_slope", "v > (R)0 ? g : g * negative_slope"),
        Elu { .. } => ("act_elu(x, alpha, scale, input_scale)", "g * act_elu_grad(v, alpha, scale, input_scale)"),
        Celu { .. } => ("act_elu(x, alpha, (R)1, (R)1 / alpha)", "g * act_elu_grad(v, alpha, (R)1, (R)1 / alpha)"),
        Gelu {} => ("act_gelu(x)", "g * act_gelu_grad(v)"),
        GeluTanh {} => ("act_gelu_tanh(x)", "g * act_gelu_tanh_grad(v)"),
        Silu {} => ("act_silu(x)", "g * act_silu_grad(v)"),
        Mish {} => ("act_mish(x)", "g * act_mish_grad(v)"),
        Softplus { .. } => ("act_softplus(x, beta, threshold)", "g * act_softplus_grad(v, beta, threshold)"),
        Hardsigmoid {} => ("act_clamp(x + (R)3, (R)0, (R)6) / (R)6", "(v > (R)-3 && v < (R)3) ? g / (R)6 : (R)0"),
        Hardswish {} => ("act_hardswish(x)", "g * act_hardswish_grad(v)"),
        LogSigmoid {} => ("act_log_sigmoid(x)", "g * act_log_sigmoid_grad(v)"),
        Softshrink { .. } => ("act_softshrink(x, lambd)", "act_in_shrink_zone(v, lambd) ? (R)0 : g"),
        Hardshrink { .. } => ("act_in_shrink_zone(x, lambd) ? (R)0 : x", "act_in_shrink_zone(v, lambd) ? (R)0 : g"),
        Softsign {} => ("x / ((R)1 + fabs(x))", "g / (((R)1 + fabs(v)) * ((R)1 + fabs(v)))"),
        Tanhshrink {} => ("x - tanh(x)", "g * tanh(v) * tanh(v)"),
    }
}
