"""Convolutions through cuDNN (core-rs/src/cuda/cudnn.rs).

Without a GPU, where libcudnn loads (the test environment installs the nvidia-cudnn-cu13 wheel):
the switches reach the core, and cuDNN itself, given the descriptors ferrotorch builds, computes
the output size PyTorch's formula gives for every kind of window and dtype. On a GPU (marked
`cuda`): convolutions and their gradients through cuDNN equal the CPU's and the im2col + cuBLAS
path's, under the benchmark and deterministic switches too, and windows cuDNN cannot express fall
back."""

import numpy as np
import pytest

import ferrotorch as ft
import ferrotorch.nn.functional as F
from ferrotorch.cuda import _libs

from cuda_helpers import FLOATS, same, sample

cudnn = ft.backends.cudnn
needs_cudnn = pytest.mark.skipif(not cudnn.is_available(), reason="libcudnn not found")


def test_availability_follows_the_library():
    assert cudnn.is_available() == (_libs.library_location("cudnn") is not None)
    version = cudnn.version()
    if cudnn.is_available():
        assert isinstance(version, int) and version >= 90000
    else:
        assert version is None


@pytest.mark.parametrize("name", ["enabled", "benchmark", "deterministic"])
def test_switches_reach_the_core_and_flags_restores_them(name):
    default = getattr(cudnn, name)
    assert ft._C._cudnn_flag(name) is default
    setattr(cudnn, name, not default)
    try:
        assert getattr(cudnn, name) is (not default) and ft._C._cudnn_flag(name) is (not default)
        with cudnn.flags(**{"enabled": True, "benchmark": False, "deterministic": False, name: default}):
            assert ft._C._cudnn_flag(name) is default
        assert ft._C._cudnn_flag(name) is (not default)
    finally:
        setattr(cudnn, name, default)
    assert ft._C._cudnn_flag(name) is default


def test_deterministic_algorithms_reach_cudnn():
    assert ft._C._cudnn_flag("deterministic_algorithms") is False
    ft.use_deterministic_algorithms(True)
    try:
        assert ft._C._cudnn_flag("deterministic_algorithms") is True
    finally:
        ft.use_deterministic_algorithms(False)
    assert ft._C._cudnn_flag("deterministic_algorithms") is False


def test_unknown_switch_is_a_value_error():
    with pytest.raises(ValueError, match="unknown cuDNN flag"):
        ft._C._cudnn_set_flag("fastest", True)


# (input shape, weight shape, stride, padding, dilation, groups)
WINDOWS = [
    ((2, 4, 9, 8), (6, 4, 3, 2), (1, 1), (0, 0), (1, 1), 1),
    ((2, 4, 9, 8), (6, 2, 3, 2), (2, 1), (1, 0), (1, 2), 2),
    ((3, 3, 32, 32), (64, 3, 7, 7), (2, 2), (3, 3), (1, 1), 1),
    ((1, 8, 5, 5), (8, 1, 3, 3), (1, 1), (1, 1), (1, 1), 8),
    ((2, 3, 20), (4, 3, 5), (3,), (2,), (1,), 1),
    ((2, 2, 4, 5, 6), (2, 2, 2, 3, 3), (1, 2, 1), (0, 1, 1), (1, 1, 2), 1),
]


def pytorch_output_size(n_in, k, s, p, d):
    """The output length of `torch.nn.Conv*d`'s documented formula."""
    return (n_in + 2 * p - d * (k - 1) - 1) // s + 1


@needs_cudnn
@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: f"{w[0]}x{w[1]}")
@pytest.mark.parametrize("dtype", FLOATS)
def test_cudnn_computes_pytorchs_output_size_from_the_descriptors(window, dtype):
    image, weight, stride, padding, dilation, groups = window
    spatial = [pytorch_output_size(image[2 + i], weight[2 + i], stride[i], padding[i], dilation[i]) for i in range(len(stride))]
    want = [image[0], weight[0]] + ([1] if len(spatial) == 1 else []) + spatial  # 1-d: height 1
    ours, cudnns = ft._C._cudnn_output_dims(list(image), list(weight), list(stride), list(padding), list(dilation), groups, dtype)
    assert ours == want
    assert cudnns == want


