"""PyTorch parity of the elementwise family: values, dtypes (incl. integer/bool promotion), gradients, errors."""
import numpy as np
import pytest

import ember
from parity import assert_parity, assert_same_error, torch_or_skip

torch = torch_or_skip()

R = np.random.default_rng(0)
F = R.uniform(-2, 2, (3, 4)).astype(np.float32)
POS = R.uniform(0.5, 2, (3, 4)).astype(np.float32)
UNIT = R.uniform(-0.9, 0.9, (3, 4)).astype(np.float32)
PROB = R.uniform(0.05, 0.95, (3, 4)).astype(np.float32)
I = R.integers(-5, 6, (3, 4)).astype(np.int64)
IPOS = R.integers(1, 6, (3, 4)).astype(np.int64)
B = R.integers(0, 2, (3, 4)).astype(bool)
D = R.uniform(-2, 2, (4,)).astype(np.float64)
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.5, 2.5], np.float32)

UNARY_FLOAT = ["exp2", "expm1", "log2", "log10", "log1p", "reciprocal", "tan", "asin", "arcsin", "acos", "arccos",
               "atan", "arctan", "sinh", "cosh", "asinh", "atanh", "erf", "erfc", "erfinv", "lgamma", "digamma",
               "sinc", "deg2rad", "rad2deg", "sqrt", "exp", "log", "sigmoid", "tanh", "sin", "cos", "rsqrt"]
DOMAIN = {"log2": POS, "log10": POS, "log1p": POS, "reciprocal": POS, "asin": UNIT, "arcsin": UNIT, "acos": UNIT,
          "arccos": UNIT, "atanh": UNIT, "erfinv": UNIT, "lgamma": POS, "digamma": POS, "sqrt": POS, "log": POS,
          "rsqrt": POS}


@pytest.mark.parametrize("name", UNARY_FLOAT)
def test_unary_float(name):
    x = DOMAIN.get(name, F)
    assert_parity(getattr(ember, name), getattr(torch, name), [x], atol=1e-5, rtol=1e-5)
    # method form, float64, and integer inputs promote to the default float dtype
    assert_parity(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x.astype(np.float64)])
    xi = IPOS if name in DOMAIN else I
    if name in ("asin", "arcsin", "acos", "arccos", "atanh", "erfinv"):
        xi = np.array([0, 1, -1])
    assert_parity(getattr(ember, name), getattr(torch, name), [xi], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["exp2", "expm1", "log1p", "erf", "erfc", "erfinv", "lgamma", "digamma", "sinc",
                                  "tan", "atanh", "asinh", "reciprocal", "sqrt", "rsqrt"])
def test_unary_special_values(name):
    assert_parity(getattr(ember, name), getattr(torch, name), [SPECIAL], grad=False, atol=1e-5, rtol=1e-5)


def test_acosh_logit_polygamma():
    assert_parity(ember.acosh, torch.acosh, [POS + 1.0])
    assert_parity(ember.logit, torch.logit, [PROB])
    assert_parity(lambda t: ember.logit(t, eps=0.2), lambda t: torch.logit(t, eps=0.2), [PROB])
    assert_parity(lambda t: t.logit(1e-6), lambda t: t.logit(1e-6), [np.array([0., 0.3, 1.0], np.float32)],
                  atol=1e-4)
    for n in (0, 1, 2, 3):
        assert_parity(lambda t: ember.polygamma(n, t), lambda t: torch.polygamma(n, t), [POS.astype(np.float64)],
                      atol=1e-8, rtol=1e-8)
    assert_parity(lambda t: t.polygamma(1), lambda t: t.polygamma(1), [IPOS])


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "fix", "frac", "sign", "sgn", "abs", "relu",
                                  "square", "nan_to_num", "positive"])
def test_rounding_sign_family(name):
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.2, -0.7], np.float32)   # round: half to even
    # torch's sgn gradient is a ZeroTensor that cannot be read; sign covers the zero gradient
    assert_parity(getattr(ember, name), getattr(torch, name), [x], grad=name != "sgn")
    if name != "frac":
        assert_parity(getattr(ember, name), getattr(torch, name), [I])       # integers keep their dtype
    if name in ("sign", "sgn", "square", "nan_to_num"):
        assert_parity(getattr(ember, name), getattr(torch, name), [B])


