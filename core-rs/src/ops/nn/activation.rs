//! Neural-network kernels: activation.
