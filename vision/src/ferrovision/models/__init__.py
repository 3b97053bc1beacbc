"""`ferrovision.models`: as `torchvision.models`."""
