"""Embeddings and ``one_hot``."""

__all__ = []
