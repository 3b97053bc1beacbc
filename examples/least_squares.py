"""Demo: linear regression on the diabetes data set (442 patients, 10 features; shipped inside
scikit-learn's wheel, so nothing is downloaded), fitted two ways with ferrotorch tensors:
the normal equations solved exactly, and full-batch gradient descent (gradients by autograd)
with a progress bar.
Both are evaluated on a held-out split and checked against NumPy's least squares."""

import sys

import numpy as np
from sklearn.datasets import load_diabetes

import ferrotorch as torch


def progress(step, total, loss, width=30):
    done = int(width * step / total)
    sys.stdout.write(f"\r  [{'#' * done}{'.' * (width - done)}] {step:4d}/{total} loss {loss:10.2f}")
    sys.stdout.flush()
    if step == total:
        sys.stdout.write("\n")


def r2(pred, target):
    resid = ((pred - target) ** 2).sum()
    total = ((target - target.mean()) ** 2).sum()
    return (1 - resid / total).item()


def main():
    data = load_diabetes(scaled=True)
    x_all = torch.tensor(data.data, dtype=torch.float64)
    y_all = torch.tensor(data.target, dtype=torch.float64)
    torch.manual_seed(0)
    order = torch.randperm(x_all.shape[0])
    train, test = order[:350], order[350:]
    x = torch.cat([x_all[train], torch.ones(len(train), 1, dtype=torch.float64)], dim=1)
    xt = torch.cat([x_all[test], torch.ones(len(test), 1, dtype=torch.float64)], dim=1)
    y, yt = y_all[train], y_all[test]
    print(f"diabetes: {x.shape[0]} train / {xt.shape[0]} test rows, {x.shape[1] - 1} features")

    # 1. Normal equations: (X^T X) w = X^T y.
    w_exact = torch.linalg.solve(x.T @ x, x.T @ y)
    w_numpy = np.linalg.lstsq(x.numpy(), y.numpy(), rcond=None)[0]
    print(f"normal equations: test R^2 = {r2(xt @ w_exact, yt):.4f}; "
          f"max |w - numpy lstsq| = {np.abs(w_exact.numpy() - w_numpy).max():.2e}")

    # 2. Gradient descent on the mean squared error, with gradients from autograd.
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    lr, steps = 0.5, 2000
    for step in range(1, steps + 1):
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(lr * w.grad)
        w.grad = None
        if step % 50 == 0 or step == steps:
            progress(step, steps, loss.item())
    w = w.detach()
    closed_form = x.T @ (x @ w - y) * (2.0 / x.shape[0])
    loss = ((x @ w.requires_grad_() - y) ** 2).mean()
    (autograd_grad,) = torch.autograd.grad(loss, w)
    print(f"gradient descent: test R^2 = {r2(xt @ w.detach(), yt):.4f}; train MSE = {loss.item():.2f}; "
          f"max |autograd - closed-form gradient| = {(autograd_grad - closed_form).abs().max().item():.1e}")


if __name__ == "__main__":
    main()
