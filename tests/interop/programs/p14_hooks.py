"""Module forward/pre-forward/backward hooks and tensor gradient hooks."""
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


model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
init_params(model, 12)
records = []


def fwd_hook(module, inputs, output):
    records.append(("fwd", type(module).__name__, round(output.abs().sum().item(), 4)))


def pre_hook(module, inputs):
    records.append(("pre", type(module).__name__, tuple(inputs[0].shape)))
    return (inputs[0] * 2,)  # doubles the input of the first layer


def bwd_hook(module, grad_input, grad_output):
    records.append(("bwd", type(module).__name__, round(grad_output[0].abs().sum().item(), 4)))


handles = [model[0].register_forward_pre_hook(pre_hook), model[0].register_forward_hook(fwd_hook),
           model[2].register_forward_hook(fwd_hook), model[2].register_full_backward_hook(bwd_hook)]
x = torch.from_numpy(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)).requires_grad_(True)
scale = []
x.register_hook(lambda g: scale.append(g.abs().sum().item()))
h = model[0].weight.register_hook(lambda g: g * 0.5)
out = model(x)
out.sum().backward()
for r in records:
    print(*r)
print("x_grad_sum", f"{scale[0]:.6g}")
print("w0_grad", " ".join(f"{v:.6g}" for v in model[0].weight.grad.reshape(-1)[:6].tolist()))
for hd in handles:
    hd.remove()
h.remove()
records.clear()
model.zero_grad()
model(x).sum().backward()
print("after_remove", len(records), f"{model[0].weight.grad.abs().sum().item():.6g}")
acts = {}
model[1].register_forward_hook(lambda m, i, o: acts.__setitem__("relu", o.detach()))
model(x)
print("relu_active", int((acts["relu"] > 0).sum()))
