"""Parity helpers: run the same computation in ember and PyTorch and compare.

Tests import ``torch`` through ``torch_or_skip()`` so the suite skips cleanly without it.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pytest

import ember


def torch_or_skip():
    return pytest.importorskip("torch")


def dtype_name(x: Any) -> str:
    """'float32' for ember.float32 and torch.float32 alike."""
    return str(x).split(".")[-1]


def to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, ember.Tensor):
        return x.detach().numpy()
    return x.detach().cpu().numpy()


def _flat(x: Any) -> list:
    if isinstance(x, (tuple, list)):
        out = []
        for y in x:
            out.extend(_flat(y))
        return out
    return [x]


def assert_parity(ember_fn: Callable, torch_fn: Callable, arrays: Sequence[Any], *, grad: bool = True,
                  atol: float = 1e-6, rtol: float = 1e-5, seed: int = 0, check_dtype: bool = True) -> None:
    """Call both functions on the same inputs; compare outputs (values, shapes, dtypes) and gradients.

    ``arrays`` may hold NumPy arrays (become tensors; float ones require grad when ``grad``) and
    plain Python values (passed through).
    """
    torch = torch_or_skip()
    e_in, t_in = [], []
    for a in arrays:
        if isinstance(a, np.ndarray):
            req = grad and a.dtype.kind == "f"
            e_in.append(ember.tensor(a, requires_grad=req))
            t_in.append(torch.tensor(a, requires_grad=req))
        else:
            e_in.append(a)
            t_in.append(a)
    e_out = _flat(ember_fn(*e_in))
    t_out = _flat(torch_fn(*t_in))
    assert len(e_out) == len(t_out)
    for e, t in zip(e_out, t_out):
        if isinstance(t, torch.Tensor):
            assert isinstance(e, ember.Tensor), f"expected a tensor, got {type(e).__name__}"
            assert tuple(e.shape) == tuple(t.shape), f"shape {tuple(e.shape)} != torch {tuple(t.shape)}"
            if check_dtype:
                assert dtype_name(e.dtype) == dtype_name(t.dtype), f"dtype {e.dtype} != torch {t.dtype}"
            np.testing.assert_allclose(to_numpy(e).astype(np.float64) if e.dtype is not ember.bool else to_numpy(e),
                                       to_numpy(t).astype(np.float64) if t.dtype != torch.bool else to_numpy(t),
                                       atol=atol, rtol=rtol, equal_nan=True)
        else:
            assert e == t or (isinstance(t, float) and np.isclose(e, t, atol=atol, rtol=rtol))
    if not grad:
        return
    e_diff = [x for x in e_in if isinstance(x, ember.Tensor) and x.requires_grad]
    t_diff = [x for x in t_in if isinstance(x, torch.Tensor) and x.requires_grad]
    outs = [(e, t) for e, t in zip(e_out, t_out) if isinstance(t, torch.Tensor) and t.requires_grad]
    if not e_diff or not outs:
        return
    rng = np.random.default_rng(seed)
    e_loss, t_loss = 0, 0
    for e, t in outs:
        w = rng.standard_normal(tuple(t.shape)).astype(to_numpy(t).dtype)
        e_loss = e_loss + (e * ember.tensor(w)).sum()
        t_loss = t_loss + (t * torch.tensor(w)).sum()
    e_g = ember.autograd.grad(e_loss, e_diff, allow_unused=True)
    t_g = torch.autograd.grad(t_loss, t_diff, allow_unused=True)
    for eg, tg in zip(e_g, t_g):
        if tg is None:
            assert eg is None or not np.any(to_numpy(eg))
            continue
        assert eg is not None, "ember returned no gradient where torch has one"
        np.testing.assert_allclose(to_numpy(eg), to_numpy(tg), atol=atol * 10, rtol=rtol * 10)


def assert_same_error(ember_fn: Callable[[], Any], torch_fn: Callable[[], Any]) -> type:
    """Both calls raise, and ember raises the same exception type as PyTorch (or a subclass of it)."""
    torch_or_skip()
    with pytest.raises(Exception) as t_exc:
        torch_fn()
    with pytest.raises(Exception) as e_exc:
        ember_fn()
    assert isinstance(e_exc.value, t_exc.type), \
        f"ember raised {type(e_exc.value).__name__}: {e_exc.value}; torch raised {t_exc.type.__name__}: {t_exc.value}"
    return t_exc.type
