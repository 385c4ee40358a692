"""Train the classic tutorial networks on real Fashion-MNIST (or MNIST) with ember.

    python examples/mnist.py                 # MLP 784-128-64-10, SGD(lr=0.001, momentum=0.9), 10 epochs
    python examples/mnist.py --model cnn     # small CNN (conv32-conv64-maxpool-dropout-fc128-fc10)
    python examples/mnist.py --epochs 1 --limit 5000

Data: the Debian package ``dataset-fashion-mnist`` (found automatically), files under
``--root``, or ``--download`` from the official mirrors. The script is plain PyTorch API:
``import ember as torch`` would be the only change to run it on PyTorch.
"""
from __future__ import annotations

import argparse
import sys
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.utils.data import DataLoader, Subset
from ember.vision import datasets, transforms


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class CNN(nn.Module):
    """The pytorch/examples MNIST network."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return self.fc2(x)


class Progress:
    """A progress bar with loss and throughput: tqdm when installed (the ``examples`` extra), else a plain one."""

    def __init__(self, total: int, desc: str) -> None:
        self.total, self.desc, self.done, self.images = total, desc, 0, 0
        self.start = time.perf_counter()
        try:
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=desc, unit="batch", leave=True)
        except ImportError:
            self.bar = None

    def update(self, batch_size: int, loss: float) -> None:
        self.done += 1
        self.images += batch_size
        rate = self.images / max(time.perf_counter() - self.start, 1e-9)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", img_per_s=f"{rate:,.0f}")
        elif self.done % 10 == 0 or self.done == self.total:
            filled = int(28 * self.done / self.total)
            sys.stdout.write(f"\r{self.desc} [{'=' * filled}{'.' * (28 - filled)}] {self.done}/{self.total} "
                             f"loss {loss:.4f} {rate:,.0f} img/s")
            sys.stdout.flush()

    def close(self, extra: str) -> None:
        if self.bar is not None:
            self.bar.close()
            print(f"{self.desc} {extra}")
        else:
            print(f" {extra}")


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(1) == y).sum())
            total += len(y)
    return correct / max(total, 1)


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--dataset", choices=["fashion", "mnist"], default="fashion")
    p.add_argument("--root", default="data")
    p.add_argument("--download", action="store_true")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=None, help="default: 100 (MLP), 64 (CNN)")
    p.add_argument("--lr", type=float, default=None, help="default: 0.001 (SGD, MLP), 1.0 (Adadelta, CNN)")
    p.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--save", default=None, help="where to save the trained state_dict (ember.save); default "
                   "mnist_<model>.pt, '' to skip")
    args = p.parse_args(argv)

    torch.manual_seed(args.seed)
    ds_cls = datasets.FashionMNIST if args.dataset == "fashion" else datasets.MNIST
    # each dataset's own pixel mean and std (the pytorch/examples convention)
    mean, std = {"fashion": (0.2860, 0.3530), "mnist": (0.1307, 0.3081)}[args.dataset]
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((mean,), (std,))])
    train_set = ds_cls(args.root, train=True, transform=tf, download=args.download)
    test_set = ds_cls(args.root, train=False, transform=tf, download=args.download)
    if args.limit:
        train_set = Subset(train_set, range(args.limit))
    batch = args.batch_size or (100 if args.model == "mlp" else 64)
    train_loader = DataLoader(train_set, batch_size=batch, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)

    model = MLP() if args.model == "mlp" else CNN()
    criterion = nn.CrossEntropyLoss()
    if args.model == "mlp":
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr or 0.001, momentum=0.9)
        scheduler = None
    else:
        optimizer = torch.optim.Adadelta(model.parameters(), lr=args.lr or 1.0)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    print(f"ember {torch.__version__}: {args.model.upper()} on {type(train_set if not args.limit else train_set.dataset).__name__}"
          f" ({len(train_set)} train / {len(test_set)} test images), batch {batch}")
    acc = 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        running, seen = 0.0, 0
        bar = Progress(len(train_loader), f"epoch {epoch:2d}")
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(y)
            seen += len(y)
            bar.update(len(y), running / seen)
        if scheduler is not None:
            scheduler.step()
        acc = evaluate(model, test_loader)
        bar.close(f"test accuracy {acc:.2%}")
    save = f"mnist_{args.model}.pt" if args.save is None else args.save
    if save:
        torch.save(model.state_dict(), save)
        print(f"checkpoint saved to {save}")
    return acc


if __name__ == "__main__":
    main()
