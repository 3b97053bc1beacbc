// Running sums and products along a dim (cumsum, cumprod). The input is contiguous and split as
// (outer, size, inner) around the scanned dim. With inner == 1 each line is contiguous and one
// block scans it in chunks of blockDim.x (warp-shuffle scans, a carry between chunks); otherwise
// each thread walks one line, neighbouring threads reading neighbouring addresses.

struct ScanSum {
    template <typename A> static __device__ __forceinline__ A identity() { return (A)0; }
    template <typename A> static __device__ __forceinline__ A combine(A a, A b) { return ft_add(a, b); }
};
struct ScanProd {
    template <typename A> static __device__ __forceinline__ A identity() { return (A)1; }
    template <typename A> static __device__ __forceinline__ A combine(A a, A b) { return ft_mul(a, b); }
};

// Inclusive scan of v over the warp's lanes.
template <typename A, typename Op> __device__ __forceinline__ A warp_scan(A v, int lane) {
    for (int delta = 1; delta < 32; delta <<= 1) {
        const A y = __shfl_up_sync(0xffffffffu, v, delta);
        if (lane >= delta) v = Op::template combine<A>(y, v);
    }
    return v;
}

template <typename S, typename D, typename A, typename Op>
__device__ __forceinline__ void scan_lines(i64 outer, i64 size, i64 inner, const S* in, D* out) {
    if (inner != 1) {
        FT_GRID_STRIDE(line, outer * inner) {
            const i64 o = line / inner, k = line - o * inner;
            const S* x = in + o * size * inner + k;
            D* y = out + o * size * inner + k;
            A acc = Op::template identity<A>();
            for (i64 j = 0; j < size; ++j) {
                acc = Op::template combine<A>(acc, (A)Num<S>::load(x[j * inner]));
                y[j * inner] = Num<D>::store((typename Num<D>::compute)acc);
            }
        }
        return;
    }
    __shared__ A totals[32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = (blockDim.x + 31) / 32;
    for (i64 line = blockIdx.x; line < outer; line += gridDim.x) {
        const S* x = in + line * size;
        D* y = out + line * size;
        A carry = Op::template identity<A>();
        for (i64 base = 0; base < size; base += blockDim.x) {
            const i64 i = base + threadIdx.x;
            A v = i < size ? (A)Num<S>::load(x[i]) : Op::template identity<A>();
            v = warp_scan<A, Op>(v, lane);
            if (lane == 31) totals[warp] = v;
            __syncthreads();
            if (warp == 0) {
                A t = lane < warps ? totals[lane] : Op::template identity<A>();
                t = warp_scan<A, Op>(t, lane);
                totals[lane] = t;
            }
            __syncthreads();
            if (warp > 0) v = Op::template combine<A>(totals[warp - 1], v);
            v = Op::template combine<A>(carry, v);
            if (i < size) y[i] = Num<D>::store((typename Num<D>::compute)v);
            carry = Op::template combine<A>(carry, totals[warps - 1]);
            __syncthreads();  // `totals` is rewritten by the next chunk
        }
    }
}
