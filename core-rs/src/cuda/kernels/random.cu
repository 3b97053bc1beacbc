// Random fills (the device twins of ops/random/fill.rs): each thread takes whole blocks of
// philox words and writes the `per` contiguous elements each block gives.
//
// Captured in a CUDA graph, a fill reads its key and base offset from `state` (written before
// each replay, as PyTorch's graph-safe Philox state), so every replay draws fresh numbers;
// `offset` is then the draw's place within the graph. Eager fills pass a null `state`.

template <typename T>
__device__ __forceinline__ void random_loop(i64 n, T* out, u64 seed, u64 offset, const u64* state, RandomDraw d) {
    if (state) {
        seed = state[0];
        offset += state[1];
    }
    const i64 blocks = (n + d.per - 1) / d.per;
    FT_GRID_STRIDE(g, blocks) {
        u32 w[4];
        philox_block(seed, offset, (u64)g, w);
        for (int k = 0; k < d.per; ++k) {
            const i64 i = g * d.per + k;
            if (i < n) {
                out[i] = d.kind == FT_DRAW_RANDOM ? cast_value<T, i64>(random_int(d, w, k)) : cast_value<T, double>(random_real(d, w, k));
            }
        }
    }
}

// One Poisson sample of rate `lambda` from the uniforms `uniform()` gives (the twin of
// sample.rs's sample_poisson, PyTorch's CPU sampler): Hörmann's transformed rejection (PTRS)
// for rates of 10 and more, products of uniforms below.
template <typename Uniform> __device__ __forceinline__ double poisson_sample(double lambda, Uniform uniform) {
    if (isinf(lambda)) return lambda;  // the rejection would return inf or NaN at random
    if (lambda >= 10.0) {
        const double slam = sqrt(lambda), loglam = log(lambda);
        const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
        const double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2.0);
        for (;;) {
            const double u = uniform() - 0.5, v = uniform();
            const double us = 0.5 - fabs(u);
            const double k = floor((2.0 * a / us + b) * u + lambda + 0.43);
            if (us >= 0.07 && v <= vr) return k;
            if (k < 0.0 || (us < 0.013 && v > us)) continue;
            if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -lambda + k * loglam - lgamma(k + 1.0)) return k;
        }
    }
    if (lambda == 0.0) return 0.0;
    const double enlam = exp(-lambda);
    double x = 0.0, prod = 1.0;
    for (;;) {
        prod *= uniform();
        if (prod <= enlam) return x;
        x += 1.0;
    }
}

// A Poisson sample per rate of the contiguous `rates` (non-negative: the caller checks). The
// rejection loops take as many uniforms as they need: element i's r-th block of words is
// block r * n + i of the draw, two 53-bit uniforms each, so every element has a stream of its
// own and the result does not depend on the launch.
template <typename T>
__device__ __forceinline__ void poisson_loop(i64 n, const T* rates, T* out, u64 seed, u64 offset, const u64* state) {
    if (state) {
        seed = state[0];
        offset += state[1];
    }
    FT_GRID_STRIDE(i, n) {
        u64 next = (u64)i;
        u32 w[4];
        int left = 0;  // uniforms of w not used yet
        auto uniform = [&]() -> double {
            if (left == 0) {
                philox_block(seed, offset, next, w);
                next += (u64)n;
                left = 2;
            }
            --left;
            return left == 1 ? philox_u53(w[0], w[1]) : philox_u53(w[2], w[3]);
        };
        const double lambda = (double)Num<T>::load(rates[i]);
        // A negative or NaN rate has no distribution (and NaN would never leave the loop).
        out[i] = cast_value<T, double>(lambda >= 0.0 ? poisson_sample(lambda, uniform) : FT_NAN);
    }
}
