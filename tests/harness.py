"""The one op-test harness: every differentiable op goes through ``check_op``.

A test module declares ``OpSpec``s (how to call the op in ember, a float64 NumPy
reference, the input shapes to try, the input domain) and parametrizes over
``cases(SPECS)``. For every shape set and layout (contiguous, non-contiguous) the harness

1. compares the float64 forward with the NumPy reference (and the float32 forward, looser);
2. compares autograd's Jacobian with central finite differences in float64 (``gradcheck``);
3. compares second derivatives the same way (``gradgradcheck``).

Shapes should include a 0-d case, a broadcasting case and an empty case where the op allows.
"""
from __future__ import annotations

import dataclasses
import zlib
from typing import Any, Callable, Sequence

import numpy as np
import pytest

import ember
from ember.autograd.gradcheck import gradcheck, gradgradcheck


@dataclasses.dataclass
class OpSpec:
    name: str
    op: Callable[..., Any]                 # op(*tensors) -> Tensor or tuple of tensors
    ref: Callable[..., Any] | None         # ref(*float64 arrays) -> array (None: skip the forward check)
    shapes: Sequence[tuple]                # each entry: one shape per tensor input
    low: float = -2.0                      # inputs are drawn uniformly from [low, high)
    high: float = 2.0
    grad: bool = True                      # check first derivatives
    gradgrad: bool = True                  # check second derivatives
    noncontig: bool = True                 # also run on non-contiguous views
    make: Callable[[np.random.Generator, tuple], list] | None = None  # custom inputs: (rng, shapes) -> arrays
    nondiff: tuple = ()                    # indices of inputs that never require grad (indices, masks)
    atol: float = 1e-7
    rtol: float = 1e-6
    grad_atol: float = 1e-5
    grad_rtol: float = 1e-3
    f32: bool = True                       # also compare a float32 run with the reference


def _rng(name: str, i: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{name}/{i}".encode()))


def _noncontig(a: np.ndarray) -> np.ndarray:
    """The same values in a strided (non-contiguous) layout."""
    if a.ndim == 0 or a.size == 0:
        return a
    big = np.zeros(a.shape + (2,), a.dtype)
    big[..., 0] = a
    return big[..., 0]


def cases(specs: Sequence[OpSpec]) -> list:
    out = []
    for spec in specs:
        for i, shapes in enumerate(spec.shapes):
            layouts = ["contig"]
            if spec.noncontig and any(len(s) > 0 and 0 not in s for s in shapes if isinstance(s, tuple)):
                layouts.append("noncontig")
            for layout in layouts:
                out.append(pytest.param(spec, i, layout, id=f"{spec.name}-{_sid(shapes)}-{layout}"))
    return out


def _sid(shapes: tuple) -> str:
    return "_".join("x".join(map(str, s)) if isinstance(s, tuple) and s else ("0d" if s == () else str(s))
                    for s in shapes)


def _inputs(spec: OpSpec, i: int) -> list:
    shapes = spec.shapes[i]
    rng = _rng(spec.name, i)
    if spec.make is not None:
        return [np.asarray(a) if not isinstance(a, (int, float)) else a for a in spec.make(rng, shapes)]
    return [rng.uniform(spec.low, spec.high, s) for s in shapes]


def _to_tensors(arrays: list, dtype: Any, layout: str, spec: OpSpec, grad: bool) -> list:
    out = []
    for k, a in enumerate(arrays):
        if not isinstance(a, np.ndarray):
            out.append(a)
            continue
        if a.dtype.kind == "f":
            a = a.astype(dtype)
        if layout == "noncontig":
            a = _noncontig(a)
        else:
            a = a.copy()
        t = ember.from_numpy(a)
        if grad and k not in spec.nondiff and t.is_floating_point():
            t.requires_grad_(True)
        out.append(t)
    return out


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, (tuple, list)) else [x]


def check_forward(spec: OpSpec, i: int, layout: str) -> None:
    arrays = _inputs(spec, i)
    if spec.ref is None:
        return
    expected = _as_list(spec.ref(*[a.copy() if isinstance(a, np.ndarray) else a for a in arrays]))
    got = _as_list(spec.op(*_to_tensors(arrays, np.float64, layout, spec, False)))
    assert len(got) == len(expected), f"{spec.name}: {len(got)} outputs, reference has {len(expected)}"
    for g, e in zip(got, expected):
        e = np.asarray(e)
        gv = g.detach().numpy() if isinstance(g, ember.Tensor) else np.asarray(g)
        assert gv.shape == e.shape, f"{spec.name}: shape {gv.shape} != reference {e.shape}"
        np.testing.assert_allclose(gv, e, rtol=spec.rtol, atol=spec.atol, err_msg=f"{spec.name} float64 forward")
    if spec.f32:
        got32 = _as_list(spec.op(*_to_tensors(arrays, np.float32, layout, spec, False)))
        for g, e in zip(got32, expected):
            gv = g.detach().numpy() if isinstance(g, ember.Tensor) else np.asarray(g)
            e = np.asarray(e)
            if gv.dtype.kind == "f":
                assert gv.dtype == np.float32, f"{spec.name}: float32 inputs gave {gv.dtype}"
            np.testing.assert_allclose(gv.astype(np.float64), e, rtol=2e-4, atol=2e-5,
                                       err_msg=f"{spec.name} float32 forward")


def check_backward(spec: OpSpec, i: int, layout: str) -> None:
    if not spec.grad:
        return
    tensors = _to_tensors(_inputs(spec, i), np.float64, layout, spec, True)
    if not any(isinstance(t, ember.Tensor) and t.requires_grad for t in tensors):
        return
    assert gradcheck(spec.op, tensors, atol=spec.grad_atol, rtol=spec.grad_rtol)


def check_double_backward(spec: OpSpec, i: int, layout: str) -> None:
    if not (spec.grad and spec.gradgrad):
        return
    tensors = _to_tensors(_inputs(spec, i), np.float64, layout, spec, True)
    if not any(isinstance(t, ember.Tensor) and t.requires_grad for t in tensors):
        return
    assert gradgradcheck(spec.op, tensors, atol=spec.grad_atol, rtol=spec.grad_rtol)


def check_op(spec: OpSpec, i: int, layout: str) -> None:
    """Forward, backward and double backward of one shape set in one layout."""
    check_forward(spec, i, layout)
    check_backward(spec, i, layout)
    check_double_backward(spec, i, layout)
