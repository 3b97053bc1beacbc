"""`ferrovision.transforms`: as `torchvision.transforms`."""
