// The device random engine: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
// 1, 2, 3", SC'11), a counter-based generator: block g of a draw is philox(counter = (g, offset),
// key = seed), so any thread computes any element's words, and results do not depend on the
// launch. Each draw (one kernel launch) takes a fresh `offset` from its generator. The twin in
// ops/random/philox.rs is checked against Random123's known answers.
//
// This part uses no CUDA types beyond u32/u64 and __umulhi, so a host compiler can check it too
// (tests/cuda/test_philox_source.py).

typedef unsigned int u32;

#define FT_PHILOX_M0 0xD2511F53u
#define FT_PHILOX_M1 0xCD9E8D57u
#define FT_PHILOX_W0 0x9E3779B9u
#define FT_PHILOX_W1 0xBB67AE85u

// Ten rounds of Philox4x32 on `ctr` with key `key`.
__device__ __forceinline__ void philox4x32_10(u32 (&ctr)[4], u32 k0, u32 k1) {
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += FT_PHILOX_W0;
            k1 += FT_PHILOX_W1;
        }
        const u32 hi0 = __umulhi(FT_PHILOX_M0, ctr[0]), lo0 = FT_PHILOX_M0 * ctr[0];
        const u32 hi1 = __umulhi(FT_PHILOX_M1, ctr[2]), lo1 = FT_PHILOX_M1 * ctr[2];
        const u32 c1 = ctr[1], c3 = ctr[3];
        ctr[0] = hi1 ^ c1 ^ k0;
        ctr[1] = lo1;
        ctr[2] = hi0 ^ c3 ^ k1;
        ctr[3] = lo0;
    }
}

// The four words of block `block` of the draw at `offset` of the stream `seed`.
__device__ __forceinline__ void philox_block(u64 seed, u64 offset, u64 block, u32 (&w)[4]) {
    w[0] = (u32)block;
    w[1] = (u32)(block >> 32);
    w[2] = (u32)offset;
    w[3] = (u32)(offset >> 32);
    philox4x32_10(w, (u32)seed, (u32)(seed >> 32));
}

// What one launch draws (ops/random/philox.rs's `Draw`, repr(C)): `per` elements come from
// each block of four words (4: one word each, 2: two words each or a Box-Muller pair).
struct RandomDraw {
    int kind;
    int per;
    int bits;  // mantissa bits of a reduced-precision uniform (24, 11 or 8)
    int pad;
    double a, b;
    u64 range;  // random_: draws on [base, base + range); 0 means all 64 bits
    long long base;
};

#define FT_DRAW_UNIFORM 0
#define FT_DRAW_NORMAL 1
#define FT_DRAW_BERNOULLI 2
#define FT_DRAW_EXPONENTIAL 3
#define FT_DRAW_GEOMETRIC 4
#define FT_DRAW_LOG_NORMAL 5
#define FT_DRAW_CAUCHY 6
#define FT_DRAW_RANDOM 7

#define FT_PI 3.14159265358979323846

// A double on [0, 1) with 53 random bits from two words.
__device__ __forceinline__ double philox_u53(u32 hi, u32 lo) {
    return (double)((((u64)hi << 32) | lo) >> 11) * 1.1102230246251565e-16;  // 2^-53
}

// Element k's value of a block for every kind but RANDOM, as a double. Uniforms of the reduced
// types are computed in float with `bits` random bits, as PyTorch's uniform kernels do.
__device__ __forceinline__ double random_real(const RandomDraw& d, const u32 (&w)[4], int k) {
    switch (d.kind) {
    case FT_DRAW_UNIFORM:
        if (d.per == 4) {
            const float u = (float)(w[k] >> (32 - d.bits)) * (1.0f / (float)(1u << d.bits));
            return (double)(u * ((float)d.b - (float)d.a) + (float)d.a);
        }
        return philox_u53(w[2 * k], w[2 * k + 1]) * (d.b - d.a) + d.a;
    case FT_DRAW_NORMAL:
    case FT_DRAW_LOG_NORMAL: {
        // Box-Muller on the block's two 53-bit uniforms: the cosine, then the sine.
        const double radius = sqrt(-2.0 * log(1.0 - philox_u53(w[0], w[1])));
        const double theta = 2.0 * FT_PI * philox_u53(w[2], w[3]);
        const double x = radius * (k == 0 ? cos(theta) : sin(theta)) * d.b + d.a;
        return d.kind == FT_DRAW_NORMAL ? x : exp(x);
    }
    case FT_DRAW_BERNOULLI:
        return (double)w[k] * 2.3283064365386963e-10 < d.a ? d.b : 0.0;  // 2^-32
    case FT_DRAW_EXPONENTIAL:
        return -1.0 / d.a * log1p(-philox_u53(w[2 * k], w[2 * k + 1]));
    case FT_DRAW_GEOMETRIC:  // a = log(1 - p)
        return ceil(log(philox_u53(w[2 * k], w[2 * k + 1])) / d.a);
    default:  // FT_DRAW_CAUCHY
        return d.a + d.b * tan(FT_PI * (philox_u53(w[2 * k], w[2 * k + 1]) - 0.5));
    }
}

// Element k's value of a RANDOM block: one word when the range fits 32 bits, else two.
__device__ __forceinline__ long long random_int(const RandomDraw& d, const u32 (&w)[4], int k) {
    if (d.per == 4) {
        return (long long)(w[k] % (u32)d.range) + d.base;
    }
    const u64 v = ((u64)w[2 * k] << 32) | w[2 * k + 1];
    return d.range == 0 ? (long long)v : (long long)(v % d.range + (u64)d.base);
}
