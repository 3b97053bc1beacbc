// searchsorted/bucketize (the twin of ops/sort/search.rs): a thread per value, a binary search
// in its row of boundaries (one row when per_row == 0, else row i / per_row), through the
// optional sorter's positions. PyTorch's comparisons, so NaN values land after every boundary.

template <typename T>
__device__ __forceinline__ void search_loop(i64 count, i64 n, i64 per_row, const T* boundaries, const T* values, const i64* sorter,
                                            i64* out, int right) {
    typedef typename Num<T>::compute C;
    FT_GRID_STRIDE(i, count) {
        const i64 start = per_row == 0 ? 0 : (i / per_row) * n;
        const C v = Num<T>::load(values[i]);
        i64 lo = 0, hi = n;
        while (lo < hi) {
            const i64 mid = lo + (hi - lo) / 2;
            const C b = Num<T>::load(boundaries[start + (sorter ? sorter[start + mid] : mid)]);
            const bool go_right = right ? !(b > v) : !(b >= v);
            if (go_right) lo = mid + 1;
            else hi = mid;
        }
        out[i] = lo;
    }
}
