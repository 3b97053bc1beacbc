"""Train a small CNN (or any ferrovision model) on Fashion-MNIST and evaluate it on the test set.

This is the script behind ``make demo`` and behind the weights ferrovision trains itself. The data is the real Fashion-MNIST (60,000 training and 10,000 test images of
28x28 pixels, 10 kinds of clothing), read from Debian's ``dataset-fashion-mnist`` package or from
``--root`` in torchvision's layout. Training uses the whole stack: ``utils.data`` for batches,
AdamW with a one-cycle learning-rate schedule, and ``ferrotorch.save``/``load`` for the
checkpoint, which is reloaded and evaluated again at the end. The training-loss curve is drawn
into a PNG next to the checkpoint.

    python vision/scripts/train_fashion_mnist.py --model cnn --epochs 3 --out cnn.pt
"""

import argparse
import os
import sys
import tempfile
import time

from PIL import Image, ImageDraw
from tqdm import tqdm

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F
from ferrotorch.optim import AdamW
from ferrotorch.optim.lr_scheduler import OneCycleLR
from ferrotorch.utils.data import DataLoader, TensorDataset

import ferrovision
from ferrovision.datasets import FashionMNIST

# Fashion-MNIST's training-set pixel statistics (of values scaled to [0, 1]).
MEAN, STD = 0.2860, 0.3530


def tensors(train, root):
    """The split as (images normalized to (N, 1, 28, 28) float32, int64 labels)."""
    split = FashionMNIST(root, train=train)
    images = (split.data.unsqueeze(1).float() / 255 - MEAN) / STD
    return images, split.targets, split.classes


def small_cnn(num_classes=10):
    """Two conv + batch-norm + ReLU + max-pool stages and a linear classifier (20,586 parameters)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),  # 16 x 14 x 14
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 7 x 7
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(32 * 7 * 7, num_classes),
    )


def build(name, num_classes):
    """``cnn`` (this script's small CNN) or any ferrovision.models builder name."""
    if name == "cnn":
        return small_cnn(num_classes)
    return ferrovision.models.get_model(name, num_classes=num_classes)


def plot_losses(losses, path, size=(640, 360), margin=40):
    """Draw the per-step training loss (and its running mean) as a PNG with Pillow."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    w, h = size[0] - 2 * margin, size[1] - 2 * margin
    top = max(losses)
    point = lambda i, v: (margin + w * i / max(len(losses) - 1, 1), margin + h * (1 - v / top))
    draw.rectangle([margin, margin, margin + w, margin + h], outline="black")
    draw.line([point(i, v) for i, v in enumerate(losses)], fill=(170, 190, 230), width=1)
    smooth, mean = [], losses[0]
    for v in losses:
        mean = 0.95 * mean + 0.05 * v
        smooth.append(mean)
    draw.line([point(i, v) for i, v in enumerate(smooth)], fill=(20, 60, 160), width=2)
    draw.text((margin, 10), f"training loss ({len(losses)} steps; max {top:.2f}, last mean {smooth[-1]:.3f})", fill="black")
    image.save(path)


def evaluate(model, images, labels, batch_size=1000):
    """Accuracy of ``model`` on the images, in eval mode and without gradients."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), batch_size):
            logits = model(images[start:start + batch_size])
            correct += (logits.argmax(1) == labels[start:start + batch_size]).sum().item()
    model.train()
    return correct / len(labels)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="cnn", help="'cnn' or a ferrovision.models builder name")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--root", default="data", help="torchvision-layout root (Debian's files are used otherwise)")
    parser.add_argument("--out", help="where to save the trained state_dict (default: a temporary file)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    x_train, y_train, classes = tensors(True, args.root)
    x_test, y_test, _ = tensors(False, args.root)
    print(f"Fashion-MNIST: {len(y_train)} training / {len(y_test)} test images, classes: {', '.join(classes)}")

    model = build(args.model, len(classes))
    print(f"{args.model}: {sum(p.numel() for p in model.parameters()):,} parameters")
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True, drop_last=True)
    optimizer = AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=len(loader))

    losses, start = [], time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", unit="batch", mininterval=0.5, file=sys.stdout)
        for images, labels in bar:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
        bar.close()
        print(f"  epoch {epoch}: test accuracy {evaluate(model, x_test, y_test):.4f}")
    print(f"trained in {time.perf_counter() - start:.1f} s")

    out = args.out or os.path.join(tempfile.mkdtemp(), f"{args.model}_fashion_mnist.pt")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    torch.save(model.state_dict(), out)
    curve = os.path.splitext(out)[0] + "_loss.png"
    plot_losses(losses, curve)
    print(f"loss curve: {curve}")
    reloaded = build(args.model, len(classes))
    reloaded.load_state_dict(torch.load(out))
    accuracy = evaluate(reloaded, x_test, y_test)
    print(f"checkpoint {out}: reloaded, test accuracy {accuracy:.4f} on {len(y_test)} held-out images")
    return accuracy


if __name__ == "__main__":
    main()
