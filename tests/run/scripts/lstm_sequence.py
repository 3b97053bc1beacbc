"""An LSTM learning the running mean of a sequence, updated through torch.autograd.grad."""

import numpy as np
import torch
import torch.nn as nn

from _common import init_from_numpy, report


class SeqModel(nn.Module):
    def __init__(self, hidden=8):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.head(out[:, -1, :]).squeeze(1)


def main():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(-1, 1, size=(32, 6, 1)).astype(np.float32))
    target = x.mean(dim=(1, 2))
    model = SeqModel()
    init_from_numpy(model, seed=3)
    params = list(model.parameters())
    loss_fn = nn.MSELoss()
    initial = loss_fn(model(x), target).item()
    for step in range(60):
        loss = loss_fn(model(x), target)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.add_(g, alpha=-0.5)
    report("initial_loss", initial)
    report("final_loss", loss_fn(model(x), target).item())


if __name__ == "__main__":
    main()
