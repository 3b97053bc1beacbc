"""PyTorch top-level functions that are compositions of existing differentiable ops: ``diff``,
``cross``, ``cdist``, ``dist``, ``renorm``, ``cov``, ``corrcoef``, ``vander``, ``combinations``, ``chain_matmul``, the
``torch.``-level forms of dropout, embedding and the normalizations, and small predicates.

Written with ordinary tensor ops, so autograd (double backward included) comes for free.
"""

import itertools
import math
import warnings

from . import _C
from ._C import Tensor
from .amp.autocast_mode import autocast_op
from . import linalg as _linalg
from .nn import functional as _F

__all__ = [
    "diff", "cross", "cdist", "cosine_similarity", "pairwise_distance", "pdist", "cov", "corrcoef",
    "vander", "combinations", "chain_matmul", "is_nonzero", "is_same_size", "dropout", "dropout_",
    "alpha_dropout", "alpha_dropout_", "feature_dropout", "feature_dropout_", "feature_alpha_dropout",
    "feature_alpha_dropout_", "embedding", "batch_norm", "instance_norm", "group_norm", "dist", "renorm",
]


def _type_name(t):
    """PyTorch's scalar type name used in messages: ``'Float'`` for ``'torch.FloatTensor'``."""
    return t.type()[len("torch."):-len("Tensor")]


def _wrap_dim(dim, ndim):
    """``dim`` in ``[0, ndim)``, with PyTorch's IndexError for out-of-range values."""
    low, high = (-ndim, ndim - 1) if ndim > 0 else (-1, 0)
    if not low <= dim <= high:
        raise IndexError(f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})")
    return dim % max(ndim, 1)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``out[i] = input[i + 1] - input[i]``,
    ``logical_xor`` for bool), after concatenating ``prepend``/``append`` along ``dim``."""
    if input.dim() < 1:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = _wrap_dim(dim, input.dim())
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is not None and not isinstance(extra, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(extra).__name__}")
        if extra is not None and extra.dim() != input.dim():
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    parts = [t for t in (prepend, input, append) if t is not None]
    result = _C.cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        length = result.shape[dim]
        if length == 0:
            break
        later, earlier = result.narrow(dim, 1, length - 1), result.narrow(dim, 0, length - 1)
        result = later.logical_xor(earlier) if result.dtype == _C.bool else later - earlier
    return result


def _linalg_cross(input, other, dim=-1):
    """The cross product of 3-vectors along ``dim`` (``torch.linalg.cross``); other dims broadcast."""
    if input.dim() != other.dim():
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input.dtype != other.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input)} but found {_type_name(other)}")
    axis = _wrap_dim(dim, input.dim())
    if input.shape[axis] != 3 or other.shape[axis] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[axis]} and {other.shape[axis]}"
        )
    a = [input.narrow(axis, i, 1) for i in range(3)]
    b = [other.narrow(axis, i, 1) for i in range(3)]
    components = [a[(i + 1) % 3] * b[(i + 2) % 3] - a[(i + 2) % 3] * b[(i + 1) % 3] for i in range(3)]
    return _C.cat(components, axis)


@autocast_op("cross")
def cross(input, other, dim=None):
    """The cross product along ``dim``; without ``dim`` (deprecated, as in PyTorch) the first
    dimension of ``input`` of size 3."""
    if dim is None:
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
            "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree with "
            "that of linalg.cross in a future release.",
            UserWarning,
            stacklevel=2,
        )
        dim = next((i for i, size in enumerate(input.shape) if size == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return _linalg_cross(input, other, dim)


_linalg_cross.__name__ = _linalg_cross.__qualname__ = "cross"
_linalg.cross = _linalg_cross  # torch.linalg.cross; ferrotorch.linalg mirrors _C.linalg, which lacks it
_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


@autocast_op("cdist")
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between each row of ``x1`` ``(B, P, M)`` and of ``x2`` ``(B, R, M)``:
    ``(B, P, R)``, batch dims broadcast. Always computed from the differences (the exact form
    PyTorch's ``"donot_use_mm_for_euclid_dist"`` uses), whatever ``compute_mode`` says."""
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.dim()}D")
        if not x.is_floating_point():
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_type_name(x)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    differences = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return _linalg.vector_norm(differences, p, dim=-1)


