// Batch normalization with batch statistics (the twin of ops/nn/batch_norm.rs) over an (N, C, S)
// input, in three launches each way instead of a chain of element-wise ops and reductions:
// blocks sum parts of one channel in double, a thread per channel folds the parts into the
// channel's coefficients, and one element-wise pass applies them.
// Forward: mean and biased variance from sums shifted by the channel's first element (no
// cancellation when |mean| >> std), then out = (x - mean) * scale + bias, as PyTorch's CUDA
// kernel computes it (x * scale + shift would lose digits to cancellation in float32).
// Backward: sum(dy) and sum(dy * (x - mean)), then
// dx = (dy - mean(dy) - (x - mean) * k) * scale with k = sum(dy * (x - mean)) * invstd^2 / count.
// Inputs, outputs and their gradients are of the storage type T (half types read and written as
// they are stored, as PyTorch's kernels do); the per-channel values (weight, bias, statistics,
// coefficients) are of T's compute type A.

// Where a channel's elements lie: element j = n * S + s of channel c is at (n * C + c) * S + s.
// `parts` blocks share each channel's sums. Below 2^31 elements in all (`narrow`), divisions by
// S and C are a multiply-high and a shift (launch_layout.rs's `divider`).
struct ChannelLayout {
    i64 batch, channels, spatial, parts;
    unsigned s_magic, s_shift, c_magic, c_shift;
    int narrow;
};

__device__ __forceinline__ i64 divide(i64 i, i64 d, unsigned magic, unsigned shift, int narrow) {
    if (!narrow) return i / d;
    const unsigned r = (unsigned)i;
    return (i64)((__umulhi(r, magic) + r) >> shift);
}

// The offset of element j of channel c.
__device__ __forceinline__ i64 channel_offset(const ChannelLayout& g, i64 c, i64 j) {
    const i64 n = divide(j, g.spatial, g.s_magic, g.s_shift, g.narrow);
    return (n * g.channels + c) * g.spatial + (j - n * g.spatial);
}

// The channel of the element at offset i.
__device__ __forceinline__ i64 channel_of(const ChannelLayout& g, i64 i) {
    const i64 plane = divide(i, g.spatial, g.s_magic, g.s_shift, g.narrow);
    return plane - divide(plane, g.channels, g.c_magic, g.c_shift, g.narrow) * g.channels;
}

// Block b sums part b % parts of channel b / parts: `f(c, offset, s0, s1)` adds each element's
// terms to two double sums, written to partials[2 * b] and partials[2 * b + 1].
template <typename F> __device__ __forceinline__ void channel_sums(const ChannelLayout& g, double* partials, F f) {
    const i64 count = g.batch * g.spatial;
    for (i64 b = blockIdx.x; b < g.channels * g.parts; b += gridDim.x) {
        const i64 c = b / g.parts, part = b - c * g.parts;
        double s0 = 0, s1 = 0;
        for (i64 j = part * blockDim.x + threadIdx.x; j < count; j += g.parts * blockDim.x) f(c, channel_offset(g, c, j), s0, s1);
        s0 = block_reduce<double, SumOp>(s0);
        s1 = block_reduce<double, SumOp>(s1);
        if (threadIdx.x == 0) {
            partials[2 * b] = s0;
            partials[2 * b + 1] = s1;
        }
    }
}

// `f(c, n, s0, s1)` for every channel c (a thread each) with its two sums folded over its
// parts; n is the channel's element count, 1 when it has none (as the CPU kernel divides).
template <typename F> __device__ __forceinline__ void each_channel(const ChannelLayout& g, const double* partials, F f) {
    const i64 count = g.batch * g.spatial;
    const double n = count > 0 ? (double)count : 1.0;
    for (i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x; c < g.channels; c += (i64)gridDim.x * blockDim.x) {
        double s0 = 0, s1 = 0;
        for (i64 p = c * g.parts; p < (c + 1) * g.parts; p++) {
            s0 += partials[2 * p];
            s1 += partials[2 * p + 1];
        }
        f(c, n, s0, s1);
    }
}

// `f(i, c)` for every element, at offset i, of channel c.
template <typename F> __device__ __forceinline__ void each_element(const ChannelLayout& g, F f) {
    const i64 total = g.batch * g.channels * g.spatial;
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (i64)gridDim.x * blockDim.x) f(i, channel_of(g, i));
}

template <typename T> __device__ __forceinline__ double bn_load(const T* p, i64 i) { return (double)Num<T>::load(p[i]); }

template <typename T> __device__ __forceinline__ void bn_stats(const ChannelLayout& g, const T* x, double* partials) {
    channel_sums(g, partials, [=](i64 c, i64 at, double& s0, double& s1) {
        const double d = bn_load(x, at) - bn_load(x, c * g.spatial);
        s0 += d;
        s1 += d * d;
    });
}

// Per channel: mean, biased variance and scale = weight * invstd.
template <typename T, typename A>
__device__ __forceinline__ void bn_stats_finish(const ChannelLayout& g, const T* x, const double* partials, const A* w, double eps,
                                                A* mean, A* var, A* scale) {
    const bool empty = g.batch * g.spatial == 0;
    each_channel(g, partials, [=](i64 c, double n, double s0, double s1) {
        const double m = s0 / n;
        const double mu = (empty ? 0.0 : bn_load(x, c * g.spatial)) + m;
        const double v = fmax(s1 / n - m * m, 0.0);
        mean[c] = (A)mu;
        var[c] = (A)v;
        scale[c] = (A)((w ? (double)w[c] : 1.0) / sqrt(v + eps));
    });
}

template <typename T, typename A>
__device__ __forceinline__ void bn_apply(const ChannelLayout& g, const T* x, const A* mean, const A* scale, const A* b, T* out) {
    each_element(g, [=](i64 i, i64 c) {
        const A v = (Num<T>::load(x[i]) - mean[c]) * scale[c];
        out[i] = Num<T>::store(b ? v + b[c] : v);
    });
}

template <typename T, typename A>
__device__ __forceinline__ void bn_backward_sums(const ChannelLayout& g, const T* x, const T* dy, const A* mean, double* partials) {
    channel_sums(g, partials, [=](i64 c, i64 at, double& s0, double& s1) {
        const double d = bn_load(dy, at);
        s0 += d;
        s1 += d * (bn_load(x, at) - (double)mean[c]);
    });
}

// Per channel: dweight = sum(dy * (x - mean)) * invstd, dbias = sum(dy), and dx's coefficients.
template <typename A>
__device__ __forceinline__ void bn_backward_finish(const ChannelLayout& g, const double* partials, const A* w, const A* invstd, A* dw, A* db,
                                                   A* k, A* mean_dy, A* scale) {
    each_channel(g, partials, [=](i64 c, double n, double sum_dy, double dot) {
        const double istd = (double)invstd[c];
        dw[c] = (A)(dot * istd);
        db[c] = (A)sum_dy;
        k[c] = (A)(dot * istd * istd / n);
        mean_dy[c] = (A)(sum_dy / n);
        scale[c] = (A)(istd * (w ? (double)w[c] : 1.0));
    });
}

template <typename T, typename A>
__device__ __forceinline__ void bn_backward_apply(const ChannelLayout& g, const T* x, const T* dy, const A* mean, const A* k, const A* mean_dy,
                                                  const A* scale, T* dx) {
    each_element(g, [=](i64 i, i64 c) {
        dx[i] = Num<T>::store((Num<T>::load(dy[i]) - mean_dy[c] - (Num<T>::load(x[i]) - mean[c]) * k[c]) * scale[c]);
    });
}
