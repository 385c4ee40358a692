"""Normalization: functional ops through the harness, modules against PyTorch (outputs, gradients, running stats)."""
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from harness import OpSpec, cases, check_op
from parity import assert_same_error, torch_or_skip


# ------------------------------------------------------------------------------------ references
def _bn_ref(x, w=None, b=None, axes=None, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim)) if axes is None else axes
    if x.size == 0:
        return x.copy()
    m = x.mean(axis=axes, keepdims=True)
    v = x.var(axis=axes, keepdims=True)
    y = (x - m) / np.sqrt(v + eps)
    shape = (-1,) + (1,) * (x.ndim - 2)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


def _ln_ref(x, w, b, k, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    m = x.mean(axis=axes, keepdims=True) if x.size else np.zeros(x.shape[:x.ndim - k] + (1,) * k)
    v = x.var(axis=axes, keepdims=True) if x.size else m
    return (x - m) / np.sqrt(v + eps) * w + b


def _gn_ref(x, w, b, g, eps=1e-5):
    n, c = x.shape[:2]
    xg = x.reshape(n, g, -1)
    y = ((xg - xg.mean(2, keepdims=True)) / np.sqrt(xg.var(2, keepdims=True) + eps)).reshape(x.shape)
    shape = (-1,) + (1,) * (x.ndim - 2)
    return y * w.reshape(shape) + b.reshape(shape)


def _eval_ref(x, rm, rv, w, b, eps=1e-5):
    shape = (-1,) + (1,) * (x.ndim - 2)
    return (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + eps) * w.reshape(shape) + b.reshape(shape)


def _lrn_ref(x, size, alpha=1e-4, beta=0.75, k=1.0):
    c = x.shape[1]
    sq = x * x
    pad = [(0, 0)] * x.ndim
    pad[1] = (size // 2, (size - 1) // 2)
    p = np.pad(sq, pad)
    tot = sum(np.take(p, range(j, j + c), axis=1) for j in range(size))
    return x / (k + alpha / size * tot) ** beta


def _stats_make(rng, shapes):
    xs, c = shapes
    return [rng.uniform(-2, 2, xs), rng.uniform(-1, 1, c), rng.uniform(0.5, 2, c), rng.uniform(-2, 2, c),
            rng.uniform(-2, 2, c)]


SPECS = [
    OpSpec("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
           lambda x, w, b: _bn_ref(x, w, b), [((4, 3), (3,), (3,)), ((2, 3, 4), (3,), (3,)),
                                               ((2, 2, 2, 3), (2,), (2,)), ((0, 3), (3,), (3,))]),
    OpSpec("batch_norm_train_noaffine", lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3),
           lambda x: _bn_ref(x, eps=1e-3), [((3, 2, 3),)]),
    OpSpec("batch_norm_eval", lambda x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b, training=False),
           _eval_ref, [((4, 3), (3,)), ((2, 3, 2, 2), (3,))], make=_stats_make, nondiff=(1, 2)),
    OpSpec("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
           lambda x, w, b: _bn_ref(x, w, b, axes=tuple(range(2, x.ndim))),
           [((2, 3, 4), (3,), (3,)), ((2, 2, 2, 3), (2,), (2,))]),
    OpSpec("instance_norm_eval", lambda x, rm, rv, w, b: F.instance_norm(x, rm, rv, w, b, use_input_stats=False),
           _eval_ref, [((2, 3, 4), (3,))], make=_stats_make, nondiff=(1, 2)),
    OpSpec("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), lambda x, w, b: _ln_ref(x, w, b, 1),
           [((3, 4), (4,), (4,)), ((4,), (4,), (4,)), ((2, 3, 4), (4,), (4,)), ((0, 4), (4,), (4,))]),
    OpSpec("layer_norm_2d", lambda x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-3),
           lambda x, w, b: _ln_ref(x, w, b, 2, 1e-3), [((2, 3, 4), (3, 4), (3, 4))]),
    OpSpec("layer_norm_noaffine", lambda x: F.layer_norm(x, [5]), lambda x: _ln_ref(x, 1.0, 0.0, 1),
           [((3, 5),)]),
    OpSpec("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: _gn_ref(x, w, b, 2),
           [((2, 4, 3), (4,), (4,)), ((3, 4), (4,), (4,)), ((2, 6, 2, 2), (6,), (6,))]),
    OpSpec("rms_norm", lambda x, w: F.rms_norm(x, (4,), w, eps=1e-6),
           lambda x, w: x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) * w, [((3, 4), (4,)), ((4,), (4,))]),
    OpSpec("local_response_norm", lambda x: F.local_response_norm(x, 3, alpha=0.5, k=1.5),
           lambda x: _lrn_ref(x, 3, 0.5, 0.75, 1.5), [((2, 5, 3),), ((2, 4, 2, 2),)]),
    OpSpec("local_response_norm_even", lambda x: F.local_response_norm(x, 2, alpha=0.3),
           lambda x: _lrn_ref(x, 2, 0.3), [((2, 4, 3),)]),
    OpSpec("normalize", lambda x: F.normalize(x), lambda x: x / np.maximum(np.sqrt((x * x).sum(1, keepdims=True)),
                                                                            1e-12), [((3, 4),), ((2, 3, 2),)]),
    OpSpec("normalize_p1_dim0", lambda x: F.normalize(x, p=1, dim=0),
           lambda x: x / np.abs(x).sum(0, keepdims=True), [((3, 4),), ((5,),)], low=0.2, high=2.0),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


