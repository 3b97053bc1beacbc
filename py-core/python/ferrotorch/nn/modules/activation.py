"""Activation modules, ``Softmax`` and friends."""

__all__ = []
