// Shared definitions, prepended to every kernel module. No #include: NVRTC alone must compile
// these sources, with none of the CUDA headers present.

typedef signed char i8;
typedef unsigned char u8;
typedef short i16;
typedef int i32;
typedef long long i64;
typedef unsigned long long u64;

// Half and bfloat16 are stored as raw bits; kernels compute in float (as PyTorch's opmath does).
struct f16 { unsigned short bits; };
struct bf16 { unsigned short bits; };

#define FT_MAX_DIMS 8
#define FT_INFINITY __int_as_float(0x7f800000)
#define FT_NAN __int_as_float(0x7fffffff)

// Grid-stride loop over [0, n): any launch size covers every element.
#define FT_GRID_STRIDE(i, n) \
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

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
            double v = (double)x;
            return isfinite(v) ? (D)(i64)v : (D)0;
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

// The iteration shape and, per operand, its strides in elements (0 where broadcast).
struct Shape {
    i32 ndim;
    i64 sizes[FT_MAX_DIMS];
};
template <int N> struct Strides {
    i64 of[N][FT_MAX_DIMS];
};

// The element offsets of linear index i in each of N operands, computed with one pass of
// divisions shared by all operands.
template <int N>
__device__ __forceinline__ void offsets_of(i64 i, const Shape& shape, const Strides<N>& strides, i64 (&out)[N]) {
    for (int k = 0; k < N; ++k) out[k] = 0;
    for (int d = shape.ndim - 1; d >= 0; --d) {
        i64 size = shape.sizes[d];
        i64 q = i / size;
        i64 index = i - q * size;
        for (int k = 0; k < N; ++k) out[k] += index * strides.of[k][d];
        i = q;
    }
}
