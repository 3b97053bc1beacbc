//! Neural-network kernels: conv.
