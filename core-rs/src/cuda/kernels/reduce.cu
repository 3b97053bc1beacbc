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

template <typename S, typename A, typename Op>
__device__ __forceinline__ void reduce_rows(i64 rows, i64 cols, const S* in, A* out) {
    for (i64 row = blockIdx.y; row < rows; row += gridDim.y) {
        const S* x = in + row * cols;
        A acc = Op::template identity<A>();
        for (i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += (i64)blockDim.x * gridDim.x) {
            acc = Op::template combine<A>(acc, (A)Num<S>::load(x[c]));
        }
        acc = block_reduce<A, Op>(acc);
        if (threadIdx.x == 0) out[row * gridDim.x + blockIdx.x] = acc;
    }
}
