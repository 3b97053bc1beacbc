"""Philox4x32-10 in plain Python integers (Salmon et al., SC'11), and the values the CUDA
generator's fills must produce from it: block g of a draw is philox((g, offset), seed)."""

import math

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox(ctr, key):
    """Ten rounds of Philox4x32 on four counter words with two key words."""
    c = list(ctr)
    k0, k1 = key
    for r in range(10):
        if r:
            k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
        p0, p1 = M0 * c[0], M1 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & MASK, (p0 >> 32) ^ c[3] ^ k1, p0 & MASK]
    return c


def block(seed, offset, g):
    return philox([g & MASK, g >> 32, offset & MASK, offset >> 32], [seed & MASK, seed >> 32])


def u53(hi, lo):
    return (((hi << 32) | lo) >> 11) * 2.0**-53


def uniform_f64(seed, offset, n, a=0.0, b=1.0):
    """`uniform_(a, b)` of n float64 elements: 53 bits from two words, two elements a block."""
    out = []
    for i in range(n):
        w = block(seed, offset, i // 2)
        out.append(u53(w[2 * (i % 2)], w[2 * (i % 2) + 1]) * (b - a) + a)
    return out


def uniform_f32_unit(seed, offset, n):
    """`rand` of n float32 elements: 24 bits of one word each, four elements a block."""
    return [(block(seed, offset, i // 4)[i % 4] >> 8) * 2.0**-24 for i in range(n)]


def randint_small(seed, offset, n, low, high):
    """`randint(low, high)` for a range below 2^32: one word each, modulo the range."""
    return [block(seed, offset, i // 4)[i % 4] % (high - low) + low for i in range(n)]


def bernoulli(seed, offset, n, p):
    """`bernoulli_(p)`: a 32-bit uniform below p."""
    return [1.0 if block(seed, offset, i // 4)[i % 4] * 2.0**-32 < p else 0.0 for i in range(n)]


def poisson(seed, offset, rates):
    """`poisson(rates)`: element i's r-th block of words is block r * n + i, two 53-bit uniforms
    each; PyTorch's CPU sampler (Hörmann's PTRS from rate 10, products of uniforms below) on
    them. Negative and NaN rates give NaN, an infinite rate infinity."""
    n, out = len(rates), []
    for i, lam in enumerate(rates):
        words = (block(seed, offset, r * n + i) for r in range(1 << 62))
        uniforms = (u53(w[2 * k], w[2 * k + 1]) for w in words for k in (0, 1))
        out.append(_poisson_sample(lam, uniforms) if lam >= 0 else math.nan)
    return out


def _poisson_sample(lam, uniforms):
    if math.isinf(lam):
        return lam
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha, vr = 1.1239 + 1.1328 / (b - 3.4), 0.9277 - 3.6224 / (b - 2.0)
        while True:
            u, v = next(uniforms) - 0.5, next(uniforms)
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(k + 1):
                return k
    if lam == 0:
        return 0
    enlam, x, prod = math.exp(-lam), 0, 1.0
    while True:
        prod *= next(uniforms)
        if prod <= enlam:
            return x
        x += 1
