"""Dropout in all its forms."""

__all__ = ["dropout"]


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability ``p`` and scales the rest by ``1 / (1 - p)``."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        out = input * 0.0
    else:
        keep = input.new_empty(input.shape).bernoulli_(1.0 - p)
        out = input * keep * (1.0 / (1.0 - p))
    return input.copy_(out) if inplace else out
