"""Pooling modules."""

__all__ = []
