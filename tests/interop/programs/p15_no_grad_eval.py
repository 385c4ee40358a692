"""Evaluation modes: model.eval() for dropout/batchnorm, torch.no_grad, inference_mode, set_grad_enabled."""
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


model = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
init_params(model, 13)
rng = np.random.default_rng(0)
x = torch.from_numpy(rng.standard_normal((16, 5)).astype(np.float32))
model.train()
for _ in range(3):
    model(x)  # update the batchnorm running statistics
print("running_mean", " ".join(f"{v:.6g}" for v in model[1].running_mean.tolist()))
print("running_var", " ".join(f"{v:.6g}" for v in model[1].running_var.tolist()))
print("batches_tracked", int(model[1].num_batches_tracked))
model.eval()
print("training_flags", model.training, model[3].training)
with torch.no_grad():
    a = model(x)
    b = model(x)
print("eval_deterministic", torch.equal(a, b), a.requires_grad)
print("eval_out", " ".join(f"{v:.6g}" for v in a[:2].reshape(-1).tolist()))
with torch.inference_mode():
    c = model(x)
print("inference", torch.allclose(a, c), c.requires_grad)
with torch.set_grad_enabled(False):
    d = model(x) * 2
print("grad_disabled", d.requires_grad, torch.is_grad_enabled())


@torch.no_grad()
def predict(inp):
    return model(inp).argmax(dim=1)


print("predict", predict(x).tolist())
y = model(x)
print("graph", y.requires_grad, y.grad_fn is not None, y.detach().grad_fn is None)