@autocast_op("dist")
def dist(input, other, p=2):
    """The ``p``-norm of ``input - other`` (broadcast) over all elements: a 0-d tensor."""
    return _linalg.vector_norm(input - other, p)


@autocast_op("renorm")
def renorm(input, p, dim, maxnorm):
    """Each slice of ``input`` along ``dim`` whose ``p``-norm (over the other dims) exceeds
    ``maxnorm`` scaled down to norm ``maxnorm``, by PyTorch's factor ``maxnorm / (norm + 1e-7)``;
    the factor is differentiated too, as in PyTorch."""
    if not input.is_floating_point():
        raise RuntimeError(f"renorm: expected a floating point dtype but got {input.dtype}")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.dim() <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    axis = _wrap_dim(dim, input.dim())
    others = [d for d in range(input.dim()) if d != axis]
    norm = _linalg.vector_norm(input, p, dim=others, keepdim=True)
    factor = _C.where(norm > maxnorm, maxnorm / (norm + 1e-7), _C.ones_like(norm))
    return input * factor


def _renorm_(self, p, dim, maxnorm):
    """In-place ``renorm``."""
    return self.copy_(renorm(self, p, dim, maxnorm))


Tensor.dist = dist
Tensor.renorm = renorm
Tensor.renorm_ = _renorm_


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``torch.cosine_similarity``: :func:`ferrotorch.nn.functional.cosine_similarity`."""
    return _F.cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``torch.pairwise_distance``: :func:`ferrotorch.nn.functional.pairwise_distance`."""
    return _F.pairwise_distance(x1, x2, p, eps, keepdim)


def pdist(input, p=2):
    """``torch.pdist``: :func:`ferrotorch.nn.functional.pdist`."""
    return _F.pdist(input, p)


def _check_weights(name, weights, num_observations, integral):
    if weights.dim() > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with {weights.dim()} dimensions")
    if integral and weights.is_floating_point():
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} with {_type_name(weights)} dtype")
    if not integral and not weights.is_floating_point():
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got {name} with {_type_name(weights)} dtype")
    if weights.numel() != num_observations:
        raise RuntimeError(
            f"cov(): expected {name} to have the same numel as there are observations in the input but got "
            f"{weights.numel()} != {num_observations}"
        )
    if num_observations > 0 and weights.min().item() < 0:
        raise RuntimeError(f"cov(): {name} cannot be negative")


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the variables in the rows of ``input`` (observations in columns; a 1-D input
    is one variable), with frequency and/or observation weights and ``correction`` degrees of
    freedom removed (1: Bessel's correction)."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {input.dim()} dimensions")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    num_observations = x.shape[1]
    weights = None
    if fweights is not None:
        _check_weights("fweights", fweights, num_observations, integral=True)
        weights = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, num_observations, integral=False)
        weights = aweights if weights is None else weights * aweights
    if weights is None:
        weight_sum = _C.scalar_tensor(num_observations, dtype=_C.int64)
    else:
        weight_sum = weights.sum()
        if weight_sum.item() == 0:
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    weighted = x if weights is None else x * weights
    mean = weighted.sum(1) / weight_sum
    if weights is not None and aweights is not None and correction != 0:
        norm_factor = weight_sum - correction * (weights * aweights).sum() / weight_sum
    else:
        norm_factor = weight_sum - correction
    if norm_factor.item() <= 0:
        warnings.warn(
            "cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of observations.",
            UserWarning,
            stacklevel=2,
        )
        norm_factor = norm_factor * 0
    centered = x - mean.unsqueeze(1)
    weighted = centered if weights is None else centered * weights
    return (centered.matmul(weighted.t()) / norm_factor).squeeze()


