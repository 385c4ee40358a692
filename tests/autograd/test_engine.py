"""The backward engine: accumulation, freeing, graph shapes, deep graphs, errors (PyTorch's messages)."""
import gc

import numpy as np
import pytest

import ember
from ember.autograd.graph import _FREED_MSG
from parity import torch_or_skip, assert_same_error


def leaf(*values, dtype=ember.float64):
    return ember.tensor(list(values) if len(values) > 1 else values[0], dtype=dtype, requires_grad=True)


# --------------------------------------------------------------------------- basics
def test_backward_accumulates_across_calls():
    x = leaf(1.0, 2.0, 3.0)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0, 9.0])


def test_backward_twice_through_freed_graph_raises():
    x = leaf(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"^Trying to backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1)


def test_freed_message_matches_torch():
    torch = torch_or_skip()
    msgs = []
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward()
        with pytest.raises(RuntimeError) as e:
            y.backward()
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1] == _FREED_MSG


@pytest.mark.parametrize("case", ["non_scalar", "no_grad_output", "bad_grad_shape", "grad_unused",
                                  "input_no_grad", "materialize_with_allow_unused_false", "too_few_grads",
                                  "empty_inputs", "non_leaf_requires_grad_false", "int_requires_grad"])
def test_errors_match_torch(case):
    torch = torch_or_skip()
    msgs = []

    def run(lib):
        x = lib.ones(3, requires_grad=True)
        try:
            if case == "non_scalar":
                (x * 2).backward()
            elif case == "no_grad_output":
                lib.ones(3).sum().backward()
            elif case == "bad_grad_shape":
                (x * 2).sum().backward(lib.ones(2))
            elif case == "grad_unused":
                lib.autograd.grad((x * 2).sum(), [x, lib.ones(2, requires_grad=True)])
            elif case == "input_no_grad":
                lib.autograd.grad((x * 2).sum(), lib.ones(2))
            elif case == "materialize_with_allow_unused_false":
                lib.autograd.grad((x * 2).sum(), x, allow_unused=False, materialize_grads=True)
            elif case == "too_few_grads":
                lib.autograd.backward([(x * 2).sum(), (x * 3).sum()], [None])
            elif case == "empty_inputs":
                (x * 2).sum().backward(inputs=[])
            elif case == "non_leaf_requires_grad_false":
                (x * 2).requires_grad_(False)
            elif case == "int_requires_grad":
                lib.ones(2, dtype=lib.int64).requires_grad_()
        except Exception as e:
            msgs.append(str(e).replace("torch.", "").replace("ember.", ""))
            raise
    assert_same_error(lambda: run(ember), lambda: run(torch))
    assert msgs[1] == msgs[0], f"ember: {msgs[1]!r}\ntorch: {msgs[0]!r}"


def test_int_requires_grad_message():
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        ember.ones(2, dtype=ember.int64).requires_grad_()


def test_backward_with_explicit_gradient():
    x = leaf(1.0, 2.0, 3.0)
    y = x * x
    y.backward(ember.tensor([1.0, 0.5, 0.0], dtype=ember.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 0.0])


def test_non_requires_grad_output_is_plain():
    x = ember.ones(3)
    y = x * 2
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_integer_outputs_do_not_require_grad():
    x = leaf(1.0, 2.0)
    assert not (x > 1).requires_grad


# --------------------------------------------------------------------------- graph shapes
def test_diamond_sums_gradients():
    x = leaf(2.0)
    a = x * 3
    b = a.exp()
    c = a.sin()
    (b + c).backward()
    expected = 3 * (np.exp(6.0) + np.cos(6.0))
    np.testing.assert_allclose(x.grad.item(), expected)


def test_shared_leaf_used_many_times():
    x = leaf(1.5)
    y = x * x * x + x
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 3 * 1.5 ** 2 + 1)


def test_multiple_roots():
    x = leaf(1.0, 2.0)
    y1 = (x * x).sum()
    y2 = (x * 3).sum()
    ember.autograd.backward([y1, y2])
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])
    x.grad = None
    y1 = x * x
    y2 = x.exp()
    ember.autograd.backward([y1, y2], [ember.ones(2, dtype=ember.float64), ember.tensor([2.0, 0.0],
                                                                                        dtype=ember.float64)])
    np.testing.assert_allclose(x.grad.numpy(), [2 + 2 * np.e, 4.0])


def test_backward_inputs_accumulates_only_into_those():
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    loss = (x * w).sum()
    loss.backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])


def test_backward_inputs_non_leaf_gets_grad():
    torch = torch_or_skip()
    res = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        (h * h).sum().backward(inputs=[h])
        res.append((x.grad, h.grad.tolist()))
    assert res[0][0] is None and res[1][0] is None
    assert res[0][1] == res[1][1]


def test_grad_does_not_touch_dot_grad():
    x = leaf(1.0, 2.0)
    (g,) = ember.autograd.grad((x * x).sum(), x)
    assert x.grad is None
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])


def test_grad_allow_unused_and_materialize():
    x, z = leaf(1.0, 2.0), leaf(5.0)
    gx, gz = ember.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None
    gx, gz = ember.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    assert gz.item() == 0.0 and gz.shape == z.shape


def test_grad_single_input_returns_tuple_and_grad_outputs():
    x = leaf(1.0, 2.0)
    r = ember.autograd.grad(x * x, x, grad_outputs=ember.tensor([1.0, 3.0], dtype=ember.float64))
    assert isinstance(r, tuple) and len(r) == 1
    np.testing.assert_allclose(r[0].numpy(), [2.0, 12.0])


