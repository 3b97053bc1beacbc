// Sorting rows (the device twin of ops/sort.rs). Every comparison orders (key, position) pairs,
// ties broken by position, so any sorting network gives exactly the CPU's stable order; NaN
// sorts above every number (all NaNs equal) and -0.0 equals 0.0, as in PyTorch.
//
// Rows of at most FT_SORT_MAX elements: a block per row (grid-stride over rows) loads the
// row's keys in the compute type with their positions into shared memory, pads it to a power
// of two, runs a bitonic network and writes `count` sorted elements from sorted position
// `first` (a whole sort, topk's first k, kthvalue's one). Longer rows: each run of
// FT_SORT_MAX elements is sorted that way (`sort_runs`), then runs are merged pairwise, each
// element finding its place by a binary search in its partner run (`merge_runs`), until one
// run holds the row.

#define FT_SORT_MAX 2048

// Whether (a, ia) goes before (b, ib).
template <typename C, typename P>
__device__ __forceinline__ bool sort_before(C a, P ia, C b, P ib, int descending) {
    const bool na = a != a, nb = b != b;
    if (na != nb) return descending ? na : nb;
    if (!na && a != b) return descending ? b < a : a < b;
    return ia < ib;
}

// Sorts `len` (at most FT_SORT_MAX) elements of `x` in shared memory; afterwards sorted
// position j holds keys[j] and its position positions[j] (relative to x).
template <typename T>
__device__ __forceinline__ void sort_block(const T* x, int len, int descending, typename Num<T>::compute* keys, int* positions) {
    typedef typename Num<T>::compute C;
    int padded = 1;
    while (padded < len) padded <<= 1;
    for (int i = threadIdx.x; i < padded; i += blockDim.x) {
        keys[i] = i < len ? Num<T>::load(x[i]) : (C)0;
        positions[i] = i;
    }
    __syncthreads();
    // Bitonic merges of sequences of `size`, alternating direction, each by compare-and-swap at
    // halving strides; the last merge (size == padded) sorts the whole row ascending. Padding
    // (positions >= len) goes after every element.
    for (int size = 2; size <= padded; size <<= 1) {
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
            for (int i = threadIdx.x; i < padded / 2; i += blockDim.x) {
                const int lo = 2 * i - (i & (stride - 1)), hi = lo + stride;
                const int first = (lo & size) == 0 ? hi : lo, second = first == hi ? lo : hi;
                const bool swap = positions[first] < len && (positions[second] >= len ||
                                  sort_before(keys[first], positions[first], keys[second], positions[second], descending));
                if (swap) {
                    const C k = keys[lo];
                    keys[lo] = keys[hi];
                    keys[hi] = k;
                    const int p = positions[lo];
                    positions[lo] = positions[hi];
                    positions[hi] = p;
                }
            }
            __syncthreads();
        }
    }
}

template <typename T>
__device__ __forceinline__ void sort_rows(i64 rows, i64 n, const T* in, T* values, i64* indices, int descending, i64 first,
                                          i64 count) {
    __shared__ typename Num<T>::compute keys[FT_SORT_MAX];
    __shared__ int positions[FT_SORT_MAX];
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* x = in + row * n;
        sort_block(x, (int)n, descending, keys, positions);
        for (i64 j = threadIdx.x; j < count; j += blockDim.x) {
            const int p = positions[first + j];
            values[row * count + j] = x[p];  // the element itself: exact for every dtype
            indices[row * count + j] = p;
        }
        __syncthreads();  // the shared arrays are rewritten by the next row
    }
}

// Sorts every run of FT_SORT_MAX elements of each row of n (the last run shorter): block b
// takes run b % runs of row b / runs; sorted elements and their positions in the row go to
// `values` and `positions` (rows of n).
template <typename T>
__device__ __forceinline__ void sort_runs(i64 rows, i64 n, const T* in, T* values, i64* positions_out, int descending) {
    __shared__ typename Num<T>::compute keys[FT_SORT_MAX];
    __shared__ int positions[FT_SORT_MAX];
    const i64 runs = (n + FT_SORT_MAX - 1) / FT_SORT_MAX;
    for (i64 b = blockIdx.x; b < rows * runs; b += gridDim.x) {
        const i64 row = b / runs, start = (b % runs) * FT_SORT_MAX;
        const int len = (int)(n - start < FT_SORT_MAX ? n - start : FT_SORT_MAX);
        const T* x = in + row * n + start;
        sort_block(x, len, descending, keys, positions);
        for (int j = threadIdx.x; j < len; j += blockDim.x) {
            values[row * n + start + j] = x[positions[j]];
            positions_out[row * n + start + j] = start + positions[j];
        }
        __syncthreads();
    }
}

// One merge pass over rows of n made of sorted runs of `width`: runs 2k and 2k + 1 become one
// run of 2 * width. Each element's place is its rank in its own run plus the number of
// elements of the partner run that go before it (a binary search: the partner is sorted by the
// same order). An unpaired last run is copied.
template <typename T>
__device__ __forceinline__ void merge_runs(i64 rows, i64 n, i64 width, const T* values, const i64* positions, T* values_out,
                                           i64* positions_out, int descending) {
    typedef typename Num<T>::compute C;
    FT_GRID_STRIDE(i, rows * n) {
        const i64 row = i / n, at = i - row * n, run = at / width;
        const i64 own = run * width, partner = (run ^ 1) * width;
        const i64 merged = own < partner ? own : partner;
        i64 place = at - own;
        if (partner < n) {
            const T* v = values + row * n;
            const i64* p = positions + row * n;
            const C key = Num<T>::load(v[at]);
            const i64 pos = p[at];
            i64 lo = partner, hi = partner + width < n ? partner + width : n;
            while (lo < hi) {
                const i64 mid = lo + (hi - lo) / 2;
                if (sort_before(Num<T>::load(v[mid]), p[mid], key, pos, descending)) lo = mid + 1;
                else hi = mid;
            }
            place += lo - partner;
        }
        values_out[row * n + merged + place] = values[i];
        positions_out[row * n + merged + place] = positions[i];
    }
}
