"""`ferrovision.ops`: as `torchvision.ops`."""
