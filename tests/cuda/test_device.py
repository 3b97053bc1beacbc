"""ferrotorch.cuda on a machine with a GPU (marked `cuda`: skipped without one)."""

import pytest

import ferrotorch as ft

pytestmark = pytest.mark.cuda


def test_is_available_and_counts_devices():
    assert ft.cuda.is_available()
    assert ft.cuda.device_count() >= 1


def test_init_marks_cuda_initialized():
    ft.cuda.init()
    assert ft.cuda.is_initialized()


def test_current_device_starts_at_zero_and_follows_set_device():
    assert ft.cuda.current_device() == 0
    ft.cuda.set_device(0)
    assert ft.cuda.current_device() == 0


def test_device_context_restores_the_previous_device():
    last = ft.cuda.device_count() - 1
    with ft.cuda.device(last):
        assert ft.cuda.current_device() == last
    assert ft.cuda.current_device() == 0


def test_properties_name_capability_and_memory():
    p = ft.cuda.get_device_properties(0)
    assert isinstance(p.name, str) and p.name
    assert (p.major, p.minor) == ft.cuda.get_device_capability(0)
    assert p.major >= 7
    assert p.total_memory > 2**30
    assert p.multi_processor_count > 0
    assert ft.cuda.get_device_name() == p.name


def test_invalid_device_id_raises():
    with pytest.raises(AssertionError, match="Invalid device id"):
        ft.cuda.get_device_properties(ft.cuda.device_count())
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        ft.cuda.set_device(ft.cuda.device_count())


def test_synchronize_returns():
    assert ft.cuda.synchronize() is None


def test_kernels_compile_for_the_device_architecture():
    from ferrotorch import _C

    arch = "sm_{}{}".format(*ft.cuda.get_device_capability())
    for name, ptx_bytes, kernels, entries in _C._cuda_compile_kernels(arch, ["fill", "binary_add"]):
        assert entries == kernels


def test_kernel_self_test_passes_on_device_zero():
    from ferrotorch import _C

    assert len(_C._cuda_self_test(0)) == 7


def test_self_test_of_a_missing_device_raises():
    from ferrotorch import _C

    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        _C._cuda_self_test(ft.cuda.device_count())



def test_record_stream_keeps_freed_memory_from_reuse_until_the_stream_finishes():
    ft.cuda.empty_cache()
    s = ft.cuda.Stream()
    a = ft.randn(2048, 2048, device="cuda")
    n = 1_234_567  # an odd size, so no other cached block fits it as exactly as x's
    x = ft.empty(n, device="cuda")
    with ft.cuda.stream(s):  # warm up: kernels compiled and loaded before the timed part
        (a @ a).sum(), x + 1
    s.synchronize()
    s.wait_stream(ft.cuda.current_stream())
    with ft.cuda.stream(s):
        y = x + 1  # s reads x, then stays busy (about 100 ms of products queued after)
        for _ in range(200):
            b = a @ a
    x.record_stream(s)
    address = x.data_ptr()
    del x
    z = ft.empty(n, device="cuda")
    assert z.data_ptr() != address, "s may still be reading x"
    s.synchronize()
    w = ft.empty(n, device="cuda")
    assert w.data_ptr() == address, "s finished: x's block serves the default stream again"
    assert y.shape == (n,) and b.shape == (2048, 2048)
    with pytest.raises(RuntimeError, match="on cuda:0 but the stream"):
        _C_record(ft.zeros(1, device="cuda"), 1, 0)


def _C_record(t, index, stream_id):
    from ferrotorch import _C

    _C._cuda_record_stream(t, index, stream_id)


def test_streams_events_and_timing():
    default = ft.cuda.current_stream()
    assert default == ft.cuda.default_stream() and default.cuda_stream == 0
    s = ft.cuda.Stream()
    assert s.cuda_stream != 0 and s != default
    x = ft.ones(1 << 20, device="cuda")
    s.wait_stream(default)
    start, end = ft.cuda.Event(enable_timing=True), ft.cuda.Event(enable_timing=True)
    with ft.cuda.stream(s):
        assert ft.cuda.current_stream() == s
        start.record()
        y = (x * 2).sum()
        end.record()
    assert ft.cuda.current_stream() == default
    default.wait_stream(s)
    end.synchronize()
    assert end.query() and s.query()
    assert start.elapsed_time(end) >= 0.0
    assert y.item() == 2.0 * (1 << 20)
    e = s.record_event()
    default.wait_event(e)
    s.synchronize()
