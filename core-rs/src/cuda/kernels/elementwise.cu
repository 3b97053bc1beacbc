// Element-wise loops shared by the generated unary and binary kernels. Each kernel gets the
// iteration shape, the strides of every operand (output first) and whether all of them are
// contiguous; the contiguous case skips the index arithmetic. Pointers arrive already offset to
// each operand's first element.

// out = Op(in), computing in C (the op's compute type for this storage type).
template <typename S, typename D, typename C, typename Op>
__device__ __forceinline__ void unary_loop(i64 n, const Shape& shape, const Strides<2>& strides, int contiguous,
                                           D* out, const S* in) {
    if (contiguous) {
        FT_GRID_STRIDE(i, n) {
            out[i] = Num<D>::store(Op::template apply<C>((C)Num<S>::load(in[i])));
        }
    } else {
        FT_GRID_STRIDE(i, n) {
            i64 o[2];
            offsets_of<2>(i, shape, strides, o);
            out[o[0]] = Num<D>::store(Op::template apply<C>((C)Num<S>::load(in[o[1]])));
        }
    }
}

// out = Op(a, b); the output type D may differ from the input type S (comparisons give bool).
template <typename S, typename D, typename C, typename Op>
__device__ __forceinline__ void binary_loop(i64 n, const Shape& shape, const Strides<3>& strides, int contiguous,
                                            D* out, const S* a, const S* b) {
    if (contiguous) {
        FT_GRID_STRIDE(i, n) {
            out[i] = Num<D>::store(Op::template apply<C>((C)Num<S>::load(a[i]), (C)Num<S>::load(b[i])));
        }
    } else {
        FT_GRID_STRIDE(i, n) {
            i64 o[3];
            offsets_of<3>(i, shape, strides, o);
            out[o[0]] = Num<D>::store(Op::template apply<C>((C)Num<S>::load(a[o[1]]), (C)Num<S>::load(b[o[2]])));
        }
    }
}
