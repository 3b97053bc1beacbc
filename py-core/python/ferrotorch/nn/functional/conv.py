"""Convolutions, transposed convolutions, and ``unfold``/``fold`` (im2col/col2im)."""

__all__ = []
