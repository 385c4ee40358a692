"""``gradcheck`` and ``gradgradcheck``: compare autograd with central finite differences.

Use float64 inputs. ``gradcheck`` builds the full Jacobian both ways (one backward per
output element, two forwards per input element), so keep the inputs small.

>>> import ember
>>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
>>> ember.autograd.gradcheck(lambda t: (t * t).sin(), (x,))
True
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _outputs(func: Callable, inputs: tuple) -> tuple:
    from .._tensor import Tensor
    return tuple(o for o in _tuple(func(*inputs)) if isinstance(o, Tensor))


def numerical_jacobian(func: Callable, inputs: tuple, eps: float = 1e-6) -> list:
    """``J[i][j]`` = d output j / d input i as a (numel_in, numel_out) array, by central differences."""
    from .._tensor import Tensor
    jac = []
    if True:  # grad mode stays as it is: gradgradcheck's function itself calls autograd
        for x in inputs:
            if not (isinstance(x, Tensor) and x._requires_grad):
                jac.append(None)
                continue
            flat = x._data.reshape(-1) if x._data.flags.c_contiguous else None
            outs0 = _outputs(func, inputs)
            cols = np.zeros((x._data.size, sum(o._data.size for o in outs0)))
            for k in range(x._data.size):
                idx = np.unravel_index(k, x._data.shape)
                orig = x._data[idx].item()
                x._data[idx] = orig + eps
                plus = np.concatenate([o._host().astype(np.float64).ravel() for o in _outputs(func, inputs)]
                                      or [np.zeros(0)])
                x._data[idx] = orig - eps
                minus = np.concatenate([o._host().astype(np.float64).ravel() for o in _outputs(func, inputs)]
                                       or [np.zeros(0)])
                x._data[idx] = orig
                cols[k] = (plus - minus) / (2 * eps)
            del flat
            jac.append(cols)
    return jac


def analytical_jacobian(func: Callable, inputs: tuple, create_graph: bool = False) -> list:
    """The Jacobians from autograd: one ``autograd.grad`` call per output element."""
    from .._tensor import Tensor, _wrap
    from . import grad as autograd_grad
    outs = _outputs(func, inputs)
    diff_inputs = [x for x in inputs if isinstance(x, Tensor) and x._requires_grad]
    n_out = sum(o._data.size for o in outs)
    jac = [np.zeros((x._data.size, n_out)) for x in diff_inputs]
    col = 0
    for o in outs:
        for k in range(o._data.size):
            if not o._requires_grad:
                col += 1
                continue
            g = np.zeros(o._data.shape, o._data.dtype)
            g.reshape(-1)[k] = 1
            grads = autograd_grad([o], diff_inputs, [_wrap(g, o._device)], retain_graph=True, allow_unused=True)
            for j, gi in enumerate(grads):
                if gi is not None:
                    if gi._data.shape != diff_inputs[j]._data.shape:
                        raise GradcheckError(f"Gradient has wrong shape {tuple(gi.shape)} for input of shape "
                                             f"{tuple(diff_inputs[j].shape)}")
                    jac[j][:, col] = gi._host().astype(np.float64).ravel()
            col += 1
    full: list = []
    it = iter(jac)
    for x in inputs:
        full.append(next(it) if isinstance(x, Tensor) and x._requires_grad else None)
    return full


def gradcheck(func: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False, fast_mode: bool = False,
              masked: Any = None) -> bool:
    """True when autograd's Jacobian matches central differences within ``atol + rtol * |numerical|``."""
    inputs = _tuple(inputs)
    from .._tensor import Tensor
    for x in inputs:
        if isinstance(x, Tensor) and x._requires_grad and x._data.dtype != np.float64:
            import warnings
            warnings.warn("Input #0 requires gradient and is not a double precision floating point. This check "
                          "will likely fail if all the inputs are not of double precision floating point.",
                          UserWarning, stacklevel=2)
    num = numerical_jacobian(func, inputs, eps)
    ana = analytical_jacobian(func, inputs)
    for i, (n, a) in enumerate(zip(num, ana)):
        if n is None:
            continue
        if not np.allclose(a, n, atol=atol, rtol=rtol, equal_nan=True):
            if raise_exception:
                raise GradcheckError(f"Jacobian mismatch for output 0 with respect to input {i},\n"
                                     f"numerical:{n}\nanalytical:{a}\n")
            return False
    return True


def gradgradcheck(func: Callable, inputs: Any, grad_outputs: Any = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """Check second derivatives: gradcheck of the function ``(inputs, v) -> vjp(func, inputs, v)``."""
    from .._tensor import Tensor, _wrap
    from . import grad as autograd_grad
    inputs = _tuple(inputs)
    outs = _outputs(func, inputs)
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = tuple(_wrap(rng.standard_normal(o._data.shape).astype(o._data.dtype), o._device)
                             .requires_grad_(True) for o in outs if o._requires_grad)
    grad_outputs = _tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]

    def vjp(*args: Any) -> tuple:
        xs, vs = args[:n_in], args[n_in:]
        os_ = [o for o in _outputs(func, xs) if o._requires_grad]
        gs = autograd_grad(os_, [xs[i] for i in diff_idx], list(vs), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(vjp, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
