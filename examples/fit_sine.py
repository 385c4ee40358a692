"""Fit a cubic polynomial to sin(x) with ember's autograd (the classic PyTorch warm-up).

    python examples/fit_sine.py --steps 2000

Shows the dynamic graph at work: every step builds the graph anew, ``loss.backward()``
fills ``.grad``, and the update runs under ``no_grad``. A progress bar reports the loss.
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import ember


def progress(step: int, total: int, loss: float, start: float, width: int = 30) -> None:
    done = int(width * step / total)
    rate = step / max(time.perf_counter() - start, 1e-9)
    sys.stdout.write(f"\r[{'#' * done}{'.' * (width - done)}] {step}/{total} loss {loss:10.4f} "
                     f"({rate:,.0f} steps/s)")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--lr", type=float, default=1e-6)
    args = p.parse_args(argv)

    ember.manual_seed(0)
    x = ember.linspace(-math.pi, math.pi, 2000)
    y = ember.sin(x)
    a, b, c, d = (ember.randn((), requires_grad=True) for _ in range(4))
    start = time.perf_counter()
    loss_value = float("nan")
    for step in range(1, args.steps + 1):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with ember.no_grad():
            for p_ in (a, b, c, d):
                p_ -= args.lr * p_.grad
                p_.grad = None
        loss_value = loss.item()
        if step % 50 == 0 or step == args.steps:
            progress(step, args.steps, loss_value, start)
    print(f"\nResult: y = {a.item():.4f} + {b.item():.4f} x + {c.item():.4f} x^2 + {d.item():.4f} x^3")
    return loss_value


if __name__ == "__main__":
    main()
