"""Tensor repr/str against PyTorch's, string for string (``torch.`` read as ``ember.``)."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from parity import torch_or_skip

_rng = np.random.default_rng(1234)
_R = {
    "small": _rng.standard_normal((3, 30)),
    "big": _rng.standard_normal((40, 50)),
    "cube": _rng.standard_normal((4, 5, 6)),
    "large3": _rng.standard_normal((12, 10, 11)),
    "range": np.arange(2000, dtype=np.float64),
    "mixed": _rng.standard_normal(7) * np.array([1e-3, 1, 10, 100, 1000, 1e4, 1e5]),
    "cplx": _rng.standard_normal(20) + 1j * _rng.standard_normal(20),
}

# (id, data, dtype name or None, requires_grad)
CASES = [
    ("ints", [1, 2, 3], None, False),
    ("neg_ints", [-1, 20, -300], None, False),
    ("int_valued_floats", [1., 2., 3.], None, False),
    ("fractions", [1.5, 2.25, -3.], None, False),
    ("small_fractions", [0.1, 0.01, 0.001], None, False),
    ("tiny", [1e-5, 1.], None, False),
    ("tiny_only", [1e-10], None, False),
    ("huge", [1e10, 1.], None, False),
    ("huge_int_valued", [123456789., 1.], None, False),
    ("huge_range", [1e20, 1e-20], None, False),
    ("nan", [float("nan"), 1.], None, False),
    ("nan_only", [float("nan")], None, False),
    ("inf", [float("inf"), -float("inf"), 0.5], None, False),
    ("neg_zero", [-0.0, 1.0], None, False),
    ("zeros", [0., 0.], None, False),
    ("bool", [True, False], None, False),
    ("scalar_float", 3.5, None, False),
    ("scalar_int", 3, None, False),
    ("scalar_bool", True, None, False),
    ("scalar_tiny", 1e-7, None, False),
    ("matrix", [[1., 2.], [3., 4.]], None, False),
    ("cube_int", [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], None, False),
    ("complex", [1 + 2j, 3 - 4j], None, False),
    ("complex_frac", [1.5 + 2j, -3.25 - 4j], None, False),
    ("complex_scalar", 2 + 3j, None, False),
    ("complex_many", "cplx", None, False),
    ("wrap_floats", "small", None, False),
    ("wrap_ints", list(range(-50, 50)), None, False),
    ("summarised_1d", "range", None, False),
    ("summarised_2d", "big", None, False),
    ("cube_floats", "cube", None, False),
    ("summarised_3d", "large3", None, False),
    ("mixed_scale", "mixed", None, False),
    ("summarised_ints", list(range(3000)), None, False),
    ("f64", [1.5, 2.], "float64", False),
    ("f16", [1.5, 2.], "float16", False),
    ("f16_inf", [1e10, 1.], "float16", False),
    ("i32", [1, 2], "int32", False),
    ("u8", [1, 255], "uint8", False),
    ("i8", [-1, 127], "int8", False),
    ("c128", [1 + 1j], "complex128", False),
    ("requires_grad", [1., 2.], None, True),
    ("requires_grad_f64", [[1., 2.], [3., 4.]], "float64", True),
    ("requires_grad_long", "small", None, True),
]


def _make(m, data, dtype, requires_grad):
    if isinstance(data, str):
        data = _R[data]
    kw = {}
    if dtype is not None:
        kw["dtype"] = getattr(m, dtype)
    return m.tensor(data, requires_grad=requires_grad, **kw)


def _same(e, t):
    assert repr(e) == repr(t).replace("torch.", "ember."), f"\nember:\n{e!r}\ntorch:\n{t!r}"
    assert str(e) == str(t).replace("torch.", "ember.")


@pytest.mark.parametrize("name,data,dtype,rg", CASES, ids=[c[0] for c in CASES])
def test_repr_matches_torch(name, data, dtype, rg):
    torch = torch_or_skip()
    _same(_make(ember, data, dtype, rg), _make(torch, data, dtype, rg))


EMPTY = [((0,), "float32"), ((0,), "float64"), ((0, 3), "float32"), ((2, 0), "int64"), ((0, 3, 1), "bool"),
         ((0,), "int32")]


@pytest.mark.parametrize("shape,dtype", EMPTY)
def test_empty_repr(shape, dtype):
    torch = torch_or_skip()
    _same(ember.zeros(shape, dtype=getattr(ember, dtype)), torch.zeros(shape, dtype=getattr(torch, dtype)))


def test_grad_fn_suffix():
    torch = torch_or_skip()
    e = ember.tensor([1., 2.], requires_grad=True) * 2
    t = torch.tensor([1., 2.], requires_grad=True) * 2
    _same(e, t)
    assert "grad_fn=<MulBackward0>" in repr(e)


def test_suffix_wraps_at_linewidth():
    torch = torch_or_skip()
    # a last line long enough that the dtype/grad suffixes move to new lines
    data = np.linspace(-1, 1, 14).reshape(2, 7) + 0.123
    for rg in (False, True):
        _same(ember.tensor(data, requires_grad=rg), torch.tensor(data, requires_grad=rg))
        _same(ember.tensor(data.astype(np.float16)), torch.tensor(data.astype(np.float16)))
    long_row = np.arange(1, 13, dtype=np.float64) * 1.111
    _same(ember.tensor(long_row, requires_grad=True), torch.tensor(long_row, requires_grad=True))


def test_default_dtype_float64_changes_suffixes():
    torch = torch_or_skip()
    prev = torch.get_default_dtype()
    try:
        ember.set_default_dtype(ember.float64)
        torch.set_default_dtype(torch.float64)
        for data in ([1.5, 2.], [1 + 2j]):
            _same(ember.tensor(data), torch.tensor(data))
            _same(ember.tensor(data, dtype=ember.float32 if isinstance(data[0], float) else ember.complex64),
                  torch.tensor(data, dtype=torch.float32 if isinstance(data[0], float) else torch.complex64))
        _same(ember.zeros(0), torch.zeros(0))
    finally:
        torch.set_default_dtype(prev)


OPTION_SETS = [
    dict(precision=2),
    dict(precision=8),
    dict(threshold=5),
    dict(threshold=5, edgeitems=1),
    dict(threshold=5, edgeitems=0),
    dict(linewidth=40),
    dict(linewidth=200),
    dict(sci_mode=True),
    dict(sci_mode=False),
    dict(profile="short"),
    dict(profile="full"),
]


@pytest.mark.parametrize("opts", OPTION_SETS, ids=[",".join(f"{k}={v}" for k, v in o.items()) for o in OPTION_SETS])
def test_printoptions(opts):
    torch = torch_or_skip()
    datas = [_R["small"], _R["range"], _R["mixed"], [0., 0.], [1, 2, 3], _R["cube"], [1.5, 2.], [1e-9, 1.],
             _R["cplx"][:4]]
    try:
        ember.set_printoptions(**opts)
        torch.set_printoptions(**opts)
        for data in datas:
            _same(ember.tensor(data), torch.tensor(data))
        assert ember.get_printoptions()["sci_mode"] == opts.get("sci_mode")
    finally:
        ember.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert ember.get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                                        "sci_mode": None}


def test_full_profile_prints_everything():
    try:
        ember.set_printoptions(profile="full")
        s = repr(ember.arange(2000))
        assert "..." not in s and "1999" in s and " 1000," in s
    finally:
        ember.set_printoptions(profile="default")
    assert "..." in repr(ember.arange(2000))


def test_format_of_0d_tensor():
    assert f"{ember.tensor(2.5):.2f}" == "2.50"
    assert f"{ember.tensor(3)}" == "3"
