"""Fit a cubic to ``sin(x)`` with autograd: ``requires_grad=True``, ``loss.backward()``, updates under ``no_grad``.

The second program of PyTorch's "Learning PyTorch with Examples". ``run`` takes the library
as an argument (``torch`` or ``ember``); standalone it runs on ember::

    python examples/tutorials/polynomial_autograd.py
"""
from __future__ import annotations

import math
from typing import Any

INIT = (0.1, -0.2, 0.3, -0.05)


def run(torch: Any, steps: int = 2000, learning_rate: float = 1e-6, verbose: bool = True) -> dict:
    """Train; return the logged ``(step, loss)`` pairs and the final coefficients."""
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a, b, c, d = (torch.tensor(v, dtype=dtype, requires_grad=True) for v in INIT)

    log = []
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            log.append((t, loss.item()))
            if verbose:
                print(t, loss.item())
        # autograd computes d loss / d {a, b, c, d} into their .grad
        loss.backward()
        with torch.no_grad():  # the update itself must not be recorded
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            # gradients accumulate: reset them before the next backward
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None

    coeffs = [a.item(), b.item(), c.item(), d.item()]
    if verbose:
        print(f"Result: y = {coeffs[0]} + {coeffs[1]} x + {coeffs[2]} x^2 + {coeffs[3]} x^3")
    return {"log": log, "coeffs": coeffs}


if __name__ == "__main__":
    import ember as torch_like
    run(torch_like)
