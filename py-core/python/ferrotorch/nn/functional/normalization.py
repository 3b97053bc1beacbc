"""Batch, instance, group, layer, RMS and local response normalization.

Composite functions over differentiable tensor ops, so autograd (double backward included) comes
for free, except training-mode batch norm, layer norm and RMS norm, one fused core kernel each
(their backward records the same maths when a graph of the backward pass is wanted). The per-channel norms reduce to one per-channel ``scale`` and ``shift`` and then touch
the input once, ``input * scale + shift``, as PyTorch's CPU kernels do.
"""

import math

from ... import _C
from ...amp.autocast_mode import autocast_op
from ...autograd.grad_mode import no_grad

__all__ = ["batch_norm", "instance_norm", "group_norm", "layer_norm", "rms_norm", "local_response_norm"]


def _verify_batch_size(size):
    """Training statistics need more than one value per channel."""
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _verify_spatial_size(size):
    """Instance statistics need more than one value per (sample, channel)."""
    if math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")


def _channel_view(t, ndim):
    """A per-channel vector (C,) viewed as (1, C, 1, ...) to broadcast against an ``ndim``-d input."""
    return t.reshape((1, -1) + (1,) * (ndim - 2))


def _scale_shift(input, scale, shift):
    """``input * scale + shift`` in one op; ``scale``/``shift`` broadcast against ``input``."""
    return shift.addcmul(input, scale)


def _affine_scale_shift(mean, rstd, weight, bias):
    """Folds ``(x - mean) * rstd * weight + bias`` into ``x * scale + shift``."""
    scale = rstd if weight is None else rstd * weight
    shift = -mean * scale
    return scale, shift if bias is None else shift + bias


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalizes each channel (dim 1) of ``input`` (N, C, *) over the batch and spatial dims.

    In training the batch statistics (biased variance) normalize, and ``running_mean`` /
    ``running_var`` (when given) are updated in place as
    ``running = (1 - momentum) * running + momentum * batch_stat``, the variance unbiased.
    Otherwise the running statistics normalize. ``weight`` and ``bias`` (C,) are the affine map.
    """
    if training:
        _verify_batch_size(input.size())
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if input.dim() < 2:
        d = max(input.dim(), 1)
        raise IndexError(f"Dimension out of range (expected to be in range of [-{d}, {d - 1}], but got 1)")
    channels = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(f"running_{'mean' if running_mean is None else 'var'} must be defined in evaluation mode")
    if training:
        # One fused kernel (and one fused backward), as PyTorch's native_batch_norm.
        out, mean, var = _C._batch_norm_train(input, weight, bias, eps)
        if input.numel() > 0:
            _update_running_stats(running_mean, running_var, mean, var, input.numel() // channels, momentum)
        return out
    # Half inputs normalize in float32 (the statistics and the affine map too, whatever their
    # dtype) and give their own dtype, as PyTorch's kernels with their float opmath.
    ndim, half = input.dim(), input.dtype in (_C.float16, _C.bfloat16)
    view = lambda t: None if t is None else _channel_view(t.float() if half else t, ndim)  # noqa: E731
    weight, bias, mean, var = view(weight), view(bias), view(running_mean), view(running_var)
    scale, shift = _affine_scale_shift(mean, (var + eps).rsqrt(), weight, bias)
    out = _scale_shift(input, scale, shift)
    return out.to(input.dtype) if half else out


def _update_running_stats(running_mean, running_var, mean, var, count, momentum):
    """``running = running + momentum * (batch - running)``, with the batch variance unbiased."""
    with no_grad():
        if running_mean is not None:
            running_mean.lerp_(mean.reshape(-1).to(running_mean.dtype), momentum)
        if running_var is not None:
            unbiased = var.reshape(-1) * (count / (count - 1))
            running_var.lerp_(unbiased.to(running_var.dtype), momentum)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalizes each (sample, channel) of ``input`` (N, C, *) over its spatial dims.

    It is batch norm over the input viewed as (1, N * C, *) with the per-channel tensors repeated
    N times, as in PyTorch; running statistics (when given) are then the average over the batch.
    """
    if use_input_stats:
        _verify_spatial_size(input.size())
    n, c = input.shape[0], input.shape[1]

    def repeat(t):
        return None if t is None else t.repeat(n)

    repeated_mean, repeated_var = repeat(running_mean), repeat(running_var)
    out = batch_norm(
        input.reshape((1, n * c) + tuple(input.shape[2:])), repeated_mean, repeated_var, repeat(weight), repeat(bias),
        use_input_stats, momentum, eps,
    )
    if use_input_stats:
        with no_grad():
            for running, repeated in ((running_mean, repeated_mean), (running_var, repeated_var)):
                if running is not None and n > 0:
                    running.copy_(repeated.view(n, c).mean(0))
    return out.view(input.shape)


