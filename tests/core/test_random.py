"""Random numbers: generators and seeding, every sampling function and in-place fill.

Statistical checks are deterministic (fixed seeds) but honest: tolerances come from the sample
size (means within 5 standard errors, Kolmogorov-Smirnov statistics below the 0.1% critical
value, chi-square below a 5-sigma bound on its own distribution), so a correct sampler passes
for any seed and a biased one fails.
"""

import math
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import ferrotorch as ft
from conftest import FLOAT_DTYPES, INT_DTYPES, to_numpy

N = 200_000


@pytest.fixture(autouse=True)
def _seeded():
    ft.manual_seed(1234)


# ----------------------------------------------------------------------------------------------
# Statistical helpers


def assert_mean(x, mu, var):
    """The sample mean is within 5 standard errors of `mu` (population variance `var`)."""
    x = np.asarray(x, dtype=np.float64)
    se = math.sqrt(var / x.size)
    assert abs(x.mean() - mu) < 5 * se + 1e-12, (x.mean(), mu, se)


def assert_variance(x, var, mu4):
    """The sample variance is within 5 standard errors of `var` (`mu4`: 4th central moment)."""
    x = np.asarray(x, dtype=np.float64)
    se = math.sqrt((mu4 - var**2) / x.size)
    assert abs(x.var() - var) < 5 * se, (x.var(), var, se)


