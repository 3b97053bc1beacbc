// The loops the index ops run on (the CUDA twins of ops/index/kernel.rs): a gather through index
// values (or a host table of deltas), a scatter through index values along one dim, and a
// scatter of (destination, source) offset pairs built on the host.

// How an index value becomes a storage delta along one dim: a value in [0, size) (negative ones
// counting from the end when wrap) times the dim's stride. Any other value is a fault: the
// first one claims the device's fault word (faults[3]), writes its value and dim size, then
// its code (the host's name for its message) last, so a host that reads a code reads the whole
// fault; the host reads the word at its next wait for the device. The faulting element is
// skipped. Host-built tables of deltas pass size = 2^63 - 1, stride 1 and never fault.
__device__ __forceinline__ bool index_delta(i64 v, i64 size, i64 stride, i64 wrap, i64 fault, i64* faults, i64& delta) {
    const i64 w = (wrap && v < 0) ? v + size : v;
    if (w < 0 || w >= size) {
        if (atomicCAS((unsigned long long*)(faults + 3), 0ull, 1ull) == 0ull) {
            faults[1] = v;
            faults[2] = size;
            __threadfence();
            atomicExch((unsigned long long*)faults, (unsigned long long)fault);
        }
        return false;
    }
    delta = w * stride;
    return true;
}

// Checks n contiguous index values against the rule, reporting the first fault: the many-index
// forms (t[rows, cols]) check each index so before summing their deltas in element-wise ops.
__device__ __forceinline__ void index_check_loop(i64 n, const i64* index, i64 size, i64 stride, i64 wrap, i64 fault, i64* faults) {
    FT_GRID_STRIDE(i, n) {
        i64 delta;
        index_delta(index[i], size, stride, wrap, fault, faults, delta);
    }
}

// out[i] = src[src_layout(i) + delta(index[index_layout(i)])]: strides index out, src (zero along
// the indexed dim) and the index. A faulting element reads as zero.
template <typename T>
__device__ __forceinline__ void gather_loop(i64 n, const Shape& shape, const Strides<3>& strides, T* out, const T* src,
                                            const i64* index, i64 size, i64 stride, i64 wrap, i64 fault, i64* faults) {
    FT_GRID_STRIDE(i, n) {
        i64 o[3], delta = 0;
        offsets_of<3>(i, shape, strides, o);
        out[o[0]] = index_delta(index[o[2]], size, stride, wrap, fault, faults, delta) ? src[o[1] + delta] : T();
    }
}

// The unsigned word that holds one element of S bytes.
template <int S> struct Word;
template <> struct Word<1> { typedef unsigned char t; };
template <> struct Word<2> { typedef unsigned short t; };
template <> struct Word<4> { typedef unsigned int t; };
template <> struct Word<8> { typedef unsigned long long t; };

template <typename T> __device__ __forceinline__ T from_word(typename Word<sizeof(T)>::t w) { return *reinterpret_cast<T*>(&w); }
template <typename T> __device__ __forceinline__ typename Word<sizeof(T)>::t to_word(T v) {
    return *reinterpret_cast<typename Word<sizeof(T)>::t*>(&v);
}

// *p = f(*p) atomically, by compare-and-swap on the aligned 32-bit word that holds *p (elements
// of 1, 2 or 4 bytes) or on *p itself (8 bytes).
template <typename T, int S = sizeof(T)> struct AtomicUpdate {
    template <typename F> static __device__ __forceinline__ void run(T* p, F f) {
        unsigned int* word = (unsigned int*)((u64)p & ~(u64)3);
        const unsigned shift = (unsigned)((u64)p & 3) * 8;
        const unsigned mask = S == 4 ? 0xffffffffu : ((1u << (S * 8)) - 1u) << shift;
        unsigned old = *word, assumed;
        do {
            assumed = old;
            const T next = f(from_word<T>((typename Word<S>::t)((assumed & mask) >> shift)));
            old = atomicCAS(word, assumed, (assumed & ~mask) | (((unsigned)to_word<T>(next) << shift) & mask));
        } while (assumed != old);
    }
};
template <typename T> struct AtomicUpdate<T, 8> {
    template <typename F> static __device__ __forceinline__ void run(T* p, F f) {
        unsigned long long* word = (unsigned long long*)p;
        unsigned long long old = *word, assumed;
        do {
            assumed = old;
            old = atomicCAS(word, assumed, to_word<T>(f(from_word<T>(assumed))));
        } while (assumed != old);
    }
};

