"""Learning-rate schedulers: the lr sequence of each, and a training run driven by one."""
import numpy as np
import torch
import torch.nn as nn


def lrs(make_sched, steps=12, metric=None):
    p = nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    sched = make_sched(opt)
    out = []
    for i in range(steps):
        opt.step()
        if metric is None:
            sched.step()
        else:
            sched.step(metric[i])
        out.append(opt.param_groups[0]["lr"])
    return out


def show(name, xs):
    print(name, " ".join(f"{v:.6g}" for v in xs))


S = torch.optim.lr_scheduler
show("step", lrs(lambda o: S.StepLR(o, step_size=3, gamma=0.5)))
show("multistep", lrs(lambda o: S.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.3)))
show("exponential", lrs(lambda o: S.ExponentialLR(o, gamma=0.9)))
show("cosine", lrs(lambda o: S.CosineAnnealingLR(o, T_max=6, eta_min=0.01)))
show("warm_restarts", lrs(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2)))
show("lambda", lrs(lambda o: S.LambdaLR(o, lambda e: 1.0 / (1 + e))))
show("onecycle", lrs(lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=12)))
show("linear", lrs(lambda o: S.LinearLR(o, start_factor=0.25, total_iters=4)))
show("plateau", lrs(lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=1),
                    metric=[1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85]))
show("sequential", lrs(lambda o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.5, total_iters=2),
                                                     S.ExponentialLR(o, gamma=0.8)], milestones=[3])))

rng = np.random.default_rng(0)
X = torch.from_numpy(rng.standard_normal((40, 3)).astype(np.float32))
Y = X @ torch.tensor([[1.0], [-2.0], [0.5]])
model = nn.Linear(3, 1)
with torch.no_grad():
    model.weight.zero_()
    model.bias.zero_()
opt = torch.optim.SGD(model.parameters(), lr=0.2)
sched = S.CosineAnnealingLR(opt, T_max=10)
for epoch in range(10):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(X), Y)
    loss.backward()
    opt.step()
    sched.step()
show("train", [loss.item(), *model.weight.reshape(-1).tolist()])
