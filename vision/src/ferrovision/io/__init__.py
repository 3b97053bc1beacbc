"""`ferrovision.io`: as `torchvision.io`."""