def ks_statistic(x, cdf):
    """Kolmogorov-Smirnov distance between the sample and a vectorised analytic CDF."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = x.size
    f = cdf(x)
    i = np.arange(1, n + 1)
    return max(np.max(i / n - f), np.max(f - (i - 1) / n))


def assert_ks(x, cdf):
    """KS statistic below the 0.1% critical value sqrt(-ln(0.0005)/2)/sqrt(n)."""
    d = ks_statistic(x, cdf)
    assert d < 1.95 / math.sqrt(np.size(x)), d


def assert_frequencies(counts, probs):
    """Chi-square of observed counts against probabilities, below mean + 5 sd of chi2(k-1)."""
    counts = np.asarray(counts, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    keep = probs > 0
    assert counts[~keep].sum() == 0, "drew an impossible outcome"
    expected = counts.sum() * probs[keep] / probs[keep].sum()
    chi2 = ((counts[keep] - expected) ** 2 / expected).sum()
    k = keep.sum() - 1
    assert chi2 < k + 5 * math.sqrt(2 * k), (chi2, k)


_erf = np.vectorize(math.erf)


def normal_cdf(mu=0.0, sigma=1.0):
    return lambda x: 0.5 * (1 + _erf((x - mu) / (sigma * math.sqrt(2))))


def values(t):
    return to_numpy(t).astype(np.float64).ravel()


# ----------------------------------------------------------------------------------------------
# Seeds, generators and state


def test_manual_seed_makes_draws_reproducible():
    ft.manual_seed(7)
    a = [values(ft.rand(100)), values(ft.randn(100)), values(ft.randint(0, 50, (100,)))]
    ft.manual_seed(7)
    b = [values(ft.rand(100)), values(ft.randn(100)), values(ft.randint(0, 50, (100,)))]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_different_seeds_give_different_streams():
    ft.manual_seed(1)
    a = values(ft.rand(100))
    ft.manual_seed(2)
    b = values(ft.rand(100))
    assert not np.array_equal(a, b)


def test_consecutive_draws_differ():
    assert not np.array_equal(values(ft.rand(100)), values(ft.rand(100)))


def test_manual_seed_returns_the_default_generator():
    g = ft.manual_seed(3)
    assert isinstance(g, ft.Generator)
    assert g is ft.default_generator
    assert ft.initial_seed() == 3


def test_negative_seeds_are_taken_as_their_64_bit_pattern():
    ft.manual_seed(-1)
    assert ft.initial_seed() == 2**64 - 1
    a = values(ft.rand(10))
    ft.manual_seed(2**64 - 1)
    np.testing.assert_array_equal(values(ft.rand(10)), a)


def test_seed_out_of_64_bit_range_raises():
    with pytest.raises(RuntimeError, match="Overflow when unpacking long"):
        ft.manual_seed(2**64)


def test_seed_picks_a_fresh_seed_and_reports_it():
    s = ft.seed()
    assert ft.initial_seed() == s
    a = values(ft.rand(10))
    ft.manual_seed(s)
    np.testing.assert_array_equal(values(ft.rand(10)), a)
    assert ft.seed() != s


def test_fresh_generator_uses_pytorch_default_seed():
    assert ft.Generator().initial_seed() == 67280421310721


def test_seed_0_reproduces_pytorch_rand():
    ft.manual_seed(0)
    np.testing.assert_allclose(values(ft.rand(5)), [0.4963, 0.7682, 0.0885, 0.1320, 0.3074], atol=1e-4)


def test_seed_0_reproduces_pytorch_randn_small():
    ft.manual_seed(0)
    expected = [[1.5410, -0.2934, -2.1788], [0.5684, -1.0845, -1.3986]]
    np.testing.assert_allclose(to_numpy(ft.randn(2, 3)), expected, atol=1e-4)


def test_seed_0_reproduces_pytorch_randn_large():
    ft.manual_seed(0)
    expected = [
        [-1.1258, -1.1524, -0.2506, -0.4339],
        [0.8487, 0.6920, -0.3160, -2.1152],
        [0.3223, -1.2633, 0.3500, 0.3081],
        [0.1198, 1.2377, 1.1168, -0.2473],
    ]
    np.testing.assert_allclose(to_numpy(ft.randn(4, 4)), expected, atol=1e-4)


def test_seed_0_reproduces_pytorch_randint():
    ft.manual_seed(0)
    np.testing.assert_array_equal(to_numpy(ft.randint(0, 10, (5,))), [4, 9, 3, 0, 3])


def test_generator_with_same_seed_gives_same_stream():
    g1 = ft.Generator().manual_seed(5)
    g2 = ft.Generator().manual_seed(5)
    np.testing.assert_array_equal(values(ft.rand(50, generator=g1)), values(ft.rand(50, generator=g2)))


def test_generator_matches_global_generator_with_same_seed():
    g = ft.Generator().manual_seed(11)
    ft.manual_seed(11)
    np.testing.assert_array_equal(values(ft.randn(50, generator=g)), values(ft.randn(50)))


def test_generator_draws_leave_the_global_stream_alone():
    ft.manual_seed(9)
    expected = values(ft.rand(20))
    ft.manual_seed(9)
    g = ft.Generator().manual_seed(9)
    ft.rand(1000, generator=g)
    np.testing.assert_array_equal(values(ft.rand(20)), expected)


def test_generator_device_is_cpu():
    g = ft.Generator(device="cpu")
    assert g.device == ft.device("cpu")


@pytest.mark.skipif(ft.cuda.is_available(), reason="a CUDA device is present")
def test_generator_on_cuda_raises_without_a_gpu():
    with pytest.raises(RuntimeError, match="Found no NVIDIA driver|No CUDA GPUs are available"):
        ft.Generator(device="cuda")


def test_get_and_set_rng_state_replay_the_stream():
    state = ft.get_rng_state()
    assert state.dtype == ft.uint8 and tuple(state.shape) == (5056,)
    a = values(ft.randn(1000))
    ft.set_rng_state(state)
    np.testing.assert_array_equal(values(ft.randn(1000)), a)


def test_rng_state_keeps_the_cached_normal_sample():
    ft.randn(1)  # leaves the second Box-Muller value cached
    state = ft.get_rng_state()
    a = values(ft.randn(3))
    ft.set_rng_state(state)
    np.testing.assert_array_equal(values(ft.randn(3)), a)


def test_get_rng_state_is_a_copy():
    state = ft.get_rng_state()
    before = to_numpy(state).copy()
    ft.rand(10)
    np.testing.assert_array_equal(to_numpy(state), before)


def test_generator_get_and_set_state():
    g = ft.Generator().manual_seed(4)
    state = g.get_state()
    a = values(ft.rand(10, generator=g))
    assert g.set_state(state) is g
    np.testing.assert_array_equal(values(ft.rand(10, generator=g)), a)


def test_state_moves_between_generators():
    g = ft.Generator().manual_seed(21)
    ft.set_rng_state(g.get_state())
    np.testing.assert_array_equal(values(ft.rand(10)), values(ft.rand(10, generator=g)))
    assert ft.initial_seed() == 21


def test_set_rng_state_rejects_wrong_size():
    with pytest.raises(RuntimeError, match="found the input RNG state size to be 10"):
        ft.set_rng_state(ft.zeros(10, dtype=ft.uint8))


def test_set_rng_state_rejects_non_byte_tensor():
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        ft.set_rng_state(ft.zeros(5056))


def test_set_rng_state_rejects_invalid_mt19937_state():
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        ft.set_rng_state(ft.zeros(5056, dtype=ft.uint8))


def test_fork_rng_restores_the_state():
    expected = values(ft.rand(5))
    ft.manual_seed(1234)
    with ft.random.fork_rng():
        ft.rand(100)
    np.testing.assert_array_equal(values(ft.rand(5)), expected)


def test_generator_pickles_with_its_state():
    g = ft.Generator().manual_seed(8)
    ft.rand(3, generator=g)
    h = pickle.loads(pickle.dumps(g))
    np.testing.assert_array_equal(values(ft.rand(10, generator=h)), values(ft.rand(10, generator=g)))


GENERATOR_CALLS = {
    "rand": lambda g: ft.rand(40, generator=g),
    "randn": lambda g: ft.randn(40, generator=g),
    "rand_like": lambda g: ft.rand_like(ft.zeros(40), generator=g),
    "randn_like": lambda g: ft.randn_like(ft.zeros(40), generator=g),
    "randint": lambda g: ft.randint(0, 9, (40,), generator=g),
    "randint_like": lambda g: ft.randint_like(ft.zeros(40), 9, generator=g),
    "randperm": lambda g: ft.randperm(40, generator=g),
    "normal": lambda g: ft.normal(0.0, 1.0, (40,), generator=g),
    "normal_tensor": lambda g: ft.normal(ft.zeros(40), ft.ones(40), generator=g),
    "bernoulli": lambda g: ft.bernoulli(ft.full((40,), 0.5), generator=g),
    "multinomial": lambda g: ft.multinomial(ft.ones(40), 10, generator=g),
    "poisson": lambda g: ft.poisson(ft.full((40,), 3.0), generator=g),
    "uniform_": lambda g: ft.zeros(40).uniform_(generator=g),
    "normal_": lambda g: ft.zeros(40).normal_(generator=g),
    "random_": lambda g: ft.zeros(40).random_(0, 9, generator=g),
    "bernoulli_": lambda g: ft.zeros(40).bernoulli_(0.5, generator=g),
    "exponential_": lambda g: ft.zeros(40).exponential_(generator=g),
    "geometric_": lambda g: ft.zeros(40).geometric_(0.3, generator=g),
    "log_normal_": lambda g: ft.zeros(40).log_normal_(generator=g),
    "cauchy_": lambda g: ft.zeros(40).cauchy_(generator=g),
    "Tensor.bernoulli": lambda g: ft.full((40,), 0.5).bernoulli(generator=g),
    "Tensor.multinomial": lambda g: ft.ones(40).multinomial(10, generator=g),
}


@pytest.mark.parametrize("name", GENERATOR_CALLS)
def test_generator_keyword_is_honoured(name):
    call = GENERATOR_CALLS[name]
    ft.manual_seed(99)
    untouched = values(ft.rand(5))
    ft.manual_seed(99)
    a = values(call(ft.Generator().manual_seed(3)))
    b = values(call(ft.Generator().manual_seed(3)))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(values(ft.rand(5)), untouched)


def _sample_digest(env_threads):
    code = (
        "import ferrotorch as ft, hashlib;"
        "ft.manual_seed(5);"
        "parts = [ft.randn(300_001), ft.rand(300_000), ft.randint(0, 1000, (300_000,)),"
        " ft.zeros(300_000).exponential_(), ft.randperm(100_000)];"
        "print(hashlib.sha256(b''.join(p.numpy().tobytes() for p in parts)).hexdigest())"
    )
    env = dict(os.environ, RAYON_NUM_THREADS=str(env_threads))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_results_do_not_depend_on_thread_count():
    assert _sample_digest(1) == _sample_digest(4)


# ----------------------------------------------------------------------------------------------
# rand / uniform_


@pytest.mark.parametrize("args", [(2, 3), ((2, 3),), ([2, 3],)])
def test_rand_accepts_size_forms(args):
    t = ft.rand(*args)
    assert tuple(t.shape) == (2, 3) and t.dtype == ft.float32


def test_rand_size_keyword():
    assert tuple(ft.rand(size=(4, 1)).shape) == (4, 1)


def test_rand_follows_default_dtype():
    ft.set_default_dtype(ft.float64)
    try:
        assert ft.rand(3).dtype == ft.float64
        assert ft.randn(3).dtype == ft.float64
    finally:
        ft.set_default_dtype(ft.float32)


def test_rand_empty_and_0d():
    assert tuple(ft.rand(0, 3).shape) == (0, 3)
    t = ft.rand(())
    assert tuple(t.shape) == () and 0 <= t.item() < 1


def test_rand_negative_size_raises():
    with pytest.raises(RuntimeError, match=r"Trying to create tensor with negative dimension -1: \[2, -1\]"):
        ft.rand(2, -1)


@pytest.mark.parametrize("dtype", INT_DTYPES + [ft.bool])
def test_rand_integer_dtype_raises(dtype):
    with pytest.raises(RuntimeError, match='"check_uniform_bounds" not implemented for'):
        ft.rand(3, dtype=dtype)


def test_rand_accepts_cpu_device_and_requires_grad():
    assert ft.rand(2, device="cpu", requires_grad=True).shape == (2,)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_rand_values_lie_in_unit_interval(dtype):
    t = ft.rand(N, dtype=dtype)
    assert t.dtype == dtype
    x = values(t)
    assert x.min() >= 0 and x.max() < 1


@pytest.mark.parametrize("dtype,bits", [(ft.float16, 11), (ft.bfloat16, 8), (ft.float32, 24)])
def test_rand_uses_the_dtype_mantissa_bits(dtype, bits):
    x = values(ft.rand(10_000, dtype=dtype)) * 2**bits
    np.testing.assert_array_equal(x, np.floor(x))
    assert len(np.unique(x)) > min(2**bits, 10_000) * 0.5


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_rand_moments(dtype):
    x = values(ft.rand(N, dtype=dtype))
    assert_mean(x, 0.5, 1 / 12)
    assert_variance(x, 1 / 12, 1 / 80)


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_rand_passes_ks_test(dtype):
    assert_ks(values(ft.rand(N, dtype=dtype)), lambda v: np.clip(v, 0, 1))


@pytest.mark.parametrize("dtype,bits", [(ft.float16, 11), (ft.bfloat16, 8)])
def test_rand_reduced_types_fill_their_grid_uniformly(dtype, bits):
    cells = np.round(values(ft.rand(N, dtype=dtype)) * 2**bits).astype(np.int64)
    assert_frequencies(np.bincount(cells, minlength=2**bits), [1] * 2**bits)


def test_rand_like_copies_shape_and_dtype():
    t = ft.rand_like(ft.zeros(3, 2, dtype=ft.float64))
    assert tuple(t.shape) == (3, 2) and t.dtype == ft.float64
    assert ft.rand_like(ft.zeros(2), dtype=ft.float16).dtype == ft.float16


def test_rand_out_fills_the_given_tensor():
    out = ft.zeros(4, 5)
    r = ft.rand(4, 5, out=out)
    assert r is out
    x = values(out)
    assert (x > 0).all() and (x < 1).all()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_uniform_inplace_range_and_mean(dtype):
    t = ft.zeros(N, dtype=dtype)
    assert t.uniform_(-2, 6) is t
    x = values(t)
    assert x.min() >= -2 and x.max() <= 6
    assert x.max() > 5.9 and x.min() < -1.9
    if dtype in (ft.float32, ft.float64):
        assert (x < 6).all()
    width = 8.0
    assert_mean(x, 2.0, width**2 / 12 + (0.1 if dtype in (ft.float16, ft.bfloat16) else 0))


def test_uniform_bumps_version():
    t = ft.zeros(3)
    v = t._version
    t.uniform_()
    assert t._version > v


def test_uniform_on_transposed_view_fills_every_element():
    base = ft.zeros(30, 40)
    base.transpose(0, 1).uniform_(1, 2)
    x = values(base)
    assert (x >= 1).all() and (x < 2).all()


def test_uniform_on_strided_view_leaves_the_gaps():
    base = ft.zeros(10)
    view = base.unfold(0, 1, 2).squeeze(-1)  # elements 0, 2, 4, 6, 8
    view.uniform_(1, 2)
    x = values(base)
    assert (x[1::2] == 0).all()
    assert ((x[::2] >= 1) & (x[::2] < 2)).all()


def test_uniform_on_expanded_view_raises():
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single memory location"):
        ft.zeros(1, 3).expand(4, 3).uniform_()


def test_uniform_on_empty_tensor_is_a_no_op():
    assert tuple(ft.zeros(0).uniform_().shape) == (0,)


def test_uniform_from_equal_to_gives_constant():
    np.testing.assert_array_equal(values(ft.zeros(5).uniform_(3, 3)), 3.0)


def test_uniform_from_above_to_raises():
    with pytest.raises(RuntimeError, match=r"uniform_ expects to return a \[from, to\) range, but found from=3 > to=2"):
        ft.zeros(3).uniform_(3, 2)


def test_uniform_bounds_out_of_dtype_range_raise():
    with pytest.raises(RuntimeError, match="to is out of bounds for c10::Half"):
        ft.zeros(3, dtype=ft.float16).uniform_(0, 1e6)


def test_uniform_nan_bound_raises():
    with pytest.raises(RuntimeError, match="from is out of bounds for float"):
        ft.zeros(3).uniform_(float("nan"), 1)


# ----------------------------------------------------------------------------------------------
# randn / normal / normal_


@pytest.mark.parametrize("n", [N, N + 3])
def test_randn_moments(n):
    x = values(ft.randn(n, dtype=ft.float64))
    assert_mean(x, 0, 1)
    assert_variance(x, 1, 3)


@pytest.mark.parametrize("n", [N, N + 5])
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_randn_passes_ks_test(n, dtype):
    assert_ks(values(ft.randn(n, dtype=dtype)), normal_cdf())


def test_small_randn_calls_pass_ks_test():
    # Below 16 elements each value comes from the scalar sampler with its cached second value.
    x = np.concatenate([values(ft.randn(k % 15 + 1, dtype=ft.float64)) for k in range(4000)])
    assert_ks(x, normal_cdf())
    assert_mean(x, 0, 1)


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
def test_randn_reduced_types_have_normal_moments(dtype):
    t = ft.randn(N, dtype=dtype)
    assert t.dtype == dtype
    x = values(t)
    assert_mean(x, 0, 1)
    assert abs(x.var() - 1) < 0.02
    assert np.abs(x).max() > 4  # tails are not cut off by coarse uniforms


def test_randn_independent_halves_are_uncorrelated():
    x = values(ft.randn(N, dtype=ft.float64)).reshape(-1, 16)
    r = np.corrcoef(x[:, :8].ravel(), x[:, 8:].ravel())[0, 1]
    assert abs(r) < 5 / math.sqrt(x.size / 2)


def test_randn_integer_dtype_raises():
    with pytest.raises(RuntimeError, match='"normal_kernel_cpu" not implemented for \'Long\''):
        ft.randn(3, dtype=ft.int64)


def test_randn_like_copies_shape_and_dtype():
    t = ft.randn_like(ft.zeros(2, 5, dtype=ft.float16))
    assert tuple(t.shape) == (2, 5) and t.dtype == ft.float16


@pytest.mark.parametrize("n", [5, N])
def test_normal_inplace_moments(n):
    reps = N // n
    x = np.concatenate([values(ft.zeros(n, dtype=ft.float64).normal_(3.0, 2.0)) for _ in range(reps)])
    assert_mean(x, 3.0, 4.0)
    assert_variance(x, 4.0, 3 * 16.0)


def test_normal_inplace_zero_std_gives_mean():
    np.testing.assert_array_equal(values(ft.zeros(40).normal_(1.5, 0.0)), 1.5)


def test_normal_inplace_negative_std_raises():
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std -1"):
        ft.zeros(3).normal_(0, -1)


def test_normal_float_float_needs_size():
    t = ft.normal(2.0, 3.0, size=(N,))
    assert t.dtype == ft.float32 and tuple(t.shape) == (N,)
    assert_mean(values(t), 2.0, 9.0)
    assert ft.normal(0.0, 1.0, (2, 2), dtype=ft.float64).dtype == ft.float64
    with pytest.raises(TypeError):
        ft.normal(0.0, 1.0)


def test_normal_tensor_tensor_broadcasts_per_element_parameters():
    mean = ft.tensor([0.0, 10.0, -5.0], dtype=ft.float64)
    std = ft.tensor([[1.0, 2.0, 0.5]], dtype=ft.float64).expand(N // 3, 3)
    t = ft.normal(mean, std)
    assert tuple(t.shape) == (N // 3, 3) and t.dtype == ft.float64
    x = to_numpy(t)
    for j, (m, s) in enumerate([(0.0, 1.0), (10.0, 2.0), (-5.0, 0.5)]):
        assert_mean(x[:, j], m, s * s)
        assert_variance(x[:, j], s * s, 3 * s**4)


def test_normal_tensor_mean_float_std():
    mean = ft.full((N,), 4.0, dtype=ft.float64)
    t = ft.normal(mean, 0.5)
    assert t.dtype == ft.float64
    assert_mean(values(t), 4.0, 0.25)
    assert_variance(values(t), 0.25, 3 * 0.25**2)


def test_normal_tensor_mean_default_std_is_one():
    x = values(ft.normal(ft.zeros(N, dtype=ft.float64)))
    assert_variance(x, 1.0, 3.0)


def test_normal_float_mean_tensor_std():
    std = ft.full((N,), 3.0)
    t = ft.normal(-1.0, std)
    assert t.dtype == ft.float32 and tuple(t.shape) == (N,)
    assert_mean(values(t), -1.0, 9.0)
    assert_variance(values(t), 9.0, 3 * 81.0)


def test_normal_result_dtype_follows_mean():
    t = ft.normal(ft.zeros(3, dtype=ft.float16), ft.ones(3, dtype=ft.float64))
    assert t.dtype == ft.float16


def test_normal_negative_std_tensor_raises():
    with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
        ft.normal(ft.zeros(2), ft.tensor([1.0, -1.0]))


def test_normal_nan_std_tensor_raises():
    with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
        ft.normal(0.0, ft.tensor([float("nan")]))


def test_normal_negative_std_float_raises():
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std -2"):
        ft.normal(ft.zeros(2), -2.0)


def test_normal_mismatched_shapes_raise():
    with pytest.raises(RuntimeError):
        ft.normal(ft.zeros(2), ft.ones(3))


# ----------------------------------------------------------------------------------------------
# exponential_, geometric_, log_normal_, cauchy_


@pytest.mark.parametrize("lambd", [0.5, 1.0, 4.0])
def test_exponential_moments_and_ks(lambd):
    x = values(ft.zeros(N, dtype=ft.float64).exponential_(lambd))
    assert x.min() >= 0
    assert_mean(x, 1 / lambd, 1 / lambd**2)
    assert_variance(x, 1 / lambd**2, 9 / lambd**4)
    assert_ks(x, lambda v: 1 - np.exp(-lambd * v))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_exponential_every_float_dtype(dtype):
    t = ft.zeros(N, dtype=dtype).exponential_(2.0)
    assert t.dtype == dtype
    assert_mean(values(t), 0.5, 0.25 + 1e-3)


def test_exponential_rejects_nonpositive_lambda():
    with pytest.raises(RuntimeError, match="exponential_ expects lambda > 0.0, but found lambda=0"):
        ft.zeros(3).exponential_(0)


def test_exponential_rejects_integer_tensor():
    with pytest.raises(RuntimeError, match="dtype must be a floating point but you specified Long"):
        ft.zeros(3, dtype=ft.int64).exponential_()


@pytest.mark.parametrize("p", [0.2, 0.7])
def test_geometric_frequencies(p):
    x = values(ft.zeros(N, dtype=ft.float64).geometric_(p))
    assert x.min() >= 1 and (x == np.floor(x)).all()
    assert_mean(x, 1 / p, (1 - p) / p**2)
    k = np.arange(1, 8)
    pmf = (1 - p) ** (k - 1) * p
    counts = [(x == v).sum() for v in k] + [(x >= 8).sum()]
    assert_frequencies(counts, list(pmf) + [1 - pmf.sum()])


@pytest.mark.parametrize("dtype", [ft.int32, ft.int64, ft.float16, ft.float32])
def test_geometric_works_on_numeric_dtypes(dtype):
    t = ft.zeros(1000, dtype=dtype).geometric_(0.5)
    assert t.dtype == dtype and values(t).min() >= 1


def test_geometric_rejects_p_outside_open_unit_interval():
    with pytest.raises(RuntimeError, match=r"geometric_ expects p to be in \(0, 1\), but got p=1"):
        ft.zeros(3).geometric_(1.0)


def test_log_normal_log_is_normal():
    x = values(ft.zeros(N, dtype=ft.float64).log_normal_(1.0, 0.5))
    assert x.min() > 0
    assert_ks(np.log(x), normal_cdf(1.0, 0.5))


def test_log_normal_default_parameters_mean():
    # Defaults mean=1, std=2: E[X] = exp(1 + 2) but the variance is huge; test the median e^1.
    x = values(ft.zeros(N, dtype=ft.float64).log_normal_())
    assert abs(np.mean(x < math.e) - 0.5) < 5 * 0.5 / math.sqrt(N)


def test_log_normal_rejects_nonpositive_std():
    with pytest.raises(RuntimeError, match="log_normal_ expects std > 0.0, but found std=0"):
        ft.zeros(3).log_normal_(0, 0)


def test_cauchy_ks_and_median():
    x = values(ft.zeros(N, dtype=ft.float64).cauchy_(2.0, 3.0))
    assert_ks(x, lambda v: 0.5 + np.arctan((v - 2.0) / 3.0) / math.pi)
    assert abs(np.mean(x < 2.0) - 0.5) < 5 * 0.5 / math.sqrt(N)


def test_cauchy_rejects_nonpositive_sigma():
    with pytest.raises(RuntimeError, match="cauchy_ expects sigma > 0.0, but found sigma=-1"):
        ft.zeros(3).cauchy_(0, -1)


@pytest.mark.parametrize("method", ["normal_", "log_normal_", "cauchy_", "uniform_"])
def test_float_only_fills_reject_integer_tensors(method):
    with pytest.raises(RuntimeError, match="not implemented for 'Int'"):
        getattr(ft.zeros(3, dtype=ft.int32), method)()


# ----------------------------------------------------------------------------------------------
# randint / random_


def test_randint_defaults_to_int64_and_respects_bounds():
    t = ft.randint(-3, 7, (N,))
    assert t.dtype == ft.int64
    x = values(t)
    assert x.min() == -3 and x.max() == 6
    assert_frequencies([(x == v).sum() for v in range(-3, 7)], [1] * 10)


def test_randint_high_only_form():
    x = values(ft.randint(5, (1000,)))
    assert x.min() == 0 and x.max() == 4


def test_randint_keyword_forms():
    assert tuple(ft.randint(0, 5, size=(2, 3)).shape) == (2, 3)
    assert tuple(ft.randint(high=5, size=(4,)).shape) == (4,)
    assert tuple(ft.randint(low=2, high=5, size=(4,)).shape) == (4,)


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
def test_randint_dtype(dtype):
    t = ft.randint(0, 100, (5000,), dtype=dtype)
    assert t.dtype == dtype
    x = values(t)
    assert x.min() >= 0 and x.max() <= 99 and (x == np.floor(x)).all()
    assert len(np.unique(x)) == 100


def test_randint_wide_range_uses_64_bits():
    x = to_numpy(ft.randint(0, 2**40, (N,)))
    assert x.max() >= 2**39 and x.min() >= 0 and x.max() < 2**40
    assert_mean(x / 2**40, 0.5, 1 / 12)


def test_randint_high_equal_low_raises():
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to', but got from=5 >= to=5"):
        ft.randint(5, 5, (3,))


def test_randint_negative_size_raises():
    with pytest.raises(RuntimeError, match="negative dimension -3"):
        ft.randint(0, 5, (-3,))


def test_randint_bounds_outside_dtype_raise():
    with pytest.raises(RuntimeError, match="from is out of bounds for unsigned char"):
        ft.randint(-1, 5, (3,), dtype=ft.uint8)
    with pytest.raises(RuntimeError, match="to - 1 is out of bounds for signed char"):
        ft.randint(0, 200, (3,), dtype=ft.int8)


def test_randint_like():
    base = ft.zeros(3, 4, dtype=ft.int16)
    t = ft.randint_like(base, 10)
    assert t.dtype == ft.int16 and tuple(t.shape) == (3, 4)
    x = values(ft.randint_like(ft.zeros(5000), 3, 6))
    assert x.min() == 3 and x.max() == 5


def test_random_inplace_from_to():
    t = ft.zeros(N, dtype=ft.int32)
    assert t.random_(10, 20) is t
    x = values(t)
    assert x.min() == 10 and x.max() == 19
    assert_frequencies([(x == v).sum() for v in range(10, 20)], [1] * 10)


def test_random_inplace_to_only():
    x = values(ft.zeros(5000, dtype=ft.int64).random_(7))
    assert x.min() == 0 and x.max() == 6


@pytest.mark.parametrize("dtype,high", [(ft.uint8, 255), (ft.int8, 127), (ft.int16, 32767)])
def test_random_default_covers_zero_to_max(dtype, high):
    x = values(ft.zeros(N, dtype=dtype).random_())
    assert x.min() == 0 and x.max() == high


def test_random_default_on_bool_gives_both_values():
    x = values(ft.zeros(1000, dtype=ft.bool).random_())
    assert 400 < x.sum() < 600


def test_random_default_on_float_is_integral_up_to_mantissa():
    x = values(ft.zeros(N).random_())
    assert (x == np.floor(x)).all() and x.min() >= 0 and x.max() <= 2**24
    assert x.max() > 2**23


def test_random_from_with_none_to_goes_to_dtype_max():
    x = values(ft.zeros(N, dtype=ft.uint8).random_(250, None))
    assert x.min() == 250 and x.max() == 255


def test_random_full_int64_range():
    x = to_numpy(ft.zeros(10_000, dtype=ft.int64).random_(-(2**63), None))
    assert x.min() < -(2**61) and x.max() > 2**61


def test_random_from_not_below_to_raises():
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to', but got from=3 >= to=1"):
        ft.zeros(2).random_(3, 1)


def test_random_on_bool_with_range():
    x = values(ft.zeros(1000, dtype=ft.bool).random_(0, 2))
    assert 0 < x.sum() < 1000


# ----------------------------------------------------------------------------------------------
# randperm


@pytest.mark.parametrize("n", [0, 1, 2, 5, 1000, 100_000])
def test_randperm_is_a_permutation(n):
    t = ft.randperm(n)
    assert t.dtype == ft.int64 and tuple(t.shape) == (n,)
    np.testing.assert_array_equal(np.sort(to_numpy(t)), np.arange(n))


@pytest.mark.parametrize("dtype", [ft.int16, ft.int32, ft.float16, ft.float32, ft.float64])
def test_randperm_dtype(dtype):
    t = ft.randperm(100, dtype=dtype)
    assert t.dtype == dtype
    np.testing.assert_array_equal(np.sort(values(t)), np.arange(100))


def test_randperm_all_orders_equally_likely():
    perms = [tuple(to_numpy(ft.randperm(3))) for _ in range(6000)]
    keys = sorted(set(perms))
    assert len(keys) == 6
    assert_frequencies([perms.count(k) for k in keys], [1] * 6)


def test_randperm_each_position_uniform():
    x = np.stack([to_numpy(ft.randperm(10)) for _ in range(5000)])
    assert_frequencies(np.bincount(x[:, 0], minlength=10), [1] * 10)
    assert_frequencies(np.bincount(x[:, 9], minlength=10), [1] * 10)


def test_randperm_negative_n_raises():
    with pytest.raises(RuntimeError, match="n must be non-negative, got-1"):
        ft.randperm(-1)


def test_randperm_too_large_for_dtype_raises():
    with pytest.raises(RuntimeError, match="n cannot be greater than 2049 for Half type."):
        ft.randperm(2050, dtype=ft.float16)
    with pytest.raises(RuntimeError, match="n is too large for result tensor type: 'torch.ByteTensor'"):
        ft.randperm(300, dtype=ft.uint8)


# ----------------------------------------------------------------------------------------------
# bernoulli


def test_bernoulli_tensor_frequencies_per_element():
    probs = [0.0, 0.1, 0.5, 0.9, 1.0]
    p = ft.tensor([probs], dtype=ft.float64).expand(N // 5, 5).contiguous()
    t = ft.bernoulli(p)
    assert t.dtype == ft.float64 and tuple(t.shape) == (N // 5, 5)
    x = to_numpy(t)
    assert set(np.unique(x)) <= {0.0, 1.0}
    for j, q in enumerate(probs):
        assert_mean(x[:, j], q, q * (1 - q))
    assert x[:, 0].sum() == 0 and x[:, 4].all()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_bernoulli_keeps_probability_dtype(dtype):
    t = ft.bernoulli(ft.full((N,), 0.25, dtype=dtype))
    assert t.dtype == dtype
    assert_mean(values(t), 0.25, 0.25 * 0.75)


def test_bernoulli_with_scalar_p_ignores_input_values():
    t = ft.bernoulli(ft.zeros(N), 0.3)
    assert t.dtype == ft.float32
    assert_mean(values(t), 0.3, 0.21)


def test_bernoulli_method_forms():
    assert_mean(values(ft.full((N,), 0.6).bernoulli()), 0.6, 0.24)
    assert_mean(values(ft.zeros(N).bernoulli(0.2)), 0.2, 0.16)


def test_bernoulli_inplace_scalar_on_integer_tensor():
    t = ft.zeros(N, dtype=ft.int64)
    assert t.bernoulli_(0.7) is t
    assert_mean(values(t), 0.7, 0.21)


def test_bernoulli_inplace_default_p_is_half():
    assert_mean(values(ft.zeros(N).bernoulli_()), 0.5, 0.25)


def test_bernoulli_inplace_broadcasts_probability_tensor():
    t = ft.zeros(N // 2, 2, dtype=ft.bool)
    t.bernoulli_(ft.tensor([0.0, 0.8]))
    x = to_numpy(t)
    assert not x[:, 0].any()
    assert_mean(x[:, 1], 0.8, 0.16)


def test_bernoulli_scalar_p_out_of_range_raises():
    with pytest.raises(RuntimeError, match=r"bernoulli_ expects p to be in \[0, 1\], but got p=1.5"):
        ft.zeros(3).bernoulli_(1.5)


def test_bernoulli_tensor_p_out_of_range_raises():
    with pytest.raises(RuntimeError, match="Expected p_in >= 0 && p_in <= 1 to be true, but got false."):
        ft.bernoulli(ft.tensor([0.5, 2.0]))


def test_bernoulli_integer_probabilities_raise():
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        ft.bernoulli(ft.zeros(3, dtype=ft.int64))


def test_bernoulli_empty():
    assert tuple(ft.bernoulli(ft.zeros(0, 3)).shape) == (0, 3)


# ----------------------------------------------------------------------------------------------
# multinomial


P = np.array([0.1, 0.0, 0.3, 0.6])


@pytest.mark.parametrize("dtype", [ft.float32, ft.float64, ft.float16])
def test_multinomial_with_replacement_frequencies(dtype):
    t = ft.multinomial(ft.tensor(P * 5, dtype=dtype), N, replacement=True)  # unnormalised
    assert t.dtype == ft.int64 and tuple(t.shape) == (N,)
    assert_frequencies(np.bincount(to_numpy(t), minlength=4), P)


def test_multinomial_single_draws_match_probabilities():
    x = np.array([ft.multinomial(ft.tensor(P), 1).item() for _ in range(4000)])
    assert_frequencies(np.bincount(x, minlength=4), P)


def test_multinomial_without_replacement_gives_distinct_indices():
    p = ft.rand(50, 20, dtype=ft.float64) + 0.01
    t = ft.multinomial(p, 12)
    assert tuple(t.shape) == (50, 12)
    for row in to_numpy(t):
        assert len(set(row)) == 12 and row.min() >= 0 and row.max() < 20


def test_multinomial_without_replacement_all_categories_is_a_permutation():
    t = ft.multinomial(ft.ones(3, 7), 7)
    for row in to_numpy(t):
        np.testing.assert_array_equal(np.sort(row), np.arange(7))


def test_multinomial_without_replacement_first_draw_follows_probabilities():
    rows = ft.tensor(np.tile(P, (N // 20, 1)))
    first = to_numpy(ft.multinomial(rows, 2))[:, 0]
    assert_frequencies(np.bincount(first, minlength=4), P)


def test_multinomial_without_replacement_second_draw_follows_conditional_probabilities():
    rows = ft.tensor(np.tile(P, (N // 4, 1)))
    x = to_numpy(ft.multinomial(rows, 2))
    # P(second = j) = sum_i p_i p_j / (1 - p_i).
    second = np.array([sum(P[i] * P[j] / (1 - P[i]) for i in range(4) if i != j) for j in range(4)])
    assert_frequencies(np.bincount(x[:, 1], minlength=4), second)


def test_multinomial_never_draws_zero_probability_categories():
    x = to_numpy(ft.multinomial(ft.tensor([[0.0, 1.0, 0.0, 2.0]]), 2))
    np.testing.assert_array_equal(np.sort(x[0]), [1, 3])


def test_multinomial_rows_are_sampled_independently():
    p = ft.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(to_numpy(ft.multinomial(p, 5, replacement=True)), [[0] * 5, [2] * 5])


def test_multinomial_method_form():
    assert tuple(ft.ones(4).multinomial(2).shape) == (2,)


@pytest.mark.parametrize("replacement,message", [
    (False, "probability tensor contains either `inf`, `nan` or element < 0"),
    (True, r"invalid multinomial distribution \(encountering probability entry < 0\)"),
])
def test_multinomial_negative_probability_raises(replacement, message):
    with pytest.raises(RuntimeError, match=message):
        ft.multinomial(ft.tensor([0.5, -0.1, 0.6]), 2, replacement=replacement)


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_multinomial_non_finite_probability_raises(bad):
    with pytest.raises(RuntimeError, match="probability tensor contains either `inf`, `nan` or element < 0"):
        ft.multinomial(ft.tensor([0.5, bad]), 1)


def test_multinomial_infinite_probability_with_replacement_raises():
    with pytest.raises(RuntimeError, match=r"encountering probability entry = infinity or NaN"):
        ft.multinomial(ft.tensor([0.5, float("inf")]), 3, replacement=True)


@pytest.mark.parametrize("replacement", [False, True])
def test_multinomial_zero_sum_raises(replacement):
    with pytest.raises(RuntimeError, match=r"invalid multinomial distribution \(sum of probabilities <= 0\)"):
        ft.multinomial(ft.tensor([[1.0, 1.0], [0.0, 0.0]]), 2, replacement=replacement)


def test_multinomial_too_many_samples_without_replacement_raises():
    with pytest.raises(RuntimeError, match=r"cannot sample n_sample > prob_dist.size\(-1\) samples without replacement"):
        ft.multinomial(ft.ones(3), 4)


def test_multinomial_more_samples_than_categories_with_replacement():
    assert tuple(ft.multinomial(ft.ones(3), 10, replacement=True).shape) == (10,)


def test_multinomial_nonpositive_num_samples_raises():
    with pytest.raises(RuntimeError, match="cannot sample n_sample <= 0 samples"):
        ft.multinomial(ft.ones(3), 0)


def test_multinomial_bad_rank_raises():
    with pytest.raises(RuntimeError, match="prob_dist must be 1 or 2 dim"):
        ft.multinomial(ft.ones(2, 2, 2), 1)
    with pytest.raises(RuntimeError, match="prob_dist must be 1 or 2 dim"):
        ft.multinomial(ft.tensor(1.0), 1)


def test_multinomial_integer_input_raises():
    with pytest.raises(RuntimeError, match="multinomial only supports floating-point dtypes for input, got: Long"):
        ft.multinomial(ft.ones(3, dtype=ft.int64), 1)


def test_multinomial_zero_rows():
    assert tuple(ft.multinomial(ft.ones(0, 3), 2).shape) == (0, 2)


# ----------------------------------------------------------------------------------------------
# poisson


@pytest.mark.parametrize("rate", [0.5, 4.0, 30.0, 1000.0])
def test_poisson_mean_and_variance_equal_the_rate(rate):
    x = values(ft.poisson(ft.full((N,), rate, dtype=ft.float64)))
    assert (x == np.floor(x)).all() and x.min() >= 0
    assert_mean(x, rate, rate)
    assert_variance(x, rate, rate + 3 * rate**2)


@pytest.mark.parametrize("rate", [3.0, 12.0])
def test_poisson_frequencies(rate):
    x = values(ft.poisson(ft.full((N,), rate, dtype=ft.float64)))
    k = np.arange(0, int(3 * rate))
    pmf = np.array([math.exp(-rate + j * math.log(rate) - math.lgamma(j + 1)) for j in k])
    counts = [(x == j).sum() for j in k] + [(x >= k[-1] + 1).sum()]
    assert_frequencies(counts, list(pmf) + [1 - pmf.sum()])


def test_poisson_per_element_rates_and_dtype():
    rates = ft.tensor([[0.0, 2.0, 50.0]], dtype=ft.float16).expand(N // 3, 3)
    t = ft.poisson(rates)
    assert t.dtype == ft.float16 and tuple(t.shape) == (N // 3, 3)
    x = to_numpy(t).astype(np.float64)
    assert (x[:, 0] == 0).all()
    assert_mean(x[:, 1], 2.0, 2.0)
    assert_mean(x[:, 2], 50.0, 50.0)


def test_poisson_negative_rate_raises():
    with pytest.raises(RuntimeError, match="invalid Poisson rate, expected rate to be non-negative"):
        ft.poisson(ft.tensor([1.0, -1.0]))


def test_poisson_integer_rates_raise():
    with pytest.raises(RuntimeError, match="\"poisson_cpu\" not implemented for 'Long'"):
        ft.poisson(ft.ones(3, dtype=ft.int64))
