"""Random ops on CUDA tensors draw on the device from the CUDA generator's Philox stream: the
values equal the Python Philox reference for the same seed and offset, each distribution has
its moments, seeds and states replay, and dropout keeps and scales as on the CPU. Marked
`cuda`: skipped without a GPU."""

import math

import numpy as np
import pytest

import ferrotorch as ft

from philox_reference import bernoulli, poisson, randint_small, uniform_f32_unit, uniform_f64

pytestmark = pytest.mark.cuda

N = 1 << 20


@pytest.fixture(autouse=True)
def seeded():
    ft.cuda.manual_seed(20261127)
    yield


def test_values_equal_the_reference_philox_stream():
    seed = 987654321
    ft.cuda.manual_seed(seed)
    np.testing.assert_array_equal(ft.rand(37, dtype=ft.float64, device="cuda").cpu().numpy(), uniform_f64(seed, 0, 37))
    np.testing.assert_array_equal(ft.rand(37, device="cuda").cpu().numpy(), np.float32(uniform_f32_unit(seed, 1, 37)))
    np.testing.assert_array_equal(ft.randint(-3, 11, (37,), device="cuda").cpu().numpy(), randint_small(seed, 2, 37, -3, 11))
    np.testing.assert_array_equal(ft.empty(37, device="cuda").bernoulli_(0.3).cpu().numpy(), np.float32(bernoulli(seed, 3, 37, 0.3)))
    x = ft.empty(37, dtype=ft.float64, device="cuda").uniform_(-2, 5)
    np.testing.assert_allclose(x.cpu().numpy(), uniform_f64(seed, 4, 37, -2.0, 5.0), rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16, ft.float32, ft.float64])
def test_uniform_and_normal_moments(dtype):
    u = ft.empty(N, dtype=dtype, device="cuda").uniform_(2, 4)
    assert u.device.type == "cuda" and u.dtype == dtype
    v = u.double().cpu().numpy()
    assert v.min() >= 2 and v.max() <= 4
    assert abs(v.mean() - 3) < 5 / math.sqrt(3 * N) + 0.01 * (dtype in (ft.float16, ft.bfloat16))
    z = ft.randn(N, dtype=dtype, device="cuda").double().cpu().numpy()
    assert abs(z.mean()) < 0.01 and abs(z.var() - 1) < 0.02
    # Tails reach where Box-Muller on 53-bit uniforms puts them.
    assert np.abs(z).max() > 4


@pytest.mark.parametrize("name,fill,mean,var", [
    ("exponential", lambda t: t.exponential_(2.0), 0.5, 0.25),
    ("geometric", lambda t: t.geometric_(0.25), 4.0, 12.0),
    ("log_normal", lambda t: t.log_normal_(0.0, 0.5), math.exp(0.125), (math.exp(0.25) - 1) * math.exp(0.25)),
    ("bernoulli", lambda t: t.bernoulli_(0.3), 0.3, 0.21),
    ("normal", lambda t: t.normal_(1.0, 2.0), 1.0, 4.0),
])
def test_distribution_moments(name, fill, mean, var):
    x = fill(ft.empty(N, dtype=ft.float64, device="cuda")).cpu().numpy()
    assert abs(x.mean() - mean) < 6 * math.sqrt(var / N), name
    assert abs(x.var() - var) < 0.05 * var, name


def test_cauchy_median_and_quartiles():
    x = ft.empty(N, dtype=ft.float64, device="cuda").cauchy_(1.0, 2.0).cpu().numpy()
    q1, q2, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    assert abs(q2 - 1) < 0.02 and abs(q1 + 1) < 0.03 and abs(q3 - 3) < 0.03


@pytest.mark.parametrize("dtype", [ft.bool, ft.uint8, ft.int8, ft.int16, ft.int32, ft.int64, ft.float16, ft.bfloat16, ft.float32, ft.float64])
def test_random_default_and_ranges_per_dtype(dtype):
    x = ft.empty(4096, dtype=dtype, device="cuda").random_()
    v = x.cpu().double().numpy()
    assert v.min() >= 0
    if dtype == ft.bool:
        assert set(np.unique(v)) == {0.0, 1.0}
    r = ft.empty(4096, dtype=dtype, device="cuda").random_(0, 2 if dtype == ft.bool else 7).cpu().double().numpy()
    assert set(np.unique(r)) == ({0.0, 1.0} if dtype == ft.bool else set(map(float, range(7))))


