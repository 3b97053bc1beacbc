// Element arithmetic on the compute types (bool, the integers, float, double) with the CPU
// kernels' semantics (core-rs/src/cpu/arith.rs): integer ops wrap, floor division and remainder
// follow Python's signs, maximum/minimum propagate NaN, division by an integer zero gives 0.
// The templates serve the integers; the plain overloads for bool, float and double win over them.

#define FT_D __device__ __forceinline__

// Integers: wrapping through unsigned 64-bit arithmetic (signed overflow is undefined in C++).
template <typename T> FT_D T ft_add(T a, T b) { return (T)((u64)a + (u64)b); }
template <typename T> FT_D T ft_sub(T a, T b) { return (T)((u64)a - (u64)b); }
template <typename T> FT_D T ft_mul(T a, T b) { return (T)((u64)a * (u64)b); }
template <typename T> FT_D T ft_neg(T a) { return (T)(0ull - (u64)a); }
template <typename T> FT_D T ft_div_trunc(T a, T b) {
    // The one overflowing case, MIN / -1, wraps to MIN as on the CPU.
    if (b == (T)-1) return ft_neg(a);
    return a / b;
}
template <typename T> FT_D T ft_floor_div(T a, T b) {
    if (b == 0) return 0;
    T q = ft_div_trunc(a, b);
    T r = ft_sub(a, ft_mul(q, b));
    return (r != 0 && ((a < 0) != (b < 0))) ? ft_sub(q, (T)1) : q;
}
template <typename T> FT_D T ft_fmod(T a, T b) {
    if (b == 0) return 0;
    return ft_sub(a, ft_mul(ft_div_trunc(a, b), b));
}
template <typename T> FT_D T ft_remainder(T a, T b) {
    T r = ft_fmod(a, b);
    return (r != 0 && ((r < 0) != (b < 0))) ? ft_add(r, b) : r;
}
template <typename T> FT_D T ft_pow(T a, T b) {
    // Negative exponents are rejected before the kernel runs.
    i64 e = (i64)b;
    T base = a, acc = 1;
    while (e > 0) {
        if (e & 1) acc = ft_mul(acc, base);
        base = ft_mul(base, base);
        e >>= 1;
    }
    return acc;
}
template <typename T> FT_D T ft_maximum(T a, T b) { return a > b ? a : b; }
template <typename T> FT_D T ft_minimum(T a, T b) { return a < b ? a : b; }
template <typename T> FT_D T ft_fmax(T a, T b) { return ft_maximum(a, b); }
template <typename T> FT_D T ft_fmin(T a, T b) { return ft_minimum(a, b); }
template <typename T> FT_D T ft_abs(T a) { return a < 0 ? ft_neg(a) : a; }
template <typename T> FT_D T ft_sign(T a) { return (T)((a > 0) - (a < 0)); }
template <typename T> FT_D T ft_floor(T a) { return a; }
template <typename T> FT_D T ft_ceil(T a) { return a; }
template <typename T> FT_D T ft_trunc(T a) { return a; }
template <typename T> FT_D T ft_bit_and(T a, T b) { return (T)(a & b); }
template <typename T> FT_D T ft_bit_or(T a, T b) { return (T)(a | b); }
template <typename T> FT_D T ft_bit_xor(T a, T b) { return (T)(a ^ b); }
template <typename T> FT_D T ft_shl(T a, T b) {
    // Shifts past the width give 0, as PyTorch defines them.
    const i64 bits = 8 * sizeof(T);
    if ((i64)b < 0 || (i64)b >= bits) return 0;
    return (T)((u64)a << (int)b);
}
template <typename T> FT_D T ft_shr(T a, T b) {
    const i64 bits = 8 * sizeof(T);
    const bool is_unsigned = (T)-1 > (T)0;
    if ((i64)b < 0 || (i64)b >= bits) return (is_unsigned || a >= 0) ? (T)0 : (T)-1;
    return (T)(a >> (int)b);
}

// bool: arithmetic as logic, as on the CPU.
FT_D bool ft_add(bool a, bool b) { return a | b; }
FT_D bool ft_sub(bool a, bool b) { return a ^ b; }
FT_D bool ft_mul(bool a, bool b) { return a & b; }
FT_D bool ft_neg(bool a) { return a; }
FT_D bool ft_floor_div(bool a, bool b) { return a & b; }
FT_D bool ft_remainder(bool, bool) { return false; }
FT_D bool ft_fmod(bool, bool) { return false; }
FT_D bool ft_pow(bool a, bool b) { return a | !b; }
FT_D bool ft_maximum(bool a, bool b) { return a | b; }
FT_D bool ft_minimum(bool a, bool b) { return a & b; }
FT_D bool ft_fmax(bool a, bool b) { return a | b; }
FT_D bool ft_fmin(bool a, bool b) { return a & b; }
FT_D bool ft_abs(bool a) { return a; }
FT_D bool ft_sign(bool a) { return a; }
FT_D bool ft_floor(bool a) { return a; }
FT_D bool ft_ceil(bool a) { return a; }
FT_D bool ft_trunc(bool a) { return a; }
FT_D bool ft_bit_and(bool a, bool b) { return a & b; }
FT_D bool ft_bit_or(bool a, bool b) { return a | b; }
FT_D bool ft_bit_xor(bool a, bool b) { return a ^ b; }
FT_D bool ft_shl(bool a, bool b) { return a & !b; }
FT_D bool ft_shr(bool a, bool b) { return a & !b; }

