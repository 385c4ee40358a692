"""A custom ``autograd.Function``: the Legendre polynomial P3 with its own backward, trained like the cubic.

The third program of PyTorch's "Learning PyTorch with Examples": the model is
``y = a + b * P3(c + d * x)`` with ``P3(z) = (5 z^3 - 3 z) / 2``. ``run`` takes the library as an
argument (``torch`` or ``ember``); standalone it runs on ember::

    python examples/tutorials/legendre_function.py
"""
from __future__ import annotations

import math
from typing import Any


def make_legendre(torch: Any) -> Any:
    """The Function class for the given library (it must subclass that library's Function)."""

    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)   # P3'(z) = (15 z^2 - 3) / 2

    return LegendrePolynomial3


def run(torch: Any, steps: int = 2000, learning_rate: float = 5e-6, verbose: bool = True) -> dict:
    """Train; return the logged ``(step, loss)`` pairs and the final coefficients."""
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    # the tutorial's initial values: far enough from the answer to show convergence
    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
    P3 = make_legendre(torch).apply

    log = []
    for t in range(steps):
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            log.append((t, loss.item()))
            if verbose:
                print(t, loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad.zero_()   # zeroing in place works as well as setting None

    coeffs = [a.item(), b.item(), c.item(), d.item()]
    if verbose:
        print(f"Result: y = {coeffs[0]} + {coeffs[1]} * P3({coeffs[2]} + {coeffs[3]} x)")
    return {"log": log, "coeffs": coeffs}


if __name__ == "__main__":
    import ember as torch_like
    run(torch_like)
