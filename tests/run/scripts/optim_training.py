"""The canonical training loop: torch.optim.Adam, a StepLR schedule, nn.MSELoss, train/eval modes."""

import numpy as np
import torch
import torch.nn as nn

from _common import init_from_numpy, report


def main():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(64, 4)).astype(np.float32))
    true_w = torch.tensor([[1.5], [-2.0], [0.5], [0.0]])
    y = x @ true_w + 0.3

    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
    init_from_numpy(model, seed=4)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=50, gamma=0.5)
    criterion = nn.MSELoss()
    for epoch in range(150):
        model.train()
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        optimizer.step()
        scheduler.step()
    model.eval()
    with torch.no_grad():
        final = criterion(model(x), y).item()
    report("final_loss", final)
    report("final_lr", scheduler.get_last_lr()[0])


if __name__ == "__main__":
    main()
