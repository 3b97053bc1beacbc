// Fused optimizer updates, the device twins of core-rs/src/optim's rules: each rule updates one
// element's operands v[0..K) (parameter, gradient, state buffers) in the compute type R, with
// the scalars the Rust rule's `cuda` method lists, in the same operation order (fma where the
// CPU rule fuses), so float32 results match the CPU's to rounding of the library functions.

// Up to FT_OPT_LIST parameters updated by one launch (PyTorch's multi_tensor_apply): their
// elements are one sequence, parameter t holding [ends[t - 1], ends[t]); per parameter the
// operands' addresses (0 for an absent state buffer) and the rule's scalars in its order.
// Capturable steps (PyTorch's `capturable=True`, for CUDA graphs): per parameter its float32
// step counter on the device, FT_OPT_COEF doubles where the rule's prologue (`prepare_steps`)
// leaves the scalars that depend on the step or the learning rate, which the update then reads
// in place of the host's, the rule's float32 scalar state (NAdam's mu_product) and the learning
// rate as a double on the device (a tensor `lr`, read at every launch, so a replay sees its
// current value; 0: the host's, in the rule's scalars); all 0 when the steps live on the host.
// 3.2 KB, within the 4 KB of kernel parameters every architecture takes.
#define FT_OPT_LIST 16
#define FT_OPT_COEF 5
struct OptList {
    i64 count;
    i64 ends[FT_OPT_LIST];
    u64 p[FT_OPT_LIST][5];
    double s[FT_OPT_LIST][15];
    u64 step[FT_OPT_LIST];
    u64 coef[FT_OPT_LIST];
    u64 extra[FT_OPT_LIST];
    u64 lr[FT_OPT_LIST];
};

// 1 - a * b rounded after the product and after the difference, as the host computes it
// (NVRTC would contract it into one fused multiply-add, rounded once).
__device__ __forceinline__ double opt_one_minus_product(double a, double b) { return __dadd_rn(1.0, -__dmul_rn(a, b)); }

// The decoupled decay 1 - lr * weight_decay; exactly 1 without one (weight_decay 0), as the host
// passes it.
__device__ __forceinline__ double opt_param_decay(double lr, double weight_decay) {
    return weight_decay != 0.0 ? opt_one_minus_product(lr, weight_decay) : 1.0;
}

