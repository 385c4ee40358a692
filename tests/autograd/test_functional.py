"""ember.autograd.functional against torch.autograd.functional: values and return structures."""
import numpy as np
import pytest

import ember
from ember.autograd import functional as F
from parity import torch_or_skip, assert_same_error

RNG = np.random.default_rng(0)
A = RNG.standard_normal(3)
B = RNG.standard_normal((2, 2))
V3 = RNG.standard_normal(3)
V22 = RNG.standard_normal((2, 2))


def _compare(e, t, requires_grad=None):
    """Same nesting (tuple vs tensor), shapes and values; optionally check requires_grad."""
    torch = torch_or_skip()
    if isinstance(t, (tuple, list)):
        assert type(e) is type(t) and len(e) == len(t), f"structure {type(e).__name__} != torch {type(t).__name__}"
        for a, b in zip(e, t):
            _compare(a, b, requires_grad)
        return
    assert isinstance(t, torch.Tensor) and isinstance(e, ember.Tensor), f"{type(e).__name__} vs {type(t).__name__}"
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
    if requires_grad is not None:
        assert e.requires_grad == t.requires_grad == requires_grad


def _args(lib, *arrays):
    out = tuple(lib.tensor(a, dtype=lib.float64) for a in arrays)
    return out


# functions written once, run with either library (torch or ember) as `lib`
def f_square(lib):
    return lambda x: x ** 2 * x.sin()


def f_two_in(lib):
    return lambda x, y: (x * y.sum(), (x.exp() * 2).sum() + (y ** 3).sum())


def f_scalar(lib):
    return lambda x: (x ** 3).sum() + (x.sin() * x).sum()


def f_scalar2(lib):
    return lambda x, y: (x ** 2).sum() * y.sum() + (y ** 3).sum()


JAC_CASES = [
    ("tensor_in_tensor_out", f_square, (A,), False),
    ("tuple1_in", f_square, (A,), True),
    ("tuple_in_tuple_out", f_two_in, (A, B), True),
    ("single_out_tuple", lambda lib: (lambda x: (x * 2,)), (A,), False),
    ("scalar_out", lambda lib: (lambda x: x.sum() * 3), (B,), False),
    ("unused_input", lambda lib: (lambda x, y: x * 2), (A, B), True),
    ("constant_out", lambda lib: (lambda x: lib.ones(3, dtype=lib.float64)), (A,), False),
]


@pytest.mark.parametrize("name,fn,arrays,as_tuple", JAC_CASES, ids=[c[0] for c in JAC_CASES])
@pytest.mark.parametrize("mode", ["reverse", "forward", "vectorize"])
def test_jacobian_matches_torch(name, fn, arrays, as_tuple, mode):
    torch = torch_or_skip()
    kw = {"reverse": {}, "forward": {"vectorize": True, "strategy": "forward-mode"},
          "vectorize": {"vectorize": True}}[mode]
    res = []
    for lib, mod in ((ember, F), (torch, torch.autograd.functional)):
        ins = _args(lib, *arrays)
        res.append(mod.jacobian(fn(lib), ins if as_tuple else ins[0], **kw))
    _compare(*res, requires_grad=False)


def test_jacobian_create_graph_is_differentiable():
    torch = torch_or_skip()
    res = []
    for lib, mod in ((ember, F), (torch, torch.autograd.functional)):
        x = lib.tensor(A, dtype=lib.float64, requires_grad=True)
        j = mod.jacobian(lambda t: t ** 3, x, create_graph=True)
        assert j.requires_grad
        (g,) = lib.autograd.grad(j.sum(), x)
        res.append((j, g))
    _compare(*res)


@pytest.mark.parametrize("as_tuple", [False, True])
def test_hessian_matches_torch(as_tuple):
    torch = torch_or_skip()
    res = []
    for lib, mod in ((ember, F), (torch, torch.autograd.functional)):
        x, = _args(lib, A)
        res.append(mod.hessian(f_scalar(lib), (x,) if as_tuple else x))
    _compare(*res, requires_grad=False)


def test_hessian_two_inputs_and_strategies():
    torch = torch_or_skip()
    for kw in ({}, {"vectorize": True}, {"vectorize": True, "outer_jacobian_strategy": "forward-mode"}):
        res = []
        for lib, mod in ((ember, F), (torch, torch.autograd.functional)):
            res.append(mod.hessian(f_scalar2(lib), _args(lib, A, B), **kw))
        _compare(*res)


