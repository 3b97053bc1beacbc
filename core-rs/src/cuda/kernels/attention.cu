// Fused attention in the style of FlashAttention-2 (Dao, 2023), the device twin of
// ops/nn/attention.rs: softmax(scale * Q K^T) V without the scores ever reaching global memory.
//
// Operands are contiguous: q (heads, L, E), k (heads / group, S, E), v (heads / group, S, Ev),
// out and dout (heads, L, Ev); query head h reads key/value head h / group (grouped-query
// attention). lse and delta hold one value per query row in the compute type A (float for
// half types, as PyTorch's opmath). A block of FT_ATTN_WARPS warps owns a tile of rows; the
// tiles of the other side stream through shared memory, one lane per row of that tile.
//
// Masked keys (causal: key j > query i) are never read, as in PyTorch's fused kernels. A row
// whose every score is -inf or NaN gives NaN, as the composed softmax does; a row with no key
// at all (S == 0) gives zeros and lse = -inf.

#define FT_ATTN_WARPS 4

// Tile sizes for head dims up to DMAX = 32 * DPL in compute type A, chosen so that the
// backward's four tiles fit in 40 KB of static shared memory: ROWS rows per warp on the owning
// side, KEYS rows per streamed tile (lane j takes row j of it). Column lane + 32 c of a tile is
// lane's c-th accumulator. Launch with FT_ATTN_WARPS * 32 threads per block.
template <typename A, int DPL> struct AttnTile {
    static constexpr int DMAX = 32 * DPL;
    static constexpr int UNITS = DMAX * (int)sizeof(A);
    static constexpr int ROWS = UNITS <= 256 ? 4 : (UNITS <= 512 ? 2 : 1);
    static constexpr int OWN = FT_ATTN_WARPS * ROWS;
    static constexpr int KEYS = UNITS <= 512 ? 32 : (UNITS <= 1024 ? 16 : 4);
    static constexpr int PITCH = DMAX + 1;  // odd pitch: lanes reading one column hit distinct banks
};

template <typename A> __device__ __forceinline__ A attn_warp_sum(A v) {
    for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
    return v;
}

template <typename A> __device__ __forceinline__ A attn_warp_max(A v) {
    for (int m = 16; m > 0; m >>= 1) v = ft_maximum(v, __shfl_xor_sync(0xffffffffu, v, m));
    return v;
}

// rows x n elements of a contiguous (rows beyond `valid` read as zero) into a shared tile.
template <typename T, typename A, int PITCH>
__device__ __forceinline__ void attn_load(A (*tile)[PITCH], int rows, i64 valid, i64 n, const T* src) {
    for (i64 idx = threadIdx.x; idx < (i64)rows * n; idx += blockDim.x) {
        const i64 r = idx / n, d = idx - r * n;
        tile[r][d] = r < valid ? (A)Num<T>::load(src[r * n + d]) : (A)0;
    }
}

template <typename A, int PITCH> __device__ __forceinline__ A attn_dot(const A* a, const A (*tile)[PITCH], int row, i64 n) {
    A s = 0;
    for (i64 d = 0; d < n; ++d) s += a[d] * tile[row][d];
    return s;
}

// Streams the key/value tiles that query rows [row0, row0 + OWN) can see through ks and vs, and
// calls visit(t, r, live) for each row t of the warp (tile row r) that exists and is not masked
// for the whole tile; lane j holds key key0 + j, live when it exists and row r may see it.
template <typename G, typename T, typename A, typename Visit>
__device__ __forceinline__ void attn_key_tiles(A (*ks)[G::PITCH], A (*vs)[G::PITCH], i64 row0, i64 L, i64 S, i64 E, i64 Ev, const T* kh,
                                               const T* vh, int causal, Visit visit) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    // Keys past the tile's last row are masked for all of its rows.
    const i64 keys = causal ? ft_minimum(S, row0 + G::OWN) : S;
    for (i64 key0 = 0; key0 < keys; key0 += G::KEYS) {
        __syncthreads();  // the previous tile's readers are done
        attn_load<T, A, G::PITCH>(ks, G::KEYS, S - key0, E, kh + key0 * E);
        attn_load<T, A, G::PITCH>(vs, G::KEYS, S - key0, Ev, vh + key0 * Ev);
        __syncthreads();
        const i64 j = key0 + lane;
#pragma unroll
        for (int t = 0; t < G::ROWS; ++t) {
            const int r = warp * G::ROWS + t;
            const i64 i = row0 + r;
            if (i >= L || (causal && key0 > i)) continue;  // warp-uniform
            visit(t, r, lane < G::KEYS && j < S && (!causal || j <= i));
        }
    }
}

