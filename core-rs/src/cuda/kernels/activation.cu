// The activations' scalar forms and derivatives, mirroring ops/nn/activation/scalar.rs line for
// line, in the same operation order (NVRTC contracts multiply-adds into FMAs, as nvcc does for
// PyTorch's kernels, so float32 results may differ from the CPU's in the last bits). R is float
// or double; comparisons are written so that a NaN input gives a NaN output.

template <typename R> __device__ __forceinline__ R act_clamp(R x, R lo, R hi) { return x < lo ? lo : (x > hi ? hi : x); }

template <typename R> __device__ __forceinline__ R act_sigmoid(R x) { return (R)1 / ((R)1 + exp(-x)); }

template <typename R> __device__ __forceinline__ R act_elu(R x, R alpha, R scale, R input_scale) {
    return x <= (R)0 ? expm1(x * input_scale) * alpha * scale : x * scale;
}
template <typename R> __device__ __forceinline__ R act_elu_grad(R x, R alpha, R scale, R input_scale) {
    return x <= (R)0 ? input_scale * scale * alpha * exp(x * input_scale) : scale;
}

#define ACT_FRAC_1_SQRT_2 0.70710678118654752440
#define ACT_FRAC_1_SQRT_2PI 0.3989422804014327
#define ACT_SQRT_2_OVER_PI 0.7978845608028654
#define ACT_GELU_CUBIC 0.044715

template <typename R> __device__ __forceinline__ R act_gelu(R x) { return x * (R)0.5 * ((R)1 + erf(x * (R)ACT_FRAC_1_SQRT_2)); }
template <typename R> __device__ __forceinline__ R act_gelu_grad(R x) {
    const R cdf = (R)0.5 * ((R)1 + erf(x * (R)ACT_FRAC_1_SQRT_2));
    const R pdf = exp(x * x * (R)-0.5) * (R)ACT_FRAC_1_SQRT_2PI;
    return cdf + x * pdf;
}

template <typename R> __device__ __forceinline__ R act_gelu_tanh(R x) {
    const R inner = (R)ACT_SQRT_2_OVER_PI * (x + (R)ACT_GELU_CUBIC * x * x * x);
    return (R)0.5 * x * ((R)1 + tanh(inner));
}
template <typename R> __device__ __forceinline__ R act_gelu_tanh_grad(R x) {
    const R inner = (R)ACT_SQRT_2_OVER_PI * (x + (R)ACT_GELU_CUBIC * x * x * x);
    const R t = tanh(inner);
    const R d_inner = (R)ACT_SQRT_2_OVER_PI * ((R)1 + (R)(3.0 * ACT_GELU_CUBIC) * x * x);
    return (R)0.5 * ((R)1 + t) + (R)0.5 * x * ((R)1 - t * t) * d_inner;
}

template <typename R> __device__ __forceinline__ R act_silu(R x) { return x / ((R)1 + exp(-x)); }
template <typename R> __device__ __forceinline__ R act_silu_grad(R x) {
    const R s = act_sigmoid(x);
    return s * ((R)1 + x * ((R)1 - s));
}

template <typename R> __device__ __forceinline__ R act_mish(R x) { return x * tanh(log1p(exp(x))); }
template <typename R> __device__ __forceinline__ R act_mish_grad(R x) {
    const R t = tanh(log1p(exp(x)));
    return t + x * act_sigmoid(x) * ((R)1 - t * t);
}

template <typename R> __device__ __forceinline__ R act_softplus(R x, R beta, R threshold) {
    return x * beta > threshold ? x : log1p(exp(x * beta)) / beta;
}
template <typename R> __device__ __forceinline__ R act_softplus_grad(R x, R beta, R threshold) {
    if (x * beta > threshold) return (R)1;
    const R z = exp(x * beta);
    return z / (z + (R)1);
}

template <typename R> __device__ __forceinline__ R act_log_sigmoid(R x) {
    const R m = x < (R)0 ? x : (R)0;
    return m - log1p(exp(-fabs(x)));
}
template <typename R> __device__ __forceinline__ R act_log_sigmoid_grad(R x) {
    const R z = exp(-fabs(x));
    return x < (R)0 ? (R)1 - z / ((R)1 + z) : z / ((R)1 + z);
}

template <typename R> __device__ __forceinline__ R act_hardswish(R x) { return x * act_clamp(x + (R)3, (R)0, (R)6) / (R)6; }
template <typename R> __device__ __forceinline__ R act_hardswish_grad(R x) {
    return x < (R)-3 ? (R)0 : (x <= (R)3 ? x / (R)3 + (R)0.5 : (R)1);
}

template <typename R> __device__ __forceinline__ R act_softshrink(R x, R lambd) {
    return x > lambd ? x - lambd : (x < -lambd ? x + lambd : x * (R)0);
}
template <typename R> __device__ __forceinline__ bool act_in_shrink_zone(R x, R lambd) { return x >= -lambd && x <= lambd; }

// The parameters of an activation, in the table's order (at most four).
struct ActParams {
    double v[4];
};
