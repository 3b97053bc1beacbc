// Shared definitions, prepended to every kernel module. No #include: NVRTC alone must compile
// these sources, with none of the CUDA headers present.

typedef signed char i8;
typedef unsigned char u8;
typedef short i16;
typedef int i32;
typedef long long i64;
typedef unsigned long long u64;

// FT_PACK consecutive elements moved by one vector load or store (16 bytes of float32): the
// contiguous loops use them when every pointer is aligned to its pack.
#define FT_PACK 4
template <typename T> struct alignas(sizeof(T) * FT_PACK) Pack { T v[FT_PACK]; };
template <typename T> __device__ __forceinline__ bool pack_aligned(const T* p) {
    return ((u64)p & (u64)(sizeof(T) * FT_PACK - 1)) == 0;
}

// Half and bfloat16 are stored as raw bits; kernels compute in float (as PyTorch's opmath does).
struct f16 { unsigned short bits; };
struct bf16 { unsigned short bits; };

#define FT_MAX_DIMS 8
#define FT_INFINITY __int_as_float(0x7f800000)
#define FT_NAN __int_as_float(0x7fffffff)

// Grid-stride loop over [0, n): any launch size covers every element.
#define FT_GRID_STRIDE(i, n) \
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

#ifdef FT_HOST_EMULATOR
// The host emulator of the tests (tests/cuda/kernel_emulator.h) converts in software.
__device__ __forceinline__ float f16_to_float(f16 h) { return ft_host_f16_to_f32(h.bits); }
__device__ __forceinline__ f16 float_to_f16(float f) {
    f16 h;
    h.bits = ft_host_f32_to_f16(f);
    return h;
}
#else
__device__ __forceinline__ float f16_to_float(f16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h.bits));
    return f;
}
__device__ __forceinline__ f16 float_to_f16(float f) {
    f16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.bits) : "f"(f));
    return h;
}
#endif
__device__ __forceinline__ float bf16_to_float(bf16 b) { return __uint_as_float(((unsigned)b.bits) << 16); }
__device__ __forceinline__ bf16 float_to_bf16(float f) {
    // Round to nearest even; NaN stays a (quiet) NaN instead of rounding into infinity.
    unsigned u = __float_as_uint(f);
    bf16 b;
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        b.bits = (unsigned short)((u >> 16) | 0x40u);
    } else {
        b.bits = (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
    return b;
}

// Num<S>: the compute type of a storage type, and the conversions between them.
template <typename S> struct Num {
    typedef S compute;
    static __device__ __forceinline__ S load(S x) { return x; }
    static __device__ __forceinline__ S store(S x) { return x; }
};
template <> struct Num<f16> {
    typedef float compute;
    static __device__ __forceinline__ float load(f16 x) { return f16_to_float(x); }
    static __device__ __forceinline__ f16 store(float x) { return float_to_f16(x); }
};
template <> struct Num<bf16> {
    typedef float compute;
    static __device__ __forceinline__ float load(bf16 x) { return bf16_to_float(x); }
    static __device__ __forceinline__ bf16 store(float x) { return float_to_bf16(x); }
};

template <typename T> struct IsFloat { static const bool value = false; };
template <> struct IsFloat<float> { static const bool value = true; };
template <> struct IsFloat<double> { static const bool value = true; };

// Converts between compute types with the CPU kernels' rules: anything to bool is "nonzero",
// floats to integers truncate through i64 (non-finite values give 0), integers wrap.
template <typename D, typename S> struct Convert {
    static __device__ __forceinline__ D from(S x) {
        if (IsFloat<S>::value && !IsFloat<D>::value) {
            // Through i64 saturating, as Rust's `as` (the CPU's cast) does; C++ leaves an
            // out-of-range conversion undefined, and hosts and GPUs differ there.
            const double v = (double)x;
            if (!isfinite(v)) return (D)0;
            if (v >= 9223372036854775807.0) return (D)(i64)0x7fffffffffffffffLL;
            if (v <= -9223372036854775808.0) return (D)(-(i64)0x7fffffffffffffffLL - 1);
            return (D)(i64)v;
        }
        return (D)x;
    }
};
template <typename S> struct Convert<bool, S> {
    static __device__ __forceinline__ bool from(S x) { return x != (S)0; }
};
template <> struct Convert<bool, bool> {
    static __device__ __forceinline__ bool from(bool x) { return x; }
};

// Converts a stored value to another storage type through the compute types.
template <typename D, typename S> __device__ __forceinline__ D cast_value(S x) {
    return Num<D>::store(Convert<typename Num<D>::compute, typename Num<S>::compute>::from(Num<S>::load(x)));
}

// The iteration shape and, per operand, its strides in elements (0 where broadcast). When every
// linear index fits in 31 bits (`narrow`), each size also has a multiplier and shift that divide
// by it in 32 bits without a division instruction (PyTorch's IntDivider):
// q = (umulhi(i, magic) + i) >> shift.
struct Shape {
    i32 ndim;
    i32 narrow;
    i64 sizes[FT_MAX_DIMS];
    unsigned magic[FT_MAX_DIMS];
    unsigned shift[FT_MAX_DIMS];
};
template <int N> struct Strides {
    i64 of[N][FT_MAX_DIMS];
};

// The element offsets of linear index i in each of N operands, computed with one pass of
// divisions shared by all operands. The dims loop is unrolled with constant indices: indexing
// the parameter arrays with a variable would copy them to local memory in every thread.
template <int N>
__device__ __forceinline__ void offsets_of(i64 i, const Shape& shape, const Strides<N>& strides, i64 (&out)[N]) {
#pragma unroll
    for (int k = 0; k < N; ++k) out[k] = 0;
    if (shape.narrow) {
        unsigned r = (unsigned)i;
#pragma unroll
        for (int d = FT_MAX_DIMS - 1; d >= 0; --d) {
            if (d < shape.ndim) {
                const unsigned q = (__umulhi(r, shape.magic[d]) + r) >> shape.shift[d];
                const i64 index = (i64)(r - q * (unsigned)shape.sizes[d]);
#pragma unroll
                for (int k = 0; k < N; ++k) out[k] += index * strides.of[k][d];
                r = q;
            }
        }
        return;
    }
#pragma unroll
    for (int d = FT_MAX_DIMS - 1; d >= 0; --d) {
        if (d < shape.ndim) {
            const i64 size = shape.sizes[d];
            const i64 q = i / size;
            const i64 index = i - q * size;
#pragma unroll
            for (int k = 0; k < N; ++k) out[k] += index * strides.of[k][d];
            i = q;
        }
    }
}

// out = f(in) element by element over the iteration shape: dense operands skip the index
// arithmetic and, when every pointer is aligned to its pack, move FT_PACK elements per access.
template <typename D, typename S, typename F>
__device__ __forceinline__ void map1(i64 n, const Shape& shape, const Strides<2>& strides, int contiguous, D* out,
                                     const S* in, F f) {
    if (contiguous && pack_aligned(out) && pack_aligned(in)) {
        const i64 packs = n / FT_PACK;
        FT_GRID_STRIDE(p, packs) {
            const Pack<S> x = reinterpret_cast<const Pack<S>*>(in)[p];
            Pack<D> y;
#pragma unroll
            for (int k = 0; k < FT_PACK; ++k) y.v[k] = f(x.v[k]);
            reinterpret_cast<Pack<D>*>(out)[p] = y;
        }
        FT_GRID_STRIDE(t, n - packs * FT_PACK) { out[packs * FT_PACK + t] = f(in[packs * FT_PACK + t]); }
    } else if (contiguous) {
        FT_GRID_STRIDE(i, n) { out[i] = f(in[i]); }
    } else {
        FT_GRID_STRIDE(i, n) {
            i64 o[2];
            offsets_of<2>(i, shape, strides, o);
            out[o[0]] = f(in[o[1]]);
        }
    }
}

// out = f(a, b), as map1.
template <typename D, typename S, typename F>
__device__ __forceinline__ void map2(i64 n, const Shape& shape, const Strides<3>& strides, int contiguous, D* out,
                                     const S* a, const S* b, F f) {
    if (contiguous && pack_aligned(out) && pack_aligned(a) && pack_aligned(b)) {
        const i64 packs = n / FT_PACK;
        FT_GRID_STRIDE(p, packs) {
            const Pack<S> x = reinterpret_cast<const Pack<S>*>(a)[p];
            const Pack<S> z = reinterpret_cast<const Pack<S>*>(b)[p];
            Pack<D> y;
#pragma unroll
            for (int k = 0; k < FT_PACK; ++k) y.v[k] = f(x.v[k], z.v[k]);
            reinterpret_cast<Pack<D>*>(out)[p] = y;
        }
        FT_GRID_STRIDE(t, n - packs * FT_PACK) { out[packs * FT_PACK + t] = f(a[packs * FT_PACK + t], b[packs * FT_PACK + t]); }
    } else if (contiguous) {
        FT_GRID_STRIDE(i, n) { out[i] = f(a[i], b[i]); }
    } else {
        FT_GRID_STRIDE(i, n) {
            i64 o[3];
            offsets_of<3>(i, shape, strides, o);
            out[o[0]] = f(a[o[1]], b[o[2]]);
        }
    }
}
