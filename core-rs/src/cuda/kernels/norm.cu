// Row normalization, a block per row of n elements (the twin of ops/nn/norm.rs): layer norm
// (center = 1: the row's mean and biased variance) or RMS norm (center = 0: the mean square
// about zero), accumulated in double as on the CPU, then the normalized and affine-mapped
// outputs. Weight and bias are optional (null).

template <typename R> __device__ __forceinline__ void row_stats(const R* x, i64 n, double eps, int center, double& mean, double& rstd) {
    mean = 0;
    if (center) {
        double s = 0;
        for (i64 j = threadIdx.x; j < n; j += blockDim.x) s += (double)x[j];
        mean = block_all_reduce<double, SumOp>(s) / (double)(n > 0 ? n : 1);
    }
    double q = 0;
    for (i64 j = threadIdx.x; j < n; j += blockDim.x) q += ((double)x[j] - mean) * ((double)x[j] - mean);
    const double var = block_all_reduce<double, SumOp>(q) / (double)(n > 0 ? n : 1);
    rstd = 1.0 / sqrt(var + eps);
}

template <typename R>
__device__ __forceinline__ void row_norm_rows(i64 rows, i64 n, const R* in, const R* w, const R* b, R* out, double eps, int center) {
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const R* x = in + row * n;
        R* y = out + row * n;
        double mean_d, rstd_d;
        row_stats(x, n, eps, center, mean_d, rstd_d);
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
// rows for the weight's gradient. Uncentered, the gradient's mean drops out.
template <typename R>
__device__ __forceinline__ void row_norm_backward_rows(i64 rows, i64 n, const R* in, const R* w, const R* dys, R* dxs, R* dy_xhat, double eps, int center) {
    const double inv_n = 1.0 / (double)(n > 0 ? n : 1);
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const R* x = in + row * n;
        const R* dy = dys + row * n;
        R* dx = dxs + row * n;
        double mean_d, rstd_d;
        row_stats(x, n, eps, center, mean_d, rstd_d);
        const R mean = (R)mean_d, rstd = (R)rstd_d;
        double sum_g = 0, sum_gx = 0;
        for (i64 j = threadIdx.x; j < n; j += blockDim.x) {
            const double xhat = (double)((x[j] - mean) * rstd);
            const double g = (double)dy[j] * (w ? (double)w[j] : 1.0);
            sum_g += g;
            sum_gx += g * xhat;
        }
        const double mg = center ? block_all_reduce<double, SumOp>(sum_g) * inv_n : 0.0;
        const double mgx = block_all_reduce<double, SumOp>(sum_gx) * inv_n;
        for (i64 j = threadIdx.x; j < n; j += blockDim.x) {
            const double xhat = (double)((x[j] - mean) * rstd);
            const double g = (double)dy[j] * (w ? (double)w[j] : 1.0);
            dx[j] = (R)((double)rstd * (g - mg - xhat * mgx));
            if (dy_xhat) dy_xhat[row * n + j] = (R)((double)dy[j] * xhat);
        }
    }
}
