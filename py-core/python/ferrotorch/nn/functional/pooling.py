"""Max, average, adaptive and power-average pooling, and max unpooling."""

__all__ = []
