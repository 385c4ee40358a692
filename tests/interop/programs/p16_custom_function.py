"""A custom autograd.Function (with ctx.save_for_backward) and gradcheck on it."""
import numpy as np
import torch


class SoftClip(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, limit):
        ctx.save_for_backward(x)
        ctx.limit = limit
        return limit * torch.tanh(x / limit)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        t = torch.tanh(x / ctx.limit)
        return grad_out * (1 - t * t), None


x = torch.tensor(np.linspace(-3, 3, 7), dtype=torch.float64, requires_grad=True)
y = SoftClip.apply(x, 2.0)
y.sum().backward()
print("y", " ".join(f"{v:.6g}" for v in y.tolist()))
print("grad", " ".join(f"{v:.6g}" for v in x.grad.tolist()))
print("gradcheck", torch.autograd.gradcheck(lambda t: SoftClip.apply(t, 1.5), (x.detach().clone().requires_grad_(),)))
print("grad_fn", type(y.grad_fn).__name__.replace("Backward", ""))

w = torch.nn.Parameter(torch.tensor([[0.3, -0.2], [0.1, 0.4]]))
opt = torch.optim.SGD([w], lr=0.5)
target = torch.tensor([1.0, -1.0])
for _ in range(5):
    opt.zero_grad()
    out = SoftClip.apply(w @ torch.tensor([2.0, 1.0]), 1.0)
    loss = ((out - target) ** 2).sum()
    loss.backward()
    opt.step()
print("trained", f"{loss.item():.6g}", " ".join(f"{v:.6g}" for v in w.reshape(-1).tolist()))