def test_wide_and_full_integer_ranges():
    big = ft.empty(4096, dtype=ft.int64, device="cuda").random_(-(2**40), 2**40).cpu().numpy()
    assert big.min() >= -(2**40) and big.max() < 2**40 and np.abs(big).max() > 2**38
    full = ft.empty(4096, dtype=ft.int64, device="cuda").random_(-(2**63), None).cpu().numpy()
    assert (full < 0).mean() > 0.4 and (full > 0).mean() > 0.4


def test_seed_and_state_replay():
    ft.cuda.manual_seed(3)
    a = ft.randn(1000, device="cuda")
    state = ft.cuda.get_rng_state()
    b = ft.randn(1000, device="cuda")
    ft.cuda.set_rng_state(state)
    assert ft.equal(ft.randn(1000, device="cuda"), b)
    ft.manual_seed(3)
    assert ft.equal(ft.randn(1000, device="cuda"), a)
    assert not ft.equal(a, b)
    g = ft.Generator(device="cuda").manual_seed(3)
    assert g.device.type == "cuda"
    assert ft.equal(ft.randn(1000, device="cuda", generator=g), a)


def test_a_strided_fill_writes_only_its_view():
    base = ft.zeros(8, 6, device="cuda")
    base[:, ::2].uniform_(1, 2)
    v = base.cpu().numpy()
    assert (v[:, 1::2] == 0).all() and (v[:, ::2] >= 1).all()


@pytest.mark.parametrize("g", [ft.Generator, lambda: ft.default_generator])
def test_a_cpu_generator_cannot_fill_cuda_tensors(g):
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"):
        ft.empty(3, device="cuda").uniform_(generator=g())
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"):
        ft.rand(3, device="cuda", generator=g())


