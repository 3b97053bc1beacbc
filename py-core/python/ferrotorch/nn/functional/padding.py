"""``pad``: constant, reflect, replicate and circular padding."""

__all__ = []
