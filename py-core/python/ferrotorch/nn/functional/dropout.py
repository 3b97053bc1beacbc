"""Dropout in all its forms: element-wise, channel-wise (``dropout1d/2d/3d``, feature dropout) and
alpha dropout for SELU networks.

All share PyTorch's ``_dropout_impl``: a Bernoulli(1 - p) keep mask (one draw per element, or per
(sample, channel) for the feature variants), then either scaling by 1 / (1 - p) or, for alpha
dropout, an affine map that keeps zero mean and unit variance.
"""

import math
import warnings

from ... import _C

__all__ = [
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
]

# SELU's negative saturation value -lambda * alpha, the value alpha dropout drops to.
_SELU_SATURATION = 1.7580993408473766


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability ``p`` and scales the rest by ``1 / (1 - p)``."""
    _check_probability(p)
    return _dropout_impl(input, p, training, inplace, feature=False, alpha=False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout: sets elements to SELU's saturation value with probability ``p``, then applies
    the affine map that keeps zero mean and unit variance. Identity unless ``training``."""
    _check_probability(p)
    return _dropout_impl(input, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels: input (N, C, *), one draw per (sample, channel)."""
    _check_probability(p)
    return _dropout_impl(input, p, training, inplace, feature=True, alpha=True)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or unbatched (C, L) input with probability ``p``."""
    _check_probability(p)
    ndim = input.dim()
    if ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. "
            "Note that dropout1d exists to provide channel-wise dropout on inputs with 1 "
            "spatial dimension, a channel dimension, and an optional batch dimension "
            "(i.e. 2D or 3D inputs)."
        )
    return _channel_dropout(input, p, training, inplace, batched=ndim == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) input with probability ``p``.

    As in PyTorch, a 3-D input is read as (N, C, L) (1-D channel dropout, with a warning), not as
    unbatched (C, H, W); other ranks warn and are treated as (N, C, *).
    """
    _check_probability(p)
    ndim = input.dim()
    if ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated "
            "and will result in an error in a future release. To retain the behavior "
            "and silence this warning, please use dropout instead. Note that dropout2d "
            "exists to provide channel-wise dropout on inputs with 2 spatial dimensions, "
            "a channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
            "1D dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _dropout_impl(input, p, training, inplace, feature=True, alpha=False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) input with probability
    ``p`` (other ranks warn, as in PyTorch)."""
    _check_probability(p)
    ndim = input.dim()
    if ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {ndim}-D input to dropout3d, which is deprecated "
            "and will result in an error in a future release. To retain the behavior "
            "and silence this warning, please use dropout instead. Note that dropout3d "
            "exists to provide channel-wise dropout on inputs with 3 spatial dimensions, "
            "a channel dimension, and an optional batch dimension (i.e. 4D or 5D inputs).",
            stacklevel=2,
        )
    return _channel_dropout(input, p, training, inplace, batched=ndim == 5)


def _check_probability(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _channel_dropout(input, p, training, inplace, batched):
    """Feature dropout with an optional missing batch dim (added, then removed again)."""
    if batched:
        return _dropout_impl(input, p, training, inplace, feature=True, alpha=False)
    out = _dropout_impl(input.unsqueeze(0), p, training, inplace, feature=True, alpha=False)
    # In place, the unsqueezed view was written: hand back the caller's tensor itself.
    return input if inplace else out.squeeze(0)


def _dropout_impl(input, p, training, inplace, feature, alpha):
    """PyTorch's ``_dropout_impl``: ``input * mask / (1 - p)``, or for alpha dropout
    ``input * a * mask + b`` with a, b chosen to keep zero mean and unit variance."""
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        zero = _C.zeros((), dtype=input.dtype, device=input.device)
        return input.mul_(zero) if inplace else input * zero
    if not alpha:
        # The kept elements' 1 / (1 - p) and the dropped ones' 0, drawn in one pass.
        scale = _C._dropout_scale(input, _noise_shape(input, feature), 1 - p)
        return input.mul_(scale) if inplace else input * scale
    keep = input.new_empty(_noise_shape(input, feature)).bernoulli_(1 - p)
    a = 1.0 / math.sqrt((_SELU_SATURATION**2 * p + 1) * (1 - p))
    # out = a * (x where kept, else -alpha') + alpha' * a * p, as shift + x * scale.
    shift = (keep - 1) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p
    scale = keep * a
    return input.mul_(scale).add_(shift) if inplace else input * scale + shift


def _noise_shape(input, feature):
    """One draw per element, or per (sample, channel) for feature dropout: (N, C, 1, ..., 1)."""
    if not feature:
        return tuple(input.shape)
    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
