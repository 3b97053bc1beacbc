"""Convolution and transposed-convolution modules."""

__all__ = []
