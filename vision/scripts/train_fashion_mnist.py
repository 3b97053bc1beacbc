"""Train a small CNN (or any ferrovision model) on Fashion-MNIST and evaluate it on the test set.

This is the script behind ``make demo`` and behind the weights ferrovision trains itself. The data is the real Fashion-MNIST (60,000 training and 10,000 test images of
28x28 pixels, 10 kinds of clothing), read from Debian's ``dataset-fashion-mnist`` package or from
``--root`` in torchvision's layout. Training uses the whole stack: ``utils.data`` for batches,
AdamW with a one-cycle learning-rate schedule, and ``ferrotorch.save``/``load`` for the
checkpoint, which is reloaded and evaluated again at the end. The training-loss curve is drawn
into a PNG next to the checkpoint.

    python vision/scripts/train_fashion_mnist.py --model cnn --epochs 3 --out cnn.pt

The weights shipped in ``ferrovision/models/weights/`` were trained with this script (``--export``
writes the checkpoint there under a name carrying its sha256 prefix and prints the facts that go
into the weights' ``meta``), on a 2-core machine, one run at a time:

    # LeNet5_Weights.FASHION_MNIST_V1
    python vision/scripts/train_fashion_mnist.py --model lenet5 --epochs 10 --lr 3e-3 --seed 0 \
        --export vision/src/ferrovision/models/weights
    # ResNet8_Weights.FASHION_MNIST_V1
    python vision/scripts/train_fashion_mnist.py --model resnet8 --epochs 5 --lr 5e-3 --seed 0 \
        --export vision/src/ferrovision/models/weights

Both use the defaults otherwise: batch 128, AdamW (weight decay 1e-4) with a one-cycle schedule,
no augmentation. The printed test accuracy is measured on all 10,000 test images.
"""

import argparse
import hashlib
import json
import os
import shutil
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


def flip_half(images):
    """Mirror a random half of the batch left-right (the ``--augment`` option)."""
    flip = (torch.rand(images.shape[0]) < 0.5).view(-1, 1, 1, 1)
    return torch.where(flip, images.flip(3), images)


def export(path, directory, name, accuracy, num_params):
    """Copy the checkpoint into ``directory`` as ``<name>_fashion_mnist-<sha256 prefix>.pt`` and print
    the facts its weights entry records."""
    with open(path, "rb") as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, f"{name}_fashion_mnist-{sha256[:8]}.pt")
    shutil.copyfile(path, target)
    facts = {"file": os.path.basename(target), "_sha256": sha256, "num_params": num_params,
             "_metrics": {"FashionMNIST": {"acc@1": round(100 * accuracy, 2)}},
             "_file_size": round(os.path.getsize(target) / 2**20, 3)}
    print(f"exported {target}\n{json.dumps(facts)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="cnn", help="'cnn' or a ferrovision.models builder name")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--root", default="data", help="torchvision-layout root (Debian's files are used otherwise)")
    parser.add_argument("--out", help="where to save the trained state_dict (default: a temporary file)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--augment", action="store_true", help="mirror a random half of each batch left-right")
    parser.add_argument("--export", metavar="DIR", help="also copy the checkpoint into DIR under a sha256-named file")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    x_train, y_train, classes = tensors(True, args.root)
    x_test, y_test, _ = tensors(False, args.root)
    print(f"Fashion-MNIST: {len(y_train)} training / {len(y_test)} test images, classes: {', '.join(classes)}")

    model = build(args.model, len(classes))
    num_params = sum(p.numel() for p in model.parameters())
    print(f"{args.model}: {num_params:,} parameters")
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True, drop_last=True)
    optimizer = AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=len(loader))

    losses, start = [], time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", unit="batch", mininterval=0.5, file=sys.stdout)
        for images, labels in bar:
            if args.augment:
                images = flip_half(images)
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
    if args.export:
        export(out, args.export, args.model, accuracy, num_params)
    return accuracy


if __name__ == "__main__":
    main()
