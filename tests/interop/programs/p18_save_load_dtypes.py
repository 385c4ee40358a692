"""torch.save / torch.load of tensors of every common dtype, views that share storage, and state dicts."""
import io
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn

base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
objects = {
    "f32": base, "view": base[1:, ::2], "t": base.t(), "f64": torch.linspace(0, 1, 5, dtype=torch.float64),
    "f16": torch.tensor([0.5, -1.25], dtype=torch.float16), "i8": torch.tensor([-3, 4], dtype=torch.int8),
    "u8": torch.tensor([200, 1], dtype=torch.uint8), "i32": torch.tensor([7], dtype=torch.int32),
    "i64": torch.tensor([1 << 40]), "bool": torch.tensor([True, False, True]),
    "c64": torch.tensor([1 + 2j, -0.5j], dtype=torch.complex64), "scalar": torch.tensor(3.5),
    "meta": {"epoch": 3, "name": "run", "lrs": [0.1, 0.01]},
}
buf = io.BytesIO()
torch.save(objects, buf)
buf.seek(0)
loaded = torch.load(buf)
for k in sorted(objects):
    v = loaded[k]
    if isinstance(v, torch.Tensor):
        vals = v.to(torch.complex128).reshape(-1).tolist() if v.is_complex() else v.reshape(-1).tolist()
        flat = []
        for e in vals:
            flat += [e.real, e.imag] if isinstance(e, complex) else [float(e)]
        print(k, str(v.dtype).split(".")[-1], tuple(v.shape), v.stride(), " ".join(f"{e:.6g}" for e in flat))
    else:
        print(k, v)
loaded["f32"][1, 0] = 100.0
print("shared_view", loaded["view"][0, 0].item(), loaded["t"][0, 1].item())

model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.arange(p.numel(), dtype=torch.float32).reshape(p.shape) * 0.1 * (i + 1))
path = os.path.join(tempfile.mkdtemp(), "model.pt")
torch.save(model.state_dict(), path)
sd = torch.load(path, map_location="cpu", weights_only=True)
print("keys", list(sd.keys()))
fresh = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
print("load", fresh.load_state_dict(sd))
print("weight", " ".join(f"{v:.6g}" for v in fresh[0].weight.reshape(-1).tolist()))
os.remove(path)
