"""Hessian-vector products by double backward, used for curvature-aware steepest descent.


``g = autograd.grad(loss, w, create_graph=True)`` records the graph of the gradient itself, so
``autograd.grad((g * v).sum(), w)`` is ``H v`` without ever forming ``H``. Each step moves along
``-g`` by the step that minimises the local quadratic model: ``lr = (g.g) / (g.H g)``.
``run`` takes the library as an argument (``torch`` or ``ember``); standalone it runs on ember::

    python examples/tutorials/hessian_vector_product.py
"""
from __future__ import annotations

from typing import Any


def run(torch: Any, steps: int = 10, verbose: bool = True) -> dict:
    """Minimise a convex loss with HVP-based step sizes; return losses, HVP checks and the final weights."""
    dtype = torch.float64
    M = torch.linspace(-1.0, 1.0, 40, dtype=dtype).reshape(8, 5).sin() * 2
    rhs = torch.linspace(1.0, -0.6, 5, dtype=dtype)
    w = torch.linspace(0.2, 1.0, 5, dtype=dtype).requires_grad_()

    def loss_fn(w: Any) -> Any:
        # convex: a least-squares part, a linear term and a small quartic (so the Hessian depends on w)
        return 0.5 * (M @ w).pow(2).sum() - (rhs * w).sum() + 0.1 * (w ** 4).sum()

    def hvp(w: Any, v: Any) -> Any:
        loss = loss_fn(w)
        (g,) = torch.autograd.grad(loss, w, create_graph=True)    # g carries its own graph
        (hv,) = torch.autograd.grad((g * v).sum(), w)             # d(g . v)/dw = H v
        return hv

    # the Hessian is symmetric: u . (H v) == v . (H u)
    u = torch.linspace(1.0, -1.0, 5, dtype=dtype)
    v = torch.linspace(0.3, 0.7, 5, dtype=dtype)
    symmetry = [(u * hvp(w, v)).sum().item(), (v * hvp(w, u)).sum().item()]

    losses = []
    for step in range(steps):
        loss = loss_fn(w)
        (g,) = torch.autograd.grad(loss, w)
        curvature = (g * hvp(w, g)).sum()
        lr = (g * g).sum() / curvature
        with torch.no_grad():
            w -= lr * g
        losses.append(loss.item())
        if verbose:
            print(f"step {step}: loss {loss.item():.10f}, step size {lr.item():.6f}")

    final = loss_fn(w).item()
    if verbose:
        print(f"final loss {final:.10f}; u.Hv = {symmetry[0]:.10f}, v.Hu = {symmetry[1]:.10f}")
    return {"losses": losses, "final": final, "symmetry": symmetry, "w": w.detach().tolist()}


if __name__ == "__main__":
    import ember as torch_like
    run(torch_like)
