"""``Upsample`` and its bilinear/nearest forms."""

__all__ = []
