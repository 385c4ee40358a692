"""Elementwise ops through the shared harness (forward vs float64 NumPy, gradcheck, gradgradcheck),
plus accuracy checks of the special functions against mpmath-free references."""
import math

import numpy as np
import pytest

import ember
from harness import OpSpec, cases, check_op

UNARY = [((3, 4),), ((),), ((0, 3),), ((2, 1, 3),)]
BINARY = [((3, 4), (3, 4)), ((), ()), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((0, 3), (3,)), ((5,), ())]
TERNARY = [((3, 4), (3, 4), (3, 4)), ((), (), ()), ((2, 3), (3,), (2, 1)), ((0, 2), (2,), ())]

def _vec(f):
    return np.vectorize(f, otypes=[np.float64])


def _erfinv_ref(y):
    # Newton on math.erf: an independent float64 reference
    x = np.zeros_like(y)
    for _ in range(60):
        x = x - (_vec(math.erf)(x) - y) / (2 / math.sqrt(math.pi) * np.exp(-x * x))
    return x


def _digamma_ref(x):
    h = 1e-5
    return (_vec(math.lgamma)(x + h) - _vec(math.lgamma)(x - h)) / (2 * h)


def _sign_mix(rng, shapes):
    # values away from 0 (and away from the kinks of abs/relu/clamp/floor at integers)
    out = []
    for s in shapes:
        a = rng.uniform(0.2, 0.8, s) + rng.integers(-2, 2, s)
        out.append(np.asarray(a, np.float64))
    return out


def _clamp_inputs(rng, shapes):
    x = rng.uniform(-2, 2, shapes[0])
    x = np.where(np.abs(np.abs(x) - 1) < 0.1, x + 0.3, x)  # keep clear of the bounds
    return [np.asarray(x)]


def _clamp_tensor_inputs(rng, shapes):
    x = rng.uniform(-2, 2, shapes[0])
    lo = rng.uniform(-1.2, -0.2, shapes[1])
    hi = rng.uniform(0.2, 1.2, shapes[2])
    return [_away(x, lo, hi), np.asarray(lo), np.asarray(hi)]


def _away(x, lo, hi):
    # move x off the bounds (finite differences across a kink are meaningless)
    b = np.broadcast_arrays(x, lo, hi)
    x = b[0].copy()
    for bound in (b[1], b[2]):
        near = np.abs(x - bound) < 0.05
        x[near] += 0.15
    return x


def _distinct_pair(rng, shapes):
    a = rng.uniform(-2, 2, shapes[0])
    b = rng.uniform(-2, 2, shapes[1])
    bb = np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape))
    a = np.broadcast_to(a, bb.shape).copy() if a.shape != bb.shape and a.size else a
    if a.shape == bb.shape:
        a = np.where(np.abs(a - bb) < 0.1, a + 0.3, a)
    return [np.asarray(a), np.asarray(b)]


def _mod_pair(rng, shapes):
    a = rng.uniform(-3, 3, shapes[0])
    b = rng.uniform(0.7, 1.3, shapes[1]) * rng.choice([-1, 1], shapes[1])
    q = a / np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)) if a.shape == np.broadcast_shapes(
        a.shape, b.shape) else None
    if q is not None:
        frac = q - np.floor(q)
        a = np.where((frac < 0.05) | (frac > 0.95), a + 0.3 * np.broadcast_to(np.abs(b), a.shape), a)
    return [np.asarray(a), np.asarray(b)]


def _lerp_ref(a, b, w):
    return a + w * (b - a)


def _xlogy_ref(x, y):
    return np.where(x == 0, 0.0, x * np.log(y))


