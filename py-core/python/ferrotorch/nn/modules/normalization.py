"""``LocalResponseNorm``, ``CrossMapLRN2d``, ``LayerNorm``, ``GroupNorm``, ``RMSNorm``."""

import numbers

from ... import _C
from .. import functional as F, init
from ..functional.normalization import _cross_map_lrn2d
from ..parameter import Parameter
from .module import Module

__all__ = ["LocalResponseNorm", "CrossMapLRN2d", "LayerNorm", "GroupNorm", "RMSNorm"]


def _register_affine(module, shape, affine, bias=True, device=None, dtype=None):
    """Registers the per-element ``weight`` and ``bias`` of ``shape`` (``None`` where absent,
    as PyTorch does, so that reprs and state_dict keys match)."""
    def parameter(present):
        return Parameter(_C.empty(shape, device=device, dtype=dtype)) if present else None

    module.register_parameter("weight", parameter(affine))
    module.register_parameter("bias", parameter(affine and bias))


def _reset_affine(module):
    """The identity affine map: weight ones, bias zeros."""
    if module.weight is not None:
        init.ones_(module.weight)
    if getattr(module, "bias", None) is not None:
        init.zeros_(module.bias)


class LocalResponseNorm(Module):
    """Divides each element by ``(k + alpha / size * sum of squares over size neighbouring
    channels) ** beta`` (see ``F.local_response_norm``); input (N, C, *)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class CrossMapLRN2d(LocalResponseNorm):
    """The legacy (Lua Torch) cross-channel LRN on (N, C, H, W) input, value for value as PyTorch's."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__(size, alpha, beta, k)

    def forward(self, input):
        return _cross_map_lrn2d(input, self.size, self.alpha, self.beta, self.k)


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` dims (see ``F.layer_norm``).

    Args:
        normalized_shape: the trailing shape to normalize over (an int for the last dim).
        eps: added to the variance for stability. Default: 1e-5.
        elementwise_affine: whether to learn ``weight`` (ones) and ``bias`` (zeros). Default: ``True``.
        bias: whether to learn the bias (with ``elementwise_affine``). Default: ``True``.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Group normalization (see ``F.group_norm``) of (N, C, *) input.

    Args:
        num_groups: number of channel groups; must divide ``num_channels``.
        num_channels: C.
        eps: added to the variance for stability. Default: 1e-5.
        affine: whether to learn per-channel ``weight`` (ones) and ``bias`` (zeros). Default: ``True``.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _register_affine(self, num_channels, affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    """Root mean square normalization over the trailing ``normalized_shape`` dims (see
    ``F.rms_norm``); ``eps=None`` uses the machine epsilon of the input's dtype."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.register_parameter(
            "weight", Parameter(_C.empty(self.normalized_shape, device=device, dtype=dtype)) if elementwise_affine else None
        )
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
