"""Tensors and autograd basics: creation, broadcasting, indexing, reductions, backward, autograd.grad."""
import numpy as np
import torch


def show(name, x):
    if isinstance(x, torch.Tensor):
        x = x.detach().reshape(-1).tolist()
    elif not isinstance(x, (list, tuple)):
        x = [x]
    print(name, " ".join(f"{float(v):.6g}" for v in x))


a = torch.arange(12, dtype=torch.float32).reshape(3, 4)
b = torch.linspace(-1, 1, 4)
show("broadcast", a * b + 1)
show("index", a[1:, ::2])
show("fancy", a[[0, 2], [1, 3]])
show("mask", a[a > 5])
show("sum_mean", [a.sum().item(), a.mean().item(), a.std().item()])
show("amax", a.amax(dim=1))
show("argmax", a.argmax(dim=0))
show("cat", torch.cat([a[:1], a[2:]], dim=0))
show("stack", torch.stack([b, b * 2]).sum(0))
show("where", torch.where(a > 4, a, torch.zeros_like(a)))
print("shape", tuple(a.t().contiguous().view(2, 6).shape), a.dtype, (a > 1).dtype)

x = torch.tensor(np.linspace(0.1, 1.0, 5), dtype=torch.float64, requires_grad=True)
y = (x.sin() * x.exp() + x ** 3).sum()
y.backward()
show("grad", x.grad)
expected = np.cos(x.detach().numpy()) * np.exp(x.detach().numpy()) + np.sin(x.detach().numpy()) * np.exp(
    x.detach().numpy()) + 3 * x.detach().numpy() ** 2
print("grad_ok", bool(np.allclose(x.grad.numpy(), expected)))

w = torch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
v = torch.tensor([1.0, 2.0])
out = torch.tanh(w @ v).pow(2).sum()
(gw,) = torch.autograd.grad(out, w, create_graph=True)
show("gw", gw)
(ggw,) = torch.autograd.grad(gw.sum(), w)
show("ggw", ggw)

z = torch.ones(3, requires_grad=True)
q = z * 2
q.retain_grad()
r = (q * q).sum()
r.backward(retain_graph=True)
show("retain", q.grad)
r.backward()
show("accumulated", z.grad)
print("leaf", z.is_leaf, q.is_leaf, q.requires_grad, q.detach().requires_grad)
