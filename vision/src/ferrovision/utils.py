"""`ferrovision.utils`: make_grid, save_image and drawing helpers, as `torchvision.utils`."""
