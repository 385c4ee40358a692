"""Tensor and node hooks, retain_grad, post-accumulate hooks; every scenario run in ember and torch."""
import numpy as np
import pytest

import ember
from parity import torch_or_skip, assert_same_error


def _both(scenario):
    """Run ``scenario(lib)`` with ember and torch; compare the returned lists of numbers."""
    torch = torch_or_skip()
    e, t = scenario(ember), scenario(torch)
    assert len(e) == len(t)
    for a, b in zip(e, t):
        if isinstance(b, (bool, str)) or b is None:
            assert a == b, f"{a!r} != torch {b!r}"
        else:
            np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    return e


def _vals(t):
    return None if t is None else t.detach().tolist()


def test_leaf_hook_modifies_grad_and_remove():
    def sc(lib):
        x = lib.ones(3, requires_grad=True)
        h = x.register_hook(lambda g: g * 2)
        (x * 3).sum().backward()
        out = [_vals(x.grad)]
        h.remove()
        x.grad = None
        (x * 3).sum().backward()
        return out + [_vals(x.grad)]
    assert _both(sc) == [[6.0] * 3, [3.0] * 3]


def test_non_leaf_hook_changes_upstream_grad():
    def sc(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        seen = []
        y.register_hook(lambda g: seen.append(_vals(g)))       # returning None keeps the grad
        y.register_hook(lambda g: g * 10)                       # hooks run in registration order
        y.sum().backward()
        return [seen[0], _vals(x.grad)]
    assert _both(sc) == [[1.0, 1.0], [20.0, 40.0]]


def test_retain_grad():
    def sc(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.retain_grad()  # idempotent
        (y * y).sum().backward(retain_graph=True)
        (y * 1).sum().backward()   # accumulates in the retained grad, too
        return [y.retains_grad, x.retains_grad, _vals(y.grad), _vals(x.grad)]
    _both(sc)


def test_retain_grad_sees_hooked_grad():
    def sc(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 3)
        y.sum().backward()
        return [_vals(y.grad), _vals(x.grad)]
    _both(sc)


def test_non_leaf_grad_access_warns():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert y.grad is None


def test_post_accumulate_grad_hook():
    def sc(lib):
        x = lib.ones(3, requires_grad=True)
        calls = []
        h = x.register_post_accumulate_grad_hook(lambda p: calls.append(_vals(p.grad)))
        (x * 2).sum().backward()
        (x * 2).sum().backward()
        h.remove()
        (x * 2).sum().backward()
        return [calls, _vals(x.grad)]
    assert _both(sc)[0] == [[2.0] * 3, [4.0] * 3]


def test_post_accumulate_hook_can_step_the_parameter():
    x = ember.tensor([1.0, 2.0], requires_grad=True)

    def sgd(p):
        with ember.no_grad():
            p.sub_(0.5 * p.grad)
        p.grad = None
    x.register_post_accumulate_grad_hook(sgd)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.detach().numpy(), [0.0, 0.0])
    assert x.grad is None


def test_node_hook_and_prehook():
    def sc(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        log = []
        y.grad_fn.register_prehook(lambda go: log.append(("pre", _vals(go[0]))))
        y.grad_fn.register_hook(lambda gi, go: log.append(("post", _vals(gi[0]), _vals(go[0]))))
        y.sum().backward()
        z = x * 2
        z.grad_fn.register_prehook(lambda go: (go[0] * 10,))
        x.grad = None
        z.sum().backward()
        g1 = _vals(x.grad)
        w = x * 2
        w.grad_fn.register_hook(lambda gi, go: (gi[0] * 100, None))
        x.grad = None
        w.sum().backward()
        return [str(log), g1, _vals(x.grad)]
    _both(sc)


def test_node_hook_remove():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    h = y.grad_fn.register_prehook(lambda go: (go[0] * 10,))
    h.remove()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


@pytest.mark.parametrize("case", ["hook_no_grad", "post_acc_non_leaf", "retain_no_grad"])
def test_hook_errors_match_torch(case):
    torch = torch_or_skip()
    msgs = []

    def run(lib):
        try:
            if case == "hook_no_grad":
                lib.ones(2).register_hook(lambda g: g)
            elif case == "post_acc_non_leaf":
                (lib.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(lambda p: None)
            else:
                lib.ones(2).retain_grad()
        except RuntimeError as e:
            msgs.append(str(e))
            raise
    assert_same_error(lambda: run(ember), lambda: run(torch))
    assert msgs[0] == msgs[1]


def test_hook_on_tensor_used_twice_sees_summed_grad():
    def sc(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        seen = []
        y.register_hook(lambda g: seen.append(_vals(g)))
        (y * 2 + y * 3).sum().backward()
        return [seen]
    assert _both(sc) == [[[5.0, 5.0]]]
