"""Training-step benchmarks: the same model source run on ember and on PyTorch, alternating.

    python -m benchmarks.training [--quick] [--only mlp,cnn] [--threads N]

Each workload is written once against the shared API (``lib`` is ``ember`` or ``torch``),
so both frameworks run the identical program. Run this way, both frameworks share this process
(a quick A/B: set OMP_NUM_THREADS/OPENBLAS_NUM_THREADS yourself); ``python -m benchmarks`` runs
the same workloads in worker processes per thread count and reports memory too. Reports median
ms per step and the ratio ember / PyTorch (lower is better for ember).
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

import numpy as np

import ember


def mlp(lib: Any) -> tuple:
    nn = lib.nn
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    opt = lib.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    return model, opt, (100, 1, 28, 28), 10


def wide_mlp(lib: Any) -> tuple:
    nn = lib.nn
    model = nn.Sequential(nn.Linear(2048, 2048), nn.ReLU(), nn.Linear(2048, 2048), nn.ReLU(),
                          nn.Linear(2048, 2048))
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    return model, opt, (512, 2048), 2048


def mnist_cnn(lib: Any) -> tuple:
    nn = lib.nn
    model = nn.Sequential(nn.Conv2d(1, 32, 3, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(128, 10))
    opt = lib.optim.Adadelta(model.parameters(), lr=1.0)
    return model, opt, (64, 1, 28, 28), 10


def lenet5(lib: Any) -> tuple:
    nn = lib.nn
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                          nn.ReLU(), nn.Linear(84, 10))
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return model, opt, (128, 1, 28, 28), 10


def small_resnet(lib: Any) -> tuple:
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = lib.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return lib.relu(out + self.shortcut(x))

    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for width, stride in ((16, 1), (32, 2), (64, 2)):
        layers += [BasicBlock(cin, width, stride), BasicBlock(width, width, 1)]
        cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    model = nn.Sequential(*layers)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    return model, opt, (32, 3, 32, 32), 10


def lstm_lm(lib: Any) -> tuple:
    """pytorch/examples word LM: Embedding 10000x200, 2-layer LSTM 200, decoder; seq 35, batch 20, SGD + clipping."""
    nn = lib.nn

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Embedding(10000, 200)
            self.rnn = nn.LSTM(200, 200, 2, dropout=0.2)
            self.decoder = nn.Linear(200, 10000)

        def forward(self, x):
            out, _ = self.rnn(self.encoder(x.t()))          # (seq, batch, hidden)
            return self.decoder(out).reshape(-1, 10000)

    model = LM()
    opt = lib.optim.SGD(model.parameters(), lr=20.0)
    return model, opt, ("tokens", 20, 35, 10000), 10000


def char_gpt(lib: Any) -> tuple:
    """A nanoGPT-style decoder: 4 layers, 4 heads, width 128, block 64, batch 32, AdamW."""
    nn = lib.nn

    class GPT(nn.Module):
        def __init__(self, vocab: int = 80, block: int = 64, width: int = 128) -> None:
            super().__init__()
            self.tok = nn.Embedding(vocab, width)
            self.pos = nn.Embedding(block, width)
            layer = nn.TransformerEncoderLayer(width, 4, 4 * width, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, 4, enable_nested_tensor=False)
            self.ln = nn.LayerNorm(width)
            self.head = nn.Linear(width, vocab, bias=False)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(block))
            self.register_buffer("positions", lib.arange(block))

        def forward(self, idx):
            x = self.tok(idx) + self.pos(self.positions)
            x = self.blocks(x, mask=self.mask, is_causal=True)
            return self.head(self.ln(x)).reshape(-1, self.head.out_features)

    model = GPT()
    opt = lib.optim.AdamW(model.parameters(), lr=3e-4)
    return model, opt, ("tokens", 32, 64, 80), 80


WORKLOADS: dict = {"mlp": mlp, "mnist_cnn": mnist_cnn, "lenet5": lenet5, "small_resnet": small_resnet,
                   "wide_mlp": wide_mlp, "lstm_lm": lstm_lm, "char_gpt": char_gpt}


def _step_fn(lib: Any, build: Callable) -> Callable:
    lib.manual_seed(0)
    model, opt, shape, classes = build(lib)
    rng = np.random.default_rng(0)
    if shape[0] == "tokens":  # language models: token ids in, next-token targets (batch*seq) out
        _, batch, seq, vocab = shape
        x = lib.tensor(rng.integers(0, vocab, (batch, seq)))
        y = lib.tensor(rng.integers(0, vocab, batch * seq))
    else:
        x = lib.tensor(rng.standard_normal(shape).astype(np.float32))
        y = lib.tensor(rng.integers(0, classes, shape[0]))
    loss_fn = lib.nn.CrossEntropyLoss()
    clip = build is lstm_lm  # the word LM clips gradients at 0.25, as in pytorch/examples

    def step() -> None:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if clip:
            lib.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()
    return step


def run(names: list, quick: bool = False, torch: Any = None) -> list:
    rows = []
    for name in names:
        build = WORKLOADS[name]
        try:
            e_step = _step_fn(ember, build)
        except (AttributeError, NotImplementedError) as e:
            rows.append({"name": name, "ember_ms": float("nan"), "torch_ms": float("nan"), "ratio": float("nan"),
                         "note": f"ember lacks {e}"})
            continue
        t_step = _step_fn(torch, build) if torch else None
        steps = 1 if quick else (3 if name == "wide_mlp" else 10)
        reps = 1 if quick else 5
        e_step()
        t_step and t_step()
        e_t, t_t = [], []
        for _ in range(reps):
            t0 = time.perf_counter()
            for _ in range(steps):
                e_step()
            e_t.append((time.perf_counter() - t0) / steps * 1e3)
            if t_step:
                t0 = time.perf_counter()
                for _ in range(steps):
                    t_step()
                t_t.append((time.perf_counter() - t0) / steps * 1e3)
        e, t = statistics.median(e_t), (statistics.median(t_t) if t_t else float("nan"))
        rows.append({"name": name, "ember_ms": e, "torch_ms": t, "ratio": e / t if t_t else float("nan"), "note": ""})
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one step each (a smoke test)")
    p.add_argument("--only", default=",".join(WORKLOADS))
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    try:
        import torch
        if args.threads:
            torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    rows = run(args.only.split(","), args.quick, torch)
    print(f"{'workload':16s} {'ember ms/step':>14s} {'PyTorch ms/step':>16s} {'ratio':>7s}")
    for r in rows:
        print(f"{r['name']:16s} {r['ember_ms']:14.2f} {r['torch_ms']:16.2f} {r['ratio']:7.2f} {r['note']}")


if __name__ == "__main__":
    main()
