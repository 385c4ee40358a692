"""A custom Dataset read by a DataLoader with worker processes, a custom collate_fn and a sampler."""
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, SequentialSampler


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        x = np.array([i, i * 0.5, -i], dtype=np.float32)
        return {"x": torch.from_numpy(x), "y": i * i, "name": f"item{i}"}


def collate(items):
    return torch.stack([it["x"] for it in items]), torch.tensor([it["y"] for it in items]), [it["name"] for it in items]


if __name__ == "__main__":
    ds = Squares(23)
    loader = DataLoader(ds, batch_size=5, num_workers=2, collate_fn=collate, sampler=SequentialSampler(ds))
    total = torch.zeros(3)
    ys = []
    names = []
    for xb, yb, nb in loader:
        total += xb.sum(dim=0)
        ys.append(int(yb.sum()))
        names.append(nb[0])
    print("total", " ".join(f"{v:.6g}" for v in total.tolist()))
    print("ys", ys, names)
    print("len", len(loader))

    default = DataLoader(ds, batch_size=4, num_workers=2, drop_last=True)
    batch = next(iter(default))
    print("default_collate", tuple(batch["x"].shape), batch["y"].tolist(), batch["name"], batch["y"].dtype)
    print("batches", sum(1 for _ in default))

    w = torch.zeros(3, requires_grad=True)
    opt = torch.optim.SGD([w], lr=1e-4)
    for epoch in range(2):
        for xb, yb, _ in loader:
            opt.zero_grad()
            loss = ((xb @ w - yb.float()) ** 2).mean()
            loss.backward()
            opt.step()
    print("w", " ".join(f"{v:.6g}" for v in w.tolist()))