# ------------------------------------------------------------------------------- module parity
def _t_dtype(torch, dtype):
    return torch.float64 if dtype == "float64" else torch.float32


def _copy_from_torch(em, tm):
    """Load a torch module's state into the ember module (tensors converted through NumPy)."""
    sd = OrderedDict((k, ember.tensor(v.detach().numpy().copy())) for k, v in tm.state_dict().items())
    em.load_state_dict(sd)


def _close(e, t, tol, what):
    ev = e.detach().numpy() if isinstance(e, ember.Tensor) else np.asarray(e)
    tv = t.detach().numpy()
    assert ev.shape == tv.shape, f"{what}: shape {ev.shape} != torch {tv.shape}"
    assert ev.dtype == tv.dtype, f"{what}: dtype {ev.dtype} != torch {tv.dtype}"
    np.testing.assert_allclose(ev, tv, atol=tol, rtol=tol, err_msg=what)


def module_parity(make_e, make_t, shape, dtype, steps=3, eval_too=True, make_input=None, tol=None):
    """Train both modules a few steps on the same batches; compare outputs, grads, buffers, then eval outputs."""
    torch = torch_or_skip()
    tol = tol or (1e-5 if dtype == "float32" else 1e-10)
    tm = make_t().to(_t_dtype(torch, dtype))
    with torch.no_grad():
        for p in tm.parameters():
            p.uniform_(0.5, 1.5)
    em = make_e()
    if dtype == "float64":
        em = em.double()
    _copy_from_torch(em, tm)
    assert list(em.state_dict().keys()) == list(tm.state_dict().keys())
    rng = np.random.default_rng(0)
    for step in range(steps + (1 if eval_too else 0)):
        if step == steps:
            tm.eval()
            em.eval()
        x = make_input(rng) if make_input else rng.standard_normal(shape) * 2 + 0.5
        x = x.astype(dtype)
        ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        eo, to = em(ex), tm(tx)
        _close(eo, to, tol, f"output step {step}")
        w = rng.standard_normal(tuple(to.shape)).astype(dtype)
        (eo * ember.tensor(w)).sum().backward()
        (to * torch.tensor(w)).sum().backward()
        _close(ex.grad, tx.grad, tol * 10, f"input grad step {step}")
        for (en, ep), (tn, tp) in zip(em.named_parameters(), tm.named_parameters()):
            assert en == tn
            _close(ep.grad, tp.grad, tol * 10, f"grad of {en} step {step}")
            ep.grad, tp.grad = None, None
        for (en, eb), (tn, tb) in zip(em.named_buffers(), tm.named_buffers()):
            assert en == tn
            _close(eb, tb, tol, f"buffer {en} step {step}")
    esd, tsd = em.state_dict(), tm.state_dict()
    assert [(k, tuple(v.shape)) for k, v in esd.items()] == [(k, tuple(v.shape)) for k, v in tsd.items()]


