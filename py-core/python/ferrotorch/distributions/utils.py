"""Helpers shared by the distributions (``torch.distributions.utils``)."""

import math
from functools import update_wrapper
from numbers import Number

import ferrotorch as ft
from .._type_info import finfo  # noqa: F401  (the distributions import it from here)

__all__ = [
    "broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits", "lazy_property",
    "tril_matrix_to_vec", "vec_to_tril_matrix",
]

euler_constant = 0.57721566490153286060  # Euler–Mascheroni constant


def broadcast_all(*values):
    """Broadcasts tensors and numbers together; numbers become tensors of the first tensor's dtype
    (or the default dtype when all are numbers)."""
    if not all(isinstance(v, (ft.Tensor, Number)) for v in values):
        raise ValueError(
            "Input arguments must all be instances of Number, "
            "torch.Tensor or objects implementing __torch_function__."
        )
    if not all(isinstance(v, ft.Tensor) for v in values):
        options = dict(dtype=ft.get_default_dtype())
        for value in values:
            if isinstance(value, ft.Tensor):
                options = dict(dtype=value.dtype, device=value.device)
                break
        values = [v if isinstance(v, ft.Tensor) else ft.tensor(v, **options) for v in values]
    return ft.broadcast_tensors(*values)


def _standard_normal(shape, dtype, device):
    return ft.empty(tuple(shape), dtype=dtype, device=device).normal_()


def _sum_rightmost(value, dim):
    """Sums out the ``dim`` rightmost dimensions of ``value``."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[: value.dim() - dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """Logits to probabilities: sigmoid for the binary case, softmax over the last dim otherwise."""
    if is_binary:
        return ft.sigmoid(logits)
    return ft.softmax(logits, -1)


def clamp_probs(probs):
    """Clamps probabilities to ``[eps, 1 - eps]`` with ``eps`` the dtype's machine epsilon."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Probabilities to logits: log-odds for the binary case, log-probabilities otherwise."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ft.log(ps_clamped) - ft.log1p(-ps_clamped)
    return ft.log(ps_clamped)


class lazy_property:
    """A decorator for attributes computed on first access and then cached on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with ft.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """Looks like a property to documentation tools and like a lazy_property to validation."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _tril_mask(n, diag, device):
    arange = ft.arange(n, device=device)
    return arange < arange.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular elements of ``(..., D, D)`` matrices, in row order, as ``(..., D*(D+1)/2)``."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec, diag=0):
    """Inverse of :func:`tril_matrix_to_vec`: builds ``(..., D, D)`` lower-triangular matrices."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = finfo(vec.dtype).eps
    if round(n) - n > eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mat[..., _tril_mask(n, diag, vec.device)] = vec
    return mat


LOG_2PI = math.log(2 * math.pi)
