"""gradcheck / gradgradcheck: they pass correct gradients and catch wrong ones."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.autograd.gradcheck import GradcheckError


def _x(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.uniform(0.5, 1.5, shape), dtype=ember.float64, requires_grad=True)


def _cube(first_order_ok=True, second_order_ok=True):
    """x**3 with a custom backward; optionally wrong in the first or second derivative."""
    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            if not first_order_ok:
                return 2.9 * x ** 2 * g
            if not second_order_ok:
                # right value, but built from a detached x: its own derivative w.r.t. x is lost
                return 3 * x.detach() ** 2 * g
            return 3 * x ** 2 * g
    return Cube


def test_passes_for_correct_gradients():
    assert gradcheck(lambda a, b: (a * b).sin() + a.exp() / b, (_x(3, 2), _x(3, 2, seed=1)))
    assert gradgradcheck(lambda a, b: (a * b).sin() + a.exp() / b, (_x(3, 2), _x(3, 2, seed=1)))
    assert gradcheck(_cube().apply, (_x(4),))
    assert gradgradcheck(_cube().apply, (_x(4),))


def test_catches_wrong_custom_backward():
    f = _cube(first_order_ok=False).apply
    assert gradcheck(f, (_x(4),), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(f, (_x(4),))
    assert issubclass(GradcheckError, RuntimeError)


def test_gradgradcheck_catches_wrong_double_backward():
    f = _cube(second_order_ok=False).apply
    assert gradcheck(f, (_x(4),))                      # first order is right
    assert gradgradcheck(f, (_x(4),), raise_exception=False) is False
    with pytest.raises(GradcheckError):
        gradgradcheck(f, (_x(4),))


def test_multiple_outputs_and_non_tensor_args():
    def f(a, k, b):
        return a * k, (a * b).sum()
    assert gradcheck(f, (_x(3), 2.5, _x(3, seed=2)))
    assert gradgradcheck(f, (_x(3), 2.5, _x(3, seed=2)))


def test_input_without_grad_is_skipped():
    a = _x(3)
    c = ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64)
    assert gradcheck(lambda a, c: a * c, (a, c))


def test_wrong_gradient_for_second_input_is_caught():
    class Mul(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * b          # second one should be g * a
    assert gradcheck(Mul.apply, (_x(3), _x(3, seed=1)), raise_exception=False) is False


def test_float32_inputs_warn():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        gradcheck(lambda t: t * 2, (x,), raise_exception=False)


def test_single_tensor_input_accepted():
    assert gradcheck(lambda t: t.exp(), _x(2))


def test_inputs_unchanged_after_check():
    x = _x(3)
    before = x.detach().numpy().copy()
    gradcheck(lambda t: t.sin(), (x,))
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert x.grad is None
