// Running sums, products, log-sum-exps and extremes along a dim (cumsum, cumprod, logcumsumexp,
// cummax, cummin). The input
// is contiguous and split as (outer, size, inner) around the scanned dim. With inner == 1 each
// line is contiguous and one block scans it in chunks of blockDim.x (warp-shuffle scans, a carry
// between chunks); otherwise each thread walks one line, neighbouring threads reading
// neighbouring addresses. Every combine takes the earlier part first, so any associative one
// scans correctly in chunks.

struct ScanSum {
    template <typename A> static __device__ __forceinline__ A identity() { return (A)0; }
    template <typename A> static __device__ __forceinline__ A combine(A a, A b) { return ft_add(a, b); }
};
struct ScanProd {
    template <typename A> static __device__ __forceinline__ A identity() { return (A)1; }
    template <typename A> static __device__ __forceinline__ A combine(A a, A b) { return ft_mul(a, b); }
};

// logcumsumexp: log(exp(a) + exp(b)), the CPU's rules for infinities and NaN.
struct ScanLogAddExp {
    template <typename A> static __device__ __forceinline__ A identity() { return -(A)FT_INFINITY; }
    template <typename A> static __device__ __forceinline__ A combine(A a, A b) { return ft_logaddexp(a, b); }
};

// A running extreme and the position it was last seen at.
template <typename V> struct Extreme {
    typedef V value;
    V v;
    i64 i;
};

// cummax (MAX) / cummin: the later of two parts wins unless the earlier is strictly better; NaN
// beats every number and a later NaN an earlier one (the CPU's rules: ties move the position
// forward, NaN sticks). A total order with ties to the later: associative.
template <bool MAX> struct ScanExtreme {
    template <typename A> static __device__ __forceinline__ A identity() {
        typedef typename A::value V;
        A a;
        a.v = MAX ? ft_lowest<V>() : ft_highest<V>();
        a.i = 0;
        return a;
    }
    template <typename A> static __device__ __forceinline__ A combine(A a, A b) {
        if (b.v != b.v) return b;
        if (a.v != a.v) return a;
        return (MAX ? b.v >= a.v : b.v <= a.v) ? b : a;
    }
};

// How a scan's accumulator is made from the element at position j, shuffled between lanes and
// stored: the value itself for sums and products, a value and its position for extremes.
template <typename A> struct ScanAcc {
    template <typename C> static __device__ __forceinline__ A leaf(C x, i64) { return (A)x; }
    static __device__ __forceinline__ A shfl_up(A v, int delta) { return __shfl_up_sync(0xffffffffu, v, delta); }
    template <typename D> static __device__ __forceinline__ void store(D* y, i64*, i64 at, A a) {
        y[at] = Num<D>::store((typename Num<D>::compute)a);
    }
};
template <typename V> struct ScanAcc<Extreme<V> > {
    typedef Extreme<V> A;
    template <typename C> static __device__ __forceinline__ A leaf(C x, i64 j) {
        A a;
        a.v = (V)x;
        a.i = j;
        return a;
    }
    static __device__ __forceinline__ A shfl_up(A a, int delta) {
        A b;
        b.v = __shfl_up_sync(0xffffffffu, a.v, delta);
        b.i = __shfl_up_sync(0xffffffffu, a.i, delta);
        return b;
    }
    template <typename D> static __device__ __forceinline__ void store(D* y, i64* indices, i64 at, A a) {
        y[at] = Num<D>::store((typename Num<D>::compute)a.v);
        indices[at] = a.i;
    }
};

// Inclusive scan of v over the warp's lanes.
template <typename A, typename Op> __device__ __forceinline__ A warp_scan(A v, int lane) {
    for (int delta = 1; delta < 32; delta <<= 1) {
        const A y = ScanAcc<A>::shfl_up(v, delta);
        if (lane >= delta) v = Op::template combine<A>(y, v);
    }
    return v;
}

template <typename S, typename D, typename A, typename Op>
__device__ __forceinline__ void scan_lines(i64 outer, i64 size, i64 inner, const S* in, D* out, i64* indices) {
    if (inner != 1) {
        FT_GRID_STRIDE(line, outer * inner) {
            const i64 o = line / inner, k = line - o * inner;
            const S* x = in + o * size * inner + k;
            const i64 first = o * size * inner + k;
            A acc = Op::template identity<A>();
            for (i64 j = 0; j < size; ++j) {
                acc = Op::template combine<A>(acc, ScanAcc<A>::leaf(Num<S>::load(x[j * inner]), j));
                ScanAcc<A>::store(out, indices, first + j * inner, acc);
            }
        }
        return;
    }
    __shared__ A totals[32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = (blockDim.x + 31) / 32;
    for (i64 line = blockIdx.x; line < outer; line += gridDim.x) {
        const S* x = in + line * size;
        A carry = Op::template identity<A>();
        for (i64 base = 0; base < size; base += blockDim.x) {
            const i64 i = base + threadIdx.x;
            A v = i < size ? ScanAcc<A>::leaf(Num<S>::load(x[i]), i) : Op::template identity<A>();
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
            if (i < size) ScanAcc<A>::store(out, indices, line * size + i, v);
            carry = Op::template combine<A>(carry, totals[warps - 1]);
            __syncthreads();  // `totals` is rewritten by the next chunk
        }
    }
}
