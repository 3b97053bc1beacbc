"""Padding modules."""

__all__ = []
