"""`ferrovision.tv_tensors`: as `torchvision.tv_tensors`."""