@needs_cudnn
def test_windows_cudnn_cannot_express_are_left_to_the_fallback():
    assert ft._C._cudnn_output_dims([0, 3, 8, 8], [4, 3, 3, 3], [1, 1], [1, 1], [1, 1], 1, ft.float32) is None
    assert ft._C._cudnn_output_dims([1, 3, 8, 8], [0, 3, 3, 3], [1, 1], [1, 1], [1, 1], 1, ft.float32) is None
    # 2^31 input elements.
    assert ft._C._cudnn_output_dims([2, 1, 1 << 15, 1 << 15], [1, 1, 1, 1], [1, 1], [0, 0], [1, 1], 1, ft.float32) is None


def test_bad_shapes_for_the_descriptor_check_are_value_errors():
    with pytest.raises(ValueError, match="one stride"):
        ft._C._cudnn_output_dims([1, 3, 8, 8], [4, 3, 3, 3], [1], [1, 1], [1, 1], 1, ft.float32)
    with pytest.raises(ValueError, match="must be positive"):
        ft._C._cudnn_output_dims([1, 3, 8, 8], [4, 3, 3, 3], [0, 1], [1, 1], [1, 1], 1, ft.float32)


# --- on a GPU ---------------------------------------------------------------------------------

CONVS = [
    ("conv2d", (2, 4, 9, 8), (6, 2, 3, 2), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}),
    ("conv2d", (4, 16, 12, 12), (32, 16, 3, 3), {"padding": 1}),
    ("conv2d", (2, 8, 7, 7), (8, 1, 3, 3), {"padding": 1, "groups": 8}),
    ("conv1d", (2, 3, 20), (4, 3, 5), {"stride": 3, "padding": 2}),
    ("conv3d", (1, 2, 4, 5, 6), (3, 2, 2, 3, 3), {"stride": (1, 2, 1), "padding": (0, 1, 1)}),
    ("conv_transpose2d", (2, 4, 5, 4), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ("conv_transpose1d", (2, 6, 9), (6, 2, 4), {"stride": 2, "groups": 3}),
]


def run_conv(name, x, w, b, kwargs):
    """The convolution and the gradients of its inputs, for the probe `sum(out * probe)`."""
    x, w, b = (t.detach().requires_grad_() for t in (x, w, b))
    out = getattr(F, name)(x, w, b, **kwargs)
    probe = sample(tuple(out.shape), out.dtype, seed=9).to(out.device)
    (out * probe).sum().backward()
    return out.detach(), x.grad, w.grad, b.grad


def conv_inputs(name, x_shape, w_shape, kwargs, dtype):
    groups = kwargs.get("groups", 1)
    c_out = w_shape[1] * groups if "transpose" in name else w_shape[0]
    return sample(x_shape, dtype), sample(w_shape, dtype, seed=1), sample((c_out,), dtype, seed=2)


@pytest.mark.cuda
@needs_cudnn
@pytest.mark.parametrize("conv", CONVS, ids=lambda c: f"{c[0]}-{c[1]}")
@pytest.mark.parametrize("dtype", FLOATS)
def test_cudnn_convolutions_and_gradients_equal_the_cpu_and_the_fallback(conv, dtype):
    name, x_shape, w_shape, kwargs = conv
    inputs = conv_inputs(name, x_shape, w_shape, kwargs, dtype)
    want = run_conv(name, *inputs, kwargs)
    before = ft._C._cudnn_runs()
    with cudnn.flags(enabled=True, allow_tf32=False):
        getattr(F, name)(*(t.cuda() for t in inputs), **kwargs)
        assert ft._C._cudnn_runs() - before == 1, "cuDNN declined the forward"
        got = run_conv(name, *(t.cuda() for t in inputs), kwargs)
    # Forward, input gradient, weight gradient: cuDNN ran all three (none fell back).
    assert ft._C._cudnn_runs() - before == 4, "cuDNN declined a gradient"
    with cudnn.flags(enabled=False, allow_tf32=False):
        fallback = run_conv(name, *(t.cuda() for t in inputs), kwargs)
    assert ft._C._cudnn_runs() - before == 4
    for g, f, c in zip(got, fallback, want):
        assert g.device.type == "cuda" and g.shape == c.shape and g.dtype == c.dtype
        close(g, c, dtype)
        close(g, f.cpu(), dtype)


def close(gpu, cpu, dtype):
    """Within a tolerance for sums of up to a few hundred rounded products (the gradients sum
    over more terms than the outputs, so half precision gets a wider margin than TOL's)."""
    tol = {ft.float16: 1e-2, ft.bfloat16: 6e-2, ft.float32: 1e-5, ft.float64: 1e-12}[dtype]
    np.testing.assert_allclose(gpu.cpu().double().numpy(), cpu.double().numpy(), rtol=tol, atol=tol)


