"""A small GAN learning a 2-D Gaussian: generator and discriminator with BCEWithLogitsLoss and Adam."""
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


G = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 2))
D = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
init_params(G, 7)
init_params(D, 8)
opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
criterion = nn.BCEWithLogitsLoss()
rng = np.random.default_rng(0)
batch = 32
ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
for step in range(20):
    real = torch.from_numpy((rng.standard_normal((batch, 2)) * 0.5 + [2.0, -1.0]).astype(np.float32))
    noise = torch.from_numpy(rng.standard_normal((batch, 4)).astype(np.float32))
    fake = G(noise)
    opt_d.zero_grad()
    d_loss = criterion(D(real), ones) + criterion(D(fake.detach()), zeros)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = criterion(D(fake), ones)
    g_loss.backward()
    opt_g.step()
    if step % 5 == 4:
        print("step", step, f"{d_loss.item():.6g}", f"{g_loss.item():.6g}")
with torch.no_grad():
    out = G(torch.from_numpy(rng.standard_normal((256, 4)).astype(np.float32)))
print("mean", " ".join(f"{v:.6g}" for v in out.mean(dim=0).tolist()))