def test_round_decimals_and_nan_to_num_args():
    x = np.array([1.2345, 2.5, 0.125, 1234.5, -1250.0], np.float32)
    for d in (1, 2, -1, -2):
        assert_parity(lambda t: ember.round(t, decimals=d), lambda t: torch.round(t, decimals=d), [x])
    assert_parity(lambda t: t.round(decimals=2), lambda t: t.round(decimals=2), [x.astype(np.float16)],
                  grad=False, atol=1e-3)
    assert_parity(lambda t: ember.nan_to_num(t, nan=1.0, posinf=2.0, neginf=-3.0),
                  lambda t: torch.nan_to_num(t, nan=1.0, posinf=2.0, neginf=-3.0), [SPECIAL])
    assert_parity(ember.nan_to_num, torch.nan_to_num, [SPECIAL.astype(np.float16)])


def test_kink_gradients():
    x = np.array([0.0, -1.0, 2.0], np.float32)
    for name in ("abs", "relu", "sqrt", "sign", "floor"):
        xx = np.abs(x) if name == "sqrt" else x
        assert_parity(getattr(ember, name), getattr(torch, name), [xx])


@pytest.mark.parametrize("case", ["scalars", "bounds_swapped", "tensor_bounds", "int_float", "bool", "min_only",
                                  "max_only", "nan"])
def test_clamp(case):
    x = np.array([0.0, 1.0, 2.0, 3.0, -1.0], np.float32)
    lo = np.array([1.0, 1.0, 3.0, 1.0, 0.0], np.float32)
    hi = np.array([2.0, 2.0, 2.0, 2.0, 0.5], np.float32)
    if case == "scalars":
        assert_parity(lambda t: ember.clamp(t, 1, 2), lambda t: torch.clamp(t, 1, 2), [x])
    elif case == "bounds_swapped":
        assert_parity(lambda t: t.clamp(3, 2), lambda t: t.clamp(3, 2), [x])
    elif case == "tensor_bounds":
        assert_parity(ember.clamp, torch.clamp, [x, lo, hi])
        assert_parity(lambda a, b: ember.clip(a, max=b), lambda a, b: torch.clip(a, max=b), [x, hi])
    elif case == "int_float":
        assert_parity(lambda t: ember.clamp(t, 0.5, 2.5), lambda t: torch.clamp(t, 0.5, 2.5), [I])
        assert_parity(lambda t: ember.clamp_min(t, 2), lambda t: torch.clamp_min(t, 2), [I])
    elif case == "bool":
        assert_parity(lambda t: ember.clamp(t, 0, 1), lambda t: torch.clamp(t, 0, 1), [B])
    elif case == "min_only":
        assert_parity(lambda a, b: ember.clamp(a, min=b), lambda a, b: torch.clamp(a, min=b), [x, lo])
    elif case == "max_only":
        assert_parity(lambda t: ember.clamp_max(t, 1.5), lambda t: torch.clamp_max(t, 1.5), [x])
    else:
        assert_parity(lambda t: ember.clamp(t, 0, 1), lambda t: torch.clamp(t, 0, 1), [SPECIAL], grad=False)


BIN_A = np.array([1.0, 2.0, 3.0, -1.0, np.nan, 0.5], np.float32)
BIN_B = np.array([1.0, 3.0, 2.0, np.nan, 1.0, -0.5], np.float32)


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_minmax(name):
    a = np.array([1.0, 2.0, 3.0, -1.0], np.float32)
    b = np.array([1.0, 3.0, 2.0, 0.0], np.float32)        # a tie: maximum/minimum split the gradient
    assert_parity(getattr(ember, name), getattr(torch, name), [a, b])
    assert_parity(getattr(ember, name), getattr(torch, name), [BIN_A, BIN_B], grad=False)
    assert_parity(getattr(ember, name), getattr(torch, name), [I, F])  # int and float promote
    assert_parity(getattr(ember, name), getattr(torch, name), [B, B])


@pytest.mark.parametrize("name", ["hypot", "atan2", "arctan2", "logaddexp", "logaddexp2", "xlogy", "remainder",
                                  "fmod", "copysign"])
def test_binary_float(name):
    a, b = F, POS * np.where(R.random((3, 4)) < 0.5, -1, 1).astype(np.float32)
    if name == "xlogy":
        b = POS
        a = np.where(R.random((3, 4)) < 0.3, 0, F).astype(np.float32)
    assert_parity(getattr(ember, name), getattr(torch, name), [a, b], atol=1e-5)
    assert_parity(getattr(ember, name), getattr(torch, name), [a, D[None].repeat(3, 0).astype(np.float32)],
                  atol=1e-5)
    assert_parity(lambda x, y: getattr(x, name)(y), lambda x, y: getattr(x, name)(y), [a.astype(np.float64), b[0]])
    if name in ("atan2", "arctan2", "xlogy", "remainder", "fmod", "copysign"):
        assert_parity(getattr(ember, name), getattr(torch, name), [I, IPOS])   # integer inputs


