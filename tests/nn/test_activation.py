"""Activations, softmax family, linear, dropout and flatten: harness (gradcheck + gradgradcheck) and PyTorch parity."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from harness import OpSpec, cases, check_op
from parity import assert_parity, assert_same_error, torch_or_skip

SHAPES = [((3, 4),), ((),), ((2, 3, 4),), ((0, 3),)]

# (name, kwargs, input range): one entry per activation; the same list drives the harness and the parity tests
ACTS = [
    ("relu", {}, 2), ("relu6", {}, 8), ("leaky_relu", {"negative_slope": 0.2}, 2), ("elu", {"alpha": 0.7}, 2),
    ("selu", {}, 2), ("celu", {"alpha": 1.3}, 2), ("gelu", {}, 3), ("gelu", {"approximate": "tanh"}, 3),
    ("silu", {}, 3), ("mish", {}, 3), ("softplus", {}, 3), ("softplus", {"beta": 2.0, "threshold": 3.0}, 3),
    ("softsign", {}, 3), ("hardtanh", {}, 2), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}, 3),
    ("hardswish", {}, 5), ("hardsigmoid", {}, 5), ("sigmoid", {}, 3), ("tanh", {}, 3), ("logsigmoid", {}, 3),
    ("threshold", {"threshold": 0.5, "value": -2.0}, 2), ("tanhshrink", {}, 2), ("softshrink", {"lambd": 0.7}, 2),
    ("hardshrink", {"lambd": 0.7}, 2), ("rrelu", {}, 2),
]
SOFTMAXES = [("softmax", {"dim": -1}), ("log_softmax", {"dim": 0}), ("softmin", {"dim": -1})]


def _fn(name, kw):
    return lambda x: getattr(F, name)(x, **kw)


def _id(name, kw):
    return name + "".join(f"-{k}={v}" for k, v in kw.items())


SPECS = [OpSpec(_id(n, kw), _fn(n, kw), None, SHAPES, low=-r, high=r) for n, kw, r in ACTS]
SPECS += [OpSpec(_id(n, kw), _fn(n, kw), None, [((3, 4),), ((),), ((2, 3, 4),), ((0, 3),), ((5,),)])
          for n, kw in SOFTMAXES]
SPECS += [
    OpSpec("softmax_ref", lambda x: F.softmax(x, 1), lambda a: np.exp(a) / np.exp(a).sum(1, keepdims=True),
           [((3, 4),), ((2, 3, 4),)]),
    OpSpec("log_softmax_ref", lambda x: F.log_softmax(x, -1),
           lambda a: a - np.log(np.exp(a).sum(-1, keepdims=True)), [((3, 4),), ((2, 3, 4),)]),
    OpSpec("relu_ref", F.relu, lambda a: np.maximum(a, 0), SHAPES),
    OpSpec("glu", lambda x: F.glu(x, 1), None, [((3, 4),), ((2, 6, 3),)]),
    OpSpec("prelu_shared", lambda x, w: F.prelu(x, w), None, [((3, 4), (1,)), ((2, 3, 4), (1,))]),
    OpSpec("prelu_channels", lambda x, w: F.prelu(x, w), None, [((3, 4), (4,)), ((2, 3, 4, 2), (3,))]),
    OpSpec("linear", lambda x, w, b: F.linear(x, w, b), lambda x, w, b: x @ w.T + b,
           [((3, 4), (5, 4), (5,)), ((4,), (5, 4), (5,)), ((2, 3, 4), (5, 4), (5,)), ((0, 4), (5, 4), (5,)),
            ((3, 4), (0, 4), (0,)),                               # no output features
            ((3, 4), (5, 4), (3, 1)), ((2, 3, 4), (5, 4), (3, 1)), ((3, 4), (5, 4), ())]),  # bias expanded
    OpSpec("linear_nobias", lambda x, w: F.linear(x, w), lambda x, w: x @ w.T, [((3, 4), (5, 4))]),
    OpSpec("bilinear", lambda a, b, w, c: F.bilinear(a, b, w, c), None,
           [((3, 4), (3, 2), (5, 4, 2), (5,)), ((2, 3, 4), (2, 3, 2), (5, 4, 2), (5,))]),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


# ------------------------------------------------------------------------------------------ parity
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw,r", ACTS, ids=[_id(n, kw) for n, kw, _ in ACTS])
def test_activation_parity(name, kw, r, dt):
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    tol = 1e-5 if dt == np.float32 else 1e-10
    if name in ("celu", "hardsigmoid") and dt == np.float64:
        tol = 1e-7  # PyTorch's float64 kernels use float32 constants (1/alpha, 1/6): ember is the exact one
    for shape in [(3, 4, 6), (), (5,)]:
        a = rng.uniform(-r, r, shape).astype(dt)
        assert_parity(_fn(name, kw), lambda t: getattr(torch.nn.functional, name)(t, **kw), [a], atol=tol, rtol=tol)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", SOFTMAXES + [("softmax", {"dim": 1}), ("log_softmax", {"dim": -2}),
                                                 ("glu", {"dim": 1}), ("glu", {"dim": -1})])
def test_softmax_glu_parity(name, kw, dt):
    torch = torch_or_skip()
    a = np.random.default_rng(1).uniform(-3, 3, (3, 4, 6)).astype(dt)
    tol = 1e-5 if dt == np.float32 else 1e-10
    assert_parity(_fn(name, kw), lambda t: getattr(torch.nn.functional, name)(t, **kw), [a], atol=tol, rtol=tol)


def test_softmax_dtype_argument_and_methods():
    torch = torch_or_skip()
    a = np.random.default_rng(2).standard_normal((2, 5)).astype(np.float32)
    for dtype, tdtype in [(ember.float64, torch.float64), (None, None)]:
        assert_parity(lambda x: F.softmax(x, 1, dtype=dtype), lambda x: torch.softmax(x, 1, dtype=tdtype), [a])
        assert_parity(lambda x: F.log_softmax(x, 0, dtype=dtype), lambda x: torch.log_softmax(x, 0, dtype=tdtype),
                      [a])
    assert_parity(lambda x: x.softmax(-1), lambda x: x.softmax(-1), [a])
    assert_parity(lambda x: x.log_softmax(dim=0), lambda x: x.log_softmax(dim=0), [a])
    assert_parity(lambda x: ember.softmax(x, 1), lambda x: torch.softmax(x, 1), [a])
    # large logits stay finite (the max is subtracted first)
    big = np.array([[1000.0, 0.0, -1000.0]])
    assert_parity(lambda x: F.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1), [big])


def test_softmax_implicit_dim_warns():
    x = ember.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.sum(1).numpy(), 1, rtol=1e-6)


def test_prelu_parity():
    torch = torch_or_skip()
    x = np.random.default_rng(3).uniform(-2, 2, (2, 4, 3)).astype(np.float64)
    for w in [np.array([0.25]), np.array([0.1, -0.2, 0.3, 0.4])]:
        assert_parity(F.prelu, torch.nn.functional.prelu, [x, w], atol=1e-10)


@pytest.mark.parametrize("name,kw", [("relu", {}), ("leaky_relu", {"negative_slope": 0.1}), ("elu", {}),
                                     ("hardtanh", {}), ("relu6", {}), ("selu", {}), ("celu", {}), ("silu", {}),
                                     ("hardswish", {}), ("hardsigmoid", {}), ("mish", {}),
                                     ("threshold", {"threshold": 0.1, "value": 3.0})])
def test_inplace_matches_torch(name, kw):
    torch = torch_or_skip()
    a = np.random.default_rng(4).uniform(-4, 4, (3, 5))
    e, t = ember.tensor(a), torch.tensor(a)
    re = getattr(F, name)(e, inplace=True, **kw)
    rt = getattr(torch.nn.functional, name)(t, inplace=True, **kw)
    assert re is e
    np.testing.assert_allclose(e.numpy(), t.numpy(), atol=1e-12)
    np.testing.assert_allclose(re.numpy(), rt.numpy(), atol=1e-12)
    # in-place on a non-leaf keeps the gradient right
    x = np.random.default_rng(5).uniform(-4, 4, (3, 5))
    assert_parity(lambda v: getattr(F, name)(v * 1.0, inplace=True, **kw),
                  lambda v: getattr(torch.nn.functional, name)(v * 1.0, inplace=True, **kw), [x], atol=1e-10)


def test_rrelu_training_slopes_in_range():
    x = -ember.rand(1000) - 0.1
    y = F.rrelu(x, 0.1, 0.3, training=True)
    ratio = (y / x).numpy()
    assert ratio.min() >= 0.1 - 1e-6 and ratio.max() <= 0.3 + 1e-6 and ratio.std() > 0.03
    pos = ember.rand(10) + 0.1
    np.testing.assert_array_equal(F.rrelu(pos, training=True).numpy(), pos.numpy())
    np.testing.assert_allclose(F.rrelu(x, 0.1, 0.3).numpy(), (x * 0.2).numpy(), rtol=1e-6)


def test_integer_inputs():
    torch = torch_or_skip()
    i = np.array([[1, -2], [3, 4]])
    assert str(F.relu(ember.tensor(i)).dtype) == "ember.int64" and F.relu(ember.tensor(i)).tolist() == [[1, 0], [3, 4]]
    assert F.softmax(ember.tensor(i), 1, dtype=ember.float64).dtype == ember.float64
    assert torch.softmax(torch.tensor(i), 1, dtype=torch.float64).dtype == torch.float64


# ------------------------------------------------------------------------------------- modules
MODULES = [
    ("ReLU", (), {}), ("ReLU", (True,), {}), ("ReLU6", (), {}), ("LeakyReLU", (0.2,), {}),
    ("LeakyReLU", (), {"inplace": True}), ("PReLU", (), {}), ("PReLU", (3,), {"init": 0.1}), ("RReLU", (0.1, 0.3), {}),
    ("ELU", (), {"alpha": 0.5}), ("ELU", (1.0, True), {}), ("CELU", (2.0,), {}), ("SELU", (), {}), ("GELU", (), {}),
    ("GELU", ("tanh",), {}), ("SiLU", (), {}), ("Mish", (), {}), ("Softplus", (2, 10), {}), ("Softsign", (), {}),
    ("Softshrink", (0.3,), {}), ("Hardshrink", (), {}), ("Tanhshrink", (), {}), ("Tanh", (), {}), ("Sigmoid", (), {}),
    ("LogSigmoid", (), {}), ("Hardtanh", (-2.0, 2.0), {}), ("Hardswish", (), {}), ("Hardsigmoid", (), {}),
    ("Threshold", (0.1, 20.0), {}), ("GLU", (), {}), ("GLU", (1,), {}), ("Softmax", (1,), {}),
    ("LogSoftmax", (), {"dim": 1}), ("Softmin", (1,), {}), ("Softmax2d", (), {}), ("Identity", (3, 4), {}),
    ("Flatten", (), {}), ("Flatten", (0, 1), {}), ("Unflatten", (1, (2, 3)), {}), ("Dropout", (), {}),
    ("Dropout", (0.2, True), {}), ("Dropout1d", (0.3,), {}), ("Dropout2d", (), {}), ("Dropout3d", (), {}),
    ("AlphaDropout", (0.1,), {}), ("FeatureAlphaDropout", (), {}), ("Linear", (3, 4), {}),
    ("Linear", (3, 4, False), {}), ("Bilinear", (2, 3, 4), {}), ("LazyLinear", (4,), {}),
]


@pytest.mark.parametrize("cls,args,kw", MODULES, ids=[f"{c}{a}{k}" for c, a, k in MODULES])
def test_module_repr_matches_torch(cls, args, kw):
    torch = torch_or_skip()
    e, t = getattr(nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    if cls == "LazyLinear":
        return  # uninitialized parameters have no shape
    assert [tuple(v.shape) for v in e.state_dict().values()] == [tuple(v.shape) for v in t.state_dict().values()]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("cls,args,kw", [m for m in MODULES if m[0] not in (
    "RReLU", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "LazyLinear",
    "Bilinear", "Unflatten") and not (m[0] in ("ReLU", "LeakyReLU", "ELU") and (True in m[1] or m[2]))],
    ids=lambda v: str(v))
def test_module_forward_parity(cls, args, kw, dt):
    torch = torch_or_skip()
    e, t = getattr(nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
    if dt == np.float64:
        e, t = e.double(), t.double()
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    a = np.random.default_rng(6).uniform(-3, 3, (2, 3, 4, 4)).astype(dt)
    if cls in ("Linear",):
        a = a[..., :3].copy()
    if cls == "PReLU" and args:
        a = a[:, :3].copy()
    if cls == "GLU" and args:
        a = a[..., :2, :].copy().transpose(0, 2, 1, 3).copy()  # an even dim 1
    tol = 1e-5 if dt == np.float32 else 1e-10
    if cls in ("CELU", "Hardsigmoid") and dt == np.float64:
        tol = 1e-7  # see test_activation_parity
    assert_parity(e, t, [a], atol=tol, rtol=tol)
    # parameter gradients too
    ps_e, ps_t = list(e.parameters()), list(t.parameters())
    if ps_e:
        ge = ember.autograd.grad(e(ember.tensor(a)).sum(), ps_e)
        gt = torch.autograd.grad(t(torch.tensor(a)).sum(), ps_t)
        for x, y in zip(ge, gt):
            np.testing.assert_allclose(x.numpy(), y.numpy(), atol=tol * 10, rtol=tol * 10)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_bilinear_and_lazy_linear_parity(dt):
    torch = torch_or_skip()
    tol = 1e-5 if dt == np.float32 else 1e-10
    rng = np.random.default_rng(7)
    t = torch.nn.Bilinear(3, 2, 4).to(torch.float64 if dt == np.float64 else torch.float32)
    e = nn.Bilinear(3, 2, 4, dtype=ember.float64 if dt == np.float64 else ember.float32)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    a, b = rng.standard_normal((5, 3)).astype(dt), rng.standard_normal((5, 2)).astype(dt)
    assert_parity(e, t, [a, b], atol=tol, rtol=tol)
    lazy = nn.LazyLinear(4)
    assert lazy.has_uninitialized_params()
    x = ember.tensor(rng.standard_normal((2, 5)).astype(np.float32))
    y = lazy(x)
    assert type(lazy) is nn.Linear and lazy.in_features == 5 and tuple(y.shape) == (2, 4)
    assert repr(lazy) == repr(torch.nn.Linear(5, 4))


def test_linear_default_init_distribution():
    torch_or_skip()
    m = nn.Linear(400, 300)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    bound = 1 / np.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.mean()) < 0.01 * bound and abs(w.var() - bound ** 2 / 3) < 0.03 * bound ** 2
    assert np.abs(w).max() > 0.99 * bound
    bl = nn.Bilinear(20, 10, 30)
    bb = 1 / np.sqrt(20)
    assert np.abs(bl.weight.detach().numpy()).max() <= bb and np.abs(bl.bias.detach().numpy()).max() <= bb
    assert abs(bl.weight.detach().numpy().var() - bb ** 2 / 3) < 0.05 * bb ** 2


def test_prelu_module_parameter_dtype():
    assert nn.PReLU().weight.dtype == ember.float32 and nn.PReLU(dtype=ember.float64).weight.dtype == ember.float64
    assert nn.PReLU(4, 0.3).weight.tolist() == pytest.approx([0.3] * 4)


# ------------------------------------------------------------------------------------- dropout
def test_dropout_statistics_and_scaling():
    x = ember.ones(200, 500)
    for p in (0.2, 0.5, 0.8):
        y = F.dropout(x, p).numpy()
        zero = (y == 0).mean()
        assert abs(zero - p) < 0.01
        np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    assert F.dropout(x, 0.5, training=False) is x
    np.testing.assert_array_equal(F.dropout(x, 0.0).numpy(), x.numpy())


def test_dropout_gradient_uses_the_mask():
    x = ember.ones(50, 40, requires_grad=True)
    y = F.dropout(x, 0.3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (y != 0).numpy() / 0.7, rtol=1e-6)


def test_dropout_modules_train_eval():
    x = ember.randn(8, 6, 5, 5)
    for m in (nn.Dropout(0.5), nn.Dropout2d(0.5), nn.Dropout3d(0.5), nn.AlphaDropout(0.5),
              nn.FeatureAlphaDropout(0.5)):
        m.eval()
        assert m(x) is x or np.array_equal(m(x).numpy(), x.numpy())
        m.train()
        assert not np.array_equal(m(x).numpy(), x.numpy())


def test_dropout2d_zeroes_whole_channels():
    x = ember.ones(30, 40, 3, 4)
    y = F.dropout2d(x, 0.4).numpy()
    per_channel = y.reshape(30, 40, -1)
    assert ((per_channel == 0).all(-1) | (per_channel != 0).all(-1)).all()
    assert abs((per_channel[..., 0] == 0).mean() - 0.4) < 0.05
    np.testing.assert_allclose(per_channel[per_channel != 0], 1 / 0.6, rtol=1e-6)
    y1 = F.dropout1d(ember.ones(30, 40, 7), 0.5).numpy()
    assert ((y1 == 0).all(-1) | (y1 != 0).all(-1)).all()
    y3 = F.dropout3d(ember.ones(4, 50, 2, 2, 2), 0.5).numpy().reshape(4, 50, -1)
    assert ((y3 == 0).all(-1) | (y3 != 0).all(-1)).all()
    unb = F.dropout2d(ember.ones(50, 3, 3), 0.5).numpy().reshape(50, -1)  # unbatched (C, H, W)
    assert ((unb == 0).all(-1) | (unb != 0).all(-1)).all()


def test_dropout_reproducible_under_manual_seed():
    ember.manual_seed(123)
    a = F.dropout(ember.ones(100), 0.5).numpy()
    ember.manual_seed(123)
    b = F.dropout(ember.ones(100), 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, F.dropout(ember.ones(100), 0.5).numpy())


def test_alpha_dropout_keeps_mean_and_variance():
    x = ember.randn(400, 500)
    y = F.alpha_dropout(x, 0.3, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02


def test_dropout_inplace():
    x = ember.ones(100)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and (x.numpy() == 0).any()


# --------------------------------------------------------------------------------------- errors
def test_activation_errors_match_torch():
    torch = torch_or_skip()
    e, t = ember.randn(2, 3), torch.randn(2, 3)
    assert_same_error(lambda: F.softmax(e, 2), lambda: torch.nn.functional.softmax(t, 2))
    assert_same_error(lambda: F.log_softmax(e, -3), lambda: torch.nn.functional.log_softmax(t, -3))
    assert_same_error(lambda: F.glu(e, 1), lambda: torch.nn.functional.glu(t, 1))
    assert_same_error(lambda: F.prelu(e, ember.ones(2)), lambda: torch.nn.functional.prelu(t, torch.ones(2)))
    assert_same_error(lambda: F.hardtanh(e, 2.0, 1.0), lambda: torch.nn.functional.hardtanh(t, 2.0, 1.0))
    assert_same_error(lambda: F.softshrink(e, -1.0), lambda: torch.nn.functional.softshrink(t, -1.0))
    assert_same_error(lambda: F.gelu(e, approximate="bad"), lambda: torch.nn.functional.gelu(t, approximate="bad"))
    assert_same_error(lambda: F.linear(e, ember.randn(4, 2)), lambda: torch.nn.functional.linear(t, torch.randn(4, 2)))
    assert_same_error(lambda: F.linear(e, ember.randn(4, 3), ember.randn(5)),
                      lambda: torch.nn.functional.linear(t, torch.randn(4, 3), torch.randn(5)))
    assert_same_error(lambda: F.linear(e, ember.randn(4, 3), ember.randn(2, 4, 1)),
                      lambda: torch.nn.functional.linear(t, torch.randn(4, 3), torch.randn(2, 4, 1)))
    assert_same_error(lambda: F.dropout(e, 1.5), lambda: torch.nn.functional.dropout(t, 1.5))
    assert_same_error(lambda: nn.Dropout(-0.1), lambda: torch.nn.Dropout(-0.1))
    assert_same_error(lambda: F.dropout1d(ember.randn(2, 3, 4, 5)),
                      lambda: torch.nn.functional.dropout1d(torch.randn(2, 3, 4, 5)))
    assert_same_error(lambda: nn.Softmax2d()(e), lambda: torch.nn.Softmax2d()(t))
    assert_same_error(lambda: F.bilinear(e, ember.randn(3, 3), ember.randn(4, 3, 3)),
                      lambda: torch.nn.functional.bilinear(t, torch.randn(3, 3), torch.randn(4, 3, 3)))