// Calls visit(h, row0, kh, vh) for each tile of OWN query rows of each head this block takes
// (grid-stride: tiles along x, heads along y) with the head's keys and values, after a barrier
// that frees the block's own tiles for it.
template <typename G, typename T, typename Visit>
__device__ __forceinline__ void attn_query_tiles(i64 heads, i64 group, i64 L, i64 S, i64 E, i64 Ev, const T* k, const T* v, Visit visit) {
    const i64 tiles = (L + G::OWN - 1) / G::OWN;
    for (i64 h = blockIdx.y; h < heads; h += gridDim.y) {
        for (i64 tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
            __syncthreads();
            visit(h, tile * G::OWN, k + (h / group) * S * E, v + (h / group) * S * Ev);
        }
    }
}

// The output and log-sum-exp of each query row: an online softmax over key tiles.
template <typename T, int DPL>
__device__ __forceinline__ void attention_forward(i64 heads, i64 group, i64 L, i64 S, i64 E, i64 Ev, const T* q, const T* k,
                                                  const T* v, T* out, typename Num<T>::compute* lse, double scale_d, int causal) {
    typedef typename Num<T>::compute A;
    typedef AttnTile<A, DPL> G;
    __shared__ A qs[G::OWN][G::PITCH];
    __shared__ A ks[G::KEYS][G::PITCH];
    __shared__ A vs[G::KEYS][G::PITCH];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const A scale = (A)scale_d, none = -(A)FT_INFINITY;
    attn_query_tiles<G>(heads, group, L, S, E, Ev, k, v, [&](i64 h, i64 row0, const T* kh, const T* vh) {
        attn_load<T, A, G::PITCH>(qs, G::OWN, L - row0, E, q + (h * L + row0) * E);
        A m[G::ROWS], l[G::ROWS], o[G::ROWS][DPL];
        for (int t = 0; t < G::ROWS; ++t) {
            m[t] = none;
            l[t] = 0;
            for (int c = 0; c < DPL; ++c) o[t][c] = 0;
        }
        attn_key_tiles<G>(ks, vs, row0, L, S, E, Ev, kh, vh, causal, [&](int t, int r, bool live) {
            const A s = live ? attn_dot<A, G::PITCH>(qs[r], ks, lane, E) * scale : none;
            const A top = ft_maximum(m[t], attn_warp_max(s));
            if (top == none) return;  // every score so far is -inf: nothing to add yet
            const A alpha = exp(m[t] - top), p = live ? exp(s - top) : (A)0;
            l[t] = l[t] * alpha + attn_warp_sum(p);
            for (int c = 0; c < DPL; ++c) o[t][c] *= alpha;
            for (int jj = 0; jj < G::KEYS; ++jj) {
                const A pj = __shfl_sync(0xffffffffu, p, jj);
                if (pj == (A)0) continue;
                for (int c = 0; c < DPL; ++c) o[t][c] += pj * vs[jj][lane + 32 * c];
            }
            m[t] = top;
    });
    for (int t = 0; t < G::ROWS; ++t) {
        const i64 i = row0 + warp * G::ROWS + t;
        if (i >= L) continue;
        const A nan = (A)FT_NAN;
        const A inv = l[t] > (A)0 ? (A)1 / l[t] : (S == 0 ? (A)0 : nan);
        for (int c = 0; c < DPL; ++c) {
            const i64 d = lane + 32 * c;
            if (d < Ev) out[(h * L + i) * Ev + d] = Num<T>::store(o[t][c] * inv);
        }
        if (lane == 0) lse[h * L + i] = l[t] > (A)0 ? m[t] + log(l[t]) : (S == 0 ? none : nan);
    }
    });
}