SPECS = [
    OpSpec("exp2", ember.exp2, np.exp2, UNARY),
    OpSpec("expm1", ember.expm1, np.expm1, UNARY),
    OpSpec("log2", ember.log2, np.log2, UNARY, low=0.5, high=2.0),
    OpSpec("log10", ember.log10, np.log10, UNARY, low=0.5, high=2.0),
    OpSpec("log1p", ember.log1p, np.log1p, UNARY, low=-0.5, high=2.0),
    OpSpec("square", ember.square, np.square, UNARY),
    OpSpec("reciprocal", ember.reciprocal, np.reciprocal, UNARY, low=0.5, high=2.0),
    OpSpec("tan", ember.tan, np.tan, UNARY, low=-1.2, high=1.2),
    OpSpec("asin", ember.asin, np.arcsin, UNARY, low=-0.9, high=0.9),
    OpSpec("acos", ember.arccos, np.arccos, UNARY, low=-0.9, high=0.9),
    OpSpec("atan", ember.atan, np.arctan, UNARY),
    OpSpec("sinh", ember.sinh, np.sinh, UNARY),
    OpSpec("cosh", ember.cosh, np.cosh, UNARY),
    OpSpec("asinh", ember.asinh, np.arcsinh, UNARY),
    OpSpec("acosh", ember.acosh, np.arccosh, UNARY, low=1.2, high=3.0),
    OpSpec("atanh", ember.atanh, np.arctanh, UNARY, low=-0.9, high=0.9),
    OpSpec("logit", ember.logit, lambda p: np.log(p / (1 - p)), UNARY, low=0.1, high=0.9),
    OpSpec("logit_eps", lambda p: ember.logit(p, eps=0.05), lambda p: np.log(np.clip(p, 0.05, 0.95) /
           (1 - np.clip(p, 0.05, 0.95))), UNARY, low=0.1, high=0.9),
    OpSpec("erf", ember.erf, _vec(math.erf), UNARY),
    OpSpec("erfc", ember.erfc, _vec(math.erfc), UNARY),
    OpSpec("erfinv", ember.erfinv, _erfinv_ref, UNARY, low=-0.9, high=0.9),
    OpSpec("lgamma", ember.lgamma, _vec(math.lgamma), UNARY, low=0.5, high=4.0),
    OpSpec("digamma", ember.digamma, _digamma_ref, UNARY, low=0.5, high=4.0, atol=1e-8, rtol=1e-7),
    OpSpec("polygamma1", lambda x: ember.polygamma(1, x), None, UNARY, low=0.5, high=4.0),
    OpSpec("sinc", ember.sinc, np.sinc, UNARY, low=0.2, high=1.8),
    OpSpec("deg2rad", ember.deg2rad, np.deg2rad, UNARY),
    OpSpec("rad2deg", ember.rad2deg, np.rad2deg, UNARY, atol=1e-5),
    OpSpec("abs", ember.abs, np.abs, UNARY, make=_sign_mix),
    OpSpec("relu", ember.relu, lambda x: np.maximum(x, 0), UNARY, make=_sign_mix),
    OpSpec("frac", ember.frac, lambda x: x - np.trunc(x), UNARY, make=_sign_mix),
    OpSpec("floor", ember.floor, np.floor, UNARY, make=_sign_mix),
    OpSpec("round_dec", lambda x: ember.round(x, decimals=1), lambda x: np.round(x, 1), UNARY, make=_sign_mix,
           f32=False),
    OpSpec("sign", ember.sign, np.sign, UNARY, make=_sign_mix),
    OpSpec("nan_to_num", ember.nan_to_num, np.nan_to_num, UNARY),
    OpSpec("clamp", lambda x: ember.clamp(x, -1, 1), lambda x: np.clip(x, -1, 1), UNARY, make=_clamp_inputs),
    OpSpec("clamp_min", lambda x: x.clamp_min(-1), lambda x: np.maximum(x, -1), UNARY, make=_clamp_inputs),
    OpSpec("clip_max", lambda x: ember.clip(x, max=1), lambda x: np.minimum(x, 1), UNARY, make=_clamp_inputs),
    OpSpec("clamp_tensor", lambda x, lo, hi: ember.clamp(x, lo, hi), lambda x, lo, hi: np.minimum(
        np.maximum(x, lo), hi), [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((), (), ())],
        make=_clamp_tensor_inputs),
    OpSpec("maximum", ember.maximum, np.maximum, BINARY, make=_distinct_pair),
    OpSpec("minimum", ember.minimum, np.minimum, BINARY, make=_distinct_pair),
    OpSpec("fmax", ember.fmax, np.fmax, BINARY, make=_distinct_pair),
    OpSpec("fmin", ember.fmin, np.fmin, BINARY, make=_distinct_pair),
    OpSpec("lerp_scalar", lambda a, b: ember.lerp(a, b, 0.3), lambda a, b: _lerp_ref(a, b, 0.3),
           [((3, 4), (3, 4)), ((), ()), ((2, 3), (3,))]),
    OpSpec("lerp_tensor", ember.lerp, _lerp_ref, TERNARY),
    OpSpec("addcmul", lambda a, b, c: ember.addcmul(a, b, c, value=0.5), lambda a, b, c: a + 0.5 * b * c, TERNARY),
    OpSpec("addcdiv", lambda a, b, c: ember.addcdiv(a, b, c, value=-2), lambda a, b, c: a - 2 * b / c, TERNARY,
           low=0.5, high=2.0),
    OpSpec("hypot", ember.hypot, np.hypot, BINARY, low=0.3, high=2.0),
    OpSpec("atan2", ember.atan2, np.arctan2, BINARY, low=0.3, high=2.0),
    OpSpec("xlogy", ember.xlogy, _xlogy_ref, BINARY, low=0.3, high=2.0),
    OpSpec("logaddexp", ember.logaddexp, np.logaddexp, BINARY),
    OpSpec("logaddexp2", ember.logaddexp2, np.logaddexp2, BINARY),
    OpSpec("remainder", ember.remainder, np.remainder, BINARY[:4], make=_mod_pair),
    OpSpec("fmod", ember.fmod, np.fmod, BINARY[:4], make=_mod_pair),
    OpSpec("copysign", ember.copysign, np.copysign, BINARY, make=_sign_mix),
    OpSpec("where_scalar", lambda a: ember.where(a > 0, a, 0.5), lambda a: np.where(a > 0, a, 0.5), UNARY,
           make=_sign_mix),
    OpSpec("where_bcast", lambda a, b: ember.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b),
           BINARY, make=_sign_mix),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