@autocast_op("group_norm")
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalizes ``input`` (N, C, *) over each group of ``C / num_groups`` channels (and the
    spatial dims), then applies the per-channel ``weight`` and ``bias`` (C,)."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, c = input.shape[0], input.shape[1]
    _verify_batch_size([n * c // num_groups, num_groups] + list(input.shape[2:]))
    if c % num_groups != 0:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(input.shape)} and num_groups={num_groups}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, but got "
                f"{name} of shape {list(t.shape)} and input of shape {list(input.shape)}"
            )
    grouped = input.reshape(n, num_groups, c // num_groups * math.prod(input.shape[2:]))
    var, mean = _C.var_mean(grouped, -1, correction=0)
    # Per (sample, group) statistics become per (sample, channel) scale and shift.
    rstd = (var + eps).rsqrt().repeat_interleave(c // num_groups, 1)
    mean = mean.repeat_interleave(c // num_groups, 1)
    scale, shift = _affine_scale_shift(mean, rstd, weight, bias)
    spatial = (1,) * (input.dim() - 2)
    return _scale_shift(input, scale.reshape((n, c) + spatial), shift.reshape((n, c) + spatial))


def _check_normalized_shape(input, normalized_shape, **affine):
    """``input`` must end with ``normalized_shape``, and each affine tensor must have that shape."""
    for name, t in affine.items():
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{list(t.shape)} and normalized_shape = {list(normalized_shape)}"
            )
    if len(normalized_shape) > input.dim() or tuple(input.shape[input.dim() - len(normalized_shape):]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}"
        )
    return tuple(range(-len(normalized_shape), 0))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalizes over the trailing ``normalized_shape`` dims (biased variance), then applies
    the element-wise affine ``weight`` and ``bias``."""
    normalized_shape = tuple(normalized_shape)
    _check_normalized_shape(input, normalized_shape, weight=weight, bias=bias)
    # One fused kernel forward and one backward (NativeLayerNormBackward0), as PyTorch.
    return _C.layer_norm(input, normalized_shape, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``input / sqrt(mean(input ** 2) + eps) * weight`` over the trailing ``normalized_shape``
    dims; ``eps=None`` uses the machine epsilon of ``input``'s dtype."""
    normalized_shape = tuple(normalized_shape)
    _check_normalized_shape(input, normalized_shape, weight=weight)
    # One fused kernel forward and one backward (FusedRmsNormBackward0).
    return _C.rms_norm(input, normalized_shape, weight, eps)


def _channel_window_sum(squares, before, after):
    """Sums ``squares`` (N, C, *) over the channel window ``[c - before, c + after]`` (zero padded)."""
    shape = list(squares.shape)
    parts = []
    for width in (before, after):
        shape[1] = width
        parts.append(squares.new_zeros(shape))
    padded = _C.cat([parts[0], squares, parts[1]], 1)
    return padded.unfold(1, before + after + 1, 1).sum(-1)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divides each element of ``input`` (N, C, *) by
    ``(k + alpha / size * sum of squares over the size neighbouring channels) ** beta``."""
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} dimensions)")
    if input.numel() == 0:
        return input
    div = _channel_window_sum(input * input, size // 2, (size - 1) // 2)
    return input / (div * (alpha / size) + k).pow(beta)


def _cross_map_lrn2d(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """The legacy ``CrossMapLRN2d`` forward, value for value: its running window sum never drops
    the first channel once it leaves the window, so channels ``c >= (size - 1) // 2 + 1`` count
    channel 0's square too."""
    if input.dim() != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
    half = (size - 1) // 2
    squares = input * input
    window = _channel_window_sum(squares, half, half)
    channels = input.shape[1]
    keeps_first = (_C.arange(channels, device=input.device) > half).to(input.dtype).view(1, channels, 1, 1)
    scale = window.addcmul(squares[:, :1], keeps_first)
    return input * (scale * (alpha / size) + k).pow(-beta)
