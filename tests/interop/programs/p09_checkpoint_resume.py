"""Save model + optimizer state mid-training, resume in fresh objects, and match uninterrupted training."""
import os
import tempfile

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


def make():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    init_params(model, 10)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
    return model, opt, sched


rng = np.random.default_rng(0)
X = torch.from_numpy(rng.standard_normal((32, 4)).astype(np.float32))
Y = X.sum(dim=1, keepdim=True) ** 2 * 0.1


def train(model, opt, sched, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        loss.backward()
        opt.step()
        sched.step()
    return loss.item()


model, opt, sched = make()
full = train(model, opt, sched, 20)

model, opt, sched = make()
train(model, opt, sched, 8)
path = os.path.join(tempfile.mkdtemp(), "ckpt.pt")
torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "epoch": 8}, path)
model2, opt2, sched2 = make()
ckpt = torch.load(path, map_location="cpu")
model2.load_state_dict(ckpt["model"])
opt2.load_state_dict(ckpt["opt"])
sched2.load_state_dict(ckpt["sched"])
resumed = train(model2, opt2, sched2, 12)
print("losses", f"{full:.6g}", f"{resumed:.6g}")
print("same", abs(full - resumed) < 1e-6, ckpt["epoch"], sorted(ckpt["opt"]["state"][0].keys()))
print("lr", f"{opt2.param_groups[0]['lr']:.6g}")
print("weights", " ".join(f"{v:.6g}" for v in model2[2].weight.reshape(-1).tolist()))
os.remove(path)
