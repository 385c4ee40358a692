"""A GRU sequence regressor (batch_first) with pack_padded_sequence for variable lengths."""
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence


def init_params(model, seed):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            bound = 1.0 / np.sqrt(fan_in)
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, size=tuple(p.shape)).astype(np.float32)))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(2, 8, batch_first=True)
        self.out = nn.Linear(8, 1)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)
        return self.out(h[-1]).squeeze(1)


rng = np.random.default_rng(0)
lengths = rng.integers(3, 9, 16)
x = np.zeros((16, 8, 2), np.float32)
y = np.zeros(16, np.float32)
for i, n in enumerate(lengths):
    x[i, :n] = rng.standard_normal((n, 2))
    y[i] = x[i, :n, 0].sum() * 0.3 - x[i, :n, 1].mean()
model = Model()
init_params(model, 14)
opt = torch.optim.Adam(model.parameters(), lr=0.02)
X, Y, L = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(lengths)
for step in range(15):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(X, L), Y)
    loss.backward()
    opt.step()
    if step % 5 == 4:
        print("step", step, f"{loss.item():.6g}")
print("pred", " ".join(f"{v:.6g}" for v in model(X[:4], L[:4]).tolist()))
