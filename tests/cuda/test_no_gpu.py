"""ferrotorch.cuda on a machine without a usable GPU behaves as PyTorch's CUDA build there:
queries answer False/0, device calls raise RuntimeError with PyTorch's message, seeding and the
memory counters are silent."""

import pytest

import ferrotorch as ft

pytestmark = pytest.mark.skipif(ft.cuda.is_available(), reason="a CUDA device is present")

# "Found no NVIDIA driver on your system..." without a driver, "No CUDA GPUs are available"
# with a driver but no device.
NO_GPU = "Found no NVIDIA driver on your system|No CUDA GPUs are available"


def test_is_available_is_false():
    assert ft.cuda.is_available() is False


def test_device_count_is_zero():
    assert ft.cuda.device_count() == 0


def test_is_initialized_is_false():
    assert ft.cuda.is_initialized() is False


@pytest.mark.parametrize("call", [
    ft.cuda.init,
    ft.cuda.current_device,
    lambda: ft.cuda.set_device(0),
    ft.cuda.get_device_name,
    ft.cuda.get_device_properties,
    ft.cuda.get_device_capability,
    ft.cuda.synchronize,
    lambda: ft.cuda.device(0).__enter__(),
    ft.cuda.Stream,
    ft.cuda.current_stream,
    ft.cuda.default_stream,
    lambda: ft.cuda.Event().record(),
], ids=["init", "current_device", "set_device", "get_device_name", "get_device_properties",
        "get_device_capability", "synchronize", "device_context", "Stream", "current_stream",
        "default_stream", "event_record"])
def test_device_calls_raise_pytorchs_runtime_error(call):
    with pytest.raises(RuntimeError, match=NO_GPU):
        call()


def test_driver_message_names_the_download_page():
    with pytest.raises(RuntimeError) as info:
        ft.cuda.current_device()
    message = str(info.value)
    assert message == "No CUDA GPUs are available" or message.endswith("http://www.nvidia.com/Download/index.aspx")


@pytest.mark.parametrize("device", ["cuda", "cuda:0", ft.device("cuda", 1)])
def test_creating_a_tensor_on_cuda_raises_runtime_error(device):
    with pytest.raises(RuntimeError, match=NO_GPU):
        ft.zeros(2, device=device)


def test_moving_a_tensor_to_cuda_raises_runtime_error():
    t = ft.ones(3)
    for move in (lambda: t.to("cuda"), lambda: t.to(device="cuda:0"), lambda: t.to(ft.device("cuda"))):
        with pytest.raises(RuntimeError, match=NO_GPU):
            move()


def test_set_device_of_a_cpu_device_raises_value_error():
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        ft.cuda.set_device("cpu")


def test_negative_device_is_a_no_op():
    ft.cuda.set_device(-1)
    with ft.cuda.device(-1):
        pass
    with ft.cuda.device(None):
        pass


def test_device_of_a_cpu_tensor_is_a_no_op():
    with ft.cuda.device_of(ft.ones(1)):
        pass


@pytest.mark.parametrize("seed", [ft.cuda.manual_seed, ft.cuda.manual_seed_all])
def test_seeding_does_nothing_silently(seed):
    assert seed(1234) is None
    assert ft.cuda.seed() is None and ft.cuda.seed_all() is None


@pytest.mark.parametrize("counter", [
    ft.cuda.memory_allocated, ft.cuda.max_memory_allocated, ft.cuda.memory_reserved, ft.cuda.max_memory_reserved,
])
@pytest.mark.parametrize("device", [None, 0, 3, "cuda:1"])
def test_memory_counters_are_zero(counter, device):
    assert counter(device) == 0


def test_memory_stats_are_empty():
    assert dict(ft.cuda.memory_stats()) == {}


def test_memory_counters_reject_cpu_devices():
    with pytest.raises(ValueError, match="Expected a cuda device"):
        ft.cuda.memory_allocated("cpu")


def test_reset_peak_memory_stats_raises_without_a_device():
    with pytest.raises(RuntimeError, match="invalid argument to reset_peak_memory_stats"):
        ft.cuda.reset_peak_memory_stats()
    with pytest.raises(RuntimeError, match="Invalid device argument"):
        ft.cuda.reset_peak_memory_stats(0)


@pytest.mark.parametrize("query", [lambda: ft.cuda.mem_get_info(), lambda: ft.cuda.set_per_process_memory_fraction(0.5)])
def test_device_memory_queries_need_a_driver(query):
    with pytest.raises(RuntimeError, match="Found no NVIDIA driver"):
        query()


