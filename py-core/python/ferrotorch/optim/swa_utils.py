"""Stochastic weight averaging (``torch.optim.swa_utils``)."""

__all__ = []
