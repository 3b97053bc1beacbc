"""Train ferrovision's ResNet-8 on Fashion-MNIST with data augmentation, a progress bar and checkpoints.

The training images go through ``ferrovision.transforms`` one by one in DataLoader worker processes
(a random 28x28 crop of the image padded by 2 pixels, a random left-right mirror, then the same
normalization as the shipped weights), so the model sees a slightly different picture every epoch.
After each epoch the model, optimizer, learning-rate schedule and random state are saved to
``--checkpoint``; ``--resume`` continues an interrupted run from there (same ``--epochs``: the
learning-rate schedule spans the whole run), as if it had never stopped.

    python examples/vision/train_resnet_fashion_mnist.py --epochs 10 --stop-after 4  # 4 of 10 epochs
    python examples/vision/train_resnet_fashion_mnist.py --epochs 10 --resume        # epochs 5 to 10
    python examples/vision/train_resnet_fashion_mnist.py --epochs 1 --limit 512      # a quick look

An epoch takes 2 to 4 minutes on two cores (the workers and the training share them).

The data is Debian's ``dataset-fashion-mnist`` package (or ``--root`` in torchvision's layout).
"""

import argparse
import os
import sys
import time

from tqdm import tqdm

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch.optim import AdamW
from ferrotorch.optim.lr_scheduler import OneCycleLR
from ferrotorch.utils.data import DataLoader, Subset

from ferrovision import transforms as T
from ferrovision.datasets import FashionMNIST
from ferrovision.models import ResNet8_Weights, resnet8

# The shipped weights' preprocessing: its mean and std, and the preset used on the test set.
PRESET = ResNet8_Weights.DEFAULT.transforms()


def train_transform():
    """Random crop and mirror on the PIL image, then the tensor conversion and normalization."""
    return T.Compose([T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(), T.PILToTensor(),
                      T.ConvertImageDtype(torch.float), T.Normalize(PRESET.mean, PRESET.std)])


def evaluate(model, images, labels, batch_size=1000):
    """Top-1 accuracy on uint8 ``(N, 1, 28, 28)`` images, preprocessed by the weights' preset."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), batch_size):
            logits = model(PRESET(images[start:start + batch_size]))
            correct += (logits.argmax(1) == labels[start:start + batch_size]).sum().item()
    model.train()
    return correct / len(labels)


def save_checkpoint(path, epoch, epochs, model, optimizer, scheduler):
    """Everything needed to carry on: written to a temporary file first, so a crash keeps the last one."""
    state = {"epoch": epoch, "epochs": epochs, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "rng_state": torch.get_rng_state()}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="total epochs (including those already done)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-3, help="peak learning rate of the one-cycle schedule")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    parser.add_argument("--limit", type=int, help="use only the first N training and N test images")
    parser.add_argument("--root", default="data", help="torchvision-layout root (Debian's files are used otherwise)")
    parser.add_argument("--checkpoint", default="checkpoints/resnet8_fashion_mnist.pt")
    parser.add_argument("--resume", action="store_true", help="continue the run saved in --checkpoint")
    parser.add_argument("--stop-after", type=int, metavar="EPOCH", help="stop after this epoch (resume later)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    train_set = FashionMNIST(args.root, train=True, transform=train_transform())
    test_set = FashionMNIST(args.root, train=False)
    if args.limit:
        train_set = Subset(train_set, range(min(args.limit, len(train_set))))
    test_images, test_labels = test_set.data[:args.limit].unsqueeze(1), test_set.targets[:args.limit]
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, drop_last=len(train_set) > args.batch_size,
                        num_workers=args.workers, persistent_workers=args.workers > 0)

    model = resnet8(num_classes=len(test_set.classes))
    optimizer = AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=len(loader))
    first = 1
    if args.resume:
        state = torch.load(args.checkpoint)
        if state["epochs"] != args.epochs:
            parser.error(f"{args.checkpoint} holds a run of {state['epochs']} epochs, not --epochs {args.epochs}")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng_state"])
        first = state["epoch"] + 1
        print(f"resumed from {args.checkpoint} after epoch {state['epoch']}")
    print(f"resnet8: {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_set)} training / {len(test_labels)} test images; {args.workers} workers")

    start = time.perf_counter()
    for epoch in range(first, min(args.epochs, args.stop_after or args.epochs) + 1):
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", unit="batch", mininterval=0.5, file=sys.stdout)
        for images, labels in bar:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            bar.set_postfix(loss=f"{loss.item():.4f}", lr=f"{scheduler.get_last_lr()[0]:.2e}", refresh=False)
        bar.close()
        save_checkpoint(args.checkpoint, epoch, args.epochs, model, optimizer, scheduler)
        print(f"  epoch {epoch}: test accuracy {evaluate(model, test_images, test_labels):.4f}; "
              f"checkpoint {args.checkpoint}")
    print(f"trained in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