// How a scatter combines the destination d with the source s, in the compute type (the CPU's
// Combine): Assign stores (duplicates race, as on PyTorch's CUDA backend), the others update
// atomically so duplicate destinations accumulate.
struct ScatterAssign {};
struct ScatterAdd { template <typename C> static __device__ __forceinline__ C apply(C d, C s) { return ft_add(d, s); } };
struct ScatterMul { template <typename C> static __device__ __forceinline__ C apply(C d, C s) { return ft_mul(d, s); } };
struct ScatterMax { template <typename C> static __device__ __forceinline__ C apply(C d, C s) { return ft_maximum(d, s); } };
struct ScatterMin { template <typename C> static __device__ __forceinline__ C apply(C d, C s) { return ft_minimum(d, s); } };

template <typename T, typename Op> struct Combine {
    static __device__ __forceinline__ void run(T* p, T s) {
        typedef typename Num<T>::compute C;
        AtomicUpdate<T>::run(p, [s](T d) { return Num<T>::store(Op::template apply<C>(Num<T>::load(d), Num<T>::load(s))); });
    }
};
template <typename T> struct Combine<T, ScatterAssign> {
    static __device__ __forceinline__ void run(T* p, T s) { *p = s; }
};
// Hardware atomic adds where they exist.
template <> struct Combine<float, ScatterAdd> {
    static __device__ __forceinline__ void run(float* p, float s) { atomicAdd(p, s); }
};
template <> struct Combine<double, ScatterAdd> {
    static __device__ __forceinline__ void run(double* p, double s) { atomicAdd(p, s); }
};
template <> struct Combine<i32, ScatterAdd> {
    static __device__ __forceinline__ void run(i32* p, i32 s) { atomicAdd(p, s); }
};
template <> struct Combine<i64, ScatterAdd> {
    static __device__ __forceinline__ void run(i64* p, i64 s) { atomicAdd((unsigned long long*)p, (unsigned long long)s); }
};

// dst[dst_at[i]] = combine(dst[dst_at[i]], src[src_at[i]]) for i in [0, n).
template <typename T, typename Op>
__device__ __forceinline__ void scatter_loop(i64 n, T* dst, const T* src, const i64* dst_at, const i64* src_at) {
    FT_GRID_STRIDE(i, n) { Combine<T, Op>::run(dst + dst_at[i], src[src_at[i]]); }
}

// dst[dst_layout(i) + delta(index[index_layout(i)])] = combine(that, src[src_layout(i)]) over the
// index's positions i (strides of dst zero along the indexed dim): the one-dim scatters
// (scatter*, index_add_/copy_/fill_) reading their index on the device. Faulting elements
// write nothing.
template <typename T, typename Op>
__device__ __forceinline__ void scatter_index_loop(i64 n, const Shape& shape, const Strides<3>& strides, T* dst, const T* src,
                                                   const i64* index, i64 size, i64 stride, i64 wrap, i64 fault, i64* faults) {
    FT_GRID_STRIDE(i, n) {
        i64 o[3], delta = 0;
        offsets_of<3>(i, shape, strides, o);
        if (index_delta(index[o[2]], size, stride, wrap, fault, faults, delta)) Combine<T, Op>::run(dst + o[0] + delta, src[o[1]]);
    }
}
