"""Transfer learning with ember.vision: fine-tune a ResNet-18 on a new task from a small training slice.

    python examples/finetune.py                          # pre-train on 5 Fashion-MNIST classes, then fine-tune
    python examples/finetune.py --weights r18.pth        # start from a ResNet-18 state_dict file instead
    python examples/finetune.py --save-pretrained r18.pth  # keep the pre-trained weights for the next run

The source task is Fashion-MNIST's clothing classes 0-4 (T-shirt, Trouser, Pullover, Dress, Coat); the new
task is classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot) with only ``--per-class`` training images per
class. Images (28x28 grey) are padded to 32x32 and repeated to 3 channels. Fine-tuning runs in two stages:
the backbone frozen (only the new ``fc`` head learns, BatchNorm statistics fixed), then everything unfrozen
with a 10x lower learning rate. It is run twice, without and with augmentation (``RandomCrop`` with
padding from ``ember.vision.transforms``; ``--flip`` adds ``RandomHorizontalFlip``), next to training from
scratch.
Weights pass through a file: the pre-trained state_dict is saved with ``ember.save`` and loaded with
``resnet18(weights=path)`` (a ``torch.save``d torchvision ResNet-18 state_dict loads the same way).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.utils.data import DataLoader, Dataset
from ember.vision import datasets, models, transforms as T

SOURCE, TARGET = [0, 1, 2, 3, 4], [5, 6, 7, 8, 9]
MEAN, STD = 0.2860, 0.3530   # Fashion-MNIST pixel statistics


class Images(Dataset):
    """(N, 1, 32, 32) float images + labels held in memory, with an optional per-sample transform."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, transform=None) -> None:
        self.x, self.y, self.transform = x, y, transform

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        img = self.x[i]
        return (self.transform(img) if self.transform is not None else img), self.y[i]


def select(ds, classes: list, per_class: int | None, rng: np.random.Generator) -> Images:
    """The images of ``classes`` (relabelled 0..k-1), ``per_class`` random ones each (all when None)."""
    labels = ds.targets.numpy()
    idx = []
    for c in classes:
        where = np.flatnonzero(labels == c)
        idx.append(where if per_class is None else rng.choice(where, per_class, replace=False))
    idx = np.sort(np.concatenate(idx))
    x = torch.from_numpy(ds.data.numpy()[idx].astype(np.float32) / 255.0).unsqueeze(1)
    x = F.pad((x - MEAN) / STD, (2, 2, 2, 2), value=-MEAN / STD)        # 28x28 -> 32x32, background value
    remap = np.full(10, -1)
    remap[classes] = np.arange(len(classes))
    return Images(x, torch.from_numpy(remap[labels[idx]]))


def rgb(x: torch.Tensor) -> torch.Tensor:
    return x.expand(-1, 3, -1, -1)     # grey -> 3 channels (a view: no copy)


def evaluate(model: nn.Module, data: Images, batch: int = 500) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(data), batch):
            logits = model(rgb(data.x[i:i + batch]))
            correct += int((logits.argmax(1) == data.y[i:i + batch]).sum())
    return correct / len(data)


def train(model: nn.Module, data: Images, epochs: int, lr: float, batch: int, params=None,
          freeze_bn: bool = False, log: str = "") -> None:
    """Adam with cosine decay; ``freeze_bn`` keeps BatchNorm in eval mode (frozen backbone)."""
    params = [p for p in (params if params is not None else model.parameters()) if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    loader = DataLoader(data, batch_size=batch, shuffle=True, drop_last=len(data) > batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs * len(loader)))
    start = time.perf_counter()
    for epoch in range(epochs):
        model.eval() if freeze_bn else model.train()
        total, n = 0.0, 0
        for x, y in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(rgb(x)), y)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(y)
            n += len(y)
    if log:
        print(f"  {log}: {epochs} epochs, final loss {total / max(n, 1):.4f} ({time.perf_counter() - start:.0f}s)",
              flush=True)


def pretrain(train_set: Images, test_set: Images, steps: int, batch: int, lr: float) -> nn.Module:
    model = models.resnet18(num_classes=len(SOURCE))
    epochs = max(1, round(steps * batch / len(train_set)))
    sub = Images(train_set.x[:steps * batch], train_set.y[:steps * batch]) if steps * batch < len(train_set) \
        else train_set
    train(model, sub, epochs, lr, batch, log="pre-train")
    print(f"  source-task test accuracy: {evaluate(model, test_set):.2%}")
    return model


