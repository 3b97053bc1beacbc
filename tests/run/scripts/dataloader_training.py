"""Mini-batch training with TensorDataset + DataLoader(shuffle=True, num_workers=0) and SGD with momentum."""

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from _common import init_from_numpy, report


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 2)).astype(np.float32)
    labels = (features[:, 0] + features[:, 1] > 0).astype(np.int64)
    dataset = TensorDataset(torch.from_numpy(features), torch.from_numpy(labels))
    loader = DataLoader(dataset, batch_size=20, shuffle=True, num_workers=0)

    model = nn.Linear(2, 2)
    init_from_numpy(model, seed=6)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(5):
        for batch_x, batch_y in loader:
            optimizer.zero_grad()
            criterion(model(batch_x), batch_y).backward()
            optimizer.step()
    correct = 0
    with torch.no_grad():
        for batch_x, batch_y in DataLoader(dataset, batch_size=50):
            correct += (model(batch_x).argmax(1) == batch_y).sum().item()
    report("batches", len(loader))
    report("accuracy", correct / len(dataset))


if __name__ == "__main__":
    main()
