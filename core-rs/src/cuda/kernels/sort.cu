// Sorting rows in shared memory (the device twin of ops/sort.rs for rows of at most
// FT_SORT_MAX elements): a block per row (grid-stride over rows) loads the row's keys in the
// compute type with their positions, pads it to a power of two, runs a bitonic network, and
// writes `count` sorted elements from sorted position `first` (a whole sort, topk's first k,
// kthvalue's one). Ties are broken by position, so the result is the stable order the CPU
// gives; NaN sorts above every number (all NaNs equal) and -0.0 equals 0.0, as in PyTorch.

#define FT_SORT_MAX 2048

// Whether (a, ia) goes before (b, ib). Padding (positions >= n) goes after every element.
template <typename C>
__device__ __forceinline__ bool sort_before(C a, int ia, C b, int ib, int n, int descending) {
    if (ia >= n || ib >= n) return ia < ib;
    const bool na = a != a, nb = b != b;
    if (na != nb) return descending ? na : nb;
    if (!na && a != b) return descending ? b < a : a < b;
    return ia < ib;
}

template <typename T>
__device__ __forceinline__ void sort_rows(i64 rows, i64 n, const T* in, T* values, i64* indices, int descending, i64 first,
                                          i64 count) {
    typedef typename Num<T>::compute C;
    __shared__ C keys[FT_SORT_MAX];
    __shared__ int positions[FT_SORT_MAX];
    int padded = 1;
    while (padded < n) padded <<= 1;
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* x = in + row * n;
        for (int i = threadIdx.x; i < padded; i += blockDim.x) {
            keys[i] = i < n ? Num<T>::load(x[i]) : (C)0;
            positions[i] = i;
        }
        __syncthreads();
        // Bitonic merges of sequences of `size`, alternating direction, each by compare-and-swap
        // at halving strides; the last merge (size == padded) sorts the whole row ascending.
        for (int size = 2; size <= padded; size <<= 1) {
            for (int stride = size >> 1; stride > 0; stride >>= 1) {
                for (int i = threadIdx.x; i < padded / 2; i += blockDim.x) {
                    const int lo = 2 * i - (i & (stride - 1)), hi = lo + stride;
                    const bool ascending = (lo & size) == 0;
                    const bool swap = ascending ? sort_before(keys[hi], positions[hi], keys[lo], positions[lo], (int)n, descending)
                                                : sort_before(keys[lo], positions[lo], keys[hi], positions[hi], (int)n, descending);
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
        for (i64 j = threadIdx.x; j < count; j += blockDim.x) {
            const int p = positions[first + j];
            values[row * count + j] = x[p];  // the element itself: exact for every dtype
            indices[row * count + j] = p;
        }
        __syncthreads();  // the shared arrays are rewritten by the next row
    }
}
