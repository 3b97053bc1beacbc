//! Neural-network kernels: pool.