def test_binary_scalars_and_specials():
    for s in (2, -2, 1.5):
        assert_parity(lambda t: ember.remainder(t, s), lambda t: torch.remainder(t, s), [F])
        assert_parity(lambda t: ember.fmod(t, s), lambda t: torch.fmod(t, s), [F])
        assert_parity(lambda t: t % s, lambda t: t % s, [I], grad=False)
        assert_parity(lambda t: ember.copysign(t, s), lambda t: torch.copysign(t, s), [I])
    assert_parity(lambda t: 5 % t, lambda t: 5 % t, [IPOS])
    assert_parity(lambda t: ember.xlogy(2, t), lambda t: torch.xlogy(2, t), [POS])
    assert_parity(lambda t: ember.xlogy(t, 3), lambda t: torch.xlogy(t, 3), [F])
    assert_parity(ember.xlogy, torch.xlogy, [np.array([0., 0., 1.], np.float32),
                                             np.array([0., np.nan, 2.], np.float32)], grad=False)
    assert_parity(ember.logaddexp, torch.logaddexp, [np.array([np.inf, -np.inf, 1e30], np.float32),
                                                     np.array([np.inf, -np.inf, 1.0], np.float32)], grad=False)
    assert_parity(ember.copysign, torch.copysign, [np.array([0., 1., -2.], np.float32),
                                                   np.array([-1., 1., 1.], np.float32)])
    assert_parity(ember.heaviside, torch.heaviside, [np.array([-1., 0., 2.], np.float32),
                                                     np.array([0.5], np.float32)], grad=False)
    assert_parity(ember.heaviside, torch.heaviside, [np.array([-1, 0, 2]), np.array([7])])


def test_lerp_addcmul_addcdiv():
    a, b = F, F[::-1].copy()
    for w in (0.3, 0.7, -0.5, 2.0):
        assert_parity(lambda x, y: ember.lerp(x, y, w), lambda x, y: torch.lerp(x, y, w), [a, b])
    assert_parity(ember.lerp, torch.lerp, [a, b, PROB])
    assert_parity(lambda x, y, w: x.lerp(y, w), lambda x, y, w: x.lerp(y, w),
                  [a[:, :1].copy(), b[0].copy(), np.array([0.5], np.float32)])
    assert_parity(lambda x, y, z: ember.addcmul(x, y, z, value=0.5), lambda x, y, z: torch.addcmul(x, y, z, value=0.5),
                  [a, b, D.astype(np.float32)])
    assert_parity(lambda x, y, z: ember.addcmul(x, y, z, value=2), lambda x, y, z: torch.addcmul(x, y, z, value=2),
                  [I, I, IPOS])
    assert_parity(lambda x, y, z: ember.addcmul(x, y, z, value=0.5),
                  lambda x, y, z: torch.addcmul(x, y, z, value=0.5), [I, I, IPOS])
    assert_parity(lambda x, y, z: ember.addcmul(x, y, z), lambda x, y, z: torch.addcmul(x, y, z), [I, F, IPOS])
    assert_parity(lambda x, y, z: ember.addcdiv(x, y, z, value=-1.5),
                  lambda x, y, z: torch.addcdiv(x, y, z, value=-1.5), [a, b, POS])
    assert_parity(ember.addcdiv, torch.addcdiv, [I, F, POS])


def test_where_and_comparisons():
    c = B
    assert_parity(lambda c_, x: ember.where(c_, x, 0.5), lambda c_, x: torch.where(c_, x, 0.5), [c, F])
    assert_parity(lambda c_: ember.where(c_, 1.0, 0), lambda c_: torch.where(c_, 1.0, 0), [c])
    assert_parity(lambda c_: ember.where(c_, 1, 0), lambda c_: torch.where(c_, 1, 0), [c])
    assert_parity(lambda c_, x: ember.where(c_, x, 5.5), lambda c_, x: torch.where(c_, x, 5.5),
                  [c, I.astype(np.int32)])
    assert_parity(lambda c_, x, y: ember.where(c_, x, y), lambda c_, x, y: torch.where(c_, x, y),
                  [c[:, :1].copy(), F[0].copy(), D])
    for op in ("eq", "ne", "lt", "le", "gt", "ge"):
        for other in (1.5, 2, True, -1):
            assert_parity(lambda t: getattr(ember, op)(t, other), lambda t: getattr(torch, op)(t, other), [I])
        assert_parity(getattr(ember, op), getattr(torch, op), [I, F])
        assert_parity(lambda t: getattr(ember, op)(t, -1), lambda t: getattr(torch, op)(t, -1),
                      [IPOS.astype(np.uint8)])
        assert_parity(getattr(ember, op), getattr(torch, op), [B, I])


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise(name):
    ops = {"bitwise_and": lambda a, b: a & b, "bitwise_or": lambda a, b: a | b, "bitwise_xor": lambda a, b: a ^ b}
    assert_parity(getattr(ember, name), getattr(torch, name), [I, IPOS])
    assert_parity(ops[name], ops[name], [B, B[::-1].copy()])
    assert_parity(ops[name], ops[name], [B, I])
    assert_parity(lambda t: ops[name](t, True), lambda t: ops[name](t, True), [B])
    assert_parity(lambda t: ops[name](t, 1), lambda t: ops[name](t, 1), [B])
    assert_parity(lambda t: ops[name](3, t), lambda t: ops[name](3, t), [I])
    assert_parity(ops[name], ops[name], [I.astype(np.int8), I.astype(np.int32)])

    def inplace_e(t):
        t = t.clone()
        if name == "bitwise_and":
            t &= 3
        elif name == "bitwise_or":
            t |= 3
        else:
            t ^= 3
        return t
    assert_parity(inplace_e, inplace_e, [I])


