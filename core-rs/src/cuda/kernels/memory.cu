// Fill, strided copy and `where`. The copy converts between any two dtypes with the CPU's cast rules,
// so one kernel per (source, destination) pair serves `copy_`, `contiguous` and `to(dtype)`.

template <typename T>
__device__ __forceinline__ void fill_loop(i64 n, const Shape& shape, const Strides<1>& strides, int contiguous,
                                          T* out, T value) {
    if (contiguous) {
        FT_GRID_STRIDE(i, n) { out[i] = value; }
    } else {
        FT_GRID_STRIDE(i, n) {
            i64 o[1];
            offsets_of<1>(i, shape, strides, o);
            out[o[0]] = value;
        }
    }
}

// out = cond ? a : b, all broadcast to the iteration shape.
template <typename T>
__device__ __forceinline__ void where_loop(i64 n, const Shape& shape, const Strides<4>& strides, int contiguous,
                                           T* out, const bool* cond, const T* a, const T* b) {
    if (contiguous) {
        FT_GRID_STRIDE(i, n) { out[i] = cond[i] ? a[i] : b[i]; }
    } else {
        FT_GRID_STRIDE(i, n) {
            i64 o[4];
            offsets_of<4>(i, shape, strides, o);
            out[o[0]] = cond[o[1]] ? a[o[2]] : b[o[3]];
        }
    }
}

template <typename S, typename D>
__device__ __forceinline__ void copy_loop(i64 n, const Shape& shape, const Strides<2>& strides, int contiguous,
                                          D* out, const S* in) {
    map1(n, shape, strides, contiguous, out, in, [](S x) { return cast_value<D, S>(x); });
}
