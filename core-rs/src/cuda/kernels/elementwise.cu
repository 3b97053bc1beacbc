// Element-wise loops shared by the generated unary and binary kernels: each applies its op's
// functor through prelude.cu's map1/map2. Pointers arrive already offset to each operand's first
// element.

// out = Op(in), computing in C (the op's compute type for this storage type).
template <typename S, typename D, typename C, typename Op>
__device__ __forceinline__ void unary_loop(i64 n, const Shape& shape, const Strides<2>& strides, int contiguous,
                                           D* out, const S* in) {
    map1(n, shape, strides, contiguous, out, in, [](S x) { return Num<D>::store(Op::template apply<C>((C)Num<S>::load(x))); });
}

// out = Op(a, b); the output type D may differ from the input type S (comparisons give bool).
template <typename S, typename D, typename C, typename Op>
__device__ __forceinline__ void binary_loop(i64 n, const Shape& shape, const Strides<3>& strides, int contiguous,
                                            D* out, const S* a, const S* b) {
    map2(n, shape, strides, contiguous, out, a, b,
         [](S x, S y) { return Num<D>::store(Op::template apply<C>((C)Num<S>::load(x), (C)Num<S>::load(y))); });
}
