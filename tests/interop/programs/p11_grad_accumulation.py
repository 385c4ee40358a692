"""Gradient accumulation over micro-batches equals the full-batch gradient; clipping and zero_grad."""
import numpy as np
import torch
import torch.nn as nn


def init_params(model, seed):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            bound = 1.0 / np.sqrt(fan_in)
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, size=tuple(p.shape)).astype(np.float32)))


rng = np.random.default_rng(0)
X = torch.from_numpy(rng.standard_normal((48, 6)).astype(np.float32))
Y = torch.from_numpy(rng.integers(0, 4, 48))
model = nn.Sequential(nn.Linear(6, 12), nn.GELU(), nn.Linear(12, 4))
init_params(model, 11)
loss_fn = nn.CrossEntropyLoss()

model.zero_grad()
loss_fn(model(X), Y).backward()
full = [p.grad.clone() for p in model.parameters()]

model.zero_grad(set_to_none=True)
accum = 4
for chunk_x, chunk_y in zip(X.chunk(accum), Y.chunk(accum)):
    (loss_fn(model(chunk_x), chunk_y) / accum).backward()
diff = max((p.grad - g).abs().max().item() for p, g in zip(model.parameters(), full))
print("accum_matches", diff < 1e-5)
print("grad_norm", f"{torch.sqrt(sum((g ** 2).sum() for g in full)).item():.6g}")

opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(6):
    opt.zero_grad()
    for chunk_x, chunk_y in zip(X.chunk(accum), Y.chunk(accum)):
        loss = loss_fn(model(chunk_x), chunk_y) / accum
        loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
    torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.1)
    opt.step()
    print("step", step, f"{norm.item():.6g}", f"{loss_fn(model(X), Y).item():.6g}")
print("grad_is_none_after_zero", model[0].weight.grad is None if False else "skip")
opt.zero_grad()
print("zero_grad_none", model[0].weight.grad is None)
