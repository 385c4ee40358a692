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


def progress(prefix: str, done: int, total: int, start: float, extra: str = "", width: int = 28) -> None:
    filled = int(width * done / max(total, 1))
    elapsed = time.perf_counter() - start
    eta = elapsed / max(done, 1) * (total - done)
    sys.stdout.write(f"\r{prefix} [{'=' * filled}{'.' * (width - filled)}] {done}/{total} "
                     f"{elapsed:5.1f}s<{eta:5.1f}s {extra}")
    sys.stdout.flush()


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
    p.add_argument("--save", default=None, help="save the trained state_dict here (ember.save)")
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
        start, running, seen = time.perf_counter(), 0.0, 0
        n_batches = len(train_loader)
        for i, (x, y) in enumerate(train_loader, 1):
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(y)
            seen += len(y)
            if i % 10 == 0 or i == n_batches:
                progress(f"epoch {epoch:2d}", i, n_batches, start, f"loss {running / seen:.4f}")
        if scheduler is not None:
            scheduler.step()
        acc = evaluate(model, test_loader)
        print(f"  test accuracy {acc:.2%}")
    if args.save:
        torch.save(model.state_dict(), args.save)
        print(f"saved to {args.save}")
    return acc


if __name__ == "__main__":
    main()
