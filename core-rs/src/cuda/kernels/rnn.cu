// The element-wise parts of LSTM and GRU steps and their backwards (the twins of
// ops/nn/rnn.rs), a thread per (row, hidden unit). LSTM `gates` rows hold the pre-activations
// i, f, g, o, H each; GRU `gi` and `gh` rows the input and hidden gates r, z, n.

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

template <typename R>
__device__ __forceinline__ void gru_cell_loop(i64 rows, i64 h, const R* gi, const R* gh, const R* hp, R* hy) {
    FT_GRID_STRIDE(k, rows * h) {
        const i64 row = k / h, j = k - row * h;
        const R* a = gi + row * 3 * h;
        const R* b = gh + row * 3 * h;
        const R r = rnn_sigmoid(a[j] + b[j]), z = rnn_sigmoid(a[h + j] + b[h + j]);
        const R n = tanh(a[2 * h + j] + r * b[2 * h + j]);
        hy[k] = n + z * (hp[k] - n);
    }
}

template <typename R>
__device__ __forceinline__ void gru_cell_backward_loop(i64 rows, i64 h, const R* gi, const R* gh, const R* hp, const R* dy, R* dgi,
                                                       R* dgh, R* dh) {
    FT_GRID_STRIDE(k, rows * h) {
        const i64 row = k / h, j = k - row * h, at = row * 3 * h;
        const R* a = gi + at;
        const R* b = gh + at;
        const R r = rnn_sigmoid(a[j] + b[j]), z = rnn_sigmoid(a[h + j] + b[h + j]);
        const R n = tanh(a[2 * h + j] + r * b[2 * h + j]);
        const R dn = dy[k] * ((R)1 - z) * ((R)1 - n * n);
        const R dr = dn * b[2 * h + j] * r * ((R)1 - r);
        const R dz = dy[k] * (hp[k] - n) * z * ((R)1 - z);
        dgi[at + j] = dr;
        dgi[at + h + j] = dz;
        dgi[at + 2 * h + j] = dn;
        dgh[at + j] = dr;
        dgh[at + h + j] = dz;
        dgh[at + 2 * h + j] = dn * r;
        dh[k] = dy[k] * z;
    }
}