def test_bitwise_not_and_shifts():
    assert_parity(lambda t: ~t, lambda t: ~t, [I])
    assert_parity(lambda t: ~t, lambda t: ~t, [B])
    assert_parity(ember.bitwise_not, torch.bitwise_not, [IPOS.astype(np.uint8)])
    for s in (0, 1, 3, 63, 64, 70, -1):
        assert_parity(lambda t: t << s, lambda t: t << s, [I])
        assert_parity(lambda t: t >> s, lambda t: t >> s, [I])
    assert_parity(lambda t: t << 1, lambda t: t << 1, [np.array([64, -3], np.int8)])
    assert_parity(lambda t: t >> 9, lambda t: t >> 9, [np.array([200, 3], np.uint8)])
    assert_parity(lambda t: 1 << t, lambda t: 1 << t, [IPOS])
    assert_parity(lambda t: t << 1, lambda t: t << 1, [B])
    assert_parity(ember.bitwise_left_shift, torch.bitwise_left_shift, [I, IPOS])
    assert_parity(ember.bitwise_right_shift, torch.bitwise_right_shift, [I, IPOS])

    def ishift(t):
        t = t.clone()
        t <<= 2
        t >>= 1
        return t
    assert_parity(ishift, ishift, [I])


def test_predicates():
    for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal", "signbit"):
        assert_parity(getattr(ember, name), getattr(torch, name), [SPECIAL])
        assert_parity(getattr(ember, name), getattr(torch, name), [I])
        assert_parity(getattr(ember, name), getattr(torch, name), [B])
    a = np.array([1.0, 2.0, np.nan, np.inf, -np.inf, 1e-9], np.float32)
    b = np.array([1.0 + 1e-7, 2.1, np.nan, np.inf, np.inf, 0.0], np.float32)
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.1, "atol": 0.0}):
        assert_parity(lambda x, y: ember.isclose(x, y, **kw), lambda x, y: torch.isclose(x, y, **kw), [a, b])
        assert ember.allclose(ember.tensor(a), ember.tensor(b), **kw) == torch.allclose(
            torch.tensor(a), torch.tensor(b), **kw)
    assert_parity(ember.isclose, torch.isclose, [I, IPOS])
    assert_parity(ember.isclose, torch.isclose, [F[:, :1].copy(), F[0].copy()])
    for x, y in ((F, F), (I, I.astype(np.float32)), (F, F[:2]), (SPECIAL, SPECIAL), (B, B)):
        assert ember.equal(ember.tensor(x), ember.tensor(y)) == torch.equal(torch.tensor(x), torch.tensor(y))


def test_inplace_and_out():
    for name, args in (("exp2_", ()), ("clamp_", (0, 1)), ("round_", ()), ("lerp_", (None, 0.5)),
                       ("relu_", ()), ("nan_to_num_", ()), ("remainder_", (1.5,)), ("copysign_", (-1.0,))):
        def run(mod, t, name=name, args=args):
            t = t.clone()
            a = tuple(t * 2 if x is None else x for x in args)
            r = getattr(t, name)(*a)
            assert r is t
            return t
        assert_parity(lambda t: run(ember, t), lambda t: run(torch, t), [F], grad=False)
    e_out, t_out = ember.empty(3, 4), torch.empty(3, 4)
    ember.erf(ember.tensor(F), out=e_out)
    torch.erf(torch.tensor(F), out=t_out)
    np.testing.assert_allclose(e_out.numpy(), t_out.numpy(), atol=1e-6)
    assert_parity(lambda t: ember.relu_(t.clone()), lambda t: torch.relu_(t.clone()), [F], grad=False)


