"""nn.Module behaviour against PyTorch: registration, iteration order, state_dict, hooks, modes, errors."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn
from parity import assert_same_error, torch_or_skip


def _net(lib):
    return lib.nn.Sequential(OrderedDict([
        ("fc1", lib.nn.Linear(4, 8)), ("act", lib.nn.ReLU()),
        ("block", lib.nn.Sequential(lib.nn.Linear(8, 8), lib.nn.Tanh())), ("fc2", lib.nn.Linear(8, 2))]))


def _copy_weights(src, dst):
    """torch -> ember (or the reverse) through NumPy."""
    sd = {k: v.detach().numpy().copy() for k, v in src.state_dict().items()}
    lib = ember if isinstance(dst, nn.Module) else __import__("torch")
    dst.load_state_dict({k: lib.tensor(v) for k, v in sd.items()})


def test_names_and_order_match_torch():
    torch = torch_or_skip()
    e, t = _net(ember), _net(torch)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert list(e.state_dict()) == list(t.state_dict())
    assert [tuple(v.shape) for v in e.state_dict().values()] == [tuple(v.shape) for v in t.state_dict().values()]
    assert repr(e) == repr(t)


def test_forward_and_grads_match_torch_after_copying_weights():
    torch = torch_or_skip()
    e, t = _net(ember), _net(torch)
    _copy_weights(t, e)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    ye, yt = e(ember.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=1e-6)
    ye.sum().backward()
    yt.sum().backward()
    for (n, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), atol=1e-5, err_msg=n)


def test_load_state_dict_reports_missing_unexpected_and_size_mismatch_like_torch():
    torch = torch_or_skip()
    for lib in (ember, torch):
        m = lib.nn.Linear(3, 2)
        sd = {"weight": lib.zeros(2, 3), "extra": lib.zeros(1)}
        r = m.load_state_dict(sd, strict=False)
        if lib is ember:
            got = (list(r.missing_keys), list(r.unexpected_keys))
        else:
            assert got == (list(r.missing_keys), list(r.unexpected_keys))
    with pytest.raises(RuntimeError) as te:
        torch.nn.Linear(3, 2).load_state_dict({"weight": torch.zeros(2, 3), "extra": torch.zeros(1)})
    with pytest.raises(RuntimeError) as ee:
        nn.Linear(3, 2).load_state_dict({"weight": ember.zeros(2, 3), "extra": ember.zeros(1)})
    assert str(ee.value) == str(te.value)
    with pytest.raises(RuntimeError) as te:
        torch.nn.Linear(3, 2).load_state_dict({"weight": torch.zeros(3, 3), "bias": torch.zeros(2)})
    with pytest.raises(RuntimeError) as ee:
        nn.Linear(3, 2).load_state_dict({"weight": ember.zeros(3, 3), "bias": ember.zeros(2)})
    assert str(ee.value) == str(te.value)
    assert repr(nn.Linear(3, 2).load_state_dict(nn.Linear(3, 2).state_dict())) == "<All keys matched successfully>"


def test_load_state_dict_copies_values_and_keeps_parameter_objects():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    w = b.weight
    b.load_state_dict(a.state_dict())
    assert b.weight is w
    assert np.array_equal(b.weight.detach().numpy(), a.weight.detach().numpy())
    c = nn.Linear(3, 2)
    c.load_state_dict(a.state_dict(), assign=True)
    assert isinstance(c.weight, nn.Parameter) and c.weight.requires_grad


def test_state_dict_detaches_unless_keep_vars_and_respects_non_persistent_buffers():
    m = nn.Linear(2, 2)
    m.register_buffer("running", ember.zeros(2))
    m.register_buffer("scratch", ember.zeros(2), persistent=False)
    sd = m.state_dict()
    assert list(sd) == ["weight", "bias", "running"]
    assert not sd["weight"].requires_grad
    assert m.state_dict(keep_vars=True)["weight"] is m.weight
    assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]


@pytest.mark.parametrize("build", [
    lambda T: T.nn.Linear(2, 2).register_parameter("a.b", None),
    lambda T: T.nn.Linear(2, 2).register_parameter("", None),
    lambda T: T.nn.Linear(2, 2).register_parameter("w", T.zeros(2)),
    lambda T: T.nn.Linear(2, 2).register_buffer("x", [1, 2]),
    lambda T: setattr(T.nn.Linear(2, 2), "weight", T.zeros(2, 2)),
    lambda T: T.nn.Linear(2, 2).add_module("m", 3),
    lambda T: T.nn.Linear(2, 2).train("yes"),
    lambda T: T.nn.Sequential(T.nn.ReLU())[3],
    lambda T: T.nn.Linear(2, 2).get_submodule("nope"),
    lambda T: T.nn.Module()(T.ones(1)),
    lambda T: T.nn.Linear(2, 2).to(T.int64),
    lambda T: T.nn.Linear(2, 2).missing_attribute,
])
def test_bad_usage_raises_torch_type(build):
    import torch
    torch_or_skip()
    assert_same_error(lambda: build(ember), lambda: build(torch))


def test_train_eval_zero_grad_apply_requires_grad():
    net = _net(ember)
    net.eval()
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(ember.ones(2, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Sequential" and seen[0] == "Linear"
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_casts_floating_parameters_in_place():
    m = nn.Linear(2, 3)
    w = m.weight
    m.to(ember.float64)
    assert m.weight is w and m.weight.dtype is ember.float64
    m.double().float()
    assert m.weight.dtype is ember.float32


def test_forward_hooks_and_pre_hooks_run_and_can_modify():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    out = m(ember.ones(1, 2))
    assert calls == [ember.Size([1, 2])]
    np.testing.assert_allclose(out.detach().numpy(), (m.bias + 1).detach().numpy()[None])
    h1.remove()
    h2.remove()
    assert not m._forward_hooks and not m._forward_pre_hooks


def test_full_backward_hook_sees_grads_like_torch():
    torch = torch_or_skip()
    got = {}
    for lib in (ember, torch):
        m = lib.nn.Linear(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
            m.bias.zero_()
        seen = []
        m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi[0].tolist(), go[0].tolist())))
        x = lib.ones(1, 3, requires_grad=True)
        (m(x) * lib.tensor([[1.0, -1.0]])).sum().backward()
        got[lib.__name__] = seen
    assert got["ember"] == got["torch"]


def test_deepcopy_and_shared_parameters():
    a = nn.Linear(2, 2)
    net = nn.Sequential(a, a)
    assert len(list(net.parameters())) == 2
    assert len(list(net.named_parameters(remove_duplicate=False))) == 4
    b = copy.deepcopy(net)
    assert b[0] is b[1] and b[0].weight is not a.weight
    assert np.array_equal(b[0].weight.detach().numpy(), a.weight.detach().numpy())


def test_deep_module_tree_does_not_hit_recursion_limit():
    m = nn.Identity()
    for _ in range(3000):
        s = nn.Sequential()
        s.add_module("m", m)
        m = s
    assert len(list(m.named_modules())) == 3001
