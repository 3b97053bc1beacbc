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

// One step of a whole LSTM layer (the twin of lstm_layer.rs's forward_rows), a thread per
// (row, hidden unit) of the step's `rows` sequences: `gates` (rows, 4H) holds the step's
// pre-activations (projected input plus h @ W_hh^T) and is left holding the activated gates;
// the states `h`, `c` (B, H) are updated in place on their first `rows` rows; the new hidden
// state also goes to `out` (rows, H). When `c_prev` is not null the step saves the previous
// cell, tanh of the new one and the previous hidden state there (rows, H each) for the
// backward pass.
template <typename R>
__device__ __forceinline__ void lstm_layer_step_loop(i64 rows, i64 h, R* gates, R* hs, R* cs, R* out, R* c_prev, R* tanh_c, R* h_prev) {
    FT_GRID_STRIDE(k, rows * h) {
        const i64 row = k / h, j = k - row * h;
        R* g = gates + row * 4 * h;
        const R i = rnn_sigmoid(g[j]), f = rnn_sigmoid(g[h + j]), gg = tanh(g[2 * h + j]), o = rnn_sigmoid(g[3 * h + j]);
        g[j] = i;
        g[h + j] = f;
        g[2 * h + j] = gg;
        g[3 * h + j] = o;
        const R cp = cs[k], cn = f * cp + i * gg, tc = tanh(cn), hn = o * tc;
        if (c_prev) {
            c_prev[k] = cp;
            tanh_c[k] = tc;
            h_prev[k] = hs[k];
        }
        cs[k] = cn;
        hs[k] = hn;
        out[k] = hn;
    }
}

// The backward of one layer step (lstm_layer.rs's backward_rows): from the activated `gates`,
// the saved `c_prev` and `tanh_c` and the step's output gradient `d_out` (rows, H), with the
// state gradients `dh`, `dc` (B, H) of the step's outputs, writes `d_gates` (rows, 4H) and
// leaves dc holding the previous cell's gradient; the caller then forms the previous hidden
// state's as d_gates @ W_hh.
template <typename R>
__device__ __forceinline__ void lstm_layer_step_backward_loop(i64 rows, i64 h, const R* gates, const R* c_prev, const R* tanh_c,
                                                              const R* d_out, const R* dh, R* dc, R* d_gates) {
    FT_GRID_STRIDE(k, rows * h) {
        const i64 row = k / h, j = k - row * h;
        const R* g = gates + row * 4 * h;
        R* dg = d_gates + row * 4 * h;
        const R i = g[j], f = g[h + j], gg = g[2 * h + j], o = g[3 * h + j], tc = tanh_c[k];
        const R dhj = dh[k] + d_out[k];
        const R dcell = dc[k] + dhj * o * ((R)1 - tc * tc);
        dg[j] = dcell * gg * i * ((R)1 - i);
        dg[h + j] = dcell * c_prev[k] * f * ((R)1 - f);
        dg[2 * h + j] = dcell * i * ((R)1 - gg * gg);
        dg[3 * h + j] = dhj * tc * o * ((R)1 - o);
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

// The GRU gates' gradients of unit j from the activated gates r, z, n, the output's gradient
// dy, the previous state hp and the new gate's hidden part ghn (h W_hn^T + b_hn): writes d_gi
// and d_gh (rows of 3H; they differ in the new gate only) and returns the previous state's
// gradient that bypasses W_hh, dy * z.
template <typename R>
__device__ __forceinline__ R gru_gate_grads(R r, R z, R n, R dy, R hp, R ghn, R* d_gi, R* d_gh, i64 h, i64 j) {
    const R dn = dy * ((R)1 - z) * ((R)1 - n * n);
    const R dr = dn * ghn * r * ((R)1 - r);
    const R dz = dy * (hp - n) * z * ((R)1 - z);
    d_gi[j] = dr;
    d_gi[h + j] = dz;
    d_gi[2 * h + j] = dn;
    d_gh[j] = dr;
    d_gh[h + j] = dz;
    d_gh[2 * h + j] = dn * r;
    return dy * z;
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
        dh[k] = gru_gate_grads(r, z, n, dy[k], hp[k], b[2 * h + j], dgi + at, dgh + at, h, j);
    }
}

// One step of a whole GRU layer (gru_layer.rs's forward_rows), a thread per (row, hidden unit)
// of the step's `rows` sequences: `gh` (rows, 3H) holds h @ W_hh^T, to which the step adds
// `b_hh` (null: no bias) inside the reset gate; `gates` (rows, 3H) holds the projected input
// and is left holding the activated gates; the state `h` (B, H) is updated in place on its
// first `rows` rows and copied to `out` (rows, H). When `gh_n` is not null the step saves the
// new-gate third of the hidden gates and the previous hidden state there (rows, H each).
template <typename R>
__device__ __forceinline__ void gru_layer_step_loop(i64 rows, i64 h, R* gates, const R* gh, const R* b_hh, R* hs, R* out, R* gh_n, R* h_prev) {
    FT_GRID_STRIDE(k, rows * h) {
        const i64 row = k / h, j = k - row * h;
        R* g = gates + row * 3 * h;
        const R* a = gh + row * 3 * h;
        const R xr = a[j] + (b_hh ? b_hh[j] : (R)0), xz = a[h + j] + (b_hh ? b_hh[h + j] : (R)0);
        const R xn = a[2 * h + j] + (b_hh ? b_hh[2 * h + j] : (R)0);
        const R r = rnn_sigmoid(g[j] + xr), z = rnn_sigmoid(g[h + j] + xz), n = tanh(g[2 * h + j] + r * xn);
        g[j] = r;
        g[h + j] = z;
        g[2 * h + j] = n;
        const R hp = hs[k], hn = n + z * (hp - n);
        if (gh_n) {
            gh_n[k] = xn;
            h_prev[k] = hp;
        }
        hs[k] = hn;
        out[k] = hn;
    }
}

// The backward of one GRU layer step (gru_layer.rs's backward_rows): from the activated
// `gates`, the saved `gh_n` and `h_prev` and the step's output gradient `d_out`, with the state
// gradient `dh` (B, H) of the step's output, writes the gates' gradients `d_gi`, `d_gh` (rows,
// 3H) and leaves dh holding the part of the previous state's gradient that bypasses W_hh; the
// caller then adds d_gh @ W_hh.
template <typename R>
__device__ __forceinline__ void gru_layer_step_backward_loop(i64 rows, i64 h, const R* gates, const R* gh_n, const R* h_prev,
                                                             const R* d_out, R* dh, R* d_gi, R* d_gh) {
    FT_GRID_STRIDE(k, rows * h) {
        const i64 row = k / h, j = k - row * h, at = row * 3 * h;
        const R r = gates[at + j], z = gates[at + h + j], n = gates[at + 2 * h + j];
        dh[k] = gru_gate_grads(r, z, n, dh[k] + d_out[k], h_prev[k], gh_n[k], d_gi + at, d_gh + at, h, j);
    }
}
