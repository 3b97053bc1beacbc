"""A small CNN telling apart images bright in the top half from images bright in the bottom half."""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from _common import init_from_numpy, report


def make_data(n, rng):
    images = rng.normal(0.0, 0.3, size=(n, 1, 8, 8)).astype(np.float32)
    labels = rng.integers(0, 2, size=n)
    for i, label in enumerate(labels):
        rows = slice(0, 4) if label == 0 else slice(4, 8)
        images[i, 0, rows, :] += 1.0
    return torch.from_numpy(images), torch.from_numpy(labels).long()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * 4, 2))

    def forward(self, x):
        return self.classifier(self.features(x))


def accuracy(logits, labels):
    return (logits.argmax(dim=1) == labels).float().mean().item()


def main():
    rng = np.random.default_rng(0)
    train_x, train_y = make_data(64, rng)
    test_x, test_y = make_data(64, rng)
    model = Net()
    init_from_numpy(model, seed=2)
    lr = 0.1
    model.train()
    for epoch in range(30):
        logits = model(train_x)
        loss = F.cross_entropy(logits, train_y)
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
            p.grad.zero_()
    model.eval()
    with torch.no_grad():
        test_logits = model(test_x)
    report("final_loss", loss.item())
    report("test_accuracy", accuracy(test_logits, test_y))


if __name__ == "__main__":
    main()