// RMSprop and Adadelta: scalars independent of the step, the learning rate negated at c[6]
// (from the device: coef[0]).
struct OptNegLr6 {
    static __device__ __forceinline__ double host_lr(const double* c) { return -c[6]; }
    static __device__ __forceinline__ void prepare(const double*, double, double lr, double* coef, float*) { coef[0] = -lr; }
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

// The moments Adam, NAdam and RAdam share, from scalars [sign, decay, coupled, param_decay,
// 1 - beta1, beta2, 1 - beta2] (param_decay, 1 - lr * weight_decay when decoupled, given apart:
// it comes from the prologue with a device learning rate): the parameter decayed, the first
// moment lerped towards the gradient, the second moment updated; returns the effective gradient.
template <typename R, int K> __device__ __forceinline__ R adam_moments(R (&v)[K], const double* c, double param_decay) {
    const R g = opt_grad(v[0], v[1], c);
    v[0] = v[0] * (R)param_decay;
    v[2] = opt_lerp(v[2], g, (R)c[4]);
    v[3] = opt_addcmul(v[3] * (R)c[5], (R)c[6], g, g);
    return g;
}

// Adam/AdamW (adam.rs): [sign, decay, coupled, param_decay, 1 - beta1, beta2, 1 - beta2, eps,
// bias_correction2_sqrt, -step_size, beta1, lr, decoupled_weight_decay]; K = 5 with AMSGrad.
// With capturable steps the corrections and the decay come from `coef`: [sqrt(1 - beta2^step),
// -lr / (1 - beta1^step), param_decay], in double as the host computes them.
template <int K> struct OptAdam {
    static __device__ __forceinline__ double host_lr(const double* c) { return c[11]; }
    static __device__ __forceinline__ void prepare(const double* c, double step, double lr, double* coef, float*) {
        coef[0] = sqrt(1.0 - pow(c[5], step));
        coef[1] = -lr / (1.0 - pow(c[10], step));
        coef[2] = opt_param_decay(lr, c[12]);
    }

    template <typename R> static __device__ __forceinline__ void apply(R (&v)[K], const double* c, const double* coef) {
        adam_moments(v, c, coef ? coef[2] : c[3]);
        R second = v[3];
        if constexpr (K == 5) {
            v[K - 1] = opt_maximum(v[K - 1], v[3]);
            second = v[K - 1];
        }
        const R denom = sqrt(second) / (R)(coef ? coef[0] : c[8]) + (R)c[7];
        v[0] = v[0] + (R)(coef ? coef[1] : c[9]) * v[2] / denom;
    }
};

// Capturable steps' prologue, a thread per parameter: advance its device step counter (in
// float32, as PyTorch keeps it) and let the rule derive the step's scalars from it and the
// learning rate (the device's, else the host's).
template <typename Rule> __device__ __forceinline__ void prepare_steps(const OptList& list) {
    for (i64 t = (i64)blockIdx.x * blockDim.x + threadIdx.x; t < list.count; t += (i64)gridDim.x * blockDim.x) {
        float* step = reinterpret_cast<float*>(list.step[t]);
        const float next = *step + 1.0f;
        *step = next;
        const double lr = list.lr[t] ? *reinterpret_cast<const double*>(list.lr[t]) : Rule::host_lr(list.s[t]);
        Rule::prepare(list.s[t], (double)next, lr, reinterpret_cast<double*>(list.coef[t]), reinterpret_cast<float*>(list.extra[t]));
    }
}

// SGD (sgd.rs): [sign, decay, coupled, first, momentum, nesterov, mu, one_minus_dampening, neg_lr].
struct OptSgd {
    template <typename R> static __device__ __forceinline__ void apply(R (&v)[3], const double* c, const double*) {
        R d = opt_grad(v[0], v[1], c);
        if (c[4] != 0.0) {
            v[2] = c[3] != 0.0 ? d : fma(d, (R)c[7], v[2] * (R)c[6]);
            d = c[5] != 0.0 ? fma(v[2], (R)c[6], d) : v[2];
        }
        v[0] = fma(d, (R)c[8], v[0]);
    }
};

// Adagrad (adagrad.rs): [sign, decay, coupled, eps, -clr] (clr: the decayed learning rate).
struct OptAdagrad {
    template <typename R> static __device__ __forceinline__ void apply(R (&v)[3], const double* c, const double*) {
        const R g = opt_grad(v[0], v[1], c);
        v[2] = opt_addcmul(v[2], (R)1, g, g);
        const R std = sqrt(v[2]) + (R)c[3];
        v[0] = v[0] + (R)c[4] * g / std;
    }
};

// RMSprop (rmsprop.rs): [sign, decay, coupled, alpha, 1 - alpha, eps, -lr, centered, momentum,
// mu] (with capturable steps -lr from coef[0]); operands [param, grad, square_avg, grad_avg
// (centered), momentum_buffer (momentum)].
struct OptRmsprop : OptNegLr6 {
    template <typename R> static __device__ __forceinline__ void apply(R (&v)[5], const double* c, const double* coef) {
        const R g = opt_grad(v[0], v[1], c);
        v[2] = opt_addcmul(v[2] * (R)c[3], (R)c[4], g, g);
        v[3] = opt_lerp(v[3], g, (R)c[4]);  // junk, and not stored, unless centered
        const R avg = (c[7] != 0.0 ? sqrt(opt_addcmul(v[2], (R)-1, v[3], v[3])) : sqrt(v[2])) + (R)c[5];
        v[4] = v[4] * (R)c[9] + (R)1 * g / avg;  // likewise without momentum
        const R neg_lr = (R)(coef ? coef[0] : c[6]);
        v[0] = c[8] != 0.0 ? fma(v[4], neg_lr, v[0]) : v[0] + neg_lr * g / avg;
    }
};

// Adamax (adamax.rs): [sign, decay, coupled, 1 - beta1, beta2, eps, -clr, beta1, lr] (clr = lr
// / bias_correction1; with capturable steps from coef[0]).
struct OptAdamax {
    static __device__ __forceinline__ double host_lr(const double* c) { return c[8]; }
    static __device__ __forceinline__ void prepare(const double* c, double step, double lr, double* coef, float*) {
        coef[0] = -(lr / (1.0 - pow(c[7], step)));
    }
    template <typename R> static __device__ __forceinline__ void apply(R (&v)[4], const double* c, const double* coef) {
        const R g = opt_grad(v[0], v[1], c);
        v[2] = opt_lerp(v[2], g, (R)c[3]);
        v[3] = opt_maximum(v[3] * (R)c[4], fabs(g) + (R)c[5]);
        v[0] = v[0] + (R)(coef ? coef[0] : c[6]) * v[2] / v[3];
    }
};

// Adadelta (adadelta.rs): [sign, decay, coupled, rho, 1 - rho, eps, -lr] (with capturable steps
// -lr from coef[0]).
struct OptAdadelta : OptNegLr6 {
    template <typename R> static __device__ __forceinline__ void apply(R (&v)[4], const double* c, const double* coef) {
        const R g = opt_grad(v[0], v[1], c);
        v[2] = opt_addcmul(v[2] * (R)c[3], (R)c[4], g, g);
        const R std = sqrt(v[2] + (R)c[5]);
        const R delta = sqrt(v[3] + (R)c[5]) / std * g;
        v[3] = opt_addcmul(v[3] * (R)c[3], (R)c[4], delta, delta);
        v[0] = fma(delta, (R)(coef ? coef[0] : c[6]), v[0]);
    }
};

// NAdam (nadam.rs): [sign, decay, coupled, param_decay, 1 - beta1, beta2, 1 - beta2, eps,
// bias_correction2, grad_value, avg_value, beta1, momentum_decay, lr, decoupled_weight_decay];
// with capturable steps the last three of the first eleven and param_decay come from coef, and
// the prologue advances mu_product (float32, as the state tensor; the factor rounded to it
// first, as the host's `mul_`).
__device__ __forceinline__ double nadam_mu(const double* c, double step) { return c[11] * (1.0 - 0.5 * pow(0.96, step * c[12])); }
struct OptNAdam {
    static __device__ __forceinline__ double host_lr(const double* c) { return c[13]; }
    static __device__ __forceinline__ void prepare(const double* c, double step, double lr, double* coef, float* mu_product) {
        const double mu = nadam_mu(c, step), mu_next = nadam_mu(c, step + 1.0);
        *mu_product = (float)((double)*mu_product * (double)(float)mu);
        const double product = (double)*mu_product;
        coef[0] = 1.0 - pow(c[5], step);
        coef[1] = -lr * (1.0 - mu) / (1.0 - product);
        coef[2] = (-lr * mu_next) / opt_one_minus_product(product, mu_next);
        coef[3] = opt_param_decay(lr, c[14]);
    }