def corrcoef(input):
    """Pearson correlation coefficients of the variables in the rows of ``input``, clipped to
    ``[-1, 1]``."""
    c = cov(input)
    if c.dim() == 0:
        return c / c
    stddev = c.diagonal().sqrt()
    c = c / stddev.reshape(-1, 1)
    c = c / stddev.reshape(1, -1)
    return c.clamp(-1, 1)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D ``x``: columns ``x ** (N - 1), ..., x ** 0`` (reversed
    when ``increasing``); integer and bool inputs give int64."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dtype = _C.promote_types(x.dtype, _C.int64)
    if n == 0:
        return _C.empty(x.shape[0], 0, dtype=dtype, device=x.device)
    ones = _C.ones(x.shape[0], 1, dtype=dtype, device=x.device)
    powers = x.to(dtype).unsqueeze(1).expand(x.shape[0], n - 1).cumprod(1)  # x, x**2, ..., x**(n-1)
    result = _C.cat([ones, powers], 1)
    return result if increasing else result.flip(1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the 1-D ``input``'s elements, one per row (like
    ``itertools.combinations``, or ``combinations_with_replacement``)."""
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _C.empty(0, dtype=input.dtype)
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(choose(range(input.shape[0]), r))
    index = _C.tensor(rows, dtype=_C.int64) if rows else _C.empty(0, r, dtype=_C.int64)
    return input[index]


@autocast_op("chain_matmul")
def chain_matmul(*matrices):
    """Deprecated in PyTorch for :func:`ferrotorch.linalg.multi_dot`: the product of 2-D tensors."""
    warnings.warn(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
        "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
        "multiple parameters.",
        UserWarning,
        stacklevel=2,
    )
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        if m.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {m.dim()}, expected 2 instead.")
    if len(matrices) == 1:
        return matrices[0].clone()
    return _linalg.multi_dot(list(matrices))


def is_nonzero(input):
    """Whether the one-element ``input`` is not zero (``False``/``0``/``0.0``)."""
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def is_same_size(input, other):
    """Whether the two tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


def _check_probability(p):
    if not 0 <= p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def _feature_noise(input):
    """Bernoulli-ready noise with one value per (sample, channel), broadcast over the rest."""
    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _C.empty(*input.shape[:2], *([1] * (input.dim() - 2)), dtype=input.dtype)


# SELU's alpha: alpha dropout keeps SELU activations' mean and variance.
_ALPHA = 1.7580993408473766


def _dropout(input, p, train, feature, alpha, inplace):
    """PyTorch's one dropout routine: elementwise or per-channel, plain or alpha."""
    _check_probability(p)
    if p == 0 or not train or input.numel() == 0:
        return input
    if p == 1:
        return input.mul_(0) if inplace else input * 0
    noise = _feature_noise(input) if feature else _C.empty_like(input)
    noise.bernoulli_(1 - p)
    if alpha:
        a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        shift = (noise - 1) * (_ALPHA * a) + _ALPHA * a * p
        noise = noise * a
        return input.mul_(noise).add_(shift) if inplace else input * noise + shift
    noise = noise / (1 - p)
    return input.mul_(noise) if inplace else input * noise


def _dropout_variant(name, feature, alpha, inplace):
    def function(input, p, train):
        return _dropout(input, p, train, feature, alpha, inplace)

    kind = ("per-channel " if feature else "") + ("alpha " if alpha else "")
    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"``torch.{name}(input, p, train)``: {kind}dropout with probability ``p`` when ``train``"
        + (", in place." if inplace else ".")
    )
    return function


dropout = _dropout_variant("dropout", False, False, False)
dropout_ = _dropout_variant("dropout_", False, False, True)
alpha_dropout = _dropout_variant("alpha_dropout", False, True, False)
alpha_dropout_ = _dropout_variant("alpha_dropout_", False, True, True)
feature_dropout = _dropout_variant("feature_dropout", True, False, False)
feature_dropout_ = _dropout_variant("feature_dropout_", True, False, True)
feature_alpha_dropout = _dropout_variant("feature_alpha_dropout", True, True, False)
feature_alpha_dropout_ = _dropout_variant("feature_alpha_dropout_", True, True, True)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``torch.embedding``: rows of ``weight`` (note the argument order); a negative
    ``padding_idx`` means none."""
    return _F.embedding(
        indices, weight, padding_idx=padding_idx if padding_idx >= 0 else None,
        scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
    )


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    """``torch.batch_norm``: :func:`ferrotorch.nn.functional.batch_norm` in ATen's argument order."""
    return _F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled=True):
    """``torch.instance_norm``: :func:`ferrotorch.nn.functional.instance_norm` in ATen's argument order."""
    return _F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    """``torch.group_norm``: :func:`ferrotorch.nn.functional.group_norm`."""
    return _F.group_norm(input, num_groups, weight, bias, eps)
