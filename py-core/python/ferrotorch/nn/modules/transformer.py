"""Transformer encoder and decoder layers, stacks, and ``Transformer``."""

__all__ = []
