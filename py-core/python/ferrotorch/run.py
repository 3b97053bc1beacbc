"""``python -m ferrotorch.run script.py``: run PyTorch code on ferrotorch."""
