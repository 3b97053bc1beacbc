// im2col and col2im over up to three spatial dims (the twins of cpu/im2col.rs): `planes`
// contiguous planes of `image` elements against contiguous (planes * K, L) columns, K the
// kernel's and L the blocks' element counts. Window position q of block b reads image position
// b * stride - padding + q * dilation along each dim; positions outside the image are zeros.

struct ConvWindow {
    i64 image[3], blocks[3], kernel[3], stride[3], padding[3], dilation[3];
};

// One thread per column element: a copy (zero in the padding).
template <typename T> __device__ __forceinline__ void im2col_loop(i64 planes, const T* src, T* dst, ConvWindow w) {
    const i64 K = w.kernel[0] * w.kernel[1] * w.kernel[2], L = w.blocks[0] * w.blocks[1] * w.blocks[2];
    const i64 P = w.image[0] * w.image[1] * w.image[2];
    FT_GRID_STRIDE(i, planes * K * L) {
        const i64 l = i % L, row = i / L, q = row % K, plane = row / K;
        const i64 b[3] = {l / (w.blocks[1] * w.blocks[2]), (l / w.blocks[2]) % w.blocks[1], l % w.blocks[2]};
        const i64 k[3] = {q / (w.kernel[1] * w.kernel[2]), (q / w.kernel[2]) % w.kernel[1], q % w.kernel[2]};
        i64 at = 0;
        bool inside = true;
        for (int d = 0; d < 3; ++d) {
            const i64 p = b[d] * w.stride[d] - w.padding[d] + k[d] * w.dilation[d];
            inside = inside && p >= 0 && p < w.image[d];
            at = at * w.image[d] + p;
        }
        dst[i] = inside ? src[plane * P + at] : Num<T>::store((typename Num<T>::compute)0);
    }
}

// One thread per image element, summing the column entries that read it (no atomics, a fixed
// order). T is float or double.
template <typename T> __device__ __forceinline__ void col2im_loop(i64 planes, const T* src, T* dst, ConvWindow w) {
    const i64 K = w.kernel[0] * w.kernel[1] * w.kernel[2], L = w.blocks[0] * w.blocks[1] * w.blocks[2];
    const i64 P = w.image[0] * w.image[1] * w.image[2];
    FT_GRID_STRIDE(i, planes * P) {
        const i64 plane = i / P, at = i % P;
        const i64 p[3] = {at / (w.image[1] * w.image[2]), (at / w.image[2]) % w.image[1], at % w.image[2]};
        T acc = 0;
        for (i64 k0 = 0; k0 < w.kernel[0]; ++k0) {
            const i64 t0 = p[0] + w.padding[0] - k0 * w.dilation[0];
            if (t0 < 0 || t0 % w.stride[0] != 0 || t0 / w.stride[0] >= w.blocks[0]) continue;
            for (i64 k1 = 0; k1 < w.kernel[1]; ++k1) {
                const i64 t1 = p[1] + w.padding[1] - k1 * w.dilation[1];
                if (t1 < 0 || t1 % w.stride[1] != 0 || t1 / w.stride[1] >= w.blocks[1]) continue;
                for (i64 k2 = 0; k2 < w.kernel[2]; ++k2) {
                    const i64 t2 = p[2] + w.padding[2] - k2 * w.dilation[2];
                    if (t2 < 0 || t2 % w.stride[2] != 0 || t2 / w.stride[2] >= w.blocks[2]) continue;
                    const i64 q = (k0 * w.kernel[1] + k1) * w.kernel[2] + k2;
                    const i64 l = ((t0 / w.stride[0]) * w.blocks[1] + t1 / w.stride[1]) * w.blocks[2] + t2 / w.stride[2];
                    acc += src[(plane * K + q) * L + l];
                }
            }
        }
        dst[i] = acc;
    }
}
