"""MLP regression on y = sin(x0) + x1^2 with hand-written SGD (no torch.optim)."""

import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from _common import init_from_numpy, report


class MLP(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        x = torch.tanh(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.out(x).squeeze(-1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(-1, 1, size=(128, 2)).astype(np.float32))
    y = torch.sin(x[:, 0]) + x[:, 1] ** 2

    model = MLP(32)
    init_from_numpy(model, seed=1)
    initial = F.mse_loss(model(x), y).item()
    for _ in range(args.steps):
        loss = F.mse_loss(model(x), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= args.lr * p.grad
    model.eval()
    with torch.no_grad():
        final = F.mse_loss(model(x), y).item()
    report("initial_loss", initial)
    report("final_loss", final)


if __name__ == "__main__":
    main()
