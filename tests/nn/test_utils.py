"""ember.nn.utils against torch.nn.utils: clipping, vector conversion, parametrize, weight/spectral norm, fusion."""
import copy
import pickle

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils import parametrize as P
from parity import assert_same_error, torch_or_skip


def _params(lib, seed=0):
    rng = np.random.default_rng(seed)
    ps = []
    for shape in [(3, 4), (5,), (2, 2, 2)]:
        p = lib.nn.Parameter(lib.tensor(rng.standard_normal(shape)))
        p.grad = lib.tensor(rng.standard_normal(shape) * 3)
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 0.5, 3])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = torch_or_skip()
    pe, pt = _params(ember), _params(torch)
    ne = nn.utils.clip_grad_norm_(pe, max_norm, norm_type, foreach=True)
    nt = torch.nn.utils.clip_grad_norm_(pt, max_norm, norm_type)
    assert isinstance(ne, ember.Tensor) and ne.dim() == 0 and ne.dtype == ember.float64
    np.testing.assert_allclose(ne.item(), nt.item(), rtol=1e-12)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_clip_grad_helpers_match_torch():
    torch = torch_or_skip()
    pe, pt = _params(ember, 1), _params(torch, 1)
    np.testing.assert_allclose(nn.utils.get_total_norm([p.grad for p in pe], 3.0).item(),
                               torch.nn.utils.get_total_norm([p.grad for p in pt], 3.0).item(), rtol=1e-12)
    tot_e, tot_t = nn.utils.get_total_norm([p.grad for p in pe]), torch.nn.utils.get_total_norm([p.grad for p in pt])
    nn.utils.clip_grads_with_norm_(pe, 1.0, tot_e)
    torch.nn.utils.clip_grads_with_norm_(pt, 1.0, tot_t)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    nn.utils.clip_grad_value_(pe, 0.05)
    torch.nn.utils.clip_grad_value_(pt, 0.05)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    assert np.abs(pe[0].grad.numpy()).max() <= 0.05
    # a single tensor, a generator, no gradients
    single = _params(ember, 2)[0]
    assert nn.utils.clip_grad_norm_(single, 1.0).item() > 1
    assert nn.utils.clip_grad_norm_((p for p in _params(ember, 2)), 1.0).item() > 1
    assert nn.utils.clip_grad_norm_([nn.Parameter(ember.ones(2))], 1.0).item() == 0


def test_clip_grad_norm_nonfinite():
    torch = torch_or_skip()
    pe, pt = _params(ember), _params(torch)
    pe[0].grad[0, 0] = float("nan")
    pt[0].grad[0, 0] = float("nan")
    assert_same_error(lambda: nn.utils.clip_grad_norm_(pe, 1.0, error_if_nonfinite=True),
                      lambda: torch.nn.utils.clip_grad_norm_(pt, 1.0, error_if_nonfinite=True))
    assert np.isnan(nn.utils.clip_grad_norm_(pe, 1.0).item())