// dq of each query row, streaming key tiles (lane j: key j): with p = exp(s - lse) and
// ds = p * (dO.v_j - delta), dq = scale * sum_j ds_j k_j. Also writes delta = rowsum(dO * O),
// which attention_backward_kv reads after this launch.
template <typename T, int DPL>
__device__ __forceinline__ void attention_backward_q(i64 heads, i64 group, i64 L, i64 S, i64 E, i64 Ev, const T* q, const T* k,
                                                     const T* v, const T* out, const T* dout, const typename Num<T>::compute* lse,
                                                     typename Num<T>::compute* delta, T* dq, double scale_d, int causal) {
    typedef typename Num<T>::compute A;
    typedef AttnTile<A, DPL> G;
    __shared__ A qs[G::OWN][G::PITCH];
    __shared__ A dos[G::OWN][G::PITCH];
    __shared__ A ks[G::KEYS][G::PITCH];
    __shared__ A vs[G::KEYS][G::PITCH];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const A scale = (A)scale_d;
    attn_query_tiles<G>(heads, group, L, S, E, Ev, k, v, [&](i64 h, i64 row0, const T* kh, const T* vh) {
        attn_load<T, A, G::PITCH>(qs, G::OWN, L - row0, E, q + (h * L + row0) * E);
        attn_load<T, A, G::PITCH>(dos, G::OWN, L - row0, Ev, dout + (h * L + row0) * Ev);
        A acc[G::ROWS][DPL], rowlse[G::ROWS], rowdelta[G::ROWS];
        for (int t = 0; t < G::ROWS; ++t) {
            const i64 i = row0 + warp * G::ROWS + t;
            A dsum = 0;
            for (int c = 0; c < DPL; ++c) {
                acc[t][c] = 0;
                const i64 d = lane + 32 * c;
                if (i < L && d < Ev) dsum += (A)Num<T>::load(dout[(h * L + i) * Ev + d]) * (A)Num<T>::load(out[(h * L + i) * Ev + d]);
            }
            rowdelta[t] = attn_warp_sum(dsum);
            rowlse[t] = i < L ? lse[h * L + i] : (A)0;
            if (i < L && lane == 0) delta[h * L + i] = rowdelta[t];
        }
        attn_key_tiles<G>(ks, vs, row0, L, S, E, Ev, kh, vh, causal, [&](int t, int r, bool live) {
            A ds = 0;
            if (live) {
                const A p = exp(attn_dot<A, G::PITCH>(qs[r], ks, lane, E) * scale - rowlse[t]);
                ds = p * (attn_dot<A, G::PITCH>(dos[r], vs, lane, Ev) - rowdelta[t]);
            }
            for (int jj = 0; jj < G::KEYS; ++jj) {
                const A dsj = __shfl_sync(0xffffffffu, ds, jj);
                if (dsj == (A)0) continue;
                for (int c = 0; c < DPL; ++c) acc[t][c] += dsj * ks[jj][lane + 32 * c];
            }
    });
    for (int t = 0; t < G::ROWS; ++t) {
        const i64 i = row0 + warp * G::ROWS + t;
        for (int c = 0; c < DPL; ++c) {
            const i64 d = lane + 32 * c;
            if (i < L && d < E) dq[(h * L + i) * E + d] = Num<T>::store(acc[t][c] * scale);
        }
    }
    });
}