BN_CASES = [
    ("BatchNorm1d", (), {}, (8, 3)),
    ("BatchNorm1d", (), {}, (4, 3, 5)),
    ("BatchNorm2d", (), {}, (4, 3, 3, 2)),
    ("BatchNorm3d", (), {}, (2, 2, 3, 2, 2)),
    ("BatchNorm1d", (), {"momentum": None}, (6, 3)),
    ("BatchNorm2d", (), {"affine": False, "eps": 1e-3, "momentum": 0.3}, (3, 2, 2, 2)),
    ("BatchNorm1d", (), {"track_running_stats": False}, (5, 4)),
    ("BatchNorm2d", (), {"bias": False}, (2, 3, 2, 2)),
    ("SyncBatchNorm", (), {}, (4, 3, 2)),
    ("InstanceNorm1d", (), {}, (2, 3, 5)),
    ("InstanceNorm1d", (), {}, (3, 5)),  # unbatched
    ("InstanceNorm2d", (), {"affine": True, "track_running_stats": True}, (2, 3, 3, 2)),
    ("InstanceNorm3d", (), {"affine": True, "track_running_stats": True, "momentum": 0.5}, (2, 2, 2, 2, 2)),
    ("InstanceNorm1d", (), {"affine": True, "bias": False}, (3, 3, 4)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args,kwargs,shape", BN_CASES, ids=lambda v: str(v))
def test_running_stats_modules_parity(name, args, kwargs, shape, dtype):
    torch = torch_or_skip()
    c = shape[1] if not (name.startswith("InstanceNorm") and len(shape) == int(name[-2]) + 1) else shape[0]
    module_parity(lambda: getattr(nn, name)(c, *args, **kwargs), lambda: getattr(torch.nn, name)(c, *args, **kwargs),
                  shape, dtype, steps=3)


OTHER_CASES = [
    ("LayerNorm", (4,), {}, (3, 4)),
    ("LayerNorm", ((3, 4),), {"eps": 1e-3}, (2, 3, 4)),
    ("LayerNorm", ([4],), {"bias": False}, (2, 2, 4)),
    ("LayerNorm", (4,), {"elementwise_affine": False}, (5, 4)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (3, 6), {"affine": False}, (2, 6, 2, 2)),
    ("GroupNorm", (1, 4), {"bias": False, "eps": 1e-3}, (2, 4)),
    ("RMSNorm", (4,), {}, (3, 4)),
    ("RMSNorm", ((2, 4),), {"eps": 1e-3}, (3, 2, 4)),
    ("RMSNorm", (4,), {"elementwise_affine": False}, (3, 4)),
    ("LocalResponseNorm", (3,), {}, (2, 5, 4)),
    ("LocalResponseNorm", (2,), {"alpha": 0.5, "beta": 0.6, "k": 2.0}, (2, 4, 2, 3)),
    ("LocalResponseNorm", (4,), {"alpha": 0.2}, (2, 3, 2, 2, 2)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args,kwargs,shape", OTHER_CASES, ids=lambda v: str(v))
def test_stateless_modules_parity(name, args, kwargs, shape, dtype):
    torch = torch_or_skip()
    module_parity(lambda: getattr(nn, name)(*args, **kwargs), lambda: getattr(torch.nn, name)(*args, **kwargs),
                  shape, dtype, steps=1)


def test_functional_batch_norm_running_stats_parity():
    torch = torch_or_skip()
    rng = np.random.default_rng(1)
    erm, erv = ember.zeros(3), ember.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    for _ in range(3):
        x = rng.standard_normal((5, 3, 2)).astype(np.float32)
        F.batch_norm(ember.tensor(x), erm, erv, training=True, momentum=0.2)
        torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.2)
    np.testing.assert_allclose(erm.numpy(), trm.numpy(), atol=1e-6)
    np.testing.assert_allclose(erv.numpy(), trv.numpy(), atol=1e-6)
    assert erm._version == 3


def test_grad_fn_names():
    x = ember.randn(4, 3, requires_grad=True)
    assert F.batch_norm(x, None, None, training=True).grad_fn.name() == "NativeBatchNormBackward0"
    assert F.layer_norm(x, (3,)).grad_fn.name() == "NativeLayerNormBackward0"
    assert F.group_norm(x, 3).grad_fn.name() == "NativeGroupNormBackward0"


def test_batchnorm_momentum_none_is_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None)
    xs = [ember.randn(4, 2) for _ in range(3)]
    for x in xs:
        bn(x)
    means = np.stack([x.numpy().mean(0) for x in xs]).mean(0)
    np.testing.assert_allclose(bn.running_mean.numpy(), means, atol=1e-6)
    assert int(bn.num_batches_tracked) == 3


def test_eval_uses_running_stats_and_no_stats_uses_batch():
    bn = nn.BatchNorm1d(2).eval()
    bn.running_mean.fill_(1.0)
    bn.running_var.fill_(4.0)
    out = bn(ember.tensor([[3.0, 1.0]]))  # a batch of one is fine in eval
    np.testing.assert_allclose(out.detach().numpy(), [[2 / np.sqrt(4 + 1e-5), 0.0]], atol=1e-6)
    nb = nn.BatchNorm1d(2, track_running_stats=False).eval()
    x = ember.randn(6, 2)
    np.testing.assert_allclose(nb(x).detach().numpy(), _bn_ref(x.numpy().astype(np.float64)), atol=1e-5)


def test_batchnorm_state_dict_version_and_missing_num_batches_tracked():
    torch = torch_or_skip()
    tm = torch.nn.BatchNorm1d(3)
    em = nn.BatchNorm1d(3)
    tsd, esd = tm.state_dict(), em.state_dict()
    assert list(esd.keys()) == list(tsd.keys())
    assert esd._metadata[""]["version"] == tsd._metadata[""]["version"] == 2
    assert esd["num_batches_tracked"].dtype is ember.int64 and esd["num_batches_tracked"].shape == ()
    # an old checkpoint (version 1, no num_batches_tracked) loads strictly, the counter defaulting to 0
    old = OrderedDict((k, v) for k, v in esd.items() if k != "num_batches_tracked")
    old._metadata = OrderedDict({"": {"version": 1}})
    em.num_batches_tracked.fill_(5)
    em.load_state_dict(old)
    assert int(em.num_batches_tracked) == 5  # keeps its own counter, like PyTorch
    fresh = nn.BatchNorm1d(3)
    fresh.load_state_dict(old)
    assert int(fresh.num_batches_tracked) == 0
    # a current-version checkpoint without it is a missing key
    cur = OrderedDict(old)
    cur._metadata = OrderedDict({"": {"version": 2}})
    with pytest.raises(RuntimeError, match="num_batches_tracked"):
        nn.BatchNorm1d(3).load_state_dict(cur)


def test_instancenorm_old_checkpoint_running_stats_rejected():
    m = nn.InstanceNorm1d(3)
    sd = OrderedDict(running_mean=ember.zeros(3), running_var=ember.ones(3))
    sd._metadata = OrderedDict({"": {}})
    with pytest.raises(RuntimeError, match="Unexpected running stats buffer"):
        m.load_state_dict(sd)


def test_default_init_and_buffers():
    bn = nn.BatchNorm2d(5)
    assert np.all(bn.weight.detach().numpy() == 1) and np.all(bn.bias.detach().numpy() == 0)
    assert np.all(bn.running_mean.numpy() == 0) and np.all(bn.running_var.numpy() == 1)
    assert not bn.running_mean.requires_grad and bn.weight.requires_grad
    inst = nn.InstanceNorm2d(3)
    assert inst.weight is None and inst.running_mean is None and inst.num_batches_tracked is None
    ln = nn.LayerNorm((2, 3))
    assert ln.weight.shape == (2, 3) and np.all(ln.weight.detach().numpy() == 1)
    assert np.all(ln.bias.detach().numpy() == 0)
    gn = nn.GroupNorm(2, 4)
    assert np.all(gn.weight.detach().numpy() == 1) and np.all(gn.bias.detach().numpy() == 0)
    assert np.all(nn.RMSNorm(3).weight.detach().numpy() == 1)
    assert nn.BatchNorm1d(3, dtype=ember.float64).running_mean.dtype is ember.float64
    bn.running_mean.fill_(3.0)
    bn.num_batches_tracked.fill_(7)
    bn.reset_running_stats()
    assert np.all(bn.running_mean.numpy() == 0) and int(bn.num_batches_tracked) == 0


def test_reprs_match_torch():
    torch = torch_or_skip()
    specs = [("BatchNorm1d", (3,), {}), ("BatchNorm2d", (3,), {"momentum": None, "affine": False}),
             ("BatchNorm3d", (4,), {"eps": 1e-3, "track_running_stats": False, "bias": False}),
             ("SyncBatchNorm", (3,), {}), ("InstanceNorm1d", (3,), {}),
             ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}),
             ("InstanceNorm3d", (2,), {"eps": 0.1}), ("LayerNorm", (4,), {}),
             ("LayerNorm", ([2, 3],), {"elementwise_affine": False, "bias": False, "eps": 1e-6}),
             ("LayerNorm", (5,), {"bias": False}), ("GroupNorm", (2, 4), {}), ("GroupNorm", (1, 3), {"affine": False}),
             ("RMSNorm", (3,), {}), ("RMSNorm", ([2, 3],), {"eps": 1e-4, "elementwise_affine": False}),
             ("LocalResponseNorm", (3,), {}), ("LocalResponseNorm", (2,), {"alpha": 0.1, "beta": 0.5, "k": 2}),
             ("LazyBatchNorm1d", (), {}), ("LazyInstanceNorm2d", (), {})]
    for name, args, kwargs in specs:
        assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs)), name


