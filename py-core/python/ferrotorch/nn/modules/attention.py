"""``MultiheadAttention``."""

__all__ = []