def test_grad_fn_names():
    x = ember.tensor([0.5], requires_grad=True)
    tx = torch.tensor([0.5], requires_grad=True)
    for name in ("exp2", "expm1", "log2", "log10", "log1p", "tan", "asin", "acos", "atan", "sinh", "cosh",
                 "asinh", "atanh", "erf", "erfc", "erfinv", "lgamma", "digamma", "floor", "ceil", "trunc",
                 "round", "sign", "frac", "relu", "sinc", "logit", "reciprocal", "square"):
        assert getattr(ember, name)(x).grad_fn.name() == type(getattr(torch, name)(tx).grad_fn).__name__, name


BAD = {
    "bitwise_and_float": (lambda m: m.bitwise_and(m.tensor([1.]), m.tensor([1.]))),
    "bitwise_and_int_float_scalar": (lambda m: m.bitwise_and(m.tensor([1]), 1.5)),
    "invert_float": (lambda m: ~m.tensor([1.])),
    "bitwise_not_float": (lambda m: m.bitwise_not(m.tensor([1.]))),
    "lshift_float": (lambda m: m.tensor([1., 2.]) << 2),
    "iand_float_scalar": (lambda m: m.tensor([1]).__iand__(1.5)),
    "lerp_shapes": (lambda m: m.lerp(m.tensor([1., 2.]), m.tensor([2., 3., 4.]), 0.5)),
    "lerp_dtype": (lambda m: m.lerp(m.tensor([1.]), m.tensor([2.], dtype=m.float64), 0.5)),
    "lerp_weight_dtype": (lambda m: m.lerp(m.tensor([1.]), m.tensor([2.]), m.tensor([0.5], dtype=m.float64))),
    "lerp_int": (lambda m: m.lerp(m.tensor([1]), m.tensor([2]), 0.5)),
    "clamp_no_bounds": (lambda m: m.clamp(m.tensor([1.]))),
    "clamp_mixed_bounds": (lambda m: m.clamp(m.tensor([1, 2]), m.tensor([1.5]), 3)),
    "clamp_inplace_int_float": (lambda m: m.tensor([1]).clamp_(0.5)),
    "isclose_shapes": (lambda m: m.isclose(m.tensor([1., 2.]), m.tensor([1., 2., 3.]))),
    "isclose_dtypes": (lambda m: m.isclose(m.tensor([1.]), m.tensor([1.], dtype=m.float64))),
    "allclose_dtypes": (lambda m: m.allclose(m.tensor([1.]), m.tensor([1.], dtype=m.float64))),
    "isclose_neg_rtol": (lambda m: m.isclose(m.tensor([1.]), m.tensor([1.]), rtol=-1)),
    "equal_scalar": (lambda m: m.equal(m.tensor([1.]), 1.)),
    "maximum_scalar": (lambda m: m.maximum(m.tensor([1.]), 2.)),
    "hypot_int": (lambda m: m.hypot(m.tensor([3]), m.tensor([4]))),
    "logaddexp_int": (lambda m: m.logaddexp(m.tensor([1]), m.tensor([2]))),
    "addcdiv_int": (lambda m: m.addcdiv(m.tensor([1]), m.tensor([2]), m.tensor([3]))),
    "remainder_int_zero": (lambda m: m.remainder(m.tensor([3]), 0)),
    "fmod_int_zero": (lambda m: m.fmod(m.tensor([3]), m.tensor([0]))),
    "heaviside_dtypes": (lambda m: m.heaviside(m.tensor([-1., 0.]), m.tensor([1]))),
    "where_int_cond": (lambda m: m.where(m.tensor([1]), m.tensor([1.]), m.tensor([2.]))),
    "round_decimals_int": (lambda m: m.round(m.tensor([15]), decimals=-1)),
    "floor_bool": (lambda m: m.floor(m.tensor([True]))),
    "frac_int": (lambda m: m.frac(m.tensor([1]))),
    "relu_bool": (lambda m: m.relu(m.tensor([True]))),
    "positive_bool": (lambda m: m.positive(m.tensor([True]))),
    "abs_bool": (lambda m: m.abs(m.tensor([True]))),
    "polygamma_negative_n": (lambda m: m.polygamma(-1, m.tensor([1.]))),
    "exp_inplace_int": (lambda m: m.tensor([1]).exp_()),
    "erf_inplace_leaf": (lambda m: m.tensor([1.], requires_grad=True).erf_()),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input(name):
    f = BAD[name]
    assert_same_error(lambda: f(ember), lambda: f(torch))