def test_grad_of_intermediate_tensor():
    x = leaf(1.0, 2.0)
    h = x * 3
    (gh,) = ember.autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])


def test_create_graph_double_backward():
    x = leaf(2.0)
    y = x ** 3
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad
    g.backward()
    np.testing.assert_allclose(x.grad.item(), 12.0)   # d2/dx2 x^3 = 6x


def test_backward_create_graph_grad_has_graph():
    x = leaf(2.0)
    (x ** 3).backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = ember.autograd.grad(x.grad, x)
    assert gg.item() == 12.0


def test_broadcast_gradient_is_reduced_and_cast():
    a = ember.ones(2, 3, dtype=ember.float64, requires_grad=True)
    b = ember.ones(3, dtype=ember.float32, requires_grad=True)
    (a * b).sum().backward()
    assert b.grad.shape == (3,) and b.grad.dtype == ember.float32
    np.testing.assert_allclose(b.grad.numpy(), [2.0, 2.0, 2.0])


def test_grad_is_not_aliased_with_user_gradient():
    x = leaf(1.0, 2.0)
    g = ember.tensor([1.0, 1.0], dtype=ember.float64)
    (x * 1).backward(g)
    x.grad.mul_(5)
    np.testing.assert_allclose(g.numpy(), [1.0, 1.0])


# --------------------------------------------------------------------------- engine properties
def test_deep_chain_has_no_recursion_error():
    x = ember.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    del y  # freeing a 100k-deep graph must not overflow the C stack either


def test_saved_tensors_released_after_backward():
    x = leaf(1.0, 2.0)
    y = x.exp()
    z = (y * x).sum()
    nodes = [y.grad_fn, z.grad_fn.next_functions[0][0]]
    assert all(n._saved is not None for n in nodes)
    z.backward()
    assert all(n._saved is None for n in nodes)


def test_saved_tensors_kept_with_retain_graph():
    x = leaf(1.0, 2.0)
    y = x.exp()
    y.sum().backward(retain_graph=True)
    assert y.grad_fn._saved is not None


def _count_tensors():
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is ember.Tensor)


def test_training_loop_does_not_leak_tensors():
    ember.manual_seed(0)
    w = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    b = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    xs = ember.randn(16, 4, dtype=ember.float64)
    ys = ember.randn(16, 3, dtype=ember.float64)

    def step():
        loss = (((xs @ w + b).tanh() - ys) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            w.sub_(0.1 * w.grad)
            b.sub_(0.1 * b.grad)
        w.grad = None
        b.grad = None
        return loss.item()

    for _ in range(5):  # warm-up: caches, lazily created objects
        step()
    before = _count_tensors()
    losses = [step() for _ in range(50)]
    after = _count_tensors()
    assert after <= before, f"{after - before} tensors leaked over 50 iterations"
    assert losses[-1] < losses[0]


def test_graph_is_freed_when_output_dropped():
    import weakref
    x = leaf(1.0, 2.0)
    y = (x.exp() * 2).sum()
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None


# --------------------------------------------------------------------------- grad_fn introspection
def test_grad_fn_names_and_next_functions_match_torch():
    torch = torch_or_skip()
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        c = lib.ones(2)
        y = (x * c).exp()
        assert y.grad_fn.name() == "ExpBackward0"
        mul = y.grad_fn.next_functions[0][0]
        assert mul.name() == "MulBackward0"
        (acc, nr), (none, nr2) = mul.next_functions
        assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x and nr == 0
        assert none is None and nr2 == 0
        assert x.is_leaf and not y.is_leaf and c.is_leaf


def test_grad_fn_call_runs_backward():
    x = leaf(1.0, 2.0)
    y = x * 3
    g = y.grad_fn(ember.ones(2, dtype=ember.float64))
    g = g[0] if isinstance(g, tuple) else g
    np.testing.assert_allclose(g.numpy(), [3.0, 3.0])


def test_accumulated_scalar_grad_stays_writable():
    # regression: NumPy returns a read-only scalar for 0-d + 0-d, so zero_() on .grad silently did nothing
    b = ember.tensor(-1.0, requires_grad=True)
    x = ember.linspace(0, 1, 5)
    for _ in range(3):
        (b * x).sum().backward()
        with ember.no_grad():
            b.grad.zero_()
        assert b.grad.item() == 0.0
    (b * x).sum().backward()
    (b * x).sum().backward()
    assert b.grad.item() == 5.0 and isinstance(b.grad.numpy(), np.ndarray)


def test_backward_frees_saved_activations_as_soon_as_their_node_ran():
    # h_i = tanh(h_{i-1}) saves its output; once the graph above h_k has run, the arrays saved by those
    # nodes must be gone before the rest of backward (memory peaks at one activation set, not two)
    import weakref
    x = ember.randn(1000, dtype=ember.float64, requires_grad=True)
    h, refs, keep = x, [], None
    for i in range(8):
        h = h.tanh()
        refs.append(weakref.ref(h._data))
        if i == 3:
            keep = h
    alive_at_hook = []
    keep.register_hook(lambda g: alive_at_hook.append([r() is not None for r in refs]))
    loss = h.sum()
    del h
    loss.backward()
    # when the gradient reaches h_3, nodes 4..7 have run: their saved outputs (h_4..h_7) are freed
    assert alive_at_hook == [[True] * 4 + [False] * 4]
    del keep
    gc.collect()
    assert all(r() is None for r in refs[:3])
