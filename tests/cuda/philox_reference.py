"""Philox4x32-10 in plain Python integers (Salmon et al., SC'11), and the values the CUDA
generator's fills must produce from it: block g of a draw is philox((g, offset), seed)."""

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
