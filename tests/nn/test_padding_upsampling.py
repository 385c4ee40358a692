"""Padding, fold/unfold, pixel/channel shuffle, interpolate, grid_sample and affine_grid: harness (gradcheck and
gradgradcheck), PyTorch parity of values and gradients, module reprs and error types."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from harness import OpSpec, cases, check_op
from parity import assert_same_error, torch_or_skip


def _np_pad(mode):
    return {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]


def _ref_pad(x, pad, mode, value=0.0):
    nd = len(pad) // 2
    widths = [(0, 0)] * (x.ndim - nd) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(nd))]
    if mode == "constant":
        return np.pad(x, widths, constant_values=value)
    return np.pad(x, widths, mode=_np_pad(mode))


SPECS = [
    OpSpec("pad_constant", lambda x: F.pad(x, (1, 2, 0, 1), value=1.5), lambda x: _ref_pad(x, (1, 2, 0, 1),
                                                                                            "constant", 1.5),
           [((2, 3, 4),), ((0, 2, 3),)]),
    OpSpec("pad_constant_crop", lambda x: F.pad(x, (-1, 2, 1, -2)), None, [((2, 4, 5),)]),
    OpSpec("pad_constant_1d", lambda x: F.pad(x, (2, 1)), lambda x: _ref_pad(x, (2, 1), "constant"), [((3,),)]),
    OpSpec("pad_reflect_1d", lambda x: F.pad(x, (2, 3), mode="reflect"), lambda x: _ref_pad(x, (2, 3), "reflect"),
           [((2, 5),), ((1, 2, 4),)]),
    OpSpec("pad_reflect_2d", lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"),
           lambda x: _ref_pad(x, (1, 2, 2, 1), "reflect"), [((1, 2, 4, 3),)]),
    OpSpec("pad_replicate_2d", lambda x: F.pad(x, (1, 2, 3, 0), mode="replicate"),
           lambda x: _ref_pad(x, (1, 2, 3, 0), "replicate"), [((2, 3, 4),), ((1, 1, 2, 3),)]),
    OpSpec("pad_replicate_3d", lambda x: F.pad(x, (1, 0, 0, 1, 1, 1), mode="replicate"),
           lambda x: _ref_pad(x, (1, 0, 0, 1, 1, 1), "replicate"), [((1, 1, 2, 3, 2),)]),
    OpSpec("pad_circular_2d", lambda x: F.pad(x, (1, 2, 2, 1), mode="circular"),
           lambda x: _ref_pad(x, (1, 2, 2, 1), "circular"), [((1, 2, 3, 3),)]),
    OpSpec("pad_circular_neg", lambda x: F.pad(x, (-1, 2), mode="circular"), None, [((2, 5),)]),
    OpSpec("unfold", lambda x: F.unfold(x, (2, 3), padding=1, stride=(1, 2)), None, [((2, 2, 4, 5),), ((2, 3, 3),)]),
    OpSpec("unfold_dilation", lambda x: F.unfold(x, 2, dilation=2), None, [((1, 2, 5, 5),)]),
    OpSpec("fold", lambda x: F.fold(x, (4, 5), (2, 3), padding=1, stride=(1, 2)), None, [((2, 12, 15),)]),
    OpSpec("fold_unbatched", lambda x: F.fold(x, (3, 3), 2), None, [((4, 4),)]),
    OpSpec("pixel_shuffle", lambda x: F.pixel_shuffle(x, 2), None, [((1, 8, 2, 3),), ((8, 2, 2),)]),
    OpSpec("pixel_unshuffle", lambda x: F.pixel_unshuffle(x, 2), None, [((1, 2, 4, 2),)]),
    OpSpec("channel_shuffle", lambda x: F.channel_shuffle(x, 2), None, [((2, 4, 3),)]),
    OpSpec("interp_nearest", lambda x: F.interpolate(x, scale_factor=2), lambda x: x.repeat(2, -1), [((1, 2, 3),)]),
    OpSpec("interp_nearest_exact_2d", lambda x: F.interpolate(x, size=(5, 3), mode="nearest-exact"), None,
           [((1, 1, 3, 4),)]),
    OpSpec("interp_linear", lambda x: F.interpolate(x, size=5, mode="linear", align_corners=True), None,
           [((2, 1, 3),)]),
    OpSpec("interp_bilinear", lambda x: F.interpolate(x, scale_factor=(1.5, 2), mode="bilinear"), None,
           [((1, 2, 3, 2),)]),
    OpSpec("interp_bicubic", lambda x: F.interpolate(x, size=(4, 5), mode="bicubic", align_corners=True), None,
           [((1, 1, 3, 3),)]),
    OpSpec("interp_trilinear", lambda x: F.interpolate(x, scale_factor=1.5, mode="trilinear"), None,
           [((1, 1, 2, 3, 2),)]),
    OpSpec("interp_area", lambda x: F.interpolate(x, size=(2, 3), mode="area"), None, [((1, 2, 5, 4),)]),
    OpSpec("grid_sample_zeros", lambda x, g: F.grid_sample(x, g, align_corners=False), None,
           [((1, 2, 3, 4), (1, 2, 3, 2))], low=-1.2, high=1.2),
    OpSpec("grid_sample_border_ac", lambda x, g: F.grid_sample(x, g, padding_mode="border", align_corners=True),
           None, [((2, 1, 3, 3), (2, 2, 2, 2))], low=-1.3, high=1.3),
    OpSpec("grid_sample_reflection", lambda x, g: F.grid_sample(x, g, padding_mode="reflection",
                                                                 align_corners=False),
           None, [((1, 1, 3, 4), (1, 2, 2, 2))], low=-1.6, high=1.6),
    OpSpec("grid_sample_nearest", lambda x, g: F.grid_sample(x, g, mode="nearest", align_corners=False), None,
           [((1, 2, 3, 3), (1, 2, 2, 2))], nondiff=(1,)),
    OpSpec("grid_sample_bicubic", lambda x, g: F.grid_sample(x, g, mode="bicubic", align_corners=False), None,
           [((1, 2, 2, 3), (1, 1, 2, 2)), ((0, 1, 2, 2), (0, 2, 1, 2))], low=-1.2, high=1.2),
    OpSpec("grid_sample_bicubic_reflection_ac", lambda x, g: F.grid_sample(x, g, "bicubic", "reflection", True), None,
           [((1, 1, 3, 3), (1, 2, 2, 2))], low=-1.6, high=1.6),
    OpSpec("grid_sample_bicubic_border", lambda x, g: F.grid_sample(x, g, "bicubic", "border", False), None,
           [((1, 1, 2, 3), (1, 1, 2, 2))], low=-1.3, high=1.3),
    OpSpec("grid_sample_3d", lambda x, g: F.grid_sample(x, g, align_corners=False), None,
           [((1, 2, 2, 2, 2), (1, 1, 1, 2, 3)), ((0, 2, 2, 2, 2), (0, 1, 2, 2, 3))], low=-1.2, high=1.2),
    OpSpec("grid_sample_3d_border_ac", lambda x, g: F.grid_sample(x, g, padding_mode="border", align_corners=True),
           None, [((1, 1, 2, 2, 3), (1, 2, 1, 2, 3))], low=-1.3, high=1.3),
    OpSpec("grid_sample_3d_reflection", lambda x, g: F.grid_sample(x, g, padding_mode="reflection",
                                                                    align_corners=False),
           None, [((1, 1, 2, 3, 2), (1, 1, 1, 2, 3))], low=-1.6, high=1.6),
    OpSpec("grid_sample_3d_nearest", lambda x, g: F.grid_sample(x, g, mode="nearest", align_corners=True), None,
           [((1, 2, 2, 2, 3), (1, 1, 2, 2, 3))], nondiff=(1,)),
    OpSpec("interp_bilinear_antialias", lambda x: F.interpolate(x, size=(2, 3), mode="bilinear", antialias=True),
           None, [((1, 2, 5, 4),), ((0, 2, 4, 4),)]),
    OpSpec("interp_bicubic_antialias", lambda x: F.interpolate(x, scale_factor=(0.4, 1.5), mode="bicubic",
                                                               antialias=True), None, [((1, 1, 5, 3),)]),
    OpSpec("affine_grid", lambda t: F.affine_grid(t, [2, 1, 3, 4], align_corners=False), None, [((2, 2, 3),)]),
    OpSpec("affine_grid_3d", lambda t: F.affine_grid(t, [1, 1, 2, 2, 3], align_corners=True), None,
           [((1, 3, 4),)]),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


# ------------------------------------------------------------------------------ parity
def _cmp(ef, tf, arrays, dtype=np.float64):
    torch = torch_or_skip()
    atol = 1e-5 if dtype == np.float32 else 1e-10
    e = [ember.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    t = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    ye, yt = ef(*e), tf(*t)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert str(ye.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=atol)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(dtype)
    ge = ember.autograd.grad((ye * ember.tensor(g)).sum(), e, allow_unused=True)
    gt = torch.autograd.grad((yt * torch.tensor(g)).sum(), t, allow_unused=True)
    for a, b in zip(ge, gt):
        b = np.zeros(1) if b is None else b.numpy()
        a = np.zeros_like(b) if a is None else a.numpy()
        np.testing.assert_allclose(a, b, atol=atol * 10, rtol=atol * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(1, 2), (1, 2, 2, 0), (-1, 2, 1, -1), (1, 1, 0, 2, 1, 0)])
def test_pad_parity(mode, pad, dtype):
    torch = torch_or_skip()
    # 1-d padding of a batched (N, C, L); 2-d of (N, C, H, W); 3-d of an unbatched (C, D, H, W)
    shape = {2: (2, 3, 5), 4: (2, 3, 4, 5), 6: (3, 4, 5, 4)}[len(pad)]
    x = np.random.default_rng(0).standard_normal(shape)
    _cmp(lambda v: F.pad(v, pad, mode), lambda v: torch.nn.functional.pad(v, pad, mode), [x], dtype)


INTERP = [
    (1, "nearest", dict(scale_factor=2.5)), (1, "nearest-exact", dict(size=7)), (1, "linear", dict(size=9)),
    (1, "linear", dict(scale_factor=0.6, align_corners=True)), (1, "area", dict(size=3)),
    (2, "nearest", dict(size=(7, 3))), (2, "nearest", dict(scale_factor=(1.7, 0.5))),
    (2, "nearest-exact", dict(scale_factor=1.3)), (2, "bilinear", dict(scale_factor=2)),
    (2, "bilinear", dict(size=(3, 8), align_corners=True)),
    (2, "bilinear", dict(scale_factor=1.3, recompute_scale_factor=True)),
    (2, "bicubic", dict(scale_factor=1.7)), (2, "bicubic", dict(size=(4, 9), align_corners=True)),
    (2, "area", dict(size=(3, 2))), (2, "area", dict(scale_factor=0.5)),
    (3, "nearest", dict(scale_factor=2)), (3, "trilinear", dict(size=(3, 5, 4))),
    (3, "trilinear", dict(scale_factor=1.5, align_corners=True)), (3, "area", dict(size=2)),
    (3, "nearest-exact", dict(size=(2, 7, 3))),
    (2, "bilinear", dict(size=(3, 2), antialias=True)), (2, "bilinear", dict(scale_factor=0.4, antialias=True)),
    (2, "bilinear", dict(size=(2, 9), align_corners=True, antialias=True)),
    (2, "bicubic", dict(size=(4, 2), antialias=True)), (2, "bicubic", dict(scale_factor=(0.3, 1.7), antialias=True)),
    (2, "bicubic", dict(size=(3, 3), align_corners=True, antialias=True)),
    (2, "bicubic", dict(scale_factor=0.45, recompute_scale_factor=True, antialias=True)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nd,mode,kw", INTERP)
def test_interpolate_parity(nd, mode, kw, dtype):
    torch = torch_or_skip()
    x = np.random.default_rng(0).standard_normal((2, 3) + (6, 5, 4)[:nd])
    _cmp(lambda v: F.interpolate(v, mode=mode, **kw), lambda v: torch.nn.functional.interpolate(v, mode=mode, **kw),
         [x], dtype)


@pytest.mark.parametrize("nd,mode", [(2, "bilinear"), (2, "nearest"), (2, "bicubic"), (3, "bilinear"),
                                     (3, "nearest")])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_parity(nd, mode, padding_mode, align_corners):
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    # grid values up to 1.4 land outside the image, exercising every padding mode
    if nd == 2:
        x, g = rng.standard_normal((2, 3, 5, 6)), rng.uniform(-1.4, 1.4, (2, 4, 3, 2))
    else:
        x, g = rng.standard_normal((2, 2, 4, 5, 3)), rng.uniform(-1.4, 1.4, (2, 3, 2, 4, 3))
    for dtype in (np.float32, np.float64):
        _cmp(lambda a, b: F.grid_sample(a, b, mode, padding_mode, align_corners),
             lambda a, b: torch.nn.functional.grid_sample(a, b, mode, padding_mode, align_corners), [x, g], dtype)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_parity(align_corners):
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    _cmp(lambda t: F.affine_grid(t, [2, 3, 4, 5], align_corners),
         lambda t: torch.nn.functional.affine_grid(t, [2, 3, 4, 5], align_corners), [rng.standard_normal((2, 2, 3))])
    _cmp(lambda t: F.affine_grid(t, [1, 2, 3, 4, 5], align_corners),
         lambda t: torch.nn.functional.affine_grid(t, [1, 2, 3, 4, 5], align_corners), [rng.standard_normal((1, 3, 4))])


MODULES = [
    ("ZeroPad2d(2)", (2, 3, 4, 4)), ("ZeroPad1d((1, 2))", (2, 3)), ("ZeroPad3d(1)", (1, 1, 2, 2, 2)),
    ("ConstantPad1d((1, 2), 3.5)", (2, 3, 4)), ("ConstantPad2d(1, 0.)", (2, 3, 3)),
    ("ConstantPad3d((1, 0, 0, 1, 2, 0), -1.)", (1, 2, 2, 2)),
    ("ReflectionPad1d(2)", (2, 3, 4)), ("ReflectionPad2d((1, 0, 2, 1))", (1, 2, 4, 4)),
    ("ReflectionPad3d(1)", (1, 1, 2, 3, 3)), ("ReplicationPad1d((0, 3))", (2, 4)), ("ReplicationPad2d(2)", (1, 2, 3, 3)),
    ("ReplicationPad3d((1, 1, 1, 1, 1, 1))", (1, 2, 2, 2)), ("CircularPad1d(1)", (1, 2, 3)),
    ("CircularPad2d((1, 2, 0, 1))", (1, 2, 3, 3)), ("CircularPad3d(1)", (1, 1, 2, 2, 2)),
    ("Upsample(scale_factor=2)", (1, 2, 3, 3)), ("Upsample(size=(3, 4), mode='bilinear', align_corners=True)",
                                                 (1, 2, 2, 2)),
    ("Upsample(scale_factor=(2, 1.5), mode='bicubic')", (1, 1, 3, 4)),
    ("UpsamplingNearest2d(scale_factor=2)", (1, 2, 3, 2)), ("UpsamplingBilinear2d(size=5)", (1, 2, 3, 3)),
    ("PixelShuffle(2)", (1, 8, 2, 3)), ("PixelUnshuffle(2)", (1, 2, 4, 6)), ("ChannelShuffle(2)", (2, 4, 3, 3)),
    ("Fold((4, 5), 2)", (2, 8, 12)), ("Unfold(2, dilation=1, padding=1, stride=2)", (2, 3, 4, 5)),
]


@pytest.mark.parametrize("spec,shape", MODULES)
def test_module_parity_and_repr(spec, shape):
    torch = torch_or_skip()
    e_mod, t_mod = eval("nn." + spec), eval("torch.nn." + spec)
    assert repr(e_mod) == repr(t_mod)
    x = np.random.default_rng(0).standard_normal(shape)
    _cmp(e_mod, t_mod, [x])


def test_errors():
    torch = torch_or_skip()
    import torch.nn.functional as TF
    x = np.random.default_rng(0).standard_normal((1, 2, 3, 3)).astype(np.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    cases = [
        (lambda: F.pad(e, (1,)), lambda: TF.pad(t, (1,))),
        (lambda: F.pad(e, (1, 1) * 5), lambda: TF.pad(t, (1, 1) * 5)),
        (lambda: F.pad(e, (1, 1), mode="reflect"), lambda: TF.pad(t, (1, 1), mode="reflect")),
        (lambda: F.pad(e, (3, 3, 1, 1), mode="reflect"), lambda: TF.pad(t, (3, 3, 1, 1), mode="reflect")),
        (lambda: F.pad(e, (4, 1, 1, 1), mode="circular"), lambda: TF.pad(t, (4, 1, 1, 1), mode="circular")),
        (lambda: F.pad(e, (1, 1, 1, 1), mode="foo"), lambda: TF.pad(t, (1, 1, 1, 1), mode="foo")),
        (lambda: F.pad(e, (1, 1, 1, 1), mode="reflect", value=2.0),
         lambda: TF.pad(t, (1, 1, 1, 1), mode="reflect", value=2.0)),
        (lambda: F.unfold(e, 5), lambda: TF.unfold(t, 5)),
        (lambda: F.fold(ember.zeros(1, 7, 6), (3, 4), 2), lambda: TF.fold(torch.zeros(1, 7, 6), (3, 4), 2)),
        (lambda: F.fold(ember.zeros(1, 8, 5), (3, 4), 2), lambda: TF.fold(torch.zeros(1, 8, 5), (3, 4), 2)),
        (lambda: F.pixel_shuffle(ember.zeros(2, 5, 3, 3), 2), lambda: TF.pixel_shuffle(torch.zeros(2, 5, 3, 3), 2)),
        (lambda: F.pixel_shuffle(ember.zeros(5, 3), 2), lambda: TF.pixel_shuffle(torch.zeros(5, 3), 2)),
        (lambda: F.pixel_unshuffle(e, 2), lambda: TF.pixel_unshuffle(t, 2)),
        (lambda: F.channel_shuffle(ember.zeros(1, 4, 3), 3), lambda: TF.channel_shuffle(torch.zeros(1, 4, 3), 3)),
        (lambda: F.interpolate(e, size=2, scale_factor=2), lambda: TF.interpolate(t, size=2, scale_factor=2)),
        (lambda: F.interpolate(e), lambda: TF.interpolate(t)),
        (lambda: F.interpolate(e, size=(2, 2, 2)), lambda: TF.interpolate(t, size=(2, 2, 2))),
        (lambda: F.interpolate(e, scale_factor=2, align_corners=True),
         lambda: TF.interpolate(t, scale_factor=2, align_corners=True)),
        (lambda: F.interpolate(e, scale_factor=2, mode="linear"), lambda: TF.interpolate(t, scale_factor=2,
                                                                                          mode="linear")),
        (lambda: F.grid_sample(e, ember.zeros(2, 2, 2, 2), align_corners=False),
         lambda: TF.grid_sample(t, torch.zeros(2, 2, 2, 2), align_corners=False)),
        (lambda: F.grid_sample(e, ember.zeros(1, 2, 2, 2), mode="foo"),
         lambda: TF.grid_sample(t, torch.zeros(1, 2, 2, 2), mode="foo")),
        (lambda: F.grid_sample(ember.zeros(1, 1, 2, 2, 2), ember.zeros(1, 1, 1, 1, 3), mode="bicubic"),
         lambda: TF.grid_sample(torch.zeros(1, 1, 2, 2, 2), torch.zeros(1, 1, 1, 1, 3), mode="bicubic",
                               align_corners=False)),
        (lambda: F.grid_sample(ember.zeros(1, 1, 2, 2, 2), ember.zeros(1, 1, 1, 1, 2)),
         lambda: TF.grid_sample(torch.zeros(1, 1, 2, 2, 2), torch.zeros(1, 1, 1, 1, 2), align_corners=False)),
        (lambda: F.grid_sample(ember.zeros(1, 1, 2, 2, 2), ember.zeros(1, 1, 1, 3)),
         lambda: TF.grid_sample(torch.zeros(1, 1, 2, 2, 2), torch.zeros(1, 1, 1, 3), align_corners=False)),
        (lambda: F.grid_sample(ember.zeros(1, 1, 2, 2, 2), ember.zeros(2, 1, 1, 1, 3)),
         lambda: TF.grid_sample(torch.zeros(1, 1, 2, 2, 2), torch.zeros(2, 1, 1, 1, 3), align_corners=False)),
        (lambda: F.interpolate(ember.zeros(1, 1, 4), size=2, mode="linear", antialias=True),
         lambda: TF.interpolate(torch.zeros(1, 1, 4), size=2, mode="linear", antialias=True)),
        (lambda: F.interpolate(e, size=2, mode="nearest", antialias=True),
         lambda: TF.interpolate(t, size=2, mode="nearest", antialias=True)),
        (lambda: F.affine_grid(ember.zeros(1, 3, 3), [1, 1, 2, 2], False),
         lambda: TF.affine_grid(torch.zeros(1, 3, 3), [1, 1, 2, 2], False)),
        (lambda: F.affine_grid(ember.zeros(1, 2, 3), [1, 2, 2], False),
         lambda: TF.affine_grid(torch.zeros(1, 2, 3), [1, 2, 2], False)),
    ]
    for ef, tf in cases:
        assert_same_error(ef, tf)
