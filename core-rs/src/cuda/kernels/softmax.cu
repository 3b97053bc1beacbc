// softmax and log_softmax along a dim, in float or double (half inputs are converted first, as
// on the CPU). The input is contiguous and split as (outer, size, inner) around the dim. With
// inner == 1 one block takes a row: a block-wide max, a block-wide sum of exp(x - max), then
// the outputs; otherwise each thread takes one strided line, neighbours reading neighbours.

template <typename R> __device__ __forceinline__ R softmax_out(R x, R max, R sum, int log_form) {
    return log_form ? x - max - log(sum) : exp(x - max) / sum;
}

template <typename R>
__device__ __forceinline__ void softmax_lines(i64 outer, i64 size, i64 inner, const R* in, R* out, int log_form) {
    if (inner != 1) {
        FT_GRID_STRIDE(line, outer * inner) {
            const i64 o = line / inner, k = line - o * inner;
            const R* x = in + o * size * inner + k;
            R* y = out + o * size * inner + k;
            R max = ft_lowest<R>(), sum = 0;
            for (i64 j = 0; j < size; ++j) max = ft_maximum(max, x[j * inner]);
            for (i64 j = 0; j < size; ++j) sum += exp(x[j * inner] - max);
            for (i64 j = 0; j < size; ++j) y[j * inner] = softmax_out(x[j * inner], max, sum, log_form);
        }
        return;
    }
    for (i64 line = blockIdx.x; line < outer; line += gridDim.x) {
        const R* x = in + line * size;
        R* y = out + line * size;
        R max = ft_lowest<R>(), sum = 0;
        for (i64 c = threadIdx.x; c < size; c += blockDim.x) max = ft_maximum(max, x[c]);
        max = block_all_reduce<R, MaxOp>(max);
        for (i64 c = threadIdx.x; c < size; c += blockDim.x) sum += exp(x[c] - max);
        sum = block_all_reduce<R, SumOp>(sum);
        for (i64 c = threadIdx.x; c < size; c += blockDim.x) y[c] = softmax_out(x[c], max, sum, log_form);
    }
}
