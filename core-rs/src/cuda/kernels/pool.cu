// Pooling windows over up to three spatial dims (the twins of cpu/pool.rs), on contiguous
// planes. Along dim d, output index o reads input positions first[o], first[o] + step, ...
// below end[o]; the per-axis tables live in one int64 table at the offsets `PoolGeometry`
// gives. The adjoint of the mean gathers instead of scattering: inverse tables list, for each
// input position, the output indices whose windows read it (CSR: starts, then the lists).

struct PoolGeometry {
    i64 out[3], input[3], step[3], first[3], end[3], inv_start[3], inv_list[3];
};

// The value an empty window (only possible with dilation) reports: -inf, or the type's least.
template <typename C> __device__ __forceinline__ C pool_lowest() { return (C)-FT_INFINITY; }
template <> __device__ __forceinline__ i64 pool_lowest<i64>() { return (i64)0x8000000000000000ull; }
template <> __device__ __forceinline__ i32 pool_lowest<i32>() { return (i32)0x80000000u; }
template <> __device__ __forceinline__ i16 pool_lowest<i16>() { return (i16)0x8000; }
template <> __device__ __forceinline__ i8 pool_lowest<i8>() { return (i8)0x80; }
template <> __device__ __forceinline__ u8 pool_lowest<u8>() { return 0; }
template <> __device__ __forceinline__ bool pool_lowest<bool>() { return false; }

__device__ __forceinline__ void pool_split(i64 o, const i64* sizes, i64 (&at)[3]) {
    at[2] = o % sizes[2];
    at[1] = (o / sizes[2]) % sizes[1];
    at[0] = o / (sizes[1] * sizes[2]);
}

// Where output element i (over all planes) reads: returns its input plane and sets q (its
// position in the output plane) and the first and end (exclusive) input positions per dim.
template <typename T>
__device__ __forceinline__ const T* pool_output_window(i64 i, const T* src, const i64* table, const PoolGeometry& g, i64& q, i64 (&f)[3], i64 (&e)[3]) {
    const i64 per_plane = g.out[0] * g.out[1] * g.out[2];
    q = i % per_plane;
    i64 o[3];
    pool_split(q, g.out, o);
    for (int d = 0; d < 3; ++d) {
        f[d] = table[g.first[d] + o[d]];
        e[d] = table[g.end[d] + o[d]];
    }
    return src + (i / per_plane) * (g.input[0] * g.input[1] * g.input[2]);
}

// Each window's maximum and its flat index in the input plane: NaN wins (the last NaN of the
// window), as on the CPU.
template <typename T>
__device__ __forceinline__ void window_max_loop(i64 planes, const T* src, T* values, i64* indices, const i64* table, PoolGeometry g) {
    typedef typename Num<T>::compute C;
    FT_GRID_STRIDE(i, planes * g.out[0] * g.out[1] * g.out[2]) {
        i64 q, f[3], e[3];
        const T* x = pool_output_window(i, src, table, g, q, f, e);
        bool found = false;
        C best = pool_lowest<C>();
        i64 best_at = (f[0] * g.input[1] + f[1]) * g.input[2] + f[2];
        for (i64 a = f[0]; a < e[0]; a += g.step[0]) {
            for (i64 b = f[1]; b < e[1]; b += g.step[1]) {
                for (i64 c = f[2]; c < e[2]; c += g.step[2]) {
                    const i64 at = (a * g.input[1] + b) * g.input[2] + c;
                    const C v = Num<T>::load(x[at]);
                    if (!found || v > best || v != v) {
                        best = v;
                        best_at = at;
                        found = true;
                    }
                }
            }
        }
        values[i] = Num<T>::store(best);
        indices[i] = best_at;
    }
}

// Each window's sum over its divisor, accumulated in double.
template <typename T>
__device__ __forceinline__ void window_mean_loop(i64 planes, const T* src, T* out, const i64* table, const double* divisors, PoolGeometry g) {
    typedef typename Num<T>::compute C;
    FT_GRID_STRIDE(i, planes * g.out[0] * g.out[1] * g.out[2]) {
        i64 q, f[3], e[3];
        const T* x = pool_output_window(i, src, table, g, q, f, e);
        double sum = 0;
        for (i64 a = f[0]; a < e[0]; a += g.step[0]) {
            for (i64 b = f[1]; b < e[1]; b += g.step[1]) {
                for (i64 c = f[2]; c < e[2]; c += g.step[2]) {
                    sum += (double)Num<T>::load(x[(a * g.input[1] + b) * g.input[2] + c]);
                }
            }
        }
        out[i] = Num<T>::store((C)(sum / divisors[q]));
    }
}

// The adjoint of the mean: each input position sums g / divisor over the outputs reading it.
template <typename T>
__device__ __forceinline__ void window_mean_adjoint_loop(i64 planes, const T* grads, T* out, const i64* table, const double* divisors, PoolGeometry g) {
    typedef typename Num<T>::compute C;
    const i64 per_plane = g.out[0] * g.out[1] * g.out[2], plane = g.input[0] * g.input[1] * g.input[2];
    FT_GRID_STRIDE(i, planes * plane) {
        const i64 p = i / plane;
        i64 at[3];
        pool_split(i % plane, g.input, at);
        const T* gp = grads + p * per_plane;
        const i64* s0 = table + g.inv_start[0] + at[0];
        const i64* s1 = table + g.inv_start[1] + at[1];
        const i64* s2 = table + g.inv_start[2] + at[2];
        double acc = 0;
        for (i64 u = s0[0]; u < s0[1]; ++u) {
            const i64 o0 = table[g.inv_list[0] + u];
            for (i64 v = s1[0]; v < s1[1]; ++v) {
                const i64 o1 = table[g.inv_list[1] + v];
                for (i64 w = s2[0]; w < s2[1]; ++w) {
                    const i64 o = (o0 * g.out[1] + o1) * g.out[2] + table[g.inv_list[2] + w];
                    acc += (double)Num<T>::load(gp[o]) / divisors[o];
                }
            }
        }
        out[i] = Num<T>::store((C)acc);
    }
}
