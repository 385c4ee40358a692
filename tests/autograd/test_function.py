"""Custom ``autograd.Function``: every scenario runs in ember and in torch and must give the same result.

Each scenario returns plain Python values (lists, bools, names) or the error text; the tests
compare them after replacing the library name.
"""
import numpy as np
import pytest

import ember
from parity import torch_or_skip

def run(lib):
    """Run every scenario with ``lib`` (ember or torch); {name: result or 'Error: message'}."""
    out = {}
    def t(name, f):
        try: out[name] = f()
        except Exception as e: out[name] = f"{type(e).__name__}: {e}"
    F = lib.autograd.Function
    class Cube(F):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x); ctx.k = k
            return x ** 3 * k
        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g * ctx.k, None
    def basic():
        x = lib.tensor([1., 2.], requires_grad=True)
        y = Cube.apply(x, 2.0); y.sum().backward()
        return x.grad.tolist(), type(y.grad_fn).__name__, y.grad_fn.name() if callable(getattr(y.grad_fn,'name',None)) else None
    t("basic", basic)
    def dbl():
        x = lib.tensor([1., 2.], requires_grad=True)
        g, = lib.autograd.grad(Cube.apply(x, 1.0).sum(), x, create_graph=True)
        g2, = lib.autograd.grad(g.sum(), x)
        return g2.tolist()
    t("double", dbl)
    class Needs(F):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b
        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return (g * b if ctx.needs_input_grad[0] else None, g * a if ctx.needs_input_grad[1] else None)
    def needs():
        a = lib.tensor([1., 2.], requires_grad=True); b = lib.tensor([3., 4.])
        y = Needs.apply(a, b); y.sum().backward(); return a.grad.tolist(), b.grad
    t("needs", needs)
    class Wrong(F):
        @staticmethod
        def forward(ctx, a, b): return a * b
        @staticmethod
        def backward(ctx, g): return g
    def wrong():
        a = lib.tensor([1., 2.], requires_grad=True); b = lib.tensor([3., 4.], requires_grad=True)
        Wrong.apply(a, b).sum().backward()
    t("wrong_count", wrong)
    class Wrong3(F):
        @staticmethod
        def forward(ctx, a): return a * 2
        @staticmethod
        def backward(ctx, g): return g, g, g
    def wrong3():
        a = lib.tensor([1., 2.], requires_grad=True)
        Wrong3.apply(a).sum().backward()
    t("wrong_count3", wrong3)
    class Wrong3None(F):
        @staticmethod
        def forward(ctx, a): return a * 2
        @staticmethod
        def backward(ctx, g): return g, None, None
    def wrong3n():
        a = lib.tensor([1., 2.], requires_grad=True)
        Wrong3None.apply(a).sum().backward(); return a.grad.tolist()
    t("extra_nones", wrong3n)
    class WrongShape(F):
        @staticmethod
        def forward(ctx, a): return a * 2
        @staticmethod
        def backward(ctx, g): return lib.ones(3)
    def wshape():
        a = lib.tensor([1., 2.], requires_grad=True)
        WrongShape.apply(a).sum().backward()
    t("wrong_shape", wshape)
    class Dirty(F):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2); ctx.mark_dirty(x); return x
        @staticmethod
        def backward(ctx, g): return g * 2
    def dirty():
        a = lib.tensor([1., 2.], requires_grad=True)
        b = a * 1
        c = Dirty.apply(b)
        (c * c).sum().backward()
        return c is b, b._version, a.grad.tolist(), type(b.grad_fn).__name__
    t("dirty", dirty)
    def dirty_leaf():
        a = lib.tensor([1., 2.], requires_grad=True)
        Dirty.apply(a)
    t("dirty_leaf", dirty_leaf)
    class NonDiff(F):
        @staticmethod
        def forward(ctx, x):
            idx = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(idx)
            return x * 2, idx
        @staticmethod
        def backward(ctx, g, gidx):
            return g * 2
    def nondiff():
        a = lib.tensor([1., -2.], requires_grad=True)
        y, idx = NonDiff.apply(a)
        y.sum().backward()
        return idx.requires_grad, y.requires_grad, a.grad.tolist(), idx.grad_fn
    t("nondiff", nondiff)
    class Mat(F):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3
        @staticmethod
        def backward(ctx, g1, g2):
            return (g1 * 2 if g1 is not None else 0) + (g2 * 3 if g2 is not None else 0) if (g1 is not None or g2 is not None) else None
    def mat():
        a = lib.tensor([1., 2.], requires_grad=True)
        y1, y2 = Mat.apply(a)
        y1.sum().backward(); return a.grad.tolist()
    t("materialize_false", mat)
    class Mat2(F):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3
        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3
    def mat2():
        a = lib.tensor([1., 2.], requires_grad=True)
        y1, y2 = Mat2.apply(a)
        y1.sum().backward(); return a.grad.tolist()
    t("materialize_true", mat2)
    from importlib import import_module
    once = lib.autograd.function.once_differentiable
    class Once(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x); return x ** 2
        @staticmethod
        @once
        def backward(ctx, g):
            x, = ctx.saved_tensors; return 2 * x * g
    def oncef():
        a = lib.tensor([1., 2.], requires_grad=True)
        g, = lib.autograd.grad(Once.apply(a).sum(), a, create_graph=True)
        r = [g.requires_grad, g.tolist()]
        try:
            g.sum().backward()
        except RuntimeError as e:
            r.append(str(e))
        return r
    t("once", oncef)
    def once_plain():
        a = lib.tensor([1., 2.], requires_grad=True)
        Once.apply(a).sum().backward(); return a.grad.tolist()
    t("once_plain", once_plain)
    class Setup(F):
        @staticmethod
        def forward(x, k):
            return x * k
        @staticmethod
        def setup_context(ctx, inputs, output):
            x, k = inputs; ctx.k = k; ctx.save_for_backward(x)
        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None
    def setup():
        a = lib.tensor([1., 2.], requires_grad=True)
        y = Setup.apply(a, 3.0); y.sum().backward(); return a.grad.tolist()
    t("setup_ctx", setup)
    def nograd_in():
        a = lib.tensor([1., 2.])
        y = Cube.apply(a, 1.0); return y.requires_grad, y.grad_fn
    t("no_grad_input", nograd_in)
    def under_nograd():
        a = lib.tensor([1., 2.], requires_grad=True)
        with lib.no_grad(): y = Cube.apply(a, 1.0)
        return y.requires_grad
    t("under_no_grad", under_nograd)
    class Ident(F):
        @staticmethod
        def forward(ctx, x): return x
        @staticmethod
        def backward(ctx, g): return g * 5
    def ident():
        a = lib.tensor([1., 2.], requires_grad=True)
        y = Ident.apply(a); y.sum().backward(); return y is a, a.grad.tolist(), y.is_leaf
    t("identity", ident)
    class Freed(F):
        @staticmethod
        def forward(ctx, x): ctx.save_for_backward(x); return x*2
        @staticmethod
        def backward(ctx, g): x, = ctx.saved_tensors; return g*2
    def freed():
        a = lib.tensor([1., 2.], requires_grad=True)
        y = Freed.apply(a); y.sum().backward(); y.sum().backward()
    t("freed", freed)
    def modified():
        a = lib.tensor([1., 2.], requires_grad=True)
        b = a * 1
        y = Freed.apply(b); b.mul_(2); y.sum().backward()
    t("modified", modified)
    class NoneGrad(F):
        @staticmethod
        def forward(ctx, x, y): return x * y
        @staticmethod
        def backward(ctx, g): return g, None
    def nonegrad():
        a = lib.tensor([1., 2.], requires_grad=True); b = lib.tensor([1., 2.], requires_grad=True)
        NoneGrad.apply(a, b).sum().backward(); return a.grad.tolist(), b.grad
    t("none_grad", nonegrad)
    class Kw(F):
        @staticmethod
        def forward(ctx, x, scale=2.0): return x * scale
        @staticmethod
        def backward(ctx, g): return g, None
    t("kwargs_apply", lambda: Kw.apply(lib.tensor([1.]), scale=3.0).tolist())
    t("instantiate", lambda: type(Cube()).__name__)
    class NonTensorOut(F):
        @staticmethod
        def forward(ctx, x): return x * 2, 5
        @staticmethod
        def backward(ctx, g, g2): return g * 2
    def nto():
        a = lib.tensor([1., 2.], requires_grad=True)
        y, k = NonTensorOut.apply(a); y.sum().backward(); return k, a.grad.tolist()
    t("non_tensor_out", nto)
    class ViewOut(F):
        @staticmethod
        def forward(ctx, x): return x.view(2, 1)
        @staticmethod
        def backward(ctx, g): return g.reshape(2) * 7
    def viewout():
        a = lib.tensor([1., 2.], requires_grad=True)
        y = ViewOut.apply(a); y.sum().backward(); return a.grad.tolist()
    t("view_out", viewout)
    class IntIn(F):
        @staticmethod
        def forward(ctx, x, idx): ctx.save_for_backward(idx); return x * idx.to(x.dtype)
        @staticmethod
        def backward(ctx, g): idx, = ctx.saved_tensors; return g * idx.to(g.dtype), None
    def intin():
        a = lib.tensor([1., 2.], requires_grad=True)
        IntIn.apply(a, lib.tensor([2, 3])).sum().backward(); return a.grad.tolist()
    t("int_input", intin)
    def once_chain():
        a = lib.tensor([1., 2.], requires_grad=True)
        g, = lib.autograd.grad(Once.apply(a).exp().sum(), a, create_graph=True)
        r = [g.requires_grad]
        try:
            g.sum().backward()
        except RuntimeError as e:
            r.append(str(e))
        return r
    t("once_chain", once_chain)
    class Scale(F):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w.exp()
        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w.exp(), (g * x * w.exp()).sum(0)
    def hvp_through_function():
        x = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        w = lib.tensor([0.5, -0.5], requires_grad=True)
        loss = (Scale.apply(x, w) ** 2).sum()
        gx, gw = lib.autograd.grad(loss, (x, w), create_graph=True)
        hv = lib.autograd.grad((gw * lib.tensor([1., 2.])).sum(), (x, w))
        return [gx.tolist(), gw.tolist(), hv[0].tolist(), hv[1].tolist()]
    t("hvp_through_function", hvp_through_function)
    def bad_save():
        class S(F):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x * 1
        S.apply(lib.ones(2, requires_grad=True))
    t("save_non_tensor", bad_save)
    def save_output():
        class Exp(F):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y
            @staticmethod
            def backward(ctx, g):
                y, = ctx.saved_tensors
                return g * y
        a = lib.tensor([0., 1.], dtype=lib.float64, requires_grad=True)
        y = Exp.apply(a)
        y.sum().backward()
        return a.grad.tolist()
    t("save_output", save_output)
    def ctx_attrs_and_next_functions():
        a = lib.tensor([1., 2.], requires_grad=True)
        y = Cube.apply(a * 1, 2.0)
        fn = y.grad_fn
        return [fn.needs_input_grad, fn.next_functions[0][0].name(), len(fn.next_functions),
                y.is_leaf, y.requires_grad]
    t("ctx_attrs", ctx_attrs_and_next_functions)
    class GradForConst(F):
        @staticmethod
        def forward(ctx, x, k):
            return x * k
        @staticmethod
        def backward(ctx, g):
            return g, g
    def grad_for_const():
        GradForConst.apply(lib.ones(2, requires_grad=True), 2.0).sum().backward()
    t("grad_for_non_tensor", grad_for_const)
    return out


