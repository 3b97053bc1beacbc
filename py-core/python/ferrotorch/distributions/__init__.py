"""``ferrotorch.distributions``: probability distributions, laid out as ``torch.distributions``."""
