"""``ferrotorch.utils.data``: datasets, samplers and the DataLoader, laid out as ``torch.utils.data``."""
