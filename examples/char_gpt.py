"""A character-level GPT (nanoGPT-style, decoder-only) trained on Jane Austen's six novels with ember.

    python examples/char_gpt.py                          # 4 layers, 4 heads, width 128, block 64, 2000 steps
    python examples/char_gpt.py --iters 300 --limit 300000 --sample-len 300
    python examples/char_gpt.py --save gpt.pt            # checkpoint (ember.save), reloaded and checked

Model: token + position Embedding -> N x [LayerNorm -> causal self-attention (fused
``F.scaled_dot_product_attention(is_causal=True)``) -> residual; LayerNorm -> Linear 4x -> GELU -> Linear ->
residual] -> LayerNorm -> Linear to the vocabulary (tied to the token embedding). AdamW with weight decay
on matrices only, linear warm-up then cosine decay, gradient clipping at 1.0. After training it prints a
sample, saves a checkpoint, reloads it into a fresh model and checks that the logits agree.

Data: the Debian package ``r-cran-janeaustenr`` (public-domain novels as R data), unpacked without R::

    apt-get download r-cran-janeaustenr && dpkg -x r-cran-janeaustenr_*.deb /

(or into any DIR and pass ``--data DIR`` or set $JANEAUSTENR_DIR). 90% of the text trains, the rest
validates. Apart from loading the data, this is plain PyTorch API: ``import ember as torch``.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _austen import find_data, novel_lines  # noqa: E402  (shared with word_language_model.py)
from _progress import progress  # noqa: E402


# ----------------------------------------------------------------------------------------------- data
def load_text(prefix: str) -> str:
    return "\n\n".join("\n".join(lines) for lines in novel_lines(prefix).values())


class CharCodec:
    """Characters <-> integer ids (the vocabulary is the set of characters in the text)."""

    def __init__(self, chars: str) -> None:
        self.chars = chars
        self.stoi = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> "CharCodec":
        return cls("".join(sorted(set(text))))

    def encode(self, s: str) -> list:
        return [self.stoi[c] for c in s]

    def decode(self, ids: list) -> str:
        return "".join(self.chars[i] for i in ids)


def get_batch(data: torch.Tensor, block_size: int, batch_size: int) -> tuple:
    ix = torch.randint(len(data) - block_size, (batch_size,))
    offsets = ix.unsqueeze(1) + torch.arange(block_size)
    return data[offsets], data[offsets + 1]


# ---------------------------------------------------------------------------------------------- model
class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, dropout: float) -> None:
        super().__init__()
        assert n_embd % n_head == 0
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)  # query, key, value for all heads in one matmul
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.resid_dropout = nn.Dropout(dropout)
        self.n_head, self.n_embd, self.dropout = n_head, n_embd, dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, n_embd: int, dropout: float) -> None:
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.gelu = nn.GELU(approximate="tanh")  # GPT-2's GELU
        self.c_proj = nn.Linear(4 * n_embd, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = MLP(n_embd, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size: int, block_size: int = 64, n_layer: int = 4, n_head: int = 4, n_embd: int = 128,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.config = dict(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=n_head,
                           n_embd=n_embd, dropout=dropout)
        self.block_size = block_size
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.h = nn.ModuleList([Block(n_embd, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.wte.weight = self.lm_head.weight  # weight tying
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2's scaled init of the residual projections
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> tuple:
        B, T = idx.shape
        if T > self.block_size:
            raise ValueError(f"Cannot forward sequence of length {T}, block size is only {self.block_size}")
        pos = torch.arange(T)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    def configure_optimizer(self, lr: float, weight_decay: float, betas: tuple) -> torch.optim.Optimizer:
        params = list({id(p): p for p in self.parameters()}.values())  # tied weights once
        decay = [p for p in params if p.dim() >= 2]
        no_decay = [p for p in params if p.dim() < 2]
        return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                  {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None) -> torch.Tensor:
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= self.block_size else idx[:, -self.block_size:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits = logits.masked_fill(logits < v[:, [-1]], float("-inf"))
            probs = F.softmax(logits, dim=-1)
            idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
        return idx


# ------------------------------------------------------------------------------------------- training
@torch.no_grad()
def estimate_loss(model: GPT, splits: dict, block_size: int, batch_size: int, iters: int) -> dict:
    model.eval()
    out = {}
    for name, data in splits.items():
        losses = [model(*get_batch(data, block_size, batch_size))[1].item() for _ in range(iters)]
        out[name] = sum(losses) / len(losses)
    model.train()
    return out


def lr_at(it: int, lr: float, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to lr/10."""
    if it < warmup:
        return lr * (it + 1) / warmup
    t = (it - warmup) / max(1, total - warmup)
    return lr / 10 + 0.5 * (lr - lr / 10) * (1 + math.cos(math.pi * min(t, 1.0)))