def test_lazy_batchnorm_materializes():
    torch = torch_or_skip()
    m = nn.LazyBatchNorm2d()
    y = m(ember.randn(2, 3, 2, 2))
    assert type(m) is nn.BatchNorm2d and m.num_features == 3 and y.shape == (2, 3, 2, 2)
    assert repr(m) == repr(torch.nn.BatchNorm2d(3))
    assert int(m.num_batches_tracked) == 1
    assert list(m.state_dict().keys()) == list(torch.nn.BatchNorm2d(3).state_dict().keys())
    mi = nn.LazyInstanceNorm1d()
    mi(ember.randn(4, 5))  # unbatched (C, L)
    assert type(mi) is nn.InstanceNorm1d and mi.num_features == 4


def test_convert_sync_batchnorm():
    net = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    w = net[1].weight
    out = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert type(out[1]) is nn.SyncBatchNorm and out[1].weight is w


def test_double_backward_through_module():
    x = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    bn = nn.BatchNorm1d(3).double()
    g, = ember.autograd.grad((bn(x) ** 3).sum(), x, create_graph=True)
    g.sum().backward()
    assert bn.weight.grad is not None and x.grad is not None


# ------------------------------------------------------------------------------------- errors
def test_errors_match_torch():
    torch = torch_or_skip()
    tF = torch.nn.functional
    cases = [
        (lambda m, f: f.batch_norm(m.randn(1, 3), None, None, training=True)),
        (lambda m, f: f.batch_norm(m.randn(4, 3), None, None, training=False)),
        (lambda m, f: f.batch_norm(m.randn(4, 3), m.zeros(4), m.ones(4), training=True)),
        (lambda m, f: f.batch_norm(m.randn(4, 3), m.zeros(3), m.ones(3), weight=m.ones(4))),
        (lambda m, f: f.batch_norm(m.randn(4), None, None, training=True)),
        (lambda m, f: f.layer_norm(m.randn(4, 3), (4,))),
        (lambda m, f: f.layer_norm(m.randn(4, 3), (3,), weight=m.ones(4))),
        (lambda m, f: f.group_norm(m.randn(2, 6, 4), 4)),
        (lambda m, f: f.group_norm(m.randn(2, 6, 4), 3, weight=m.ones(5))),
        (lambda m, f: f.instance_norm(m.randn(2, 3, 1))),
        (lambda m, f: f.local_response_norm(m.randn(3, 4), 2)),
        (lambda m, f: f.normalize(m.randn(2, 3), dim=3)),
        (lambda m, f: f.rms_norm(m.randn(2, 3), (4,))),
        (lambda m, f: m.nn.GroupNorm(4, 6)),
        (lambda m, f: m.nn.BatchNorm1d(3)(m.randn(2, 3, 4, 5))),
        (lambda m, f: m.nn.BatchNorm2d(3)(m.randn(2, 3))),
        (lambda m, f: m.nn.InstanceNorm1d(3)(m.randn(2, 3, 4, 5))),
        (lambda m, f: m.nn.InstanceNorm1d(3, affine=True)(m.randn(2, 4, 5))),
        (lambda m, f: m.nn.BatchNorm1d(3)(m.randn(1, 3))),
    ]
    for case in cases:
        assert_same_error(lambda: case(ember, F), lambda: case(torch, tF))


def test_error_messages_name_values():
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size"):
        F.batch_norm(ember.randn(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], "
                                           r"but got input of size\[4, 3\]"):
        F.layer_norm(ember.randn(4, 3), (4,))
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(ember.randn(4, 3), ember.zeros(4), ember.ones(4), training=True)
