"""REINFORCE on a pure-Python corridor: walk right to reach the goal. Actions are sampled with NumPy
from the policy's probabilities, so both libraries take the same actions."""
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


class Corridor:
    def __init__(self, length=5):
        self.length = length

    def reset(self):
        self.pos = 0
        return self.obs()

    def obs(self):
        o = np.zeros(self.length, np.float32)
        o[self.pos] = 1.0
        return o

    def step(self, action):
        self.pos = min(max(self.pos + (1 if action == 1 else -1), 0), self.length - 1)
        done = self.pos == self.length - 1
        return self.obs(), (1.0 if done else -0.05), done


policy = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 2), nn.Softmax(dim=-1))
init_params(policy, 9)
opt = torch.optim.Adam(policy.parameters(), lr=0.02)
env = Corridor()
rng = np.random.default_rng(0)
gamma = 0.95
for episode in range(12):
    obs = env.reset()
    log_probs, rewards = [], []
    for t in range(20):
        probs = policy(torch.from_numpy(obs))
        p = probs.detach().numpy().astype(np.float64)
        action = int(rng.random() < p[1] / p.sum())
        log_probs.append(torch.log(probs[action]))
        obs, r, done = env.step(action)
        rewards.append(r)
        if done:
            break
    returns, g = [], 0.0
    for r in reversed(rewards):
        g = r + gamma * g
        returns.insert(0, g)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + 1e-6) if len(returns) > 1 else returns
    loss = -(torch.stack(log_probs) * returns).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print("episode", episode, len(rewards), f"{sum(rewards):.6g}", f"{loss.item():.6g}")
with torch.no_grad():
    print("p_right", " ".join(f"{policy(torch.eye(5)[i])[1].item():.6g}" for i in range(5)))
