// Fused optimizer updates, the device twins of core-rs/src/optim's rules: each rule updates one
// element's operands v[0..K) (parameter, gradient, state buffers) in the compute type R, with
// the scalars the Rust rule's `cuda` method lists, in the same operation order (fma where the
// CPU rule fuses), so float32 results match the CPU's to rounding of the library functions.

// The scalars of one update, in the order the rule reads them.
struct OptScalars {
    double v[12];
};
// Up to five operands' addresses; 0 for an absent state buffer.
struct OptOperands {
    u64 p[5];
};

// PyTorch's `lerp_` with a fixed weight w, from the start when |w| < 0.5, else from the end
// with weight w - 1 (foreach.rs `Lerp`; rounded in R as there).
template <typename R> __device__ __forceinline__ R opt_lerp(R start, R end, R w) {
    const bool from_start = fabs(w) < (R)0.5;
    return fma(from_start ? w : w - (R)1, end - start, from_start ? start : end);
}
// `this + value * t1 * t2` with the last multiply-add fused (foreach.rs `addcmul`).
template <typename R> __device__ __forceinline__ R opt_addcmul(R self, R value, R t1, R t2) { return fma(value * t1, t2, self); }
// `torch.maximum`: NaN when either side is NaN.
template <typename R> __device__ __forceinline__ R opt_maximum(R a, R b) { return (isnan(b) || b > a) ? b : a; }
// The gradient as the update sees it (foreach.rs `EffectiveGrad`): scalars [sign, decay, coupled].
template <typename R> __device__ __forceinline__ R opt_grad(R param, R grad, const double* c) {
    const R g = grad * (R)c[0];
    return c[2] != 0.0 ? fma(param, (R)c[1], g) : g;
}

// Adam/AdamW (adam.rs): [sign, decay, coupled, param_decay, 1 - beta1, beta2, 1 - beta2, eps,
// bias_correction2_sqrt, -step_size]; K = 5 with AMSGrad.
template <int K> struct OptAdam {
    template <typename R> static __device__ __forceinline__ void apply(R (&v)[K], const double* c) {
        const R g = opt_grad(v[0], v[1], c);
        v[0] = v[0] * (R)c[3];
        v[2] = opt_lerp(v[2], g, (R)c[4]);
        v[3] = opt_addcmul(v[3] * (R)c[5], (R)c[6], g, g);
        R second = v[3];
        if constexpr (K == 5) {
            v[K - 1] = opt_maximum(v[K - 1], v[3]);
            second = v[K - 1];
        }
        const R denom = sqrt(second) / (R)c[8] + (R)c[7];
        v[0] = v[0] + (R)c[9] * v[2] / denom;
    }
};

// SGD (sgd.rs): [sign, decay, coupled, first, momentum, nesterov, mu, one_minus_dampening, neg_lr].
struct OptSgd {
    template <typename R> static __device__ __forceinline__ void apply(R (&v)[3], const double* c) {
        R d = opt_grad(v[0], v[1], c);
        if (c[4] != 0.0) {
            v[2] = c[3] != 0.0 ? d : fma(d, (R)c[7], v[2] * (R)c[6]);
            d = c[5] != 0.0 ? fma(v[2], (R)c[6], d) : v[2];
        }
        v[0] = fma(d, (R)c[8], v[0]);
    }
};

// One thread per element of n dense elements: load the present operands, update, store all
// but the gradient (operand 1).
template <typename T, typename R, int K, typename Rule>
__device__ __forceinline__ void optim_loop(i64 n, const OptOperands& ops, const OptScalars& s) {
    FT_GRID_STRIDE(i, n) {
        R v[K];
#pragma unroll
        for (int k = 0; k < K; ++k) v[k] = ops.p[k] ? Num<T>::load(reinterpret_cast<const T*>(ops.p[k])[i]) : (R)0;
        Rule::template apply<R>(v, s.v);
#pragma unroll
        for (int k = 0; k < K; ++k) {
            if (k != 1 && ops.p[k]) reinterpret_cast<T*>(ops.p[k])[i] = Num<T>::store(v[k]);
        }
    }
}
