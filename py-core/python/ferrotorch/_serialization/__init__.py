"""Building blocks of ``ferrotorch.save`` / ``ferrotorch.load``: the zip container, the pickler that
writes PyTorch's globals, the unpicklers that read them back, and safetensors' format."""
