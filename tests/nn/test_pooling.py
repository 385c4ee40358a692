"""Pooling: functional ops through the harness (NumPy references for max/avg pooling), PyTorch parity of
values, indices and gradients for every module and mode, reprs and error types."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from harness import OpSpec, cases, check_op
from parity import assert_same_error, torch_or_skip


def _ref_pool(x, k, s, p, reduce, nd, ceil=False, count_include_pad=True):
    """Pooling by explicit loops over output positions (small shapes only)."""
    k, s, p = [(v,) * nd if isinstance(v, int) else tuple(v) for v in (k, s, p)]
    sp = x.shape[2:]
    out = []
    for n, kk, ss, pp in zip(sp, k, s, p):
        span = n + 2 * pp - kk
        o = (-(-span // ss) if ceil else span // ss) + 1
        if ceil and (o - 1) * ss >= n + pp:
            o -= 1
        out.append(o)
    y = np.zeros(x.shape[:2] + tuple(out))
    for pos in np.ndindex(*out):
        lo = [q * ss - pp for q, ss, pp in zip(pos, s, p)]
        hi = [min(a + kk, n + pp) for a, kk, n, pp in zip(lo, k, sp, p)]
        size = np.prod([b - a for a, b in zip(lo, hi)])
        lo_c = [max(a, 0) for a in lo]
        hi_c = [min(b, n) for b, n in zip(hi, sp)]
        win = x[(slice(None), slice(None)) + tuple(slice(a, b) for a, b in zip(lo_c, hi_c))]
        win = win.reshape(x.shape[:2] + (-1,))
        if reduce == "max":
            y[(slice(None), slice(None)) + pos] = win.max(-1)
        else:
            div = size if count_include_pad else win.shape[-1]
            y[(slice(None), slice(None)) + pos] = win.sum(-1) / div
    return y


def _spec(name, fn, ref, shape, **kw):
    return OpSpec(name, lambda x: fn(x, **kw), ref, [(shape,)])


SPECS = [
    _spec("max_pool1d", F.max_pool1d, lambda x: _ref_pool(x, 2, 2, 0, "max", 1), (2, 3, 7), kernel_size=2),
    _spec("max_pool1d_pad_ceil", F.max_pool1d, lambda x: _ref_pool(x, 3, 2, 1, "max", 1, ceil=True), (2, 2, 8),
          kernel_size=3, stride=2, padding=1, ceil_mode=True),
    _spec("max_pool1d_dilation", F.max_pool1d, None, (1, 2, 9), kernel_size=2, stride=1, dilation=3, padding=1),
    _spec("max_pool2d", F.max_pool2d, lambda x: _ref_pool(x, 2, 2, 0, "max", 2), (2, 2, 4, 6), kernel_size=2),
    _spec("max_pool2d_overlap", F.max_pool2d, lambda x: _ref_pool(x, 3, (2, 1), 1, "max", 2), (1, 2, 5, 5),
          kernel_size=3, stride=(2, 1), padding=1),
    _spec("max_pool2d_unbatched_ceil", F.max_pool2d, lambda x: _ref_pool(x[None], 2, 2, 0, "max", 2, True)[0],
          (2, 5, 5), kernel_size=2, ceil_mode=True),
    _spec("max_pool3d", F.max_pool3d, lambda x: _ref_pool(x, 2, 1, 0, "max", 3), (1, 2, 3, 3, 3), kernel_size=2,
          stride=1),
    _spec("avg_pool1d", F.avg_pool1d, lambda x: _ref_pool(x, 3, 2, 1, "avg", 1), (2, 3, 7), kernel_size=3,
          stride=2, padding=1),
    _spec("avg_pool2d", F.avg_pool2d, lambda x: _ref_pool(x, 2, 2, 0, "avg", 2), (2, 2, 4, 6), kernel_size=2),
    _spec("avg_pool2d_nopad_count", F.avg_pool2d,
          lambda x: _ref_pool(x, 3, 2, 1, "avg", 2, ceil=True, count_include_pad=False), (1, 2, 6, 5),
          kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    _spec("avg_pool2d_ceil", F.avg_pool2d, lambda x: _ref_pool(x, 3, 2, 1, "avg", 2, ceil=True), (1, 2, 6, 6),
          kernel_size=3, stride=2, padding=1, ceil_mode=True),
    _spec("avg_pool2d_divisor", F.avg_pool2d, lambda x: _ref_pool(x, 2, 2, 0, "avg", 2) * 4 / 3, (1, 2, 4, 4),
          kernel_size=2, divisor_override=3),
    _spec("avg_pool3d", F.avg_pool3d, lambda x: _ref_pool(x, 2, 1, 1, "avg", 3), (1, 1, 3, 3, 2), kernel_size=2,
          stride=1, padding=1),
    _spec("adaptive_avg_pool1d", F.adaptive_avg_pool1d, None, (2, 3, 7), output_size=3),
    _spec("adaptive_avg_pool2d", F.adaptive_avg_pool2d, lambda x: x.mean((2, 3), keepdims=True), (2, 3, 4, 5),
          output_size=1),
    _spec("adaptive_avg_pool2d_odd", F.adaptive_avg_pool2d, None, (1, 2, 5, 7), output_size=(3, 4)),
    _spec("adaptive_avg_pool3d", F.adaptive_avg_pool3d, None, (1, 2, 3, 4, 5), output_size=(2, 3, None)),
    _spec("adaptive_max_pool1d", F.adaptive_max_pool1d, None, (2, 3, 7), output_size=3),
    _spec("adaptive_max_pool2d", F.adaptive_max_pool2d, lambda x: x.max((2, 3), keepdims=True), (2, 3, 4, 5),
          output_size=1),
    _spec("adaptive_max_pool2d_odd", F.adaptive_max_pool2d, None, (1, 2, 5, 7), output_size=(3, 4)),
    _spec("adaptive_max_pool3d", F.adaptive_max_pool3d, None, (1, 1, 3, 4, 5), output_size=2),
    OpSpec("lp_pool2d", lambda x: F.lp_pool2d(x, 2, 2), lambda x: np.sqrt(_ref_pool(x ** 2, 2, 2, 0, "avg", 2) * 4),
           [((1, 2, 4, 4),)], low=0.5, high=2.0),
    OpSpec("lp_pool1d", lambda x: F.lp_pool1d(x, 3, 3, 2), None, [((1, 2, 7),)], low=0.5, high=2.0),
    OpSpec("max_unpool2d", lambda x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2), None,
           [((1, 2, 4, 4),)]),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


def test_max_pool_ties_first_index():
    torch = torch_or_skip()
    x = np.ones((1, 1, 4, 4))
    ye, ie = F.max_pool2d(ember.tensor(x), 3, 1, 1, return_indices=True)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(ie.numpy(), it.numpy())
    assert ie.dtype == ember.int64


# ------------------------------------------------------------------------------ module parity
def _parity(t_mod, e_mod, x, dtype, extra=None):
    torch = torch_or_skip()
    atol = 1e-5 if dtype == np.float32 else 1e-10
    x = x.astype(dtype)
    xt, xe = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    yt, ye = t_mod(xt, *(extra[0] if extra else ())), e_mod(xe, *(extra[1] if extra else ()))
    if isinstance(yt, tuple):
        np.testing.assert_array_equal(ye[1].numpy(), yt[1].numpy())
        yt, ye = yt[0], ye[0]
    assert tuple(ye.shape) == tuple(yt.shape)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=atol)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(dtype)
    (yt * torch.tensor(g)).sum().backward()
    (ye * ember.tensor(g)).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), atol=atol * 10, rtol=atol * 10)


MODULE_CASES = [
    ("MaxPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 10)),
    ("MaxPool1d", (2,), dict(return_indices=True, dilation=2), (3, 9)),
    ("MaxPool2d", (2,), {}, (4, 8, 12, 12)),
    ("MaxPool2d", ((3, 2),), dict(stride=(2, 1), padding=(1, 0), return_indices=True), (2, 3, 7, 6)),
    ("MaxPool2d", (3,), dict(stride=2, ceil_mode=True, dilation=(1, 2)), (2, 2, 9, 10)),
    ("MaxPool3d", (2,), dict(stride=2, padding=1), (1, 2, 5, 4, 5)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 10)),
    ("AvgPool2d", (2,), {}, (4, 8, 12, 12)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False), (2, 3, 8, 9)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (3, 8, 9)),
    ("AvgPool2d", (2,), dict(divisor_override=3), (2, 3, 6, 6)),
    ("AvgPool3d", (2,), dict(stride=1, padding=1, count_include_pad=False), (1, 2, 3, 4, 3)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, 5),), {}, (2, 3, 7, 11)),
    ("AdaptiveAvgPool2d", ((None, 2),), {}, (3, 7, 5)),
    ("AdaptiveAvgPool3d", (2,), {}, (1, 2, 5, 3, 4)),
    ("AdaptiveMaxPool1d", (4,), dict(return_indices=True), (2, 3, 10)),
    ("AdaptiveMaxPool2d", ((3, 5),), dict(return_indices=True), (2, 3, 7, 11)),
    ("AdaptiveMaxPool2d", (1,), {}, (2, 3, 6, 6)),
    ("AdaptiveMaxPool3d", (2,), {}, (1, 2, 5, 3, 4)),
    ("LPPool1d", (2, 3), dict(stride=2), (2, 3, 9)),
    ("LPPool2d", (1.5, 2), dict(ceil_mode=True), (2, 3, 5, 5)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,args,kw,shape", MODULE_CASES)
def test_module_parity(cls, args, kw, shape, dtype):
    torch = torch_or_skip()
    t_mod, e_mod = getattr(torch.nn, cls)(*args, **kw), getattr(nn, cls)(*args, **kw)
    assert repr(e_mod) == repr(t_mod)
    x = np.random.default_rng(0).standard_normal(shape)
    if cls.startswith("LP"):
        x = np.abs(x) + 0.1
    _parity(t_mod, e_mod, x, dtype)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_parity(nd):
    torch = torch_or_skip()
    x = np.random.default_rng(0).standard_normal((2, 3) + (6,) * nd)
    pool = getattr(torch.nn.functional, f"max_pool{nd}d")
    _, idx = pool(torch.tensor(x), 2, return_indices=True)
    y = pool(torch.tensor(x), 2).numpy()
    for size in (None, (7,) * nd):
        t_mod, e_mod = getattr(torch.nn, f"MaxUnpool{nd}d")(2), getattr(nn, f"MaxUnpool{nd}d")(2)
        assert repr(e_mod) == repr(t_mod)
        _parity(t_mod, e_mod, y, np.float64, extra=((idx, size), (ember.tensor(idx.numpy()), size)))


@pytest.mark.parametrize("m", ["MaxPool2d(2)", "MaxPool1d(3, 2, 1, 2, True, True)", "MaxPool3d((2, 2, 2))",
                               "AvgPool2d(2)", "AvgPool1d(3, 2, 1, True, False)", "AvgPool2d(3, 2, 1, True, False, 2)",
                               "AvgPool3d(2)", "AdaptiveAvgPool2d(1)", "AdaptiveAvgPool2d((None, 3))",
                               "AdaptiveMaxPool2d(2, True)", "MaxUnpool2d(2)", "MaxUnpool1d(2, 1, 0)",
                               "LPPool2d(2, 3)", "LPPool1d(1.5, 3, 2)"])
def test_repr(m):
    torch = torch_or_skip()
    assert repr(eval("nn." + m)) == repr(eval("torch.nn." + m))


def test_errors():
    torch = torch_or_skip()
    import torch.nn.functional as TF
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5)).astype(np.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    cases = [
        (lambda: F.max_pool2d(e, 2, padding=2), lambda: TF.max_pool2d(t, 2, padding=2)),
        (lambda: F.max_pool2d(e, 2, stride=0), lambda: TF.max_pool2d(t, 2, stride=0)),
        (lambda: F.max_pool2d(e, 2, dilation=0), lambda: TF.max_pool2d(t, 2, dilation=0)),
        (lambda: F.max_pool2d(e, 6), lambda: TF.max_pool2d(t, 6)),
        (lambda: F.max_pool2d(ember.zeros(2, 2, 2, 2, 2), 2), lambda: TF.max_pool2d(torch.zeros(2, 2, 2, 2, 2), 2)),
        (lambda: F.max_pool2d(e, (2, 2, 2)), lambda: TF.max_pool2d(t, (2, 2, 2))),
        (lambda: F.avg_pool2d(e, 2, padding=2), lambda: TF.avg_pool2d(t, 2, padding=2)),
        (lambda: F.avg_pool2d(e, 6), lambda: TF.avg_pool2d(t, 6)),
        (lambda: F.adaptive_avg_pool2d(ember.zeros(5), 2), lambda: TF.adaptive_avg_pool2d(torch.zeros(5), 2)),
        (lambda: F.adaptive_avg_pool2d(e, (2, 2, 2)), lambda: TF.adaptive_avg_pool2d(t, (2, 2, 2))),
        (lambda: F.adaptive_max_pool2d(ember.zeros(1, 2, 0, 3), 2),
         lambda: TF.adaptive_max_pool2d(torch.zeros(1, 2, 0, 3), 2)),
        (lambda: F.adaptive_avg_pool2d(e, -1), lambda: TF.adaptive_avg_pool2d(t, -1)),
        (lambda: F.max_unpool2d(e, ember.zeros(1, 2, 5, 5, dtype=ember.int64), 2, output_size=(3, 3)),
         lambda: TF.max_unpool2d(t, torch.zeros(1, 2, 5, 5, dtype=torch.long), 2, output_size=(3, 3))),
    ]
    for ef, tf in cases:
        assert_same_error(ef, tf)


@pytest.mark.parametrize("call", ["max_pool2d(v, 2, return_indices=True)",
                                  "max_pool2d(v, 3, 2, 1, ceil_mode=True, return_indices=True)",
                                  "adaptive_max_pool2d(v, (4, 5), return_indices=True)"])
def test_max_pool_nan_parity(call):
    torch = torch_or_skip()
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 7))
    x[0, 0, 1, 1] = x[0, 0, 0, 1] = x[0, 1, 3, 3] = np.nan
    ye, ie = eval("F." + call, {"F": F, "v": ember.tensor(x)})
    yt, it = eval("F." + call, {"F": torch.nn.functional, "v": torch.tensor(x)})
    np.testing.assert_allclose(ye.numpy(), yt.numpy(), equal_nan=True)
    np.testing.assert_array_equal(ie.numpy(), it.numpy())