# ---------------------------------------------------------------------- special-function accuracy
def _relerr(got, ref):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    return float(np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)))


def test_erf_erfc_accuracy():
    x = np.concatenate([np.linspace(-6, 6, 2001), [0.46875, -0.46875, 4.0, 1e-300]])
    assert _relerr(ember.erf(ember.tensor(x)).numpy(), _vec(math.erf)(x)) < 1e-15
    assert _relerr(ember.erfc(ember.tensor(x)).numpy(), _vec(math.erfc)(x)) < 2e-15
    tail = np.linspace(5, 26, 200)   # erfc keeps its relative precision far into the tail
    assert _relerr(ember.erfc(ember.tensor(tail)).numpy(), _vec(math.erfc)(tail)) < 2e-15
    e = ember.erf(ember.tensor([np.inf, -np.inf, np.nan])).numpy()
    assert e[0] == 1 and e[1] == -1 and np.isnan(e[2])
    assert ember.erfc(ember.tensor([np.inf, -np.inf])).tolist() == [0.0, 2.0]


def test_erfinv_accuracy_and_edges():
    y = np.concatenate([np.linspace(-0.999, 0.999, 1001), 1 - 10.0 ** -np.arange(2, 16)])
    x = ember.erfinv(ember.tensor(y)).numpy()
    # round trip through an independent erf, in the tail through erfc (1 - y is exact there)
    inner = np.abs(y) <= 0.5
    assert np.max(np.abs(_vec(math.erf)(x[inner]) - y[inner])) < 3e-16
    assert _relerr(_vec(math.erfc)(x[~inner & (y > 0)]), 1 - y[~inner & (y > 0)]) < 5e-15
    edge = ember.erfinv(ember.tensor([1.0, -1.0, 1.5, 0.0, -0.0])).numpy()
    assert edge[0] == np.inf and edge[1] == -np.inf and np.isnan(edge[2])
    assert edge[3] == 0 and np.signbit(edge[4])


