"""Convolutions: functional ops through the harness (with a loop-over-offsets NumPy reference), PyTorch
parity of the layers (outputs and input/weight/bias gradients), init distributions, state_dict keys,
reprs and error types."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from harness import OpSpec, cases, check_op
from parity import assert_same_error, torch_or_skip


# ------------------------------------------------------------------------------ NumPy references
def _ref_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct cross-correlation: one einsum per kernel offset (independent of ember's im2col)."""
    nd = w.ndim - 2
    s, d = (stride,) * nd if isinstance(stride, int) else stride, (dilation,) * nd if isinstance(dilation, int) \
        else dilation
    k = w.shape[2:]
    if padding == "same":
        tot = [dd * (kk - 1) for dd, kk in zip(d, k)]
        pads = [(t // 2, t - t // 2) for t in tot]
    elif padding == "valid":
        pads = [(0, 0)] * nd
    else:
        p = (padding,) * nd if isinstance(padding, int) else padding
        pads = [(pp, pp) for pp in p]
    x = np.pad(x, [(0, 0), (0, 0)] + pads)
    out = [(x.shape[2 + i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(nd)]
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    y = np.zeros((n, o) + tuple(out))
    for off in np.ndindex(*k):
        sl = tuple(slice(off[i] * d[i], off[i] * d[i] + s[i] * (out[i] - 1) + 1, s[i]) for i in range(nd))
        xs = x[(slice(None), slice(None)) + sl].reshape((n, groups, cg) + tuple(out))
        ws = w[(slice(None), slice(None)) + off].reshape(groups, o // groups, cg)
        y += np.einsum("ngc...,goc->ngo...", xs, ws).reshape((n, o) + tuple(out))
    if b is not None:
        y += b.reshape((-1,) + (1,) * nd)
    return y


def _ref_conv_t(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed conv by scattering each input position's weighted kernel (one einsum per offset)."""
    nd = w.ndim - 2
    tup = lambda v: (v,) * nd if isinstance(v, int) else tuple(v)  # noqa: E731
    s, p, op, d = tup(stride), tup(padding), tup(output_padding), tup(dilation)
    k = w.shape[2:]
    n, cin = x.shape[:2]
    cout_g = w.shape[1]
    sp = x.shape[2:]
    full = [(sp[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 + op[i] for i in range(nd)]
    y = np.zeros((n, cout_g * groups) + tuple(full))
    xg = x.reshape((n, groups, cin // groups) + sp)
    wg = w.reshape((groups, cin // groups, cout_g) + k)
    for off in np.ndindex(*k):
        sl = tuple(slice(off[i] * d[i], off[i] * d[i] + s[i] * (sp[i] - 1) + 1, s[i]) for i in range(nd))
        contrib = np.einsum("ngc...,gco->ngo...", xg, wg[(slice(None),) * 3 + off])
        y[(slice(None), slice(None)) + sl] += contrib.reshape((n, -1) + sp)
    y = y[(slice(None), slice(None)) + tuple(slice(p[i], full[i] - p[i]) for i in range(nd))]
    if b is not None:
        y = y + b.reshape((-1,) + (1,) * nd)
    return y


# ------------------------------------------------------------------------------ harness specs
def _conv_spec(nd, name, x_shape, w_shape, bias=True, **kw):
    fn = getattr(F, f"conv{nd}d")
    shapes = [(x_shape, w_shape, (w_shape[0],))] if bias else [(x_shape, w_shape)]
    if bias:
        return OpSpec(name, lambda x, w, b: fn(x, w, b, **kw),
                      lambda x, w, b: _ref_conv(x, w, b, **kw), shapes)
    return OpSpec(name, lambda x, w: fn(x, w, **kw), lambda x, w: _ref_conv(x, w, **kw), shapes)


def _convt_spec(nd, name, x_shape, w_shape, **kw):
    fn = getattr(F, f"conv_transpose{nd}d")
    cout = w_shape[1] * kw.get("groups", 1)
    return OpSpec(name, lambda x, w, b: fn(x, w, b, **kw), lambda x, w, b: _ref_conv_t(x, w, b, **kw),
                  [(x_shape, w_shape, (cout,))])


def _unbatched(nd, name, **kw):
    fn = getattr(F, f"conv{nd}d")
    return OpSpec(name, lambda x, w: fn(x, w, **kw), lambda x, w: _ref_conv(x[None], w, **kw)[0],
                  [((2,) + (5,) * nd, (3, 2) + (3,) * nd)])


SPECS = [
    _conv_spec(1, "conv1d", (2, 3, 7), (4, 3, 3)),
    _conv_spec(1, "conv1d_stride_pad_dil", (2, 2, 9), (3, 2, 3), stride=2, padding=2, dilation=2),
    _conv_spec(1, "conv1d_same_even", (1, 2, 6), (3, 2, 4), bias=False, padding="same"),
    _conv_spec(1, "conv1d_groups", (2, 4, 6), (6, 2, 2), groups=2, padding=1),
    _conv_spec(2, "conv2d", (2, 2, 5, 5), (3, 2, 3, 3)),
    _conv_spec(2, "conv2d_stride_pad", (1, 2, 6, 5), (3, 2, 3, 2), stride=(2, 1), padding=(1, 0)),
    _conv_spec(2, "conv2d_dilation", (1, 2, 7, 7), (2, 2, 3, 3), bias=False, dilation=(2, 1), padding=1),
    _conv_spec(2, "conv2d_same", (1, 2, 5, 4), (2, 2, 3, 2), padding="same", dilation=(1, 2)),
    _conv_spec(2, "conv2d_valid", (1, 2, 4, 4), (2, 2, 2, 2), bias=False, padding="valid"),
    _conv_spec(2, "conv2d_groups", (2, 4, 4, 4), (4, 2, 2, 2), groups=2, stride=2, padding=1),
    _conv_spec(2, "conv2d_depthwise", (1, 3, 4, 4), (3, 1, 3, 3), bias=False, groups=3, padding=1),
    _conv_spec(2, "conv2d_wide", (1, 8, 4, 4), (3, 8, 3, 3), bias=False, padding=1),  # big-GEMM path
    _conv_spec(3, "conv3d", (1, 2, 4, 4, 3), (2, 2, 2, 2, 2)),
    _conv_spec(3, "conv3d_stride_groups", (1, 2, 5, 4, 4), (2, 1, 2, 2, 2), bias=False, stride=2, groups=2,
               padding=(1, 0, 1)),
    _unbatched(1, "conv1d_unbatched"),
    _unbatched(2, "conv2d_unbatched", padding=1),
    _convt_spec(1, "conv_transpose1d", (2, 2, 4), (2, 3, 3)),
    _convt_spec(1, "conv_transpose1d_opad", (1, 2, 4), (2, 2, 3), stride=2, padding=1, output_padding=1),
    _convt_spec(2, "conv_transpose2d", (1, 2, 3, 3), (2, 2, 2, 3), stride=(2, 1), padding=(0, 1)),
    _convt_spec(2, "conv_transpose2d_groups_dil", (1, 4, 3, 3), (4, 1, 2, 2), groups=2, dilation=2,
                output_padding=1, stride=2),
    _convt_spec(2, "conv_transpose2d_wide", (1, 6, 3, 3), (6, 3, 3, 3), stride=2, output_padding=1),
    _convt_spec(3, "conv_transpose3d", (1, 2, 2, 3, 2), (2, 1, 2, 2, 2), stride=2, padding=(0, 1, 0)),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


# ------------------------------------------------------------------------------ module parity
def _copy_weights(t_mod, e_mod, dtype):
    e_mod.load_state_dict({k: ember.tensor(v.detach().numpy().astype(dtype)) for k, v in t_mod.state_dict().items()})


def _module_parity(t_mod, e_mod, x, dtype, call=None):
    torch = torch_or_skip()
    atol = 1e-5 if dtype == np.float32 else 1e-10
    if dtype == np.float64:
        t_mod = t_mod.double()
        e_mod = e_mod.double()
    _copy_weights(t_mod, e_mod, dtype)
    x = x.astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    yt = call(t_mod, xt) if call else t_mod(xt)
    ye = call(e_mod, xe) if call else e_mod(xe)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert str(ye.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=atol)
    gw = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(dtype)
    (yt * torch.tensor(gw)).sum().backward()
    (ye * ember.tensor(gw)).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), atol=atol * 10, rtol=atol * 10)
    t_params = dict(t_mod.named_parameters())
    for name, p in e_mod.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), atol=atol * 10, rtol=atol * 10,
                                   err_msg=name)


CONV_CASES = [
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=1), (2, 3, 11)),
    ("Conv1d", (2, 4, 4), dict(padding="same", padding_mode="reflect", dilation=2), (2, 2, 10)),
    ("Conv2d", (1, 8, 3), {}, (4, 1, 12, 12)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 2), groups=2, bias=False), (2, 4, 9, 8)),
    ("Conv2d", (3, 5, 3), dict(padding=2, padding_mode="replicate"), (2, 3, 6, 7)),
    ("Conv2d", (3, 5, 3), dict(padding=1, padding_mode="circular", dilation=(1, 2)), (2, 3, 6, 7)),
    ("Conv2d", (3, 5, 3), dict(padding="same", padding_mode="reflect"), (3, 6, 7)),
    ("Conv2d", (16, 8, 3), dict(padding="valid"), (2, 16, 8, 8)),
    ("Conv3d", (2, 3, 2), dict(stride=(1, 2, 1), padding=1), (2, 2, 4, 5, 4)),
    ("ConvTranspose1d", (3, 2, 3), dict(stride=2, output_padding=1), (2, 3, 5)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, groups=2, dilation=2, output_padding=1), (2, 4, 4, 5)),
    ("ConvTranspose2d", (2, 3, (2, 3)), dict(bias=False), (2, 3, 4)),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,args,kw,shape", CONV_CASES)
def test_module_parity(cls, args, kw, shape, dtype):
    torch = torch_or_skip()
    t_mod = getattr(torch.nn, cls)(*args, **kw)
    e_mod = getattr(nn, cls)(*args, **kw)
    x = np.random.default_rng(0).standard_normal(shape)
    _module_parity(t_mod, e_mod, x, dtype)


def test_conv_transpose_output_size():
    torch = torch_or_skip()
    t_mod, e_mod = torch.nn.ConvTranspose2d(3, 2, 3, stride=2), nn.ConvTranspose2d(3, 2, 3, stride=2)
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    for size in [(9, 9), (10, 10), (9, 10), [2, 2, 10, 9]]:
        _module_parity(t_mod, e_mod, x, np.float64, call=lambda m, v, s=size: m(v, output_size=s))
    assert_same_error(lambda: e_mod(ember.tensor(x), output_size=(12, 12)),
                      lambda: t_mod(torch.tensor(x), output_size=(12, 12)))


@pytest.mark.parametrize("cls,args,kw", [("Conv2d", (3, 8, 3), {}), ("Conv1d", (4, 6, 5), dict(groups=2)),
                                         ("Conv3d", (2, 4, (1, 2, 3)), dict(bias=False)),
                                         ("ConvTranspose2d", (4, 6, 3), dict(groups=2)),
                                         ("ConvTranspose1d", (2, 3, 4), dict(padding=1))])
def test_state_dict_and_repr(cls, args, kw):
    torch = torch_or_skip()
    t_mod = getattr(torch.nn, cls)(*args, **kw)
    e_mod = getattr(nn, cls)(*args, **kw)
    t_sd, e_sd = t_mod.state_dict(), e_mod.state_dict()
    assert list(e_sd.keys()) == list(t_sd.keys())
    for k in t_sd:
        assert tuple(e_sd[k].shape) == tuple(t_sd[k].shape)
    assert repr(e_mod) == repr(t_mod)


@pytest.mark.parametrize("cls,args,kw", [
    ("Conv2d", (1, 32, 3), {}), ("Conv2d", (4, 6, (3, 5), 2, "valid"), dict(groups=2, bias=False,
                                                                             padding_mode="reflect")),
    ("Conv1d", (2, 4, 3), dict(padding="same")), ("Conv3d", (2, 2, 3), dict(dilation=2, padding=(1, 2, 3))),
    ("ConvTranspose2d", (4, 6, 3, 2, 1, 1), dict(dilation=2)), ("ConvTranspose3d", (2, 2, 3), dict(bias=False)),
    ("Conv2d", (3, 3, 3), dict(padding_mode="circular", padding=1)),
])
def test_repr(cls, args, kw):
    torch = torch_or_skip()
    assert repr(getattr(nn, cls)(*args, **kw)) == repr(getattr(torch.nn, cls)(*args, **kw))


@pytest.mark.parametrize("cls,args,fan_in", [("Conv2d", (64, 128, 3), 64 * 9), ("Conv1d", (32, 64, 5), 160),
                                             ("Conv2d", (64, 128, 3, 1, 0, 1, 4), 16 * 9),
                                             ("ConvTranspose2d", (128, 64, 3), 64 * 9),
                                             ("Conv3d", (16, 32, 3), 16 * 27)])
def test_default_init(cls, args, fan_in):
    m = getattr(nn, cls)(*args)
    w = m.weight.detach().numpy()
    b = m.bias.detach().numpy()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) on fan_in
    assert np.abs(w).max() <= bound + 1e-7 and np.abs(w).max() > 0.95 * bound
    assert abs(w.mean()) < 0.05 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound
    assert np.abs(b).max() <= bound + 1e-7 and np.abs(b).max() > 0.5 * bound


def test_lazy_modules():
    torch = torch_or_skip()
    for e_cls, t_cls, shape in [(nn.LazyConv2d, torch.nn.LazyConv2d, (2, 3, 6, 6)),
                                (nn.LazyConv1d, torch.nn.LazyConv1d, (3, 6)),
                                (nn.LazyConvTranspose2d, torch.nn.LazyConvTranspose2d, (2, 3, 4, 4)),
                                (nn.LazyConv3d, torch.nn.LazyConv3d, (1, 2, 3, 3, 3))]:
        e, t = e_cls(4, 2), t_cls(4, 2)
        assert repr(e) == repr(t)
        ye, yt = e(ember.randn(*shape)), t(torch.randn(*shape))
        assert tuple(ye.shape) == tuple(yt.shape)
        assert repr(e) == repr(t) and type(e).__name__ == type(t).__name__
        assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in t.state_dict().items()]


def test_grad_fn_name_and_double_backward_chain():
    x = ember.randn(1, 2, 5, 5, dtype=ember.float64, requires_grad=True)
    w = ember.randn(3, 2, 3, 3, dtype=ember.float64, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert y.grad_fn.name() == "ConvolutionBackward0"
    gx, = ember.autograd.grad((y ** 2).sum(), x, create_graph=True)
    gw, = ember.autograd.grad(gx.sum(), w)
    assert gw.shape == w.shape and np.isfinite(gw.numpy()).all()


# ------------------------------------------------------------------------------ errors
def _errs(torch):
    import torch.nn.functional as TF
    x = np.random.default_rng(0).standard_normal((2, 4, 8, 8)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((6, 2, 3, 3)).astype(np.float32)
    e, t = ember.tensor, torch.tensor
    return [
        (lambda: F.conv2d(e(x[0, 0]), e(w), groups=2), lambda: TF.conv2d(t(x[0, 0]), t(w), groups=2)),
        (lambda: F.conv2d(e(x), e(w)), lambda: TF.conv2d(t(x), t(w))),
        (lambda: F.conv2d(e(x), e(w[:5]), groups=2), lambda: TF.conv2d(t(x), t(w[:5]), groups=2)),
        (lambda: F.conv2d(e(x), e(w), groups=2, stride=0), lambda: TF.conv2d(t(x), t(w), groups=2, stride=0)),
        (lambda: F.conv2d(e(x), e(w), groups=2, padding=-1), lambda: TF.conv2d(t(x), t(w), groups=2, padding=-1)),
        (lambda: F.conv2d(e(x), e(w), groups=2, padding="foo"), lambda: TF.conv2d(t(x), t(w), groups=2,
                                                                                 padding="foo")),
        (lambda: F.conv2d(e(x), e(w), groups=2, padding="same", stride=2),
         lambda: TF.conv2d(t(x), t(w), groups=2, padding="same", stride=2)),
        (lambda: F.conv2d(e(x[:, :, :2, :2]), e(w), groups=2), lambda: TF.conv2d(t(x[:, :, :2, :2]), t(w), groups=2)),
        (lambda: F.conv2d(e(x), e(w), e(np.zeros(5, np.float32)), groups=2),
         lambda: TF.conv2d(t(x), t(w), t(np.zeros(5, np.float32)), groups=2)),
        (lambda: F.conv2d(e(x), e(w), groups=0), lambda: TF.conv2d(t(x), t(w), groups=0)),
        (lambda: F.conv2d(e(x), e(w), groups=2, dilation=0), lambda: TF.conv2d(t(x), t(w), groups=2, dilation=0)),
        (lambda: F.conv2d(e(x), e(w), groups=2, stride=(1, 1, 1)),
         lambda: TF.conv2d(t(x), t(w), groups=2, stride=(1, 1, 1))),
        (lambda: F.conv2d(e(x.astype(np.float64)), e(w), groups=2),
         lambda: TF.conv2d(t(x.astype(np.float64)), t(w), groups=2)),
        (lambda: F.conv_transpose2d(e(x), e(w[:4, :3]), output_padding=1),
         lambda: TF.conv_transpose2d(t(x), t(w[:4, :3]), output_padding=1)),
        (lambda: F.conv_transpose2d(e(x), e(w[:3, :3])), lambda: TF.conv_transpose2d(t(x), t(w[:3, :3]))),
        (lambda: F.conv_transpose2d(e(x), e(w[:4, :3]), padding="same"),
         lambda: TF.conv_transpose2d(t(x), t(w[:4, :3]), padding="same")),
        (lambda: nn.Conv2d(4, 6, 3, groups=0), lambda: torch.nn.Conv2d(4, 6, 3, groups=0)),
        (lambda: nn.Conv2d(4, 6, 3, groups=3), lambda: torch.nn.Conv2d(4, 6, 3, groups=3)),
        (lambda: nn.Conv2d(4, 6, 3, padding="foo"), lambda: torch.nn.Conv2d(4, 6, 3, padding="foo")),
        (lambda: nn.Conv2d(4, 6, 3, padding="same", stride=2), lambda: torch.nn.Conv2d(4, 6, 3, padding="same",
                                                                                       stride=2)),
        (lambda: nn.Conv2d(4, 6, 3, padding_mode="foo"), lambda: torch.nn.Conv2d(4, 6, 3, padding_mode="foo")),
        (lambda: nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect"),
         lambda: torch.nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect")),
    ]


def test_errors():
    torch = torch_or_skip()
    for ef, tf in _errs(torch):
        assert_same_error(ef, tf)