def finetune(weights: str | None, train_set: Images, test_set: Images, args, augment: bool,
             log: str) -> tuple:
    """Returns (accuracy after the frozen-backbone stage, accuracy after full fine-tuning)."""
    aug = [T.RandomCrop(32, padding=args.crop_padding, fill=-MEAN / STD)]
    if args.flip:
        aug.append(T.RandomHorizontalFlip())
    tf = T.Compose(aug) if augment else None
    data = Images(train_set.x, train_set.y, tf)
    if weights is None:   # from scratch: same schedule, everything trainable from the start
        model = models.resnet18(num_classes=len(TARGET))
        train(model, data, args.scratch_epochs, args.lr, args.batch, log=log)
        return None, evaluate(model, test_set)
    sd = torch.load(weights)
    model = models.resnet18(weights=weights, num_classes=sd["fc.weight"].shape[0])
    model.fc = nn.Linear(model.fc.in_features, len(TARGET))      # new head for the new task
    for name, p in model.named_parameters():                     # stage 1: frozen backbone
        p.requires_grad_(name.startswith("fc."))
    train(model, data, args.head_epochs, args.head_lr, args.batch, params=model.fc.parameters(), freeze_bn=True,
          log=log + " head")
    head_acc = evaluate(model, test_set)
    model.requires_grad_(True)                                   # stage 2: unfreeze, 10x lower LR
    train(model, data, args.ft_epochs, args.lr, args.batch, log=log + " full")
    return head_acc, evaluate(model, test_set)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default="data", help="Fashion-MNIST folder (the Debian package is found anyway)")
    p.add_argument("--weights", default=None, help="a ResNet-18 state_dict file (skips pre-training)")
    p.add_argument("--save-pretrained", default=None, help="keep the pre-trained state_dict here")
    p.add_argument("--pretrain-steps", type=int, default=150)
    p.add_argument("--pretrain-batch", type=int, default=32)
    p.add_argument("--pretrain-lr", type=float, default=1e-3)
    p.add_argument("--per-class", type=int, default=10, help="training images per class of the new task")
    p.add_argument("--test-per-class", type=int, default=200)
    p.add_argument("--head-epochs", type=int, default=60, help="frozen-backbone epochs (forward-only: cheap)")
    p.add_argument("--head-lr", type=float, default=1e-2, help="Adam learning rate of the new head alone")
    p.add_argument("--ft-epochs", type=int, default=15, help="epochs with everything unfrozen")
    p.add_argument("--scratch-epochs", type=int, default=15)
    p.add_argument("--lr", type=float, default=1e-3,
                   help="Adam learning rate once unfrozen (10x below --head-lr) and from scratch")
    p.add_argument("--crop-padding", type=int, default=2)
    p.add_argument("--flip", action="store_true", help="augment with RandomHorizontalFlip too (hurts here: "
                   "Fashion-MNIST's shoes all point left)")
    p.add_argument("--batch", type=int, default=25)
    p.add_argument("--no-scratch", action="store_true", help="skip the from-scratch baseline")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_ds = datasets.FashionMNIST(args.root, train=True)
    test_ds = datasets.FashionMNIST(args.root, train=False)
    target_train = select(train_ds, TARGET, args.per_class, rng)
    target_test = select(test_ds, TARGET, args.test_per_class, rng)
    print(f"ember {torch.__version__}: ResNet-18, new task = Fashion-MNIST classes {TARGET} with "
          f"{len(target_train)} training images, {len(target_test)} test images")
    t0 = time.perf_counter()
    tmp = None
    weights = args.weights
    if weights is None:
        src_train = select(train_ds, SOURCE, None, rng)
        perm = torch.from_numpy(rng.permutation(len(src_train)))
        src_train = Images(src_train.x[perm], src_train.y[perm])
        src_test = select(test_ds, SOURCE, args.test_per_class, rng)
        print(f"pre-training on classes {SOURCE} ({args.pretrain_steps} steps of {args.pretrain_batch})")
        model = pretrain(src_train, src_test, args.pretrain_steps, args.pretrain_batch, args.pretrain_lr)
        weights = args.save_pretrained
        if weights is None:
            tmp = tempfile.TemporaryDirectory()
            weights = os.path.join(tmp.name, "resnet18_pretrained.pth")
        torch.save(model.state_dict(), weights)
    results = {}
    for augment in (False, True):
        name = "augmented" if augment else "plain"
        torch.manual_seed(args.seed + 1)
        results[f"finetune_{name}"] = finetune(weights, target_train, target_test, args, augment, f"fine-tune {name}")
        if not args.no_scratch:
            torch.manual_seed(args.seed + 1)
            results[f"scratch_{name}"] = finetune(None, target_train, target_test, args, augment, f"scratch {name}")
    if tmp is not None:
        tmp.cleanup()
    print(f"\nnew-task test accuracy ({len(target_train)} training images, {len(target_test)} test images):")
    print(f"  {'':28s} {'no augmentation':>16s} {'augmentation':>13s}")
    rows = [("fine-tune, head only", "finetune", 0), ("fine-tune, then unfrozen", "finetune", 1)]
    if not args.no_scratch:
        rows.append(("from scratch", "scratch", 1))
    for label, key, stage in rows:
        a, b = results[f"{key}_plain"][stage], results[f"{key}_augmented"][stage]
        print(f"  {label:28s} {a:16.2%} {b:13.2%}")
    print(f"total time {time.perf_counter() - t0:.0f}s")
    return results


if __name__ == "__main__":
    main()