def test_clip_grad_norm_two_norm_fast_path():
    """float32 2-norms read the gradients in blocks (summed in float64): same as torch, and more exact."""
    torch = torch_or_skip()
    rng = np.random.default_rng(5)
    shapes = [(3, 5000), (4097,), (7,), (2, 3)]  # whole blocks plus tails, a tail only, a tiny one
    grads = [(rng.standard_normal(s) * 10 ** rng.uniform(-3, 1)).astype(np.float32) for s in shapes]
    grads.append(np.asfortranarray(rng.standard_normal((40, 30)).astype(np.float32)))  # non-contiguous layout
    exact = np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads))
    for max_norm in (0.25, 1e9):
        pe = [nn.Parameter(ember.zeros(*g.shape)) for g in grads]
        pt = [torch.nn.Parameter(torch.zeros(*g.shape)) for g in grads]
        for a, b, g in zip(pe, pt, grads):
            a.grad, b.grad = ember.tensor(g), torch.tensor(g)
        versions = [p.grad._version for p in pe]
        ne = nn.utils.clip_grad_norm_(pe, max_norm)
        nt = torch.nn.utils.clip_grad_norm_(pt, max_norm)
        assert ne.dtype == ember.float32
        np.testing.assert_allclose(ne.item(), exact, rtol=1e-6)
        np.testing.assert_allclose(ne.item(), nt.item(), rtol=1e-5)
        for a, b in zip(pe, pt):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=2e-5)
        assert [p.grad._version for p in pe] == [v + 1 for v in versions]  # scaled in place, like mul_
    # an infinite gradient: inf total; mixed dtypes take the generic path
    p = nn.Parameter(ember.zeros(5000))
    p.grad = ember.full((5000,), float("inf"))
    with np.errstate(invalid="ignore"):  # inf * 0 (the coefficient): nan gradients, as in PyTorch
        assert nn.utils.clip_grad_norm_([p], 1.0).item() == float("inf")
    assert np.isnan(p.grad.numpy()).all()
    mixed = [nn.Parameter(ember.zeros(3)), nn.Parameter(ember.zeros(3, dtype=ember.float64))]
    mixed[0].grad, mixed[1].grad = ember.tensor([3., 0., 0.]), ember.tensor([0., 4., 0.], dtype=ember.float64)
    assert nn.utils.clip_grad_norm_(mixed, 1.0).item() == pytest.approx(5.0)


def test_parameters_vector_roundtrip():
    torch = torch_or_skip()
    pe, pt = _params(ember), _params(torch)
    ve, vt = nn.utils.parameters_to_vector(pe), torch.nn.utils.parameters_to_vector(pt)
    np.testing.assert_array_equal(ve.detach().numpy(), vt.detach().numpy())
    assert ve.requires_grad
    new = np.arange(ve.numel(), dtype=np.float64)
    nn.utils.vector_to_parameters(ember.tensor(new), pe)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), pt)
    for a, b in zip(pe, pt):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert a.requires_grad
    assert_same_error(lambda: nn.utils.vector_to_parameters([1.0], pe),
                      lambda: torch.nn.utils.vector_to_parameters([1.0], pt))


# ---------------------------------------------------------------------------------- parametrize
def _sym(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(0, 1)

        def right_inverse(self, A):
            return A.triu()
    return Symmetric


def _copy(src, dst):
    dst.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in src.state_dict().items()})


