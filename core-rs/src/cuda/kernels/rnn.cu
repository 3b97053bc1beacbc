// The element-wise part of an LSTM step and its backward (the twins of ops/nn/rnn.rs), a
// thread per (row, hidden unit). `gates` rows hold the pre-activations i, f, g, o, H each.

template <typename R> __device__ __forceinline__ R rnn_sigmoid(R x) { return (R)1 / ((R)1 + exp(-x)); }

template <typename R>
__device__ __forceinline__ void lstm_cell_loop(i64 rows, i64 h, const R* gates, const R* c, R* hy, R* cy) {
    FT_GRID_STRIDE(k, rows * h) {
        const i64 row = k / h, j = k - row * h;
        const R* g = gates + row * 4 * h;
        const R cn = rnn_sigmoid(g[h + j]) * c[k] + rnn_sigmoid(g[j]) * tanh(g[2 * h + j]);
        cy[k] = cn;
        hy[k] = rnn_sigmoid(g[3 * h + j]) * tanh(cn);
    }
}

template <typename R>
__device__ __forceinline__ void lstm_cell_backward_loop(i64 rows, i64 h, const R* gates, const R* c, const R* cy, const R* dh,
                                                        const R* dcy, R* dgates, R* dc) {
    FT_GRID_STRIDE(k, rows * h) {
        const i64 row = k / h, j = k - row * h;
        const R* g = gates + row * 4 * h;
        R* dg = dgates + row * 4 * h;
        const R i = rnn_sigmoid(g[j]), f = rnn_sigmoid(g[h + j]), gg = tanh(g[2 * h + j]), o = rnn_sigmoid(g[3 * h + j]);
        const R tc = tanh(cy[k]);
        const R dcell = dcy[k] + dh[k] * o * ((R)1 - tc * tc);
        dg[j] = dcell * gg * i * ((R)1 - i);
        dg[h + j] = dcell * c[k] * f * ((R)1 - f);
        dg[2 * h + j] = dcell * i * ((R)1 - gg * gg);
        dg[3 * h + j] = dh[k] * tc * o * ((R)1 - o);
        dc[k] = dcell * f;
    }
}
