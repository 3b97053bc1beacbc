"""`ferrovision.datasets`: as `torchvision.datasets`."""