@pytest.mark.cuda
@needs_cudnn
@pytest.mark.parametrize("switch", ["benchmark", "deterministic"])
def test_benchmark_and_deterministic_algorithms_give_the_same_results(switch):
    name, x_shape, w_shape, kwargs = CONVS[1]
    inputs = conv_inputs(name, x_shape, w_shape, kwargs, ft.float64)
    want = run_conv(name, *inputs, kwargs)
    with cudnn.flags(enabled=True, **{switch: True}):
        first = run_conv(name, *(t.cuda() for t in inputs), kwargs)
        second = run_conv(name, *(t.cuda() for t in inputs), kwargs)
    for a, b, c in zip(first, second, want):
        same(a, c)
        if switch == "deterministic":
            np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())


@pytest.mark.cuda
@needs_cudnn
def test_benchmark_mode_inside_a_capture_ranks_by_the_heuristics():
    # The timed search allocates, frees and waits, which a capture forbids: inside one the
    # heuristics rank (their choice made in the warm-up), and the replay computes the same.
    x, w = sample((2, 3, 17, 19), ft.float32), sample((8, 3, 3, 3), ft.float32, seed=1)
    xg, wg = x.cuda(), w.cuda()
    side = ft.cuda.Stream()
    side.wait_stream(ft.cuda.current_stream())
    with cudnn.flags(enabled=True, benchmark=False, allow_tf32=False), ft.cuda.stream(side):
        F.conv2d(xg, wg)
    ft.cuda.current_stream().wait_stream(side)
    g = ft.cuda.CUDAGraph()
    before = ft._C._cudnn_runs()
    with cudnn.flags(enabled=True, benchmark=True, allow_tf32=False), ft.cuda.graph(g):
        y = F.conv2d(xg, wg)
    g.replay()
    assert ft._C._cudnn_runs() == before + 1
    same(y, F.conv2d(x, w))


@pytest.mark.cuda
@needs_cudnn
@pytest.mark.parametrize("kernel", [2, 3])
def test_same_padding_with_any_kernel_runs_on_cuda(kernel):
    # An even kernel pads asymmetrically: cuDNN cannot say it, so im2col + cuBLAS runs it.
    x, w = sample((2, 3, 10, 9), ft.float64), sample((4, 3, kernel, kernel), ft.float64, seed=1)
    before = ft._C._cudnn_runs()
    with cudnn.flags(enabled=True):
        same(F.conv2d(x.cuda(), w.cuda(), padding="same"), F.conv2d(x, w, padding="same"))
    assert ft._C._cudnn_runs() - before == (1 if kernel % 2 else 0)


@pytest.mark.cuda
@needs_cudnn
def test_deterministic_dilated_convolutions_fall_back_as_in_pytorch():
    x, w = sample((2, 3, 9, 9), ft.float64), sample((4, 3, 3, 3), ft.float64, seed=1)
    before = ft._C._cudnn_runs()
    with cudnn.flags(enabled=True, deterministic=True):
        same(F.conv2d(x.cuda(), w.cuda(), dilation=2), F.conv2d(x, w, dilation=2))
    assert ft._C._cudnn_runs() == before


@pytest.mark.cuda
@needs_cudnn
def test_misaligned_half_inputs():
    # A narrowed half tensor starting at an odd element: copied to an aligned address for cuDNN.
    n = 2 * 3 * 7 * 7
    x = sample((n + 1,), ft.float16).cuda()[1:].reshape(2, 3, 7, 7)
    w = sample((4, 3, 3, 3), ft.float16, seed=1)
    with cudnn.flags(enabled=True):
        got = F.conv2d(x, w.cuda(), padding=1)
    close(got, F.conv2d(x.cpu(), w, padding=1), ft.float16)


@pytest.mark.cuda
@needs_cudnn
def test_strided_and_channels_last_inputs():
    x = sample((2, 8, 6, 6), ft.float32).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    w = sample((5, 8, 3, 3), ft.float32, seed=1)
    with cudnn.flags(enabled=True, allow_tf32=False):
        same(F.conv2d(x.cuda(), w.cuda(), padding=1), F.conv2d(x, w, padding=1))
        same(F.conv2d(x.cuda()[:, ::2], w[:, ::2].cuda(), stride=2), F.conv2d(x[:, ::2], w[:, ::2], stride=2))
