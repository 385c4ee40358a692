"""A Transformer-encoder sequence classifier (batch_first, no dropout) on synthetic token sequences."""
import numpy as np
import torch
import torch.nn as nn


def init_params(model, seed):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:  # keep LayerNorm at its identity initialisation
                continue
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            bound = 1.0 / np.sqrt(fan_in)
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, size=tuple(p.shape)).astype(np.float32)))


class Classifier(nn.Module):
    def __init__(self, vocab, d_model, nhead, layers, classes):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers)
        self.head = nn.Linear(d_model, classes)

    def forward(self, tokens, pad_mask=None):
        h = self.encoder(self.embed(tokens), src_key_padding_mask=pad_mask)
        return self.head(h.mean(dim=1))


rng = np.random.default_rng(0)
tokens = rng.integers(1, 10, size=(24, 7))
labels = (tokens[:, 0] > 5).astype(np.int64)  # class decided by the first token
tokens_t = torch.from_numpy(tokens)
labels_t = torch.from_numpy(labels)
pad = torch.zeros(24, 7, dtype=torch.bool)
pad[:, 6] = True

model = Classifier(10, 16, 2, 2, 2)
init_params(model, 5)
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for step in range(20):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(tokens_t, pad), labels_t)
    loss.backward()
    opt.step()
    if step % 5 == 4:
        print("step", step, f"{loss.item():.6g}")
model.eval()
with torch.no_grad():
    out = model(tokens_t[:3], pad[:3])
print("logits", " ".join(f"{v:.6g}" for v in out.reshape(-1).tolist()))
