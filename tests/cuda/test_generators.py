"""The CUDA generators' state, seeding and device checks, which need no GPU: a CUDA generator
is a seed and an offset on the host. The Python Philox reference the GPU tests compare with is
checked here against Random123's known answers."""

import pickle

import pytest

import ferrotorch as ft

from philox_reference import block, philox

DEFAULT_SEED = 67280421310721


def test_reference_philox_matches_random123_known_answers():
    assert philox([0, 0, 0, 0], [0, 0]) == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]
    assert philox([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2) == [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]
    assert philox([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0]) == [
        0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]
    assert block(0, 0, 0) == philox([0, 0, 0, 0], [0, 0])


@pytest.fixture
def gen0():
    """Device 0's default generator, restored afterwards."""
    g = ft._C._cuda_default_generator(0)
    state = g.get_state()
    yield g
    g.set_state(state)


def test_default_cuda_generator_is_shared_and_on_its_device(gen0):
    assert gen0.device == ft.device("cuda", 0)
    assert ft._C._cuda_default_generator(3).device == ft.device("cuda", 3)
    gen0.manual_seed(5)
    assert ft._C._cuda_default_generator(0).initial_seed() == 5


def test_state_is_seed_then_offset_little_endian(gen0):
    assert gen0.manual_seed(2**40 + 7) is gen0
    state = gen0.get_state()
    assert state.dtype == ft.uint8 and state.shape == (16,)
    raw = bytes(state.tolist())
    assert int.from_bytes(raw[:8], "little") == 2**40 + 7 and int.from_bytes(raw[8:], "little") == 0
    moved = ft.tensor(list(raw[:8]) + list((9).to_bytes(8, "little")), dtype=ft.uint8)
    gen0.set_state(moved)
    assert bytes(gen0.get_state().tolist())[8:] == (9).to_bytes(8, "little")
    with pytest.raises(RuntimeError, match="wrong size"):
        gen0.set_state(ft.zeros(15, dtype=ft.uint8))
    with pytest.raises(TypeError):
        gen0.set_state(ft.zeros(16))


def test_negative_seeds_are_their_bit_pattern(gen0):
    gen0.manual_seed(-1)
    assert gen0.initial_seed() == 2**64 - 1


def test_torch_manual_seed_seeds_the_cuda_generators(gen0):
    state = ft.get_rng_state()
    try:
        ft.manual_seed(1234)
        assert gen0.initial_seed() == 1234
        s = ft.seed()
        assert gen0.initial_seed() == s
        ft.cuda.manual_seed(77)
        assert gen0.initial_seed() == 77
        ft.cuda.manual_seed_all(78)
        assert gen0.initial_seed() == 78
    finally:
        ft.set_rng_state(state)


def test_manual_seed_all_reaches_generators_made_later(gen0):
    state = ft.get_rng_state()
    try:
        ft.cuda.manual_seed_all(4321)
        assert gen0.initial_seed() == 4321
        # A device's generator made after the seed starts from it too (PyTorch queues it).
        assert ft._C._cuda_default_generator(29).initial_seed() == 4321
        assert ft._C._cuda_default_generator(29).get_state().tolist()[8:] == [0] * 8
    finally:
        ft.set_rng_state(state)


@pytest.mark.parametrize("fill", [
    lambda g: ft.empty(3).uniform_(generator=g),
    lambda g: ft.empty(3).normal_(generator=g),
    lambda g: ft.empty(3).bernoulli_(0.5, generator=g),
    lambda g: ft.empty(3).exponential_(generator=g),
    lambda g: ft.rand(3, generator=g),
    lambda g: ft.randn(3, generator=g),
    lambda g: ft.randint(0, 5, (3,), generator=g),
    lambda g: ft.randperm(4, generator=g),
    lambda g: ft.multinomial(ft.ones(3), 2, generator=g),
])
def test_a_cuda_generator_cannot_fill_cpu_tensors(gen0, fill):
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator but found 'cuda'"):
        fill(gen0)


def test_cpu_generator_device_and_pickling_are_unchanged():
    g = ft.Generator().manual_seed(3)
    assert g.device == ft.device("cpu")
    h = pickle.loads(pickle.dumps(g))
    assert ft.rand(4, generator=h).tolist() == ft.rand(4, generator=g).tolist()


def test_fork_rng_without_a_gpu_restores_the_cpu_stream():
    before = ft.get_rng_state()
    with ft.random.fork_rng():
        ft.rand(5)
    assert ft.equal(ft.get_rng_state(), before)


def test_cuda_state_queries_need_a_gpu():
    if ft.cuda.is_available():
        pytest.skip("a GPU is present")
    for call in (ft.cuda.initial_seed, ft.cuda.get_rng_state, lambda: ft.cuda.set_rng_state(ft.zeros(16, dtype=ft.uint8))):
        with pytest.raises(RuntimeError):
            call()
    assert ft.cuda.default_generators == () and ft.cuda.get_rng_state_all() == []
    with pytest.raises(RuntimeError):
        ft.Generator(device="cuda")