// float and double.
#define FT_FLOAT_ARITH(R)                                                                          \
    FT_D R ft_add(R a, R b) { return a + b; }                                                     \
    FT_D R ft_sub(R a, R b) { return a - b; }                                                     \
    FT_D R ft_mul(R a, R b) { return a * b; }                                                     \
    FT_D R ft_neg(R a) { return -a; }                                                             \
    FT_D R ft_floor_div(R a, R b) {                                                               \
        /* PyTorch's div_floor_floating: exact where floor(a / b) would round wrong. */           \
        if (b == (R)0) return a / b;                                                              \
        R m = fmod(a, b);                                                                         \
        R d = (a - m) / b;                                                                        \
        if (m != (R)0 && ((b < (R)0) != (m < (R)0))) d -= (R)1;                                   \
        if (d != (R)0) {                                                                          \
            R f = floor(d);                                                                       \
            return (d - f > (R)0.5) ? f + (R)1 : f;                                               \
        }                                                                                         \
        return copysign((R)0, a / b);                                                             \
    }                                                                                             \
    FT_D R ft_remainder(R a, R b) {                                                               \
        R m = fmod(a, b);                                                                         \
        return (m != (R)0 && ((b < (R)0) != (m < (R)0))) ? m + b : m;                             \
    }                                                                                             \
    FT_D R ft_fmod(R a, R b) { return fmod(a, b); }                                               \
    FT_D R ft_pow(R a, R b) { return pow(a, b); }                                                 \
    FT_D R ft_maximum(R a, R b) { return (isnan(a) || isnan(b)) ? (R)FT_NAN : fmax(a, b); }       \
    FT_D R ft_minimum(R a, R b) { return (isnan(a) || isnan(b)) ? (R)FT_NAN : fmin(a, b); }       \
    FT_D R ft_fmax(R a, R b) { return fmax(a, b); }                                               \
    FT_D R ft_fmin(R a, R b) { return fmin(a, b); }                                               \
    FT_D R ft_abs(R a) { return fabs(a); }                                                        \
    FT_D R ft_sign(R a) { return isnan(a) ? a : (R)((a > (R)0) - (a < (R)0)); }                   \
    FT_D R ft_floor(R a) { return floor(a); }                                                     \
    FT_D R ft_ceil(R a) { return ceil(a); }                                                       \
    FT_D R ft_trunc(R a) { return trunc(a); }                                                     \
    FT_D R ft_logaddexp(R a, R b) {                                                               \
        if (a == b && isinf(a)) return a;                                                         \
        R m = a > b ? a : b;                                                                      \
        R d = a > b ? b - a : a - b;                                                              \
        if (isnan(d)) return d;                                                                   \
        return m + log1p(exp(d));                                                                 \
    }                                                                                             \
    FT_D R ft_logaddexp2(R a, R b) {                                                              \
        if (a == b && isinf(a)) return a;                                                         \
        R m = a > b ? a : b;                                                                      \
        R d = a > b ? b - a : a - b;                                                              \
        if (isnan(d)) return d;                                                                   \
        return m + log1p(exp2(d)) / (R)0.69314718055994530942;                                    \
    }                                                                                             \
    FT_D R ft_xlogy(R a, R b) {                                                                   \
        if (isnan(b)) return b;                                                                   \
        if (a == (R)0) return (R)0;                                                               \
        return a * log(b);                                                                        \
    }                                                                                             \
    FT_D R ft_digamma(R x) {                                                                      \
        /* PyTorch's calc_digamma, as core-rs/src/cpu/real.rs. */                                  \
        const R PSI_10 = (R)2.25175258906672110764;                                               \
        if (x == (R)0) return copysign((R)FT_INFINITY, -x);                                       \
        R result = (R)0;                                                                          \
        if (x < (R)0) {                                                                           \
            if (x == trunc(x)) return (R)FT_NAN;                                                  \
            R q = x - floor(x);                                                                   \
            result = -(R)3.14159265358979323846 / tan((R)3.14159265358979323846 * q);             \
            x = (R)1 - x;                                                                         \
        }                                                                                         \
        while (x < (R)10) {                                                                       \
            result -= (R)1 / x;                                                                   \
            x += (R)1;                                                                            \
        }                                                                                         \
        if (x == (R)10) return result + PSI_10;                                                   \
        R y = (R)0;                                                                               \
        if (x < (R)1.0e17) {                                                                      \
            const R A[7] = {(R)8.33333333333333333333E-2, (R)-2.10927960927960927961E-2,          \
                            (R)7.57575757575757575758E-3, (R)-4.16666666666666666667E-3,          \
                            (R)3.96825396825396825397E-3, (R)-8.33333333333333333333E-3,          \
                            (R)8.33333333333333333333E-2};                                        \
            R z = (R)1 / (x * x);                                                                 \
            R p = (R)0;                                                                           \
            for (int k = 0; k < 7; ++k) p = p * z + A[k];                                         \
            y = z * p;                                                                            \
        }                                                                                         \
        return result + log(x) - (R)0.5 / x - y;                                                  \
    }
FT_FLOAT_ARITH(float)
FT_FLOAT_ARITH(double)

// The identities of max and min over an accumulator type.
template <typename T> FT_D T ft_lowest();
template <typename T> FT_D T ft_highest();
template <> FT_D float ft_lowest<float>() { return -FT_INFINITY; }
template <> FT_D float ft_highest<float>() { return FT_INFINITY; }
template <> FT_D double ft_lowest<double>() { return -(double)FT_INFINITY; }
template <> FT_D double ft_highest<double>() { return (double)FT_INFINITY; }
template <> FT_D i32 ft_lowest<i32>() { return (i32)0x80000000u; }
template <> FT_D i32 ft_highest<i32>() { return (i32)0x7fffffff; }
template <> FT_D i64 ft_lowest<i64>() { return (i64)0x8000000000000000ull; }
template <> FT_D i64 ft_highest<i64>() { return (i64)0x7fffffffffffffffll; }
