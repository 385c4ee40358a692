"""Fit ``y = a + b x + c x^2 + d x^3`` to ``sin(x)`` with raw tensors and hand-written gradients.

The first program of PyTorch's "Learning PyTorch with Examples", written against the
PyTorch API. ``run`` takes the library as an argument, so the same source runs with
``import torch`` and with ``import ember as torch``; run standalone it uses ember::

    python examples/tutorials/polynomial_tensor.py

The weights start from fixed values (not from a random generator) so that both libraries
print the same numbers.
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
    a, b, c, d = (torch.tensor(v, dtype=dtype) for v in INIT)

    log = []
    for t in range(steps):
        # forward pass: predicted y
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum().item()
        if t % 100 == 99:
            log.append((t, loss))
            if verbose:
                print(t, loss)
        # backward pass by hand: d loss / d y_pred, then the chain rule for each coefficient
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d

    coeffs = [a.item(), b.item(), c.item(), d.item()]
    if verbose:
        print(f"Result: y = {coeffs[0]} + {coeffs[1]} x + {coeffs[2]} x^2 + {coeffs[3]} x^3")
    return {"log": log, "coeffs": coeffs}


if __name__ == "__main__":
    import ember as torch_like
    run(torch_like)
