"""Fine-tune one of ferrovision's Fashion-MNIST models on your own images, sorted into class folders.

``ROOT`` is an ImageFolder: ``ROOT/<class name>/<image>.png`` (any size, colour or grayscale; PNG,
JPEG, ...). The pretrained model's last linear layer is replaced by a new one with one output per
class folder; ``--freeze backbone`` (the default) trains only that new head, ``--freeze none`` trains
everything (with the backbone at a tenth of the head's learning rate). Images are turned grayscale and
go through the weights' own preprocessing (shorter edge resized to 28, centre crop, normalization).
A random ``--val-fraction`` of the images is held out to measure accuracy after each epoch.

    python examples/vision/finetune_imagefolder.py path/to/images --model resnet8 --epochs 5 --out tuned.pt
"""

import argparse
import time

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F
from ferrotorch.optim import AdamW
from ferrotorch.utils.data import DataLoader, random_split

from ferrovision import transforms as T
from ferrovision.datasets import ImageFolder
from ferrovision.models import get_model, get_model_weights


def replace_head(model, num_classes):
    """Swap the model's last ``nn.Linear`` for a fresh one with ``num_classes`` outputs; return its name."""
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    setattr(parent, child, nn.Linear(getattr(parent, child).in_features, num_classes))
    return name


def param_groups(model, head, freeze, lr):
    """The optimizer's groups: the head at ``lr``; the rest frozen, or at ``lr / 10``."""
    head_params = list(model.get_submodule(head).parameters())
    head_ids = {id(p) for p in head_params}
    backbone = [p for p in model.parameters() if id(p) not in head_ids]
    if freeze == "backbone":
        for p in backbone:
            p.requires_grad_(False)
        return [{"params": head_params}]
    return [{"params": head_params}, {"params": backbone, "lr": lr / 10}]


def accuracy(model, loader):
    """Top-1 accuracy over a loader, in eval mode and without gradients."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
            total += len(labels)
    return correct / max(total, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", help="ImageFolder root: one sub-folder of images per class")
    parser.add_argument("--model", default="resnet8", choices=["resnet8", "lenet5"])
    parser.add_argument("--weights", default="DEFAULT", help="member of the model's weights enum")
    parser.add_argument("--freeze", default="backbone", choices=["backbone", "none"])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--val-fraction", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    parser.add_argument("--out", help="where to save the fine-tuned state_dict")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    weights = get_model_weights(args.model).verify(args.weights)
    dataset = ImageFolder(args.root, transform=T.Compose([T.Grayscale(1), weights.transforms()]))
    n_val = int(round(args.val_fraction * len(dataset)))
    train_set, val_set = random_split(dataset, [len(dataset) - n_val, n_val])
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=args.workers)
    val_loader = DataLoader(val_set, batch_size=256, num_workers=args.workers)

    model = get_model(args.model, weights=weights)
    head = replace_head(model, len(dataset.classes))
    groups = param_groups(model, head, args.freeze, args.lr)
    trainable = sum(p.numel() for g in groups for p in g["params"])
    print(f"{args.model} ({weights!r}) -> {len(dataset.classes)} classes {dataset.classes}; new head '{head}'; "
          f"{trainable:,} trainable parameters; {len(train_set)} training / {n_val} validation images")
    optimizer = AdamW(groups, lr=args.lr, weight_decay=1e-4)

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        if args.freeze == "backbone":
            model.eval()  # frozen batch-norm layers keep their pretrained statistics
        total = 0.0
        for images, labels in train_loader:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        print(f"epoch {epoch}: training loss {total / len(train_set):.4f}, "
              f"validation accuracy {accuracy(model, val_loader):.4f}")
    print(f"fine-tuned in {time.perf_counter() - start:.1f} s")
    if args.out:
        torch.save(model.state_dict(), args.out)
        print(f"saved {args.out}")


if __name__ == "__main__":
    main()
