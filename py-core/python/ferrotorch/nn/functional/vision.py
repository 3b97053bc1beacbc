"""Resampling and rearranging images: ``interpolate``, ``grid_sample``, ``affine_grid``, pixel and channel shuffles."""

__all__ = []