def test_register_parametrization_like_torch():
    torch = torch_or_skip()
    me, mt = nn.Linear(3, 3), torch.nn.Linear(3, 3)
    P.register_parametrization(me, "weight", _sym(ember)())
    torch.nn.utils.parametrize.register_parametrization(mt, "weight", _sym(torch)())
    assert type(me).__name__ == type(mt).__name__ == "ParametrizedLinear"
    assert isinstance(me, nn.Linear)
    assert repr(me).replace("ember", "torch") == repr(mt)
    assert list(me.state_dict()) == list(mt.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [n for n, _ in me.named_parameters()] == [n for n, _ in mt.named_parameters()]
    _copy(mt, me)
    np.testing.assert_allclose(me.weight.detach().numpy(), mt.weight.detach().numpy())
    w = me.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)
    # gradients flow to the original
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    me(ember.tensor(x)).sum().backward()
    mt(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(me.parametrizations.weight.original.grad.numpy(),
                               mt.parametrizations.weight.original.grad.numpy(), rtol=1e-5)
    # assignment goes through right_inverse and keeps the original object
    orig = me.parametrizations.weight.original
    a = np.random.default_rng(1).standard_normal((3, 3)).astype(np.float32)
    a = a + a.T
    me.weight = ember.tensor(a)
    mt.weight = torch.tensor(a)
    assert me.parametrizations.weight.original is orig
    np.testing.assert_allclose(me.weight.detach().numpy(), a, rtol=1e-6)
    np.testing.assert_allclose(orig.detach().numpy(), mt.parametrizations.weight.original.detach().numpy())
    assert P.is_parametrized(me) and P.is_parametrized(me, "weight") and not P.is_parametrized(me, "bias")
    assert P.type_before_parametrizations(me) is nn.Linear
    # only this instance changed class
    assert type(nn.Linear(2, 2)) is nn.Linear
    # copies and pickling behave like torch
    assert type(copy.deepcopy(me)).__name__ == "ParametrizedLinear"
    assert_same_error(lambda: pickle.dumps(me), lambda: pickle.dumps(mt))


def test_parametrization_chain_cached_and_remove():
    torch = torch_or_skip()

    class Double(nn.Module):
        def forward(self, x):
            return 2 * x

    m = nn.Linear(3, 3)
    w0 = m.weight.detach().numpy().copy()
    P.register_parametrization(m, "weight", _sym(ember)())
    P.register_parametrization(m, "weight", Double())
    assert len(m.parametrizations.weight) == 2
    expected = 2 * (np.triu(w0) + np.triu(w0, 1).T)
    np.testing.assert_allclose(m.weight.detach().numpy(), expected, rtol=1e-6)
    assert m.weight is not m.weight
    with P.cached():
        assert m.weight is m.weight
    with pytest.raises(RuntimeError, match="right_inverse"):
        m.weight = ember.zeros(3, 3)
    P.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and not hasattr(m, "parametrizations")
    assert isinstance(m.weight, nn.Parameter) and list(m.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(m.weight.detach().numpy(), expected, rtol=1e-6)
    # leave_parametrized=False restores the original
    m2 = nn.Linear(3, 3)
    P.register_parametrization(m2, "weight", Double())
    P.remove_parametrizations(m2, "weight", leave_parametrized=False)
    assert type(m2) is nn.Linear and isinstance(m2.weight, nn.Parameter)
    # buffers can be parametrized too
    bn = nn.Module()
    bn.register_buffer("buf", ember.ones(2))
    P.register_parametrization(bn, "buf", Double())
    assert list(bn.state_dict()) == ["parametrizations.buf.original"] and bn.buf.tolist() == [2.0, 2.0]
    # errors
    tl = torch.nn.Linear(3, 4)
    assert_same_error(lambda: P.register_parametrization(nn.Linear(3, 4), "foo", Double()),
                      lambda: torch.nn.utils.parametrize.register_parametrization(tl, "foo", torch.nn.Identity()))
    assert_same_error(lambda: P.remove_parametrizations(nn.Linear(3, 4), "weight"),
                      lambda: torch.nn.utils.parametrize.remove_parametrizations(tl, "weight"))

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:1]

    class TShrink(torch.nn.Module):
        def forward(self, x):
            return x[:1]
    assert_same_error(lambda: P.register_parametrization(nn.Linear(3, 4), "weight", Shrink()),
                      lambda: torch.nn.utils.parametrize.register_parametrization(tl, "weight", TShrink()))
    P.register_parametrization(nn.Linear(3, 4), "weight", Shrink(), unsafe=True)


# ------------------------------------------------------------------------- weight / spectral norm
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization_parity(dim):
    torch = torch_or_skip()
    mt = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(3, 4).double(), dim=dim)
    me = nn.utils.parametrizations.weight_norm(nn.Linear(3, 4).double(), dim=dim)
    assert list(me.state_dict()) == list(mt.state_dict())
    assert [tuple(v.shape) for v in me.state_dict().values()] == [tuple(v.shape) for v in mt.state_dict().values()]
    assert repr(me) == repr(mt)
    _copy(mt, me)
    x = np.random.default_rng(2).standard_normal((5, 3))
    ye, yt = me(ember.tensor(x)), mt(torch.tensor(x))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    ye.sum().backward()
    yt.sum().backward()
    for (n, a), (_, b) in zip(me.named_parameters(), mt.named_parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, err_msg=n)
    # g and v initialised like torch (g = ||w||, v = w)
    fresh = nn.utils.parametrizations.weight_norm(nn.Linear(3, 4).double())
    w = fresh.parametrizations.weight.original1.detach().numpy()
    np.testing.assert_allclose(fresh.parametrizations.weight.original0.detach().numpy()[:, 0],
                               np.linalg.norm(w, axis=1), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_old_weight_norm_parity_and_remove():
    torch = torch_or_skip()
    mt = torch.nn.utils.weight_norm(torch.nn.Linear(3, 4).double())
    me = nn.utils.weight_norm(nn.Linear(3, 4).double())
    assert list(me.state_dict()) == list(mt.state_dict()) == ["bias", "weight_g", "weight_v"]
    _copy(mt, me)
    x = np.random.default_rng(3).standard_normal((5, 3))
    ye, yt = me(ember.tensor(x)), mt(torch.tensor(x))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(me.weight_g.grad.numpy(), mt.weight_g.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(me.weight_v.grad.numpy(), mt.weight_v.grad.numpy(), rtol=1e-9)
    nn.utils.remove_weight_norm(me)
    torch.nn.utils.remove_weight_norm(mt)
    assert list(me.state_dict()) == list(mt.state_dict())
    np.testing.assert_allclose(me.weight.detach().numpy(), mt.weight.detach().numpy(), rtol=1e-10)
    assert_same_error(lambda: nn.utils.remove_weight_norm(me), lambda: torch.nn.utils.remove_weight_norm(mt))


def test_spectral_norm_parametrization_parity():
    torch = torch_or_skip()
    mt = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(5, 4).double(), n_power_iterations=2)
    me = nn.utils.parametrizations.spectral_norm(nn.Linear(5, 4).double(), n_power_iterations=2)
    assert list(me.state_dict()) == list(mt.state_dict())
    assert [tuple(v.shape) for v in me.state_dict().values()] == [tuple(v.shape) for v in mt.state_dict().values()]
    _copy(mt, me)
    x = np.random.default_rng(4).standard_normal((3, 5))
    for mode in ("train", "eval"):
        getattr(me, mode)()
        getattr(mt, mode)()
        ye, yt = me(ember.tensor(x)), mt(torch.tensor(x))
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-9)
        for k, v in mt.state_dict().items():
            np.testing.assert_allclose(me.state_dict()[k].numpy(), v.numpy(), rtol=1e-9, err_msg=k)
        ye.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(me.parametrizations.weight.original.grad.numpy(),
                                   mt.parametrizations.weight.original.grad.numpy(), rtol=1e-8)
    # the spectral norm of the normalised weight converges to 1
    big = nn.utils.parametrizations.spectral_norm(nn.Linear(8, 6).double())
    for _ in range(20):
        big(ember.ones(1, 8, dtype=ember.float64))
    assert abs(np.linalg.svd(big.weight.detach().numpy(), compute_uv=False)[0] - 1) < 1e-6


