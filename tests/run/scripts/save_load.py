"""Seeded training step, then a state_dict round trip through torch.save / torch.load."""

import os
import random
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

from _common import init_from_numpy, report


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def main():
    set_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    init_from_numpy(model, seed=5)
    x = torch.from_numpy(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.pt")
        torch.save({"model": model.state_dict(), "epoch": 3}, path)
        checkpoint = torch.load(path)
    restored = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    restored.load_state_dict(checkpoint["model"])
    with torch.no_grad():
        difference = (model(x) - restored(x)).abs().max().item()
        output = restored(x).sum().item()
    if difference != 0.0:
        sys.exit("restored model differs")
    report("epoch", checkpoint["epoch"])
    report("output_sum", output)


if __name__ == "__main__":
    main()
