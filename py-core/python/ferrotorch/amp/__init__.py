"""``ferrotorch.amp``: automatic mixed precision (autocast and GradScaler), as ``torch.amp``."""
