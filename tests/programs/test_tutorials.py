"""The tutorial programs in examples/tutorials run unchanged with ``torch`` and with ``ember``: same numbers."""
import importlib.util
import pathlib

import numpy as np
import pytest

import ember
from parity import torch_or_skip

TUTORIALS = pathlib.Path(__file__).resolve().parents[2] / "examples" / "tutorials"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"tutorial_{name}", TUTORIALS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", ["polynomial_tensor", "polynomial_autograd", "legendre_function"])
def test_polynomial_programs_match_torch(name):
    torch = torch_or_skip()
    mod = _load(name)
    e = mod.run(ember, steps=1000, verbose=False)
    t = mod.run(torch, steps=1000, verbose=False)
    assert [s for s, _ in e["log"]] == [s for s, _ in t["log"]] == list(range(99, 1000, 100))
    # float32 over 1000 steps: the libraries sum in different orders, so allow a little drift
    np.testing.assert_allclose([v for _, v in e["log"]], [v for _, v in t["log"]], rtol=2e-3)
    np.testing.assert_allclose(e["coeffs"], t["coeffs"], rtol=2e-3, atol=1e-6)
    assert e["log"][-1][1] < e["log"][0][1]       # it learns


def test_manual_and_autograd_gradients_agree():
    man = _load("polynomial_tensor").run(ember, steps=300, verbose=False)
    auto = _load("polynomial_autograd").run(ember, steps=300, verbose=False)
    np.testing.assert_allclose(man["coeffs"], auto["coeffs"], rtol=1e-4, atol=1e-7)


def test_hessian_vector_product_matches_torch():
    torch = torch_or_skip()
    mod = _load("hessian_vector_product")
    e = mod.run(ember, verbose=False)
    t = mod.run(torch, verbose=False)
    np.testing.assert_allclose(e["losses"], t["losses"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(e["w"], t["w"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(e["symmetry"][0], e["symmetry"][1], rtol=1e-10)
    assert e["final"] < e["losses"][0]


def test_hvp_equals_explicit_hessian_product():
    """The program's double-backward HVP against autograd.functional.hessian."""
    from ember.autograd.functional import hessian
    M = ember.linspace(-1.0, 1.0, 40, dtype=ember.float64).reshape(8, 5).sin() * 2
    rhs = ember.linspace(1.0, -0.6, 5, dtype=ember.float64)

    def loss_fn(w):
        return 0.5 * (M @ w).pow(2).sum() - (rhs * w).sum() + 0.1 * (w ** 4).sum()

    w = ember.linspace(0.2, 1.0, 5, dtype=ember.float64).requires_grad_()
    v = ember.linspace(0.3, 0.7, 5, dtype=ember.float64)
    (g,) = ember.autograd.grad(loss_fn(w), w, create_graph=True)
    (hv,) = ember.autograd.grad((g * v).sum(), w)
    H = hessian(loss_fn, w.detach())
    np.testing.assert_allclose(hv.numpy(), H.numpy() @ v.numpy(), rtol=1e-12)


def test_standalone_entry_points_use_ember(capsys):
    import runpy
    runpy.run_path(str(TUTORIALS / "hessian_vector_product.py"), run_name="__main__")
    assert "final loss" in capsys.readouterr().out
