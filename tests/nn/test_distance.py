"""Distances (pairwise_distance, cosine_similarity, pdist, cdist) and gumbel_softmax: harness, parity, errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from harness import OpSpec, cases, check_op
from parity import assert_parity, assert_same_error, torch_or_skip
from ember.nn._functional.distance import cdist


def _pnorm(d, p, axis=-1, keepdims=False):
    if p == np.inf:
        return np.abs(d).max(axis=axis, keepdims=keepdims)
    return (np.abs(d) ** p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p)


def _cos_ref(a, b, dim=1, eps=1e-8):
    a, b = np.broadcast_arrays(a, b)
    na = np.maximum(np.sqrt((a * a).sum(dim, keepdims=True)), eps)
    nb = np.maximum(np.sqrt((b * b).sum(dim, keepdims=True)), eps)
    return ((a / na) * (b / nb)).sum(dim)


def _pdist_ref(x, p=2):
    i, j = np.triu_indices(x.shape[0], 1)
    return _pnorm(x[i] - x[j], p)


PAIR_SHAPES = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((5,), (5,)), ((0, 3), (3,))]

SPECS = [
    OpSpec("pairwise_distance", lambda a, b: F.pairwise_distance(a, b), lambda a, b: _pnorm(a - b + 1e-6, 2),
           PAIR_SHAPES),
    OpSpec("pairwise_distance_p1_keepdim", lambda a, b: F.pairwise_distance(a, b, p=1, keepdim=True),
           lambda a, b: _pnorm(a - b + 1e-6, 1, keepdims=True), [((3, 4), (3, 4))]),
    OpSpec("pairwise_distance_p3", lambda a, b: F.pairwise_distance(a, b, p=3, eps=0.0),
           lambda a, b: _pnorm(a - b, 3), [((3, 4), (3, 4)), ((2, 3), (3,))]),
    OpSpec("pairwise_distance_0d", lambda a, b: F.pairwise_distance(a, b), lambda a, b: np.abs(a - b + 1e-6),
           [((), ())]),
    OpSpec("cosine_similarity", lambda a, b: F.cosine_similarity(a, b), _cos_ref,
           [((3, 4), (3, 4)), ((2, 3, 4), (3, 1)), ((1, 4), (3, 4)), ((0, 3), (0, 3))]),
    OpSpec("cosine_similarity_dim_last", lambda a, b: F.cosine_similarity(a, b, dim=-1),
           lambda a, b: _cos_ref(a, b, -1), [((2, 3, 4), (2, 3, 4)), ((4,), (4,))]),
    OpSpec("pdist", lambda x: F.pdist(x), _pdist_ref, [((4, 3),), ((2, 5),), ((1, 3),)]),
    OpSpec("pdist_p1", lambda x: F.pdist(x, p=1), lambda x: _pdist_ref(x, 1), [((4, 3),)]),
    OpSpec("cdist", lambda a, b: cdist(a, b), lambda a, b: _pnorm(a[..., :, None, :] - b[..., None, :, :], 2),
           [((3, 4), (2, 4)), ((2, 3, 4), (2, 5, 4))]),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


def _seeded_gumbel(**kw):
    def op(x):
        ember.manual_seed(7)  # same noise on every call, so finite differences see a smooth function
        return F.gumbel_softmax(x, **kw)
    return op


# hard=True is straight-through (its value is piecewise constant), so it is checked against the soft gradient
# in test_gumbel_hard_is_straight_through rather than by finite differences
GUMBEL = [
    OpSpec("gumbel_softmax", _seeded_gumbel(tau=0.7), None, [((3, 4),), ((5,),)]),
    OpSpec("gumbel_softmax_dim0", _seeded_gumbel(tau=2.0, dim=0), None, [((3, 4),)]),
]


@pytest.mark.parametrize("spec,i,layout", cases(GUMBEL))
def test_gumbel_grad(spec, i, layout):
    check_op(spec, i, layout)


def test_gumbel_softmax_samples():
    ember.manual_seed(0)
    logits = ember.tensor([[0.0, 3.0, -1.0]] * 4000)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).numpy(), 1.0, rtol=1e-5)
    hard = F.gumbel_softmax(logits, hard=True)
    h = hard.numpy()
    assert set(np.unique(h)) <= {0.0, 1.0} and np.all(h.sum(-1) == 1)
    # Gumbel-max sampling picks class k with probability softmax(logits)[k]
    p = np.exp([0.0, 3.0, -1.0]) / np.exp([0.0, 3.0, -1.0]).sum()
    np.testing.assert_allclose(h.mean(0), p, atol=0.03)
    ember.manual_seed(3)
    a = F.gumbel_softmax(ember.zeros(5))
    ember.manual_seed(3)
    np.testing.assert_array_equal(a.numpy(), F.gumbel_softmax(ember.zeros(5)).numpy())


def test_gumbel_hard_is_straight_through():
    x = ember.randn(2, 3, requires_grad=True)
    ember.manual_seed(1)
    hard = F.gumbel_softmax(x, hard=True)
    ember.manual_seed(1)
    soft = F.gumbel_softmax(x)
    w = ember.randn(2, 3)
    g_hard, = ember.autograd.grad((hard * w).sum(), x)
    g_soft, = ember.autograd.grad((soft * w).sum(), x)
    np.testing.assert_allclose(g_hard.numpy(), g_soft.numpy(), rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------------------ parity
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_parity(dtype):
    torch = torch_or_skip()
    tF = torch.nn.functional
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 5)).astype(dtype), rng.standard_normal((4, 5)).astype(dtype)
    tol = dict(atol=1e-6, rtol=1e-5) if dtype == np.float32 else dict(atol=1e-11, rtol=1e-10)
    for p in (2.0, 1.0, 3.0, float("inf"), 0.5):
        assert_parity(lambda x, y: F.pairwise_distance(x, y, p), lambda x, y: tF.pairwise_distance(x, y, p),
                      [a, b], **tol)
        assert_parity(lambda x: F.pdist(x, p), lambda x: tF.pdist(x, p), [a], **tol)
    assert_parity(lambda x, y: F.pairwise_distance(x, y, 2, 0.1, True),
                  lambda x, y: tF.pairwise_distance(x, y, 2, 0.1, True), [a, b[:1]], **tol)
    assert_parity(lambda x, y: F.cosine_similarity(x, y, 0), lambda x, y: tF.cosine_similarity(x, y, 0),
                  [a, b], **tol)
    assert_parity(lambda x, y: F.cosine_similarity(x, y), lambda x, y: tF.cosine_similarity(x, y),
                  [a[:, None], b[None, :1]], **tol)
    assert_parity(lambda x, y: cdist(x, y), lambda x, y: torch.cdist(x, y), [a[:3], b], **tol)
    assert_parity(lambda x, y: cdist(x, y, p=1), lambda x, y: torch.cdist(x, y, p=1), [a[:3], b], **tol)
    assert_parity(lambda x: F.normalize(x, p=3, dim=0), lambda x: tF.normalize(x, p=3, dim=0), [a], **tol)


def test_cosine_similarity_eps_semantics_match_torch():
    """Each norm is clamped to eps separately; the clamp is invisible to autograd (PyTorch 2.x)."""
    torch = torch_or_skip()
    a = np.array([[1e-9, 2e-9], [1.0, 2.0]])
    b = np.array([[3.0, 1.0], [1e-10, 0.0]])
    assert_parity(lambda x, y: F.cosine_similarity(x, y, eps=1e-8),
                  lambda x, y: torch.nn.functional.cosine_similarity(x, y, eps=1e-8), [a, b], atol=1e-10, rtol=1e-8)
    # an integer input meets the other's float dtype; float64 wins over float32
    e = F.cosine_similarity(ember.tensor([1, 2]), ember.tensor([1.0, 0.0]), dim=0)
    t = torch.nn.functional.cosine_similarity(torch.tensor([1, 2]), torch.tensor([1.0, 0.0]), dim=0)
    assert e.dtype is ember.float32 and abs(float(e) - float(t)) < 1e-6
    e = F.cosine_similarity(ember.tensor([1.0, 2.0], dtype=ember.float64), ember.tensor([1.0, 0.0]), dim=0)
    assert e.dtype is ember.float64


def test_zero_distance_gradient_is_zero_like_torch():
    torch = torch_or_skip()
    x = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]])
    assert_parity(lambda t: F.pdist(t), lambda t: torch.nn.functional.pdist(t), [x], atol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_modules_parity(dtype):
    torch = torch_or_skip()
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((3, 4)).astype(dtype)
    tol = dict(atol=1e-6, rtol=1e-5) if dtype == "float32" else dict(atol=1e-11, rtol=1e-10)
    for e, t in [(nn.PairwiseDistance(), torch.nn.PairwiseDistance()),
                 (nn.PairwiseDistance(p=1, eps=0.0, keepdim=True), torch.nn.PairwiseDistance(1, 0.0, True)),
                 (nn.CosineSimilarity(), torch.nn.CosineSimilarity()),
                 (nn.CosineSimilarity(dim=0, eps=1e-3), torch.nn.CosineSimilarity(0, 1e-3))]:
        assert_parity(e, t, [a, b], **tol)
        assert repr(e) == repr(t)
        assert list(e.state_dict()) == list(t.state_dict()) == []


def test_triplet_margin_loss_uses_pairwise_distance():
    torch = torch_or_skip()
    rng = np.random.default_rng(3)
    arrs = [rng.standard_normal((4, 3)) for _ in range(3)]
    assert_parity(lambda *x: F.triplet_margin_loss(*x, swap=True),
                  lambda *x: torch.nn.functional.triplet_margin_loss(*x, swap=True), arrs, atol=1e-10)


# ------------------------------------------------------------------------------------ errors
def test_errors_match_torch():
    torch = torch_or_skip()
    tF = torch.nn.functional
    cases = [
        lambda m, f: f.cosine_similarity(m.randn(2, 3), m.randn(2, 4)),
        lambda m, f: f.cosine_similarity(m.randn(2, 3), m.randn(2, 3), dim=2),
        lambda m, f: f.pairwise_distance(m.randn(2, 3), m.randn(2, 4)),
        lambda m, f: f.pdist(m.randn(2, 3, 3)),
        lambda m, f: f.pdist(m.randn(2, 3), p=-1),
        lambda m, f: f.cosine_similarity(m.tensor([1, 2]), m.tensor([1, 0]), dim=0),
        lambda m, f: f.pdist(m.tensor([[1, 2], [3, 4]])),
        lambda m, f: f.gumbel_softmax(m.randn(2, 3), dim=3),
    ]
    for case in cases:
        assert_same_error(lambda: case(ember, F), lambda: case(torch, tF))
    for case in [lambda m: m.randn(2, 3), lambda m: m.randn(3)]:
        assert_same_error(lambda: cdist(case(ember), ember.randn(2, 4)),
                          lambda: torch.cdist(case(torch), torch.randn(2, 4)))
