"""A variational autoencoder: reparameterisation with noise drawn from NumPy, BCE + KL loss."""
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


class VAE(nn.Module):
    def __init__(self, d, h, z):
        super().__init__()
        self.enc = nn.Linear(d, h)
        self.mu = nn.Linear(h, z)
        self.logvar = nn.Linear(h, z)
        self.dec1 = nn.Linear(z, h)
        self.dec2 = nn.Linear(h, d)

    def encode(self, x):
        h = F.relu(self.enc(x))
        return self.mu(h), self.logvar(h)

    def decode(self, z):
        return self.dec2(F.relu(self.dec1(z)))

    def forward(self, x, eps):
        mu, logvar = self.encode(x)
        z = mu + eps * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar


def loss_function(logits, x, mu, logvar):
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


rng = np.random.default_rng(0)
data = (rng.random((32, 12)) < np.linspace(0.1, 0.9, 12)).astype(np.float32)
x = torch.from_numpy(data)
model = VAE(12, 16, 3)
init_params(model, 6)
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(25):
    eps = torch.from_numpy(rng.standard_normal((32, 3)).astype(np.float32))
    opt.zero_grad()
    recon, mu, logvar = model(x, eps)
    loss = loss_function(recon, x, mu, logvar)
    loss.backward()
    opt.step()
    if step % 5 == 4:
        print("step", step, f"{loss.item() / len(x):.6g}")
with torch.no_grad():
    sample = torch.sigmoid(model.decode(torch.from_numpy(rng.standard_normal((2, 3)).astype(np.float32))))
print("sample", " ".join(f"{v:.6g}" for v in sample.reshape(-1).tolist()))
