// im2col and col2im over up to three spatial dims (the twins of cpu/im2col.rs): `planes`
// contiguous planes of `image` elements against contiguous (planes * K, L) columns, K the
// kernel's and L the blocks' element counts. Window position q of block b reads image position
// b * stride - padding + q * dilation along each dim; positions outside the image are zeros.

struct ConvWindow {
    i64 image[3], blocks[3], kernel[3], stride[3], padding[3], dilation[3];
};

// A block row (y) per column row (plane, window position q), found once per block; threads (x)
// over the row's L blocks, whose coordinates take 32-bit divisions (spatial sizes are far below
// 2^31). Writes are coalesced along the row. A copy, zero in the padding.
template <typename T> __device__ __forceinline__ void im2col_loop(i64 planes, const T* src, T* dst, ConvWindow w) {
    const i64 K = w.kernel[0] * w.kernel[1] * w.kernel[2], L = w.blocks[0] * w.blocks[1] * w.blocks[2];
    const i64 P = w.image[0] * w.image[1] * w.image[2];
    const unsigned b1 = (unsigned)w.blocks[1], b2 = (unsigned)w.blocks[2];
    for (i64 row = blockIdx.y; row < planes * K; row += gridDim.y) {
        const i64 q = row % K, plane = row / K;
        const i64 k[3] = {q / (w.kernel[1] * w.kernel[2]), (q / w.kernel[2]) % w.kernel[1], q % w.kernel[2]};
        i64 first[3];  // the image position of block 0 for this window position
#pragma unroll
        for (int d = 0; d < 3; ++d) first[d] = k[d] * w.dilation[d] - w.padding[d];
        const T* image = src + plane * P;
        T* out = dst + row * L;
        for (i64 l = (i64)blockIdx.x * blockDim.x + threadIdx.x; l < L; l += (i64)blockDim.x * gridDim.x) {
            const unsigned u = (unsigned)l, r = u / b2;
            const i64 b[3] = {(i64)(r / b1), (i64)(r % b1), (i64)(u % b2)};
            i64 at = 0;
            bool inside = true;
#pragma unroll
            for (int d = 0; d < 3; ++d) {
                const i64 p = first[d] + b[d] * w.stride[d];
                inside = inside && p >= 0 && p < w.image[d];
                at = at * w.image[d] + p;
            }
            out[l] = inside ? image[at] : Num<T>::store((typename Num<T>::compute)0);
        }
    }
}

// Along one dim: whether image position t (already shifted by the padding and the window tap)
// is a block's start, and which block. Stride 1 (the usual) takes no division.
__device__ __forceinline__ bool block_of(i64 t, i64 stride, i64 blocks, i64& b) {
    if (t < 0) return false;
    if (stride == 1) {
        b = t;
    } else {
        const unsigned q = (unsigned)t / (unsigned)stride;
        if ((unsigned)t != q * (unsigned)stride) return false;
        b = q;
    }
    return b < blocks;
}

// A block row (y) per plane, threads (x) over its image elements, each summing the column
// entries that read it (no atomics, a fixed order). T is float or double.
template <typename T> __device__ __forceinline__ void col2im_loop(i64 planes, const T* src, T* dst, ConvWindow w) {
    const i64 K = w.kernel[0] * w.kernel[1] * w.kernel[2], L = w.blocks[0] * w.blocks[1] * w.blocks[2];
    const i64 P = w.image[0] * w.image[1] * w.image[2];
    const unsigned i1 = (unsigned)w.image[1], i2 = (unsigned)w.image[2];
    for (i64 plane = blockIdx.y; plane < planes; plane += gridDim.y) {
        const T* cols = src + plane * K * L;
        for (i64 at = (i64)blockIdx.x * blockDim.x + threadIdx.x; at < P; at += (i64)blockDim.x * gridDim.x) {
            const unsigned u = (unsigned)at, r = u / i2;
            const i64 p[3] = {(i64)(r / i1), (i64)(r % i1), (i64)(u % i2)};
            T acc = 0;
            for (i64 k0 = 0; k0 < w.kernel[0]; ++k0) {
                i64 c0;
                if (!block_of(p[0] + w.padding[0] - k0 * w.dilation[0], w.stride[0], w.blocks[0], c0)) continue;
                for (i64 k1 = 0; k1 < w.kernel[1]; ++k1) {
                    i64 c1;
                    if (!block_of(p[1] + w.padding[1] - k1 * w.dilation[1], w.stride[1], w.blocks[1], c1)) continue;
                    for (i64 k2 = 0; k2 < w.kernel[2]; ++k2) {
                        i64 c2;
                        if (!block_of(p[2] + w.padding[2] - k2 * w.dilation[2], w.stride[2], w.blocks[2], c2)) continue;
                        const i64 q = (k0 * w.kernel[1] + k1) * w.kernel[2] + k2;
                        acc += cols[q * L + (c0 * w.blocks[1] + c1) * w.blocks[2] + c2];
                    }
                }
            }
            dst[plane * P + at] = acc;
        }
    }
}
