"""``ferrotorch.save`` / ``ferrotorch.load`` in PyTorch's zip checkpoint format."""
__all__ = []
