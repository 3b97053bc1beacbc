"""Demo: a small convolutional network learns to read handwritten digits.

The data is scikit-learn's copy of the UCI optical digits set (1,797 images of 8x8 pixels,
shipped inside the scikit-learn wheel, so nothing is downloaded). The network (two conv +
max-pool stages, then a linear classifier) trains with mini-batch SGD with momentum, written
out in a few lines since it only needs the gradients autograd leaves in ``.grad``. Test
accuracy is printed at the end, with a confusion summary.
"""

import sys
import time

import numpy as np
from sklearn.datasets import load_digits

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F


def progress(epoch, epochs, batch, batches, loss, width=30):
    done = int(width * batch / batches)
    sys.stdout.write(f"\r  epoch {epoch:2d}/{epochs} [{'#' * done}{'.' * (width - done)}] loss {loss:7.4f}")
    sys.stdout.flush()


def model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),  # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(32 * 2 * 2, 10),
    )


def accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        pred = net(x).argmax(dim=1)
    net.train()
    return (pred == y).float().mean().item(), pred


def main():
    digits = load_digits()
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    torch.manual_seed(0)
    order = torch.randperm(len(labels))
    train, test = order[:1400], order[1400:]
    x, y, xt, yt = images[train], labels[train], images[test], labels[test]
    print(f"digits: {len(train)} train / {len(test)} test images of 8x8 pixels, 10 classes")

    net = model()
    print(net)
    params = [p for p in net.parameters()]
    velocity = [torch.zeros_like(p) for p in params]
    lr, momentum, epochs, batch_size = 0.05, 0.9, 12, 32
    batches = (len(train) + batch_size - 1) // batch_size
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(len(train))
        for b in range(batches):
            idx = perm[b * batch_size:(b + 1) * batch_size]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p, v in zip(params, velocity):
                    v.mul_(momentum).add_(p.grad)
                    p.sub_(v, alpha=lr)
            if b % 4 == 0 or b == batches - 1:
                progress(epoch, epochs, b + 1, batches, loss.item())
        train_acc, _ = accuracy(net, x, y)
        test_acc, _ = accuracy(net, xt, yt)
        sys.stdout.write(f"  train acc {train_acc:.3f}  test acc {test_acc:.3f}\n")
    elapsed = time.perf_counter() - start
    test_acc, pred = accuracy(net, xt, yt)
    wrong = np.bincount(yt.numpy()[pred.numpy() != yt.numpy()], minlength=10)
    print(f"trained in {elapsed:.1f} s; test accuracy {test_acc:.4f} on {len(test)} held-out images")
    print("errors per true digit:", " ".join(f"{d}:{n}" for d, n in enumerate(wrong)))
    if test_acc < 0.9:
        sys.exit(f"test accuracy {test_acc:.3f} is below 0.9: training did not work")


if __name__ == "__main__":
    main()