def test_memory_snapshot_is_empty_and_the_old_names_warn():
    assert ft.cuda.memory_snapshot() == []
    with pytest.warns(FutureWarning, match="memory_cached has been renamed to torch.cuda.memory_reserved"):
        assert ft.cuda.memory_cached() == 0
    with pytest.warns(FutureWarning, match="max_memory_cached has been renamed"):
        assert ft.cuda.max_memory_cached(0) == 0
    with pytest.warns(FutureWarning, match="reset_max_memory_allocated now calls torch.cuda.reset_peak_memory_stats"):
        with pytest.raises(RuntimeError, match="invalid argument to reset_peak_memory_stats"):
            ft.cuda.reset_max_memory_allocated()


def test_empty_cache_does_nothing():
    assert ft.cuda.empty_cache() is None


def test_memory_summary_is_a_table_of_zeros():
    summary = ft.cuda.memory_summary()
    assert "Allocated memory" in summary and " 0 B" in summary


def test_accelerator_reports_no_available_accelerator():
    assert ft.accelerator.is_available() is False
    assert ft.accelerator.device_count() == 0
    assert ft.accelerator.current_accelerator(check_available=True) is None


def test_backends_cuda_is_built_and_cudnn_takes_no_cpu_tensor():
    assert ft.backends.cuda.is_built() is True
    # cuDNN may load without a GPU (as in a CUDA build of PyTorch); it never takes CPU tensors.
    assert ft.backends.cudnn.is_acceptable(ft.zeros(2)) is False


def test_tf32_flag_follows_float32_matmul_precision():
    before = ft.get_float32_matmul_precision()
    try:
        ft.backends.cuda.matmul.allow_tf32 = True
        assert ft.get_float32_matmul_precision() == "high"
        ft.backends.cuda.matmul.allow_tf32 = False
        assert ft.get_float32_matmul_precision() == "highest"
    finally:
        ft.set_float32_matmul_precision(before)


def test_kernel_self_test_raises_runtime_error():
    from ferrotorch import _C

    with pytest.raises(RuntimeError, match=NO_GPU):
        _C._cuda_self_test(0)



def test_tensor_cuda_raises_pytorchs_errors():
    t = ft.ones(2)
    with pytest.raises(RuntimeError, match=NO_GPU):
        t.cuda()
    with pytest.raises(RuntimeError, match=NO_GPU):
        t.cuda(0)
    with pytest.raises(RuntimeError, match="Invalid device, must be cuda device"):
        t.cuda("cpu")


def test_host_tensor_queries():
    t = ft.ones(2)
    assert t.get_device() == -1 and t.cpu() is t and not t.is_pinned()
    # Page-locked memory belongs to the CUDA driver: without one, PyTorch raises.
    with pytest.raises(RuntimeError):
        t.pin_memory()
    assert t.new_zeros(3).device == t.device and ft.zeros_like(t).is_cpu


def test_factories_reject_cuda_like_creation():
    with pytest.raises(RuntimeError, match=NO_GPU):
        ft.zeros_like(ft.ones(2), device="cuda")
    with pytest.raises(RuntimeError, match=NO_GPU):
        ft.randn(2, device="cuda")
    with pytest.raises(RuntimeError, match=NO_GPU):
        ft.arange(3, device="cuda")


def test_float32_matmul_precision_reaches_the_backend_flag():
    try:
        ft.backends.cuda.matmul.allow_tf32 = True
        assert ft.get_float32_matmul_precision() == "high" and ft.backends.cuda.matmul.allow_tf32
    finally:
        ft.set_float32_matmul_precision("highest")
    assert ft.backends.cuda.matmul.allow_tf32 is False


def test_an_unrecorded_event_needs_no_device():
    e = ft.cuda.Event(enable_timing=True)
    assert e.query() is True
    e.synchronize()
    e.wait()
    with pytest.raises(RuntimeError, match="must be recorded"):
        e.elapsed_time(ft.cuda.Event(enable_timing=True))
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        e.elapsed_time(ft.cuda.Event())
    with ft.cuda.stream(None):
        pass


def test_cuda_graphs_need_a_device():
    assert ft.cuda.is_current_stream_capturing() is False
    a, b = ft.cuda.graph_pool_handle(), ft.cuda.graph_pool_handle()
    assert a != b
    with pytest.raises(RuntimeError, match=NO_GPU):
        ft.cuda.CUDAGraph()


def test_record_stream_of_a_cpu_tensor_raises_not_implemented():
    with pytest.raises(NotImplementedError, match="Could not run 'aten::record_stream' with arguments from the 'CPU' backend"):
        ft.zeros(3).record_stream(None)
