"""Containers and default initialisation against PyTorch."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from parity import torch_or_skip


def test_sequential_indexing_slicing_append_insert_like_torch():
    torch = torch_or_skip()
    for lib in (ember, torch):
        s = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh(), lib.nn.Sigmoid())
        s.append(lib.nn.Identity())
        s.insert(1, lib.nn.ELU())
        del s[0]
        names = [type(m).__name__ for m in s]
        sliced = [type(m).__name__ for m in s[1:3]]
        keys = list(s._modules)
        if lib is ember:
            got = (names, sliced, keys, type(s[-1]).__name__, len(s))
        else:
            assert got == (names, sliced, keys, type(s[-1]).__name__, len(s))


def test_module_list_dict_parameter_list_dict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.Linear(2, 1))
    assert len(ml) == 4 and len(list(ml.parameters())) == 8
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(md.keys()) == ["a", "b"] and "a" in md
    pl = nn.ParameterList([ember.zeros(2), nn.Parameter(ember.ones(3))])
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(list(pl.parameters())) == 2
    pd = nn.ParameterDict({"w": ember.zeros(2)})
    assert isinstance(pd["w"], nn.Parameter) and list(dict(pd.named_parameters())) == ["w"]


def test_linear_default_init_matches_torch_distribution():
    torch = torch_or_skip()
    e, t = nn.Linear(400, 300), torch.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for pe, pt in ((e.weight, t.weight), (e.bias, t.bias)):
        a, b = pe.detach().numpy(), pt.detach().numpy()
        assert a.min() >= -bound and a.max() <= bound
        assert abs(a.std() - b.std()) < 0.1 * b.std() + 1e-3
        assert abs(a.std() - bound / math.sqrt(3)) < 0.05 * bound


@pytest.mark.parametrize("name,args", [
    ("xavier_uniform_", {}), ("xavier_normal_", {}), ("kaiming_uniform_", {"a": 0.0}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}), ("normal_", {"std": 0.02}),
    ("uniform_", {"a": -0.3, "b": 0.3}), ("trunc_normal_", {"std": 0.5}), ("orthogonal_", {})])
def test_init_schemes_have_torch_statistics(name, args):
    torch = torch_or_skip()
    a = getattr(nn.init, name)(ember.empty(256, 128), **args).numpy()
    b = getattr(torch.nn.init, name)(torch.empty(256, 128), **args).numpy()
    assert abs(a.mean() - b.mean()) < 0.02
    assert abs(a.std() - b.std()) < 0.05 * b.std()
    assert abs(a.min() - b.min()) < 0.25 * abs(b.min()) + 0.05


def test_calculate_gain_and_special_inits():
    torch = torch_or_skip()
    for nl, p in [("relu", None), ("tanh", None), ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)]:
        assert nn.init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))
    assert np.array_equal(nn.init.eye_(ember.empty(3, 4)).numpy(), torch.nn.init.eye_(torch.empty(3, 4)).numpy())
    assert np.array_equal(nn.init.dirac_(ember.empty(4, 2, 3, 3), groups=2).numpy(),
                          torch.nn.init.dirac_(torch.empty(4, 2, 3, 3), groups=2).numpy())
    q = nn.init.orthogonal_(ember.empty(5, 8)).numpy()
    np.testing.assert_allclose(q @ q.T, np.eye(5), atol=1e-5)
    s = nn.init.sparse_(ember.empty(10, 6), sparsity=0.3).numpy()
    assert all((s[:, c] == 0).sum() >= 3 for c in range(6))


def test_module_list_repr_folds_repeats_like_torch():
    torch = torch_or_skip()
    for lib in (ember, torch):
        r = repr(lib.nn.ModuleList([lib.nn.Linear(2, 2), lib.nn.Linear(2, 2), lib.nn.ReLU(), lib.nn.Linear(2, 3)]))
        if lib is ember:
            got = r
        else:
            assert got == r
    assert "(0-1): 2 x Linear" in got
