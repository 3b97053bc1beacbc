// Row reductions with warp shuffles. The input is `rows` contiguous rows of `cols` elements;
// block (x, y) reduces a slice of columns of row y (grid-stride over rows) and writes one
// partial result per block: out[row * gridDim.x + blockIdx.x]. With gridDim.x == 1 that is
// the row's result; otherwise a second launch reduces the partials (whose type is the
// accumulator type, which has its own kernel). Launch with blockDim.x a multiple of 32, <= 1024.

struct SumOp {
    template <typename A> static __device__ __forceinline__ A identity() { return (A)0; }
    template <typename A> static __device__ __forceinline__ A combine(A a, A b) { return a + b; }
};
struct MaxOp {
    template <typename A> static __device__ __forceinline__ A identity() { return ft_lowest<A>(); }
    template <typename A> static __device__ __forceinline__ A combine(A a, A b) { return ft_maximum(a, b); }
};
struct MinOp {
    template <typename A> static __device__ __forceinline__ A identity() { return ft_highest<A>(); }
    template <typename A> static __device__ __forceinline__ A combine(A a, A b) { return ft_minimum(a, b); }
};

template <typename A> __device__ __forceinline__ A warp_reduce_step(A v, int delta) { return __shfl_down_sync(0xffffffffu, v, delta); }

template <typename A, typename Op> __device__ __forceinline__ A warp_reduce(A v) {
    for (int delta = 16; delta > 0; delta >>= 1) v = Op::template combine<A>(v, warp_reduce_step<A>(v, delta));
    return v;
}

// Reduces `v` over the block; the result is valid in thread 0.
template <typename A, typename Op> __device__ __forceinline__ A block_reduce(A v) {
    __shared__ A partial[32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    v = warp_reduce<A, Op>(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    const int warps = (blockDim.x + 31) / 32;
    v = threadIdx.x < warps ? partial[threadIdx.x] : Op::template identity<A>();
    if (warp == 0) v = warp_reduce<A, Op>(v);
    __syncthreads();  // `partial` is reused by the next row
    return v;
}

// Reduces `v` over the block and hands the result to every thread.
template <typename R, typename Op> __device__ __forceinline__ R block_all_reduce(R v) {
    __shared__ R result;
    v = block_reduce<R, Op>(v);
    if (threadIdx.x == 0) result = v;
    __syncthreads();
    v = result;
    __syncthreads();  // `result` is rewritten by the next call
    return v;
}

// Output row `row` folds the elements at base(row) + offset(c), c < cols: base from the kept
// dims' shape and strides, offset from the reduced dims' (the input is read in place, however
// strided). Blocks stride over the rows (y) and split each row (x): with gridDim.x > 1 each
// writes a partial, out[row * gridDim.x + blockIdx.x], which a second launch folds. A row of
// one reduced dim of stride 1 skips the index arithmetic.
template <typename S, typename A, typename Op>
__device__ __forceinline__ void reduce_rows(i64 rows, i64 cols, const Shape& kept, const Strides<1>& kept_strides,
                                            const Shape& reduced, const Strides<1>& reduced_strides, const S* in, A* out) {
    const bool dense = reduced.ndim == 1 && reduced_strides.of[0][0] == 1;
    for (i64 row = blockIdx.y; row < rows; row += gridDim.y) {
        i64 base[1];
        offsets_of<1>(row, kept, kept_strides, base);
        const S* x = in + base[0];
        A acc = Op::template identity<A>();
        for (i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += (i64)blockDim.x * gridDim.x) {
            i64 at[1] = {c};
            if (!dense) offsets_of<1>(c, reduced, reduced_strides, at);
            acc = Op::template combine<A>(acc, (A)Num<S>::load(x[at[0]]));
        }
        acc = block_reduce<A, Op>(acc);
        if (threadIdx.x == 0) out[row * gridDim.x + blockIdx.x] = acc;
    }
}

// The same folds with a thread per output row, for rows that are neighbours in memory (the
// kept dims innermost, as a sum over the batch of an (N, F) tensor): a warp reads 32 adjacent
// elements per step instead of one row's strided ones. Long columns are cut into gridDim.y
// chunks, chunk y writing its partials to out[y * rows + row] for a second launch to fold.
template <typename S, typename A, typename Op>
__device__ __forceinline__ void reduce_columns(i64 rows, i64 cols, const Shape& kept, const Strides<1>& kept_strides,
                                               const Shape& reduced, const Strides<1>& reduced_strides, const S* in, A* out) {
    const i64 chunk = (cols + gridDim.y - 1) / gridDim.y;
    const i64 first = blockIdx.y * chunk, last = first + chunk < cols ? first + chunk : cols;
    const bool single = reduced.ndim == 1;
    FT_GRID_STRIDE(row, rows) {
        i64 base[1];
        offsets_of<1>(row, kept, kept_strides, base);
        A acc = Op::template identity<A>();
        for (i64 c = first; c < last; ++c) {
            i64 at[1] = {c * reduced_strides.of[0][0]};
            if (!single) offsets_of<1>(c, reduced, reduced_strides, at);
            acc = Op::template combine<A>(acc, (A)Num<S>::load(in[base[0] + at[0]]));
        }
        out[blockIdx.y * rows + row] = acc;
    }
}

struct ProdOp {
    template <typename A> static __device__ __forceinline__ A identity() { return (A)1; }
    template <typename A> static __device__ __forceinline__ A combine(A a, A b) { return ft_mul(a, b); }
};

// Whether (b, ib) replaces (a, ia) as the running extreme, as the CPU's ArgFold decides plus
// the order of a parallel search: NaN beats every number (the first NaN wins), then a strictly
// better value, then among equal values the lower index.
template <typename A, bool MAX> __device__ __forceinline__ bool arg_better(A a, i64 ia, A b, i64 ib) {
    const bool na = a != a, nb = b != b;
    if (na || nb) return nb && (!na || ib < ia);
    if (MAX ? b > a : b < a) return true;
    return b == a && ib < ia;
}

// The extreme value of each of `rows` contiguous rows of `cols >= 1` elements and its first
// index: one block per row (grid-stride over rows), in the accumulator type A.
template <typename S, typename A, bool MAX>
__device__ __forceinline__ void arg_reduce_rows(i64 rows, i64 cols, const S* in, S* values, i64* indices) {
    __shared__ A part_v[32];
    __shared__ i64 part_i[32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = (blockDim.x + 31) / 32;
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const S* x = in + row * cols;
        A v = (A)Num<S>::load(x[0]);
        i64 idx = 0;
        for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
            const A y = (A)Num<S>::load(x[c]);
            if (arg_better<A, MAX>(v, idx, y, c)) { v = y; idx = c; }
        }
        for (int round = 0; round < 2; ++round) {
            for (int delta = 16; delta > 0; delta >>= 1) {
                const A ov = __shfl_down_sync(0xffffffffu, v, delta);
                const i64 oi = __shfl_down_sync(0xffffffffu, idx, delta);
                if (arg_better<A, MAX>(v, idx, ov, oi)) { v = ov; idx = oi; }
            }
            if (round == 1) break;
            if (lane == 0) { part_v[warp] = v; part_i[warp] = idx; }
            __syncthreads();
            // Warp 0 combines the warps' winners (lanes past the last warp repeat warp 0's).
            v = part_v[lane < warps ? lane : 0];
            idx = part_i[lane < warps ? lane : 0];
            if (warp != 0) break;
        }
        if (threadIdx.x == 0) {
            values[row] = Num<S>::store((typename Num<S>::compute)v);
            indices[row] = idx;
        }
        __syncthreads();  // the partials are reused by the next row
    }
}
