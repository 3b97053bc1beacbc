"""A residual MLP whose blocks run under torch.utils.checkpoint, wrapped in torch.compile."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint, checkpoint_sequential

from _common import init_from_numpy, report


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        return x + F.gelu(self.fc(self.norm(x)))


class Model(nn.Module):
    def __init__(self, width=16, depth=4):
        super().__init__()
        self.blocks = nn.ModuleList(Block(width) for _ in range(depth))
        self.tail = nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1))

    def forward(self, x):
        for block in self.blocks:
            x = checkpoint(block, x, use_reentrant=False)
        return checkpoint_sequential(self.tail, 2, x, use_reentrant=True).squeeze(-1)


def main():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(32, 16)).astype(np.float32))
    y = x[:, :4].sum(dim=1)
    model = Model()
    init_from_numpy(model, seed=7)
    compiled = torch.compile(model)
    initial = F.mse_loss(compiled(x), y).item()
    for step in range(100):
        loss = F.mse_loss(compiled(x), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p.sub_(0.02 * p.grad)
    report("initial_loss", initial)
    report("final_loss", F.mse_loss(compiled(x), y).item())


if __name__ == "__main__":
    main()