FLOATS = (ft.float16, ft.bfloat16, ft.float32, ft.float64)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("replacement", [True, False])
def test_multinomial_draws_each_category_at_its_probability(dtype, replacement):
    p = np.array([[0.1, 0.0, 0.6, 0.3], [0.0, 2.0, 0.0, 2.0], [5.0, 1.0, 1.0, 1.0]])
    rows, n = len(p), 20000
    if replacement:
        s = ft.multinomial(ft.tensor(p, dtype=dtype, device="cuda"), n, replacement=True)
        assert s.device.type == "cuda" and s.dtype == ft.int64 and s.shape == (rows, n)
        counts = np.stack([np.bincount(r, minlength=4) for r in s.cpu().numpy()])
    else:
        # One sample a call without replacement: the first pick has the row's probabilities.
        batch = ft.tensor(np.repeat(p, n // 10, axis=0), dtype=dtype, device="cuda")
        first = ft.multinomial(batch, 1).cpu().numpy().reshape(rows, n // 10)
        counts, n = np.stack([np.bincount(r, minlength=4) for r in first]), n // 10
    want = p / p.sum(1, keepdims=True)
    assert (counts[want == 0] == 0).all(), "a category of probability 0 was drawn"
    sigma = np.sqrt(n * want * (1 - want)) + 1e-9
    assert (np.abs(counts - n * want) < 5 * sigma + 1).all(), (counts, n * want)


def test_multinomial_without_replacement_draws_distinct_categories():
    p = ft.tensor([[1.0, 2.0, 3.0, 0.0, 4.0]] * 64, device="cuda")
    s = ft.multinomial(p, 4).cpu().numpy()
    assert all(sorted(r) == [0, 1, 2, 4] for r in s)
    one = ft.multinomial(ft.tensor([0.0, 0.0, 1.0], device="cuda"), 1)
    assert one.shape == (1,) and one.item() == 2
    long = ft.multinomial(ft.rand(5000, device="cuda") + 0.1, 3000).cpu().numpy()  # past the sort's shared rows
    assert len(set(long.tolist())) == 3000


@pytest.mark.parametrize("replacement", [True, False])
@pytest.mark.parametrize("bad, message", [
    ([0.5, -0.1], "probability entry < 0|element < 0"),
    ([0.5, math.nan], "probability entry < 0|`nan`"),
    ([0.5, math.inf], "infinity or NaN|`inf`"),
    ([0.0, 0.0], r"sum of probabilities <= 0"),
])
def test_multinomial_rejects_what_the_cpu_rejects(bad, message, replacement):
    for device in ("cpu", "cuda"):
        with pytest.raises(RuntimeError, match=message):
            ft.multinomial(ft.tensor([[1.0, 1.0], bad], device=device), 2, replacement=replacement)
    assert ft.multinomial(ft.ones(0, 3, device="cuda"), 2, replacement=replacement).shape == (0, 2)


@pytest.mark.parametrize("dtype", FLOATS)
def test_poisson_samples_on_the_device(dtype):
    rates = ft.tensor([0.0, 0.5, 3.0, 12.0, 200.0], dtype=dtype, device="cuda").repeat(4000).reshape(4000, 5).t()
    draws = ft.poisson(rates)  # a transposed view: read in its own order
    assert draws.device.type == "cuda" and draws.dtype == dtype and draws.shape == (5, 4000)
    d = draws.double().cpu().numpy()
    assert (d == np.round(d)).all() and (d[0] == 0).all()
    for row, rate in zip(d[1:], (0.5, 3.0, 12.0, 200.0)):
        assert abs(row.mean() - rate) < 5 * math.sqrt(rate / row.size), (rate, row.mean())
        assert abs(row.var() / rate - 1) < 0.15, (rate, row.var())


def test_poisson_equals_the_reference_stream_and_rejects_negative_rates():
    seed, rates = 31337, [0.0, 2.5, 9.0, 11.0, 64.0]
    ft.cuda.manual_seed(seed)
    got = ft.poisson(ft.tensor(rates, dtype=ft.float64, device="cuda")).cpu().numpy()
    np.testing.assert_array_equal(got, poisson(seed, 0, rates))
    for bad in (-1.0, math.nan):
        with pytest.raises(RuntimeError, match="invalid Poisson rate, expected rate to be non-negative"):
            ft.poisson(ft.tensor([1.0, bad], device="cuda"))
    with pytest.raises(RuntimeError, match='"poisson_cuda" not implemented for \'Long\''):
        ft.poisson(ft.ones(2, dtype=ft.int64, device="cuda"))
    assert ft.poisson(ft.ones(0, device="cuda")).shape == (0,)


def test_sampling_ops_follow_the_cuda_seed():
    p = ft.tensor([0.1, 0.2, 0.7], device="cuda")
    ft.cuda.manual_seed(9)
    a = (ft.multinomial(p, 50, replacement=True), ft.randperm(20, device="cuda"), ft.poisson(p * 10))
    ft.cuda.manual_seed(9)
    b = (ft.multinomial(p, 50, replacement=True), ft.randperm(20, device="cuda"), ft.poisson(p * 10))
    for x, y in zip(a, b):
        assert x.device.type == "cuda" and ft.equal(x, y)


def test_dropout_keeps_and_scales_on_the_device():
    x = ft.ones(N, device="cuda", requires_grad=True)
    y = ft.nn.functional.dropout(x, p=0.25)
    v = y.detach().cpu().numpy()
    kept = v != 0
    assert abs(kept.mean() - 0.75) < 0.005
    np.testing.assert_allclose(v[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy() != 0, kept)


def test_factories_and_likes_stay_on_the_device():
    x = ft.zeros(3, 4, device="cuda")
    for t in (ft.rand_like(x), ft.randn_like(x), ft.randint_like(x, 5), ft.normal(x, 1.0), ft.normal(0.0, ft.ones(3, device="cuda")),
              ft.normal(2.0, 3.0, (5,), device="cuda"), ft.bernoulli(ft.full((4,), 0.5, device="cuda")), x.bernoulli(0.5)):
        assert t.device.type == "cuda"