def main(argv: list | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="directory where r-cran-janeaustenr was unpacked (or its Rdata prefix)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N characters of the text")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--block", type=int, default=64)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--eval-interval", type=int, default=250)
    p.add_argument("--eval-iters", type=int, default=20)
    p.add_argument("--sample-len", type=int, default=500)
    p.add_argument("--prompt", default="\n")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--save", default=None, help="write a checkpoint here (ember.save), then reload and check it")
    args = p.parse_args(argv)

    prefix = find_data(args.data)
    if prefix is None:
        sys.exit("Jane Austen data not found: apt-get download r-cran-janeaustenr && "
                 "dpkg -x r-cran-janeaustenr_*.deb / (or pass --data DIR)")
    torch.manual_seed(args.seed)
    text = load_text(prefix)
    if args.limit:
        text = text[:args.limit]
    codec = CharCodec.from_text(text)
    data = torch.tensor(codec.encode(text), dtype=torch.long)
    n = int(0.9 * len(data))
    splits = {"train": data[:n], "val": data[n:]}
    model = GPT(len(codec.chars), args.block, args.layers, args.heads, args.width, args.dropout)
    n_params = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    print(f"ember {torch.__version__}: char GPT {args.layers}x{args.heads}x{args.width}, block {args.block}, "
          f"{n_params / 1e6:.2f}M parameters; {len(text):,} characters, vocabulary {len(codec.chars)}")
    optimizer = model.configure_optimizer(args.lr, args.weight_decay, (0.9, 0.99))

    history = [(0, estimate_loss(model, splits, args.block, args.batch_size, args.eval_iters))]
    print(f"step 0: train loss {history[0][1]['train']:.4f}, val loss {history[0][1]['val']:.4f}")
    start, running = time.perf_counter(), None
    for it in range(1, args.iters + 1):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(it - 1, args.lr, args.warmup, args.iters)
        x, y = get_batch(splits["train"], args.block, args.batch_size)
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
        if it % 10 == 0 or it == args.iters:
            progress("training", it, args.iters, start, f"loss {running:.4f}")
        if it % args.eval_interval == 0 or it == args.iters:
            losses = estimate_loss(model, splits, args.block, args.batch_size, args.eval_iters)
            history.append((it, losses))
            print(f"\nstep {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")

    model.eval()
    context = torch.tensor([codec.encode(args.prompt)], dtype=torch.long)
    sample = codec.decode(model.generate(context, args.sample_len, temperature=0.8, top_k=20)[0].tolist())
    print("---- sample ----")
    print(sample)
    print("----------------")

    reload_max_diff = None
    if args.save:
        torch.save({"model": model.state_dict(), "config": model.config, "chars": codec.chars}, args.save)
        ckpt = torch.load(args.save)
        fresh = GPT(**ckpt["config"])
        fresh.load_state_dict(ckpt["model"])
        fresh.eval()
        probe = splits["val"][: args.block].unsqueeze(0)
        with torch.no_grad():
            reload_max_diff = (fresh(probe)[0] - model(probe)[0]).abs().max().item()
        print(f"saved to {args.save}; reloaded model's logits differ by at most {reload_max_diff:.3g}")
    return {"history": history, "sample": sample, "chars": codec.chars, "reload_max_diff": reload_max_diff,
            "model": model}


if __name__ == "__main__":
    main()
