"""Train a ferrovision model on Fashion-MNIST and evaluate it on the held-out test set.

This is the script behind the weights ferrovision ships (``LeNet5_Weights.FASHIONMNIST_V1``) and
behind ``make demo``. The data is the real Fashion-MNIST (60,000 training and 10,000 test images of
28x28 pixels, 10 kinds of clothing), read from Debian's ``dataset-fashion-mnist`` package or from
``--root`` in torchvision's layout. Training uses the whole stack: ``utils.data`` for batches,
AdamW with a one-cycle learning-rate schedule, and ``ferrotorch.save``/``load`` for the
checkpoint, which is reloaded and evaluated again at the end.

    python vision/scripts/train_fashion_mnist.py --model lenet5 --epochs 4 --out lenet5.pt
"""

import argparse
import os
import sys
import tempfile
import time

import ferrotorch as torch
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


def progress(epoch, epochs, done, total, loss, width=30):
    filled = int(width * done / total)
    sys.stdout.write(f"\r  epoch {epoch}/{epochs} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} loss {loss:.4f}")
    sys.stdout.flush()


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
    parser.add_argument("--model", default="lenet5", help="a ferrovision.models builder name")
    parser.add_argument("--epochs", type=int, default=4)
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

    model = ferrovision.models.get_model(args.model, num_classes=len(classes))
    print(f"{args.model}: {sum(p.numel() for p in model.parameters()):,} parameters")
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True, drop_last=True)
    optimizer = AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=len(loader))

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        for step, (images, labels) in enumerate(loader, 1):
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            if step % 20 == 0 or step == len(loader):
                progress(epoch, args.epochs, step, len(loader), loss.item())
        print(f"  test accuracy {evaluate(model, x_test, y_test):.4f}")
    print(f"trained in {time.perf_counter() - start:.1f} s")

    out = args.out or os.path.join(tempfile.mkdtemp(), f"{args.model}_fashion_mnist.pt")
    torch.save(model.state_dict(), out)
    reloaded = ferrovision.models.get_model(args.model, num_classes=len(classes))
    reloaded.load_state_dict(torch.load(out))
    accuracy = evaluate(reloaded, x_test, y_test)
    print(f"checkpoint {out}: reloaded, test accuracy {accuracy:.4f} on {len(y_test)} held-out images")
    return accuracy


if __name__ == "__main__":
    main()
