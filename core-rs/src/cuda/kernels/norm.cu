// Layer normalization, a block per row of n elements (the twin of ops/nn/norm.rs): the row's
// mean and biased variance accumulated in double, as on the CPU, then the normalized and
// affine-mapped outputs. Weight and bias are optional (null).

template <typename R> __device__ __forceinline__ void row_stats(const R* x, i64 n, double eps, double& mean, double& rstd) {
    double s = 0;
    for (i64 j = threadIdx.x; j < n; j += blockDim.x) s += (double)x[j];
    mean = block_all_reduce<double, SumOp>(s) / (double)(n > 0 ? n : 1);
    double q = 0;
    for (i64 j = threadIdx.x; j < n; j += blockDim.x) q += ((double)x[j] - mean) * ((double)x[j] - mean);
    const double var = block_all_reduce<double, SumOp>(q) / (double)(n > 0 ? n : 1);
    rstd = 1.0 / sqrt(var + eps);
}

template <typename R>
__device__ __forceinline__ void layer_norm_rows(i64 rows, i64 n, const R* in, const R* w, const R* b, R* out, double eps) {
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const R* x = in + row * n;
        R* y = out + row * n;
        double mean_d, rstd_d;
        row_stats(x, n, eps, mean_d, rstd_d);
        const R mean = (R)mean_d, rstd = (R)rstd_d;
        for (i64 j = threadIdx.x; j < n; j += blockDim.x) {
            R v = (x[j] - mean) * rstd;
            if (w) v = v * w[j];
            if (b) v = v + b[j];
            y[j] = v;
        }
    }
}

// dx of every row; with `dy_xhat` non-null also dy * xhat there, which the caller sums over
// rows for the weight's gradient.
template <typename R>
__device__ __forceinline__ void layer_norm_backward_rows(i64 rows, i64 n, const R* in, const R* w, const R* dys, R* dxs, R* dy_xhat, double eps) {
    const double inv_n = 1.0 / (double)(n > 0 ? n : 1);
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const R* x = in + row * n;
        const R* dy = dys + row * n;
        R* dx = dxs + row * n;
        double mean_d, rstd_d;
        row_stats(x, n, eps, mean_d, rstd_d);
        const R mean = (R)mean_d, rstd = (R)rstd_d;
        double sum_g = 0, sum_gx = 0;
        for (i64 j = threadIdx.x; j < n; j += blockDim.x) {
            const double xhat = (double)((x[j] - mean) * rstd);
            const double g = (double)dy[j] * (w ? (double)w[j] : 1.0);
            sum_g += g;
            sum_gx += g * xhat;
        }
        const double mg = block_all_reduce<double, SumOp>(sum_g) * inv_n;
        const double mgx = block_all_reduce<double, SumOp>(sum_gx) * inv_n;
        for (i64 j = threadIdx.x; j < n; j += blockDim.x) {
            const double xhat = (double)((x[j] - mean) * rstd);
            const double g = (double)dy[j] * (w ? (double)w[j] : 1.0);
            dx[j] = (R)((double)rstd * (g - mg - xhat * mgx));
            if (dy_xhat) dy_xhat[row * n + j] = (R)((double)dy[j] * xhat);
        }
    }
}
