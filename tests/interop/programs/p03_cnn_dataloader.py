"""A small CNN classifier trained with a DataLoader over synthetic images, evaluated under no_grad."""
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def init_params(model, seed):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            bound = 1.0 / np.sqrt(fan_in)
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, size=tuple(p.shape)).astype(np.float32)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 8, kernel_size=3), nn.ReLU(), nn.AdaptiveAvgPool2d((2, 2)),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        return self.classifier(self.features(x))


rng = np.random.default_rng(0)
n = 96
labels = rng.integers(0, 3, n)
images = rng.standard_normal((n, 1, 10, 10)).astype(np.float32) * 0.5
for i, c in enumerate(labels):  # each class lights up a different band
    images[i, 0, 3 * c:3 * c + 3, :] += 1.5
ds = TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
loader = DataLoader(ds, batch_size=16, shuffle=False)

model = Net()
init_params(model, 3)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(3):
    model.train()
    total = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * xb.shape[0]
    print("epoch", epoch, f"{total / n:.6g}")

model.eval()
correct = 0
with torch.no_grad():
    for xb, yb in loader:
        correct += (model(xb).argmax(dim=1) == yb).sum().item()
    logits = model(torch.from_numpy(images[:4]))
print("accuracy", correct / n)
print("logits", " ".join(f"{v:.6g}" for v in logits.reshape(-1).tolist()))
print("bn_running", " ".join(f"{v:.6g}" for v in model.features[1].running_mean.tolist()))
