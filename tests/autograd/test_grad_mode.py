"""Grad modes: context managers, decorators (plain, bare, generators), nesting, threads."""
import threading

import pytest

import ember


def _x():
    return ember.ones(2, requires_grad=True)


def test_no_grad_block():
    x = _x()
    with ember.no_grad():
        y = x * 2
        assert not ember.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert ember.is_grad_enabled()
    assert (x * 2).requires_grad


def test_enable_grad_inside_no_grad_and_nesting():
    x = _x()
    with ember.no_grad():
        with ember.enable_grad():
            assert (x * 2).requires_grad
            with ember.no_grad():
                assert not (x * 2).requires_grad
            assert ember.is_grad_enabled()
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()


def test_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with ember.no_grad():
            raise ValueError
    assert ember.is_grad_enabled()


@pytest.mark.parametrize("bare", [False, True])
def test_decorators(bare):
    def probe():
        return ember.is_grad_enabled()
    ng = ember.no_grad(probe) if bare else ember.no_grad()(probe)
    eg = ember.enable_grad(probe) if bare else ember.enable_grad()(probe)
    assert ng() is False
    with ember.no_grad():
        assert eg() is True
    assert ember.is_grad_enabled()
    assert ng.__name__ == "probe"  # functools.wraps


def test_no_grad_decorates_methods():
    class M:
        @ember.no_grad()
        def f(self, x):
            return x * 2
    assert not M().f(_x()).requires_grad


def test_decorating_a_class_warns_like_torch():
    with pytest.warns(FutureWarning, match="Decorating classes is deprecated"):
        @ember.no_grad()
        class A:
            def __init__(self):
                self.mode = ember.is_grad_enabled()
    assert A().mode is False


def test_set_grad_enabled_function_context_decorator():
    try:
        ember.set_grad_enabled(False)                  # takes effect as a plain call
        assert not ember.is_grad_enabled()
    finally:
        ember.set_grad_enabled(True)
    with ember.set_grad_enabled(False):
        assert not ember.is_grad_enabled()
        with ember.set_grad_enabled(True):
            assert ember.is_grad_enabled()
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()

    @ember.set_grad_enabled(False)
    def f():
        return ember.is_grad_enabled()
    assert ember.is_grad_enabled()                     # decorating does not change the mode
    assert f() is False and ember.is_grad_enabled()
    assert "set_grad_enabled(mode=False)" in repr(ember.set_grad_enabled(False))
    ember.set_grad_enabled(True)


def test_inference_mode():
    x = _x()
    with ember.inference_mode():
        assert ember.is_inference_mode_enabled() and not ember.is_grad_enabled()
        assert not (x * 2).requires_grad
        with ember.inference_mode(False):
            assert not ember.is_inference_mode_enabled() and ember.is_grad_enabled()
    assert not ember.is_inference_mode_enabled() and ember.is_grad_enabled()

    @ember.inference_mode
    def f():
        return ember.is_inference_mode_enabled()

    @ember.inference_mode()
    def g():
        return ember.is_grad_enabled()
    assert f() is True and g() is False
    with ember.inference_mode(mode=False):
        assert ember.is_grad_enabled()


def test_generator_decorated_runs_each_step_under_the_mode():
    @ember.no_grad()
    def gen():
        for _ in range(3):
            received = yield ember.is_grad_enabled()
            assert received in (None, "ping")

    seen = []
    g = gen()
    seen.append(next(g))
    assert ember.is_grad_enabled()        # the caller's mode is untouched between steps
    seen.append(g.send("ping"))
    assert ember.is_grad_enabled()
    seen.append(next(g))
    assert seen == [False, False, False]
    with pytest.raises(StopIteration):
        next(g)


def test_generator_close_and_throw():
    modes = []

    @ember.enable_grad()
    def gen():
        try:
            yield 1
            yield 2
        except KeyError:
            modes.append(("throw", ember.is_grad_enabled()))
            yield 3
        finally:
            modes.append(("finally", ember.is_grad_enabled()))

    with ember.no_grad():
        g = gen()
        next(g)
        assert g.throw(KeyError) == 3
        g.close()
        assert not ember.is_grad_enabled()
    assert modes == [("throw", True), ("finally", True)]


def test_grad_mode_is_thread_local():
    result = {}
    ready, release = threading.Event(), threading.Event()

    def worker():
        result["start"] = ember.is_grad_enabled()       # a new thread starts with grad enabled
        with ember.no_grad():
            ready.set()
            release.wait(5)
            result["inside"] = ember.is_grad_enabled()
        result["end"] = ember.is_grad_enabled()

    with ember.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        ready.wait(5)
        main_mode = ember.is_grad_enabled()
        with ember.enable_grad():
            release.set()
            t.join(5)
    assert main_mode is False
    assert result == {"start": True, "inside": False, "end": True}


def test_grad_mode_in_backward_follows_create_graph():
    seen = []
    x = _x()
    y = x * 2
    y.register_hook(lambda g: seen.append(ember.is_grad_enabled()))
    y.sum().backward(retain_graph=True)
    y.sum().backward(create_graph=True)
    assert seen == [False, True]
    assert ember.is_grad_enabled()


def test_parity_with_torch_grad_enabled_states():
    from parity import torch_or_skip
    torch = torch_or_skip()
    out = []
    for lib in (ember, torch):
        states = []
        with lib.no_grad():
            states.append(lib.is_grad_enabled())
            with lib.enable_grad():
                states.append(lib.is_grad_enabled())
            with lib.inference_mode():
                states.append(lib.is_grad_enabled())
                with lib.inference_mode(False):
                    states.append(lib.is_grad_enabled())
        states.append(lib.is_grad_enabled())
        out.append(states)
    assert out[0] == out[1]