def test_lgamma_accuracy():
    x = np.concatenate([np.linspace(0.01, 30, 3000), [1.0, 2.0, 1 + 1e-9, 2 - 1e-9, 1e-300, 1e10, 171.5],
                        -np.linspace(0.01, 9.99, 997) - 0.005])
    ref = _vec(math.lgamma)(x)
    got = ember.lgamma(ember.tensor(x)).numpy()
    near_zero = np.abs(ref) < 1e-3
    assert _relerr(got[~near_zero], ref[~near_zero]) < 1e-12
    assert np.max(np.abs(got[near_zero] - ref[near_zero])) < 1e-16 * 10
    assert got[np.where(x == 1.0)[0][0]] == 0 and got[np.where(x == 2.0)[0][0]] == 0
    assert np.all(np.isinf(ember.lgamma(ember.tensor([0.0, -1.0, -2.0, np.inf, -np.inf])).numpy()))


def test_digamma_polygamma_values():
    euler = 0.5772156649015329
    assert abs(ember.digamma(ember.tensor([1.0], dtype=ember.float64)).item() + euler) < 1e-15
    assert abs(ember.digamma(ember.tensor([0.5], dtype=ember.float64)).item() + euler + 2 * math.log(2)) < 1e-15
    assert abs(ember.polygamma(1, ember.tensor([1.0], dtype=ember.float64)).item() - math.pi ** 2 / 6) < 1e-15
    # psi''(1) = -2 zeta(3)
    assert abs(ember.polygamma(2, ember.tensor([1.0], dtype=ember.float64)).item() + 2 * 1.2020569031595942) < 1e-14
    # the recurrence psi_n(x + 1) = psi_n(x) + (-1)^n n! / x^(n+1) across the reflection (x < 0)
    x = np.array([-2.7, -1.3, -0.4, 0.3, 2.2])
    for n in (1, 2, 3):
        a = ember.polygamma(n, ember.tensor(x)).numpy()
        b = ember.polygamma(n, ember.tensor(x + 1)).numpy()
        np.testing.assert_allclose(b, a + (-1) ** n * math.factorial(n) / x ** (n + 1), rtol=1e-12)
    d = ember.digamma(ember.tensor([0.0, -0.0, -1.0])).numpy()
    assert d[0] == -np.inf and d[1] == np.inf and np.isnan(d[2])


def test_digamma_double_backward_uses_polygamma():
    x = ember.tensor([0.7, 1.5, 3.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(ember.digamma, (x,))
    assert ember.autograd.gradgradcheck(ember.lgamma, (x,))
    assert ember.autograd.gradgradcheck(lambda t: ember.polygamma(2, t), (x,))


def test_zero_gradient_ops_and_kinks():
    x = ember.tensor([-1.5, -0.5, 0.0, 0.5, 1.5, 2.5], requires_grad=True)
    for f in (ember.floor, ember.ceil, ember.round, ember.trunc, ember.sign, ember.sgn):
        g, = ember.autograd.grad(f(x).sum(), x)
        assert g.tolist() == [0.0] * 6, f.__name__
    g, = ember.autograd.grad(ember.abs(x).sum(), x)
    assert g.tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0, 1.0]
    z = ember.tensor([0.0], requires_grad=True)
    g, = ember.autograd.grad(ember.sqrt(z).sum(), z)
    assert g.tolist() == [math.inf]


def test_special_float32_keeps_dtype():
    x = ember.tensor([0.25, 0.5], dtype=ember.float32)
    for f in (ember.erf, ember.erfc, ember.erfinv, ember.lgamma, ember.digamma):
        assert f(x).dtype is ember.float32
    assert ember.polygamma(1, x).dtype is ember.float32
    assert ember.erf(ember.tensor([1, 2])).dtype is ember.float32
