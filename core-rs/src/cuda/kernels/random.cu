// Random fills (the device twins of ops/random/fill.rs): each thread takes whole blocks of
// philox words and writes the `per` contiguous elements each block gives.
//
// Captured in a CUDA graph, a fill reads its key and base offset from `state` (written before
// each replay, as PyTorch's graph-safe Philox state), so every replay draws fresh numbers;
// `offset` is then the draw's place within the graph. Eager fills pass a null `state`.

template <typename T>
__device__ __forceinline__ void random_loop(i64 n, T* out, u64 seed, u64 offset, const u64* state, RandomDraw d) {
    if (state) {
        seed = state[0];
        offset += state[1];
    }
    const i64 blocks = (n + d.per - 1) / d.per;
    FT_GRID_STRIDE(g, blocks) {
        u32 w[4];
        philox_block(seed, offset, (u64)g, w);
        for (int k = 0; k < d.per; ++k) {
            const i64 i = g * d.per + k;
            if (i < n) {
                out[i] = d.kind == FT_DRAW_RANDOM ? cast_value<T, i64>(random_int(d, w, k)) : cast_value<T, double>(random_real(d, w, k));
            }
        }
    }
}