// dk and dv of each key row, streaming query tiles of every query head of its group (lane i:
// query i): dv = sum_i p_i dO_i, dk = scale * sum_i ds_i q_i.
template <typename T, int DPL>
__device__ __forceinline__ void attention_backward_kv(i64 kv_heads, i64 group, i64 L, i64 S, i64 E, i64 Ev, const T* q, const T* k,
                                                      const T* v, const T* dout, const typename Num<T>::compute* lse,
                                                      const typename Num<T>::compute* delta, T* dk, T* dv, double scale_d, int causal) {
    typedef typename Num<T>::compute A;
    typedef AttnTile<A, DPL> G;
    __shared__ A ks[G::OWN][G::PITCH];
    __shared__ A vs[G::OWN][G::PITCH];
    __shared__ A qs[G::KEYS][G::PITCH];
    __shared__ A dos[G::KEYS][G::PITCH];
    __shared__ A ls[G::KEYS], ds_row[G::KEYS];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const A scale = (A)scale_d;
    const i64 tiles = (S + G::OWN - 1) / G::OWN;
    for (i64 hk = blockIdx.y; hk < kv_heads; hk += gridDim.y) {
        for (i64 tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
            const i64 key0 = tile * G::OWN;
            __syncthreads();
            attn_load<T, A, G::PITCH>(ks, G::OWN, S - key0, E, k + (hk * S + key0) * E);
            attn_load<T, A, G::PITCH>(vs, G::OWN, S - key0, Ev, v + (hk * S + key0) * Ev);
            A gk[G::ROWS][DPL], gv[G::ROWS][DPL];
            for (int t = 0; t < G::ROWS; ++t)
                for (int c = 0; c < DPL; ++c) gk[t][c] = gv[t][c] = 0;
            // Query rows before the tile's first key see none of its keys.
            const i64 first = causal ? ft_minimum(L, key0) / G::KEYS * G::KEYS : 0;
            for (i64 h = hk * group; h < (hk + 1) * group; ++h) {
                for (i64 q0 = first; q0 < L; q0 += G::KEYS) {
                    __syncthreads();
                    attn_load<T, A, G::PITCH>(qs, G::KEYS, L - q0, E, q + (h * L + q0) * E);
                    attn_load<T, A, G::PITCH>(dos, G::KEYS, L - q0, Ev, dout + (h * L + q0) * Ev);
                    for (int r = threadIdx.x; r < G::KEYS; r += blockDim.x) {
                        ls[r] = q0 + r < L ? lse[h * L + q0 + r] : (A)0;
                        ds_row[r] = q0 + r < L ? delta[h * L + q0 + r] : (A)0;
                    }
                    __syncthreads();
                    const i64 i = q0 + lane;
                    for (int t = 0; t < G::ROWS; ++t) {
                        const int r = warp * G::ROWS + t;
                        const i64 j = key0 + r;
                        if (j >= S || (causal && j > q0 + G::KEYS - 1)) continue;  // warp-uniform
                        const bool live = lane < G::KEYS && i < L && (!causal || j <= i);
                        A p = 0, ds = 0;
                        if (live) {
                            p = exp(attn_dot<A, G::PITCH>(ks[r], qs, lane, E) * scale - ls[lane]);
                            ds = p * (attn_dot<A, G::PITCH>(vs[r], dos, lane, Ev) - ds_row[lane]);
                        }
                        for (int ii = 0; ii < G::KEYS; ++ii) {
                            const A pi = __shfl_sync(0xffffffffu, p, ii), dsi = __shfl_sync(0xffffffffu, ds, ii);
                            if (pi == (A)0 && dsi == (A)0) continue;
                            for (int c = 0; c < DPL; ++c) {
                                const int d = lane + 32 * c;
                                gv[t][c] += pi * dos[ii][d];
                                gk[t][c] += dsi * qs[ii][d];
                            }
                        }
                    }
                }
            }
            for (int t = 0; t < G::ROWS; ++t) {
                const i64 j = key0 + warp * G::ROWS + t;
                for (int c = 0; c < DPL; ++c) {
                    const i64 d = lane + 32 * c;
                    if (j < S && d < E) dk[(hk * S + j) * E + d] = Num<T>::store(gk[t][c] * scale);
                    if (j < S && d < Ev) dv[(hk * S + j) * Ev + d] = Num<T>::store(gv[t][c]);
                }
            }
        }
    }
}