def test_old_spectral_norm_parity_and_remove():
    torch = torch_or_skip()
    mt = torch.nn.utils.spectral_norm(torch.nn.Linear(5, 4).double())
    me = nn.utils.spectral_norm(nn.Linear(5, 4).double())
    assert list(me.state_dict()) == list(mt.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    _copy(mt, me)
    x = np.random.default_rng(5).standard_normal((3, 5))
    ye, yt = me(ember.tensor(x)), mt(torch.tensor(x))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-9)
    for k, v in mt.state_dict().items():
        np.testing.assert_allclose(me.state_dict()[k].numpy(), v.numpy(), rtol=1e-9, err_msg=k)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(me.weight_orig.grad.numpy(), mt.weight_orig.grad.numpy(), rtol=1e-8)
    nn.utils.remove_spectral_norm(me)
    torch.nn.utils.remove_spectral_norm(mt)
    assert list(me.state_dict()) == list(mt.state_dict())
    np.testing.assert_allclose(me.weight.detach().numpy(), mt.weight.detach().numpy(), rtol=1e-9)


@pytest.mark.parametrize("shape,omap", [((4, 4), "matrix_exp"), ((5, 3), "cayley"), ((3, 5), "matrix_exp")])
def test_orthogonal(shape, omap):
    m = nn.utils.parametrizations.orthogonal(nn.Linear(shape[1], shape[0]).double(), orthogonal_map=omap)
    w = m.weight.detach().numpy()
    q = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(q, np.eye(min(shape)), atol=1e-10)
    m(ember.ones(2, shape[1], dtype=ember.float64)).sum().backward()
    assert m.parametrizations.weight.original.grad is not None