_RESULTS = {}


def _results():
    if not _RESULTS:
        torch = torch_or_skip()
        _RESULTS["ember"], _RESULTS["torch"] = run(ember), run(torch)
    return _RESULTS["ember"], _RESULTS["torch"]


def _norm(v):
    return str(v).replace("torch.", "").replace("ember.", "")


SCENARIOS = ["basic", "double", "needs", "wrong_count", "wrong_count3", "extra_nones", "wrong_shape", "dirty",
             "dirty_leaf", "nondiff", "materialize_false", "materialize_true", "once", "once_plain", "once_chain",
             "setup_ctx", "no_grad_input", "under_no_grad", "identity", "freed", "modified", "none_grad",
             "kwargs_apply", "non_tensor_out", "view_out", "int_input", "hvp_through_function", "save_non_tensor",
             "save_output", "ctx_attrs", "grad_for_non_tensor"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", SCENARIOS)
def test_function_matches_torch(name):
    e, t = _results()
    assert _norm(e[name]) == _norm(t[name]), f"ember: {e[name]}\ntorch: {t[name]}"


def test_materialize_false_passes_none():
    seen = []

    class Two(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            return g1 * 2

    a = ember.ones(2, requires_grad=True)
    y1, _ = Two.apply(a)
    y1.sum().backward()
    assert seen == [(False, True)]


def test_gradcheck_of_custom_function():
    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

    x = ember.tensor([0.5, -1.5, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(Cube.apply, (x,))
    assert ember.autograd.gradgradcheck(Cube.apply, (x,))


def test_instantiating_warns():
    class F(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

    with pytest.warns(DeprecationWarning, match="should not be instantiated"):
        F()
