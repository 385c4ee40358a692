"""The switches real training scripts flip: device selection, cudnn flags, matmul precision,
torch.compile, TorchScript, thread count, determinism, seeding."""
import numpy as np
import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("device", device.type)
torch.backends.cudnn.benchmark = True
torch.backends.cudnn.deterministic = True
torch.backends.cuda.matmul.allow_tf32 = False
torch.set_float32_matmul_precision("highest")
print("precision", torch.get_float32_matmul_precision())
torch.use_deterministic_algorithms(True)
print("deterministic", torch.are_deterministic_algorithms_enabled())
torch.set_num_threads(2)
print("threads", torch.get_num_threads())
torch.manual_seed(0)
if torch.cuda.is_available():
    torch.cuda.manual_seed_all(0)
print("mps", torch.backends.mps.is_available() if hasattr(torch.backends, "mps") else False)

model = nn.Linear(3, 2).to(device)
with torch.no_grad():
    model.weight.copy_(torch.tensor([[0.1, 0.2, 0.3], [-0.3, 0.2, -0.1]]))
    model.bias.fill_(0.05)
compiled = torch.compile(model)
scripted = torch.jit.script(model)
traced = torch.jit.trace(model, torch.ones(1, 3, device=device))
x = torch.tensor([[1.0, 2.0, 3.0]], device=device)
for name, m in (("eager", model), ("compiled", compiled), ("scripted", scripted), ("traced", traced)):
    print(name, " ".join(f"{v:.6g}" for v in m(x).detach().cpu().reshape(-1).tolist()))


@torch.compile(mode="reduce-overhead")
def f(t):
    return (t * t).sum()


@torch.jit.script
def g(t):
    return t + 1


print("fn", f(x).item(), g(x).sum().item())
print("to_device", x.to(device).device.type, torch.zeros(1).to(device).cpu().numpy().tolist())