# ------------------------------------------------------------------------------------------ fusion
def test_fuse_linear_bn_eval():
    torch = torch_or_skip()
    if not hasattr(nn, "BatchNorm1d"):
        pytest.skip("BatchNorm1d not available")
    lt, bt = torch.nn.Linear(3, 4).double().eval(), torch.nn.BatchNorm1d(4).double().eval()
    with torch.no_grad():
        bt.running_mean.uniform_(-1, 1)
        bt.running_var.uniform_(0.5, 2)
        bt.weight.uniform_(0.5, 2)
        bt.bias.uniform_(-1, 1)
    le, be = nn.Linear(3, 4).double().eval(), nn.BatchNorm1d(4).double().eval()
    _copy(lt, le)
    _copy(bt, be)
    fe, ft = nn.utils.fuse_linear_bn_eval(le, be), torch.nn.utils.fuse_linear_bn_eval(lt, bt)
    x = np.random.default_rng(6).standard_normal((5, 3))
    np.testing.assert_allclose(fe(ember.tensor(x)).detach().numpy(), ft(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(fe(ember.tensor(x)).detach().numpy(), be(le(ember.tensor(x))).detach().numpy(),
                               rtol=1e-10)
    assert isinstance(fe.weight, nn.Parameter) and fe is not le
    assert_same_error(lambda: nn.utils.fuse_linear_bn_eval(le.train(), be),
                      lambda: torch.nn.utils.fuse_linear_bn_eval(lt.train(), bt))


@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_eval(transpose):
    torch = torch_or_skip()
    name = "ConvTranspose2d" if transpose else "Conv2d"
    if not hasattr(nn, name) or not hasattr(nn, "BatchNorm2d"):
        pytest.skip(f"{name}/BatchNorm2d not available")
    ct, bt = getattr(torch.nn, name)(3, 4, 3).double().eval(), torch.nn.BatchNorm2d(4).double().eval()
    with torch.no_grad():
        bt.running_mean.uniform_(-1, 1)
        bt.running_var.uniform_(0.5, 2)
        bt.weight.uniform_(0.5, 2)
    ce, be = getattr(nn, name)(3, 4, 3).double().eval(), nn.BatchNorm2d(4).double().eval()
    _copy(ct, ce)
    _copy(bt, be)
    fe = nn.utils.fuse_conv_bn_eval(ce, be, transpose=transpose)
    ft = torch.nn.utils.fuse_conv_bn_eval(ct, bt, transpose=transpose)
    x = np.random.default_rng(7).standard_normal((2, 3, 6, 6))
    np.testing.assert_allclose(fe(ember.tensor(x)).detach().numpy(), ft(torch.tensor(x)).detach().numpy(),
                               rtol=1e-9, atol=1e-12)
    w, b = nn.utils.fuse_conv_bn_weights(ce.weight, None, be.running_mean, be.running_var, be.eps, None, None,
                                         transpose)
    wt, bt2 = torch.nn.utils.fuse_conv_bn_weights(ct.weight, None, bt.running_mean, bt.running_var, bt.eps, None,
                                                  None, transpose)
    np.testing.assert_allclose(w.detach().numpy(), wt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.detach().numpy(), bt2.detach().numpy(), rtol=1e-12)