    template <typename R> static __device__ __forceinline__ void apply(R (&v)[4], const double* c, const double* coef) {
        const R g = adam_moments(v, c, coef ? coef[3] : c[3]);
        const double* k = coef ? coef : c + 8;  // [bias_correction2, grad_value, avg_value]
        const R denom = sqrt(v[3] / (R)k[0]) + (R)c[7];
        v[0] = v[0] + (R)k[1] * g / denom;
        v[0] = v[0] + (R)k[2] * v[2] / denom;
    }
};

// RAdam (radam.rs): [sign, decay, coupled, param_decay, 1 - beta1, beta2, 1 - beta2, eps, lr,
// bias_correction1, bias_correction2_sqrt, rect, beta1, decoupled_weight_decay] (rect 0 while
// the variance is intractable); with capturable steps the three step scalars, lr and
// param_decay come from coef.
struct OptRAdam {
    static __device__ __forceinline__ double host_lr(const double* c) { return c[8]; }
    static __device__ __forceinline__ void prepare(const double* c, double step, double lr, double* coef, float*) {
        const double beta2 = c[5], rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        const double bias_correction2 = 1.0 - pow(beta2, step);
        const double rho_t = rho_inf - 2.0 * step * pow(beta2, step) / bias_correction2;
        coef[0] = 1.0 - pow(c[12], step);
        coef[1] = pow(bias_correction2, 0.5);
        coef[2] = rho_t > 5.0 ? pow((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t), 0.5) : 0.0;
        coef[3] = lr;
        coef[4] = opt_param_decay(lr, c[13]);
    }

    template <typename R> static __device__ __forceinline__ void apply(R (&v)[4], const double* c, const double* coef) {
        adam_moments(v, c, coef ? coef[4] : c[3]);
        const double* k = coef ? coef : c + 9;  // [bias_correction1, bias_correction2_sqrt, rect]
        const R scaled = v[2] / (R)k[0] * (R)(coef ? coef[3] : c[8]);
        const R adaptive = (R)1 / (sqrt(v[3]) + (R)c[7]) * (R)k[1];
        v[0] = v[0] - (k[2] != 0.0 ? scaled * adaptive * (R)k[2] : scaled);
    }
};

// One thread per element of the list's dense elements: load the present operands, update,
// store all but the gradient (operand 1). A thread's elements only move forward through the
// sequence, so finding each one's parameter is a step along `ends`, not a search.
template <typename T, typename R, int K, typename Rule>
__device__ __forceinline__ void optim_loop(const OptList& list) {
    int t = 0;
    FT_GRID_STRIDE(i, list.ends[list.count - 1]) {
        while (i >= list.ends[t]) ++t;
        const i64 j = i - (t > 0 ? list.ends[t - 1] : 0);
        R v[K];
#pragma unroll
        for (int k = 0; k < K; ++k) v[k] = list.p[t][k] ? Num<T>::load(reinterpret_cast<const T*>(list.p[t][k])[j]) : (R)0;
        Rule::template apply<R>(v, list.s[t], reinterpret_cast<const double*>(list.coef[t]));
#pragma unroll
        for (int k = 0; k < K; ++k) {
            if (k != 1 && list.p[t][k]) reinterpret_cast<T*>(list.p[t][k])[j] = Num<T>::store(v[k]);
        }
    }
}
