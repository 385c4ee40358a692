"""Fast paths of max pooling and convolution checked against PyTorch and against ember's general paths:
tiled (non-overlapping) max pooling, the convolution's raw-array backward with the forward's column
matrix kept for the weight gradient, and the wide col2im of stride-1 input gradients."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._backend import im2col as K
from parity import torch_or_skip

_POOL = {1: "max_pool1d", 2: "max_pool2d", 3: "max_pool3d"}

# (spatial dims, shape, kernel): sizes that divide evenly, sizes that leave a cropped tail, kernels of 1 and
# of 3 taps
TILED_CASES = [
    (2, (4, 3, 8, 8), 2),
    (2, (4, 3, 9, 7), 2),
    (2, (2, 3, 12, 12), 3),
    (2, (2, 3, 12, 13), (2, 3)),
    (1, (2, 2, 10), 2),
    (1, (2, 2, 11), 3),
    (3, (2, 2, 4, 6, 8), 2),
    (3, (2, 2, 5, 6, 7), (1, 2, 3)),
    (2, (3, 4, 5), 2),  # unbatched
    (2, (2, 3, 4, 5), 1),  # a kernel of ones copies the input
]


def _input(rng, shape, kind, dtype):
    if kind == "ties":  # few distinct values: most windows hold ties, the first index must win
        return rng.integers(0, 3, shape).astype(dtype)
    x = rng.standard_normal(shape).astype(dtype)
    if kind == "nan":
        x.flat[rng.choice(x.size, 4, replace=False)] = np.nan
    if kind == "inf":
        x.flat[rng.choice(x.size, 4, replace=False)] = np.inf
        x.flat[rng.choice(x.size, 4, replace=False)] = -np.inf
    if kind == "noncontiguous":
        x = np.swapaxes(np.swapaxes(x, -1, -2).copy(), -1, -2)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["plain", "ties", "nan", "inf", "noncontiguous"])
@pytest.mark.parametrize("nd,shape,kernel", TILED_CASES)
def test_tiled_max_pool_matches_torch(nd, shape, kernel, kind, dtype):
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    x = _input(rng, shape, kind, dtype)
    fe, ft = getattr(F, _POOL[nd]), getattr(torch.nn.functional, _POOL[nd])
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, ie = fe(xe, kernel, return_indices=True)
    yt, it = ft(xt, kernel, return_indices=True)
    np.testing.assert_array_equal(ye.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(ie.numpy(), it.numpy())
    for grad_kind in ("plain", "nonfinite"):
        g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
        if grad_kind == "nonfinite":  # non-winners must still get exactly zero
            g.flat[0], g.flat[-1] = np.inf, np.nan
        xe.grad, xt.grad = None, None
        fe(xe, kernel).backward(ember.tensor(g))
        ft(xt, kernel).backward(torch.tensor(g))
        np.testing.assert_array_equal(xe.grad.numpy(), xt.grad.numpy())


def test_tiled_max_pool_integer_input():
    torch = torch_or_skip()
    x = np.random.default_rng(0).integers(-5, 5, (2, 3, 6, 7))
    ye, ie = F.max_pool2d(ember.tensor(x), 2, return_indices=True)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x, dtype=torch.float64), 2, return_indices=True)
    np.testing.assert_array_equal(ye.numpy(), yt.numpy())
    np.testing.assert_array_equal(ie.numpy(), it.numpy())


def test_tiled_max_pool_double_backward():
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, (2, 3, 6, 8)).astype(np.float64)  # with ties
    g = rng.standard_normal((2, 3, 3, 4))
    gg = rng.standard_normal(x.shape)
    res = []
    for lib in (ember, torch):
        xx = lib.tensor(x, requires_grad=True)
        gy = lib.tensor(g, requires_grad=True)
        y = lib.nn.functional.max_pool2d(xx * xx, 2)
        (dx,) = lib.autograd.grad(y, xx, gy, create_graph=True)
        (dx * lib.tensor(gg)).sum().backward()
        res.append([dx.detach().numpy(), xx.grad.numpy(), gy.grad.numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_tiled_max_pool_output_does_not_alias_input():
    x = ember.ones(1, 2, 3, 3)
    y = F.max_pool2d(x, 1)
    y.add_(1)
    assert x.sum().item() == 18


def test_tiled_max_pool_frees_winners_after_backward():
    x = ember.tensor(np.random.default_rng(0).standard_normal((2, 2, 4, 4)), requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_tiled_max_pool_retain_graph_twice():
    x = ember.tensor(np.random.default_rng(0).standard_normal((2, 2, 4, 4)), requires_grad=True)
    y = F.max_pool2d(x, 2).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)


# ------------------------------------------------------------------------------ convolution
CONV_CASES = [
    # (x shape, w shape, kwargs): the batched and the big-GEMM column layouts, strides, dilation, groups
    ((3, 1, 12, 12), (6, 1, 5, 5), dict(padding=2)),
    ((3, 6, 9, 8), (4, 6, 3, 3), {}),
    ((2, 8, 10, 9), (5, 8, 3, 3), dict(stride=2, padding=1)),
    ((2, 4, 11, 10), (6, 4, 3, 2), dict(dilation=(2, 3))),
    ((2, 4, 8, 8), (6, 2, 3, 3), dict(groups=2, padding=1)),
    ((2, 5, 13), (4, 5, 4), dict(dilation=2)),
    ((2, 3, 5, 6, 5), (4, 3, 2, 3, 2), {}),
]


@pytest.mark.parametrize("needs", ["all", "no_weight", "no_input"])
@pytest.mark.parametrize("xs,ws,kw", CONV_CASES)
def test_conv_fast_backward_matches_torch_and_graph_backward(xs, ws, kw, needs):
    torch = torch_or_skip()
    nd = len(xs) - 2
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    fe = getattr(F, f"conv{nd}d")
    ft = getattr(torch.nn.functional, f"conv{nd}d")
    results = []
    for mode in ("fast", "graph", "torch"):
        lib = torch if mode == "torch" else ember
        xx = lib.tensor(x, requires_grad=needs != "no_input")
        ww = lib.tensor(w, requires_grad=needs != "no_weight")
        bb = lib.tensor(b, requires_grad=True)
        y = (ft if mode == "torch" else fe)(xx, ww, bb, **kw)
        g = lib.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)))
        # create_graph=True makes ember's engine take the graph-recording backward instead of fast_backward
        grads = lib.autograd.grad(y, [t for t in (xx, ww, bb) if t.requires_grad], g, create_graph=mode == "graph")
        results.append([t.detach().numpy() for t in grads])
    for a, c in zip(results[0], results[2]):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-10)
    for a, c in zip(results[1], results[2]):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-10)


def test_conv_fast_backward_retain_graph_twice():
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((2, 3, 7, 7)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w, padding=1).square().sum()
    y.backward(retain_graph=True)
    gx, gw = x.grad.numpy().copy(), w.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * gx, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), 2 * gw, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("gs,ws,full,dil", [
    ((2, 4, 6, 5), (4, 3, 3, 2), (8, 6), (1, 1)),
    ((2, 4, 4, 5), (4, 3, 3, 2), (9, 8), (2, 3)),       # with dilation and slack at the end (output_padding)
    ((3, 2, 7), (2, 5, 3), (9,), (1,)),
    ((1, 2, 3, 2, 4), (2, 3, 2, 3, 2), (4, 4, 5), (1, 1, 1)),
])
def test_conv_input_wide_matches_col2im(gs, ws, full, dil, dtype):
    rng = np.random.default_rng(0)
    g, w = rng.standard_normal(gs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    shape = (gs[0], ws[1]) + full
    stride = (1,) * len(full)
    ref = K.conv_input(np, g, w, shape, stride, dil, 1)
    got = K.conv_input_wide(np, g, w, shape, dil)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_allclose(got, ref, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


# ------------------------------------------------------------------------------ batch norm
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(4, 3, 7), (4, 3, 5, 6), (2, 3, 3, 4, 5), (5, 2, 1, 1)])
def test_batch_norm_rows_path_matches_torch(shape, affine, dtype):
    """The (N, C, L) rows path: outputs, running statistics and first-order gradients against PyTorch."""
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 5).astype(dtype)   # an offset mean: the variance is two-pass
    g = rng.standard_normal(shape).astype(dtype)
    w, b = (rng.standard_normal(shape[1]).astype(dtype) for _ in range(2))
    cls = {3: "BatchNorm1d", 4: "BatchNorm2d", 5: "BatchNorm3d"}[len(shape)]
    res = []
    for lib in (ember, torch):
        m = getattr(lib.nn, cls)(shape[1], affine=affine, dtype=getattr(lib, np.dtype(dtype).name))
        if affine:
            with lib.no_grad():
                m.weight.copy_(lib.tensor(w))
                m.bias.copy_(lib.tensor(b))
        xx = lib.tensor(x, requires_grad=True)
        y = m(xx)
        y.backward(lib.tensor(g))
        out = [y.detach().numpy(), xx.grad.numpy(), m.running_mean.numpy(), m.running_var.numpy()]
        if affine:
            out += [m.weight.grad.numpy(), m.bias.grad.numpy()]
        res.append(out)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_batch_norm_rows_path_double_backward():
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    x, g, gg = (rng.standard_normal((3, 2, 4, 5)) for _ in range(3))
    w, b = rng.standard_normal(2), rng.standard_normal(2)
    res = []
    for lib in (ember, torch):
        xx, ww, bb = (lib.tensor(v, requires_grad=True) for v in (x, w, b))
        gy = lib.tensor(g, requires_grad=True)
        y = lib.nn.functional.batch_norm(xx, None, None, ww, bb, training=True)
        dx, dw = lib.autograd.grad(y, (xx, ww), gy, create_graph=True)
        ((dx * lib.tensor(gg)).sum() + dw.square().sum()).backward()
        res.append([dx.detach().numpy(), xx.grad.numpy(), ww.grad.numpy(), gy.grad.numpy()])
    for a, c in zip(*res):
        np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-9)
