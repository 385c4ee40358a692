"""A custom nn.Module trained with each common optimizer on the same regression data."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def init_params(model, seed):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            bound = 1.0 / np.sqrt(fan_in)
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, size=tuple(p.shape)).astype(np.float32)))


class MLP(nn.Module):
    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, d_out)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return self.head(x)


rng = np.random.default_rng(0)
X = torch.from_numpy(rng.standard_normal((64, 5)).astype(np.float32))
true_w = torch.from_numpy(rng.standard_normal((5, 2)).astype(np.float32))
Y = X @ true_w + 0.1 * torch.sin(X[:, :2] * 3)

optimizers = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.05),
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True, weight_decay=1e-4),
    "adam": lambda p: torch.optim.Adam(p, lr=1e-2),
    "adamw": lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.05),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=5e-3, momentum=0.5),
    "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1),
    "adamax": lambda p: torch.optim.Adamax(p, lr=0.02),
    "nadam": lambda p: torch.optim.NAdam(p, lr=0.01),
}
for name, make in optimizers.items():
    model = MLP(5, 16, 2)
    init_params(model, 1)
    opt = make(model.parameters())
    losses = []
    for step in range(30):
        opt.zero_grad()
        loss = F.mse_loss(model(X), Y)
        loss.backward()
        opt.step()
        if step % 10 == 9:
            losses.append(loss.item())
    print(name, " ".join(f"{v:.6g}" for v in losses), f"{model.head.weight.sum().item():.6g}")