@pytest.mark.parametrize("op", ["vjp", "jvp"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_jvp_match_torch(op, create_graph):
    torch = torch_or_skip()
    res = []
    for lib, mod in ((ember, F), (torch, torch.autograd.functional)):
        x, y = _args(lib, A, B)
        if op == "vjp":
            v = (lib.tensor(V3), lib.tensor(7.0, dtype=lib.float64))
        else:
            v = (lib.tensor(V3), lib.tensor(V22))
        out = getattr(mod, op)(f_two_in(lib), (x, y), v, create_graph=create_graph)
        res.append(out)
    _compare(*res, requires_grad=create_graph)


def test_vjp_jvp_single_tensor_structure():
    torch = torch_or_skip()
    res = []
    for lib, mod in ((ember, F), (torch, torch.autograd.functional)):
        x, = _args(lib, A)
        v = lib.tensor(V3)
        res.append((mod.vjp(f_square(lib), x, v), mod.jvp(f_square(lib), x, v),
                    mod.vjp(lambda t: t.sum(), x),  # v may be omitted for a one-element output
                    mod.jvp(lambda t: t * 3, x[:1] if lib is torch else x.reshape(3, 1)[0])))
    _compare(*res)


@pytest.mark.parametrize("op", ["hvp", "vhp"])
@pytest.mark.parametrize("as_tuple", [False, True])
def test_hvp_vhp_match_torch(op, as_tuple):
    torch = torch_or_skip()
    res = []
    for lib, mod in ((ember, F), (torch, torch.autograd.functional)):
        if as_tuple:
            args, fn, v = _args(lib, A, B), f_scalar2(lib), (lib.tensor(V3), lib.tensor(V22))
        else:
            args, fn, v = _args(lib, A)[0], f_scalar(lib), lib.tensor(V3)
        res.append(getattr(mod, op)(fn, args, v))
    _compare(*res, requires_grad=False)


def test_hvp_equals_hessian_times_v():
    x = ember.tensor(A)
    h = F.hessian(f_scalar(ember), x)
    _, hv = F.hvp(f_scalar(ember), x, ember.tensor(V3))
    np.testing.assert_allclose(hv.numpy(), h.numpy() @ V3, rtol=1e-12)


def test_jacobian_unused_input_is_zeros_not_none():
    x, y = ember.tensor(A), ember.tensor(B)
    jx, jy = F.jacobian(lambda a, b: a * 2, (x, y))
    assert tuple(jy.shape) == (3, 2, 2) and not jy.numpy().any()


def test_functional_does_not_touch_grad_or_graph():
    x = ember.tensor(A, requires_grad=True)
    F.jacobian(lambda t: t ** 2, x)
    F.hessian(lambda t: (t ** 3).sum(), x)
    assert x.grad is None


ERR_CASES = [
    ("bad_strategy", lambda lib, mod, x: mod.jacobian(lambda a: a * 2, x, strategy="bad")),
    ("fwd_no_vectorize", lambda lib, mod, x: mod.jacobian(lambda a: a * 2, x, strategy="forward-mode")),
    ("fwd_create_graph", lambda lib, mod, x: mod.jacobian(lambda a: a * 2, x, strategy="forward-mode",
                                                          vectorize=True, create_graph=True)),
    ("strict_vectorize", lambda lib, mod, x: mod.jacobian(lambda a: a * 2, x, strict=True, vectorize=True)),
    ("strict_independent", lambda lib, mod, x: mod.jacobian(lambda a: x * 2, x, strict=True)),
    ("strict_unused_input", lambda lib, mod, x: mod.jacobian(lambda a, b: a * 2, (x, x), strict=True)),
    ("vjp_needs_v", lambda lib, mod, x: mod.vjp(lambda a: a * 2, x)),
    ("vjp_bad_v_size", lambda lib, mod, x: mod.vjp(lambda a: a * 2, x, lib.ones(2, dtype=lib.float64))),
    ("vjp_v_list", lambda lib, mod, x: mod.vjp(lambda a: a * 2, (x,), [x])),
    ("vjp_non_tensor_out", lambda lib, mod, x: mod.vjp(lambda a: 3, x)),
    ("vjp_non_tensor_in", lambda lib, mod, x: mod.vjp(lambda a: a, 3)),
    ("vjp_tuple_non_tensor", lambda lib, mod, x: mod.vjp(lambda a: (a, 3), x)),
    ("vjp_strict_unused", lambda lib, mod, x: mod.vjp(lambda a, b: a * 2, (x, x), x, strict=True)),
    ("vjp_v_two_for_one", lambda lib, mod, x: mod.vjp(lambda a: a, x, (x, x))),
    ("jvp_needs_v", lambda lib, mod, x: mod.jvp(lambda a: a * 2, x)),
    ("jvp_strict_const", lambda lib, mod, x: mod.jvp(lambda a: lib.ones(3), x, x, strict=True)),
    ("hessian_vector_out", lambda lib, mod, x: mod.hessian(lambda a: a * 2, x)),
    ("hessian_tuple_out", lambda lib, mod, x: mod.hessian(lambda a: (a.sum(),), x)),
    ("hessian_strict_linear", lambda lib, mod, x: mod.hessian(lambda a: (a * 2).sum(), x, strict=True)),
    ("hvp_vector_out", lambda lib, mod, x: mod.hvp(lambda a: a * 2, x, x)),
    ("vhp_tuple_out", lambda lib, mod, x: mod.vhp(lambda a: (a.sum(),), x, x)),
    ("hvp_strict_linear", lambda lib, mod, x: mod.hvp(lambda a: (a * 2).sum(), x, x, strict=True)),
]


@pytest.mark.parametrize("name,call", ERR_CASES, ids=[c[0] for c in ERR_CASES])
def test_errors_match_torch(name, call):
    torch = torch_or_skip()
    msgs = []

    def run(lib, mod):
        try:
            call(lib, mod, lib.tensor(A, dtype=lib.float64))
        except Exception as e:
            msgs.append(str(e).replace("torch.", "").replace("ember.", ""))
            raise
    assert_same_error(lambda: run(ember, F), lambda: run(torch, torch.autograd.functional))
    assert msgs[1] == msgs[0], f"ember: {msgs[1]!r}\ntorch: {msgs[0]!r}"


def test_non_strict_independent_output_gives_zeros():
    x = ember.tensor(A)
    assert not F.jacobian(lambda a: x * 2, x).numpy().any()
    out, g = F.jvp(lambda a: ember.ones(3), x, x)
    assert not g.numpy().any()
