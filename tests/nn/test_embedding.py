"""Embedding, EmbeddingBag and one_hot: harness, PyTorch parity, init, errors."""
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from harness import OpSpec, cases, check_op
from parity import assert_same_error, torch_or_skip


def _idx_make(idx):
    return lambda rng, shapes: [rng.uniform(-2, 2, shapes[0]), np.array(idx, dtype=np.int64)]


def _bag_ref(w, idx, offs, mode, psw=None, pad=None):
    out = []
    ends = list(offs[1:]) + [len(idx)]
    for s, e in zip(offs, ends):
        rows = [w[i] * (1.0 if psw is None else psw[k]) for k, i in zip(range(s, e), idx[s:e]) if i != pad]
        if not rows:
            out.append(np.zeros(w.shape[1]))
        elif mode == "sum":
            out.append(np.sum(rows, 0))
        elif mode == "mean":
            out.append(np.mean(rows, 0))
        else:
            out.append(np.max(rows, 0))
    return np.stack(out)


IDX = [[1, 3, 1], [0, 4, 4]]
BAG_IDX = [2, 0, 2, 4, 1, 3, 3]
OFFS = [0, 3, 3, 5]  # the second bag is empty

SPECS = [
    OpSpec("embedding", lambda w, i: F.embedding(i, w), lambda w, i: w[i], [((5, 3), None)], make=_idx_make(IDX),
           nondiff=(1,)),
    OpSpec("embedding_1d_index", lambda w, i: F.embedding(i, w), lambda w, i: w[i], [((4, 2), None)],
           make=_idx_make([3, 3, 0]), nondiff=(1,)),
    OpSpec("embedding_padding", lambda w, i: F.embedding(i, w, padding_idx=4), lambda w, i: w[i], [((5, 3), None)],
           make=_idx_make(IDX), nondiff=(1,), grad=False),
    OpSpec("embedding_bag_sum", lambda w, i: F.embedding_bag(i, w, ember.tensor(OFFS), mode="sum"),
           lambda w, i: _bag_ref(w, i, OFFS, "sum"), [((5, 3), None)], make=_idx_make(BAG_IDX), nondiff=(1,)),
    OpSpec("embedding_bag_mean", lambda w, i: F.embedding_bag(i, w, ember.tensor(OFFS)),
           lambda w, i: _bag_ref(w, i, OFFS, "mean"), [((5, 3), None)], make=_idx_make(BAG_IDX), nondiff=(1,)),
    OpSpec("embedding_bag_max", lambda w, i: F.embedding_bag(i, w, ember.tensor(OFFS), mode="max"),
           lambda w, i: _bag_ref(w, i, OFFS, "max"), [((5, 3), None)],
           make=lambda rng, s: [rng.permutation(15).reshape(5, 3) / 4.0, np.array(BAG_IDX, np.int64)],
           nondiff=(1,)),
    OpSpec("embedding_bag_psw", lambda w, i, p: F.embedding_bag(i, w, ember.tensor(OFFS), mode="sum",
                                                                per_sample_weights=p),
           lambda w, i, p: _bag_ref(w, i, OFFS, "sum", p), [((5, 3), None, (7,))],
           make=lambda rng, s: [rng.uniform(-2, 2, s[0]), np.array(BAG_IDX, np.int64), rng.uniform(-2, 2, s[2])],
           nondiff=(1,)),
    OpSpec("embedding_bag_2d_padding", lambda w, i: F.embedding_bag(i, w, mode="mean", padding_idx=2),
           lambda w, i: _bag_ref(w, i.reshape(-1), [0, 3], "mean", pad=2), [((5, 3), None)],
           make=_idx_make([[2, 0, 2], [4, 1, 3]]), nondiff=(1,)),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


def test_embedding_gradient_accumulates_duplicates_padding_and_freq():
    w = ember.randn(5, 2, requires_grad=True)
    idx = ember.tensor([[1, 3, 1], [4, 1, 0]])
    g = ember.randn(2, 3, 2)
    (F.embedding(idx, w, padding_idx=4, scale_grad_by_freq=True) * g).sum().backward()
    gn = g.numpy()
    expect = np.zeros((5, 2), np.float32)
    expect[1] = (gn[0, 0] + gn[0, 2] + gn[1, 1]) / 3
    expect[3] = gn[0, 1]
    expect[0] = gn[1, 2]
    np.testing.assert_allclose(w.grad.numpy(), expect, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_gradient_equals_add_at(dtype):
    """The sorted scatter (add.reduceat per id) gives add.at's sums, up to the summation order's rounding."""
    rng = np.random.default_rng(3)
    for idx in (rng.integers(0, 50, (35, 20)), rng.integers(0, 3, (40,)), np.array([7]), np.arange(10)[::-1],
                np.zeros((0, 4), np.int64)):
        w = ember.tensor(rng.standard_normal((50, 6)).astype(dtype), requires_grad=True)
        g = rng.standard_normal(idx.shape + (6,)).astype(dtype)
        F.embedding(ember.tensor(idx), w).backward(ember.tensor(g))
        expect = np.zeros((50, 6), dtype)
        np.add.at(expect, idx.reshape(-1), g.reshape(-1, 6))
        tol = 1e-6 if dtype == np.float32 else 1e-14
        np.testing.assert_allclose(w.grad.numpy(), expect, rtol=tol, atol=tol)
    # per-sample weights (embedding_bag's path) scale the rows before they are added
    w = ember.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    idx, psw = np.array([1, 1, 4, 1, 0]), rng.standard_normal(5)
    F.embedding_bag(ember.tensor(idx), w, ember.tensor([0, 2]), mode="sum",
                    per_sample_weights=ember.tensor(psw)).sum().backward()
    expect = np.zeros((5, 3))
    np.add.at(expect, idx, np.ones((5, 3)) * psw[:, None])
    np.testing.assert_allclose(w.grad.numpy(), expect, rtol=1e-12)


def test_embedding_double_backward():
    w = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    idx = ember.tensor([0, 2, 2])
    out = F.embedding(idx, w)
    g, = ember.autograd.grad((out ** 2).sum(), w, create_graph=True)
    expect = np.zeros((4, 3))
    np.add.at(expect, [0, 2, 2], 2 * w.detach().numpy()[[0, 2, 2]])
    np.testing.assert_allclose(g.detach().numpy(), expect)
    gg, = ember.autograd.grad(g.sum(), w)
    np.testing.assert_allclose(gg.numpy(), np.array([2, 0, 4, 0])[:, None] * np.ones((4, 3)))


# ------------------------------------------------------------------------------------ parity
def _state(tm):
    return OrderedDict((k, ember.tensor(v.detach().numpy().copy())) for k, v in tm.state_dict().items())


EMB_CASES = [({}, (3, 4)), ({"padding_idx": 2}, (3, 4)), ({"padding_idx": -1}, (5,)),
             ({"scale_grad_by_freq": True}, (4, 3)), ({"max_norm": 1.0}, (3, 4)),
             ({"max_norm": 0.5, "norm_type": 1.0, "padding_idx": 0}, (2, 5))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs,shape", EMB_CASES, ids=str)
def test_embedding_module_parity(kwargs, shape, dtype):
    torch = torch_or_skip()
    tol = 1e-5 if dtype == "float32" else 1e-10
    tm = torch.nn.Embedding(6, 3, **kwargs).to(getattr(torch, dtype))
    em = nn.Embedding(6, 3, **kwargs)
    if dtype == "float64":
        em = em.double()
    em.load_state_dict(_state(tm))
    rng = np.random.default_rng(0)
    for step in range(2):
        idx = rng.integers(0, 6, shape)
        eo, to = em(ember.tensor(idx)), tm(torch.tensor(idx))
        np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), atol=tol, rtol=tol)
        assert eo.dtype.name == dtype
        g = rng.standard_normal(tuple(to.shape)).astype(dtype)
        (eo * ember.tensor(g)).sum().backward()
        (to * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(em.weight.grad.numpy(), tm.weight.grad.numpy(), atol=tol, rtol=tol)
        # max_norm renormalises the table in place: the weights themselves must agree
        np.testing.assert_allclose(em.weight.detach().numpy(), tm.weight.detach().numpy(), atol=tol, rtol=tol)
        em.weight.grad, tm.weight.grad = None, None


BAG_CASES = [
    ({"mode": "sum"}, "offsets", False),
    ({"mode": "mean"}, "offsets", False),
    ({"mode": "max"}, "offsets", False),
    ({"mode": "sum"}, "offsets", True),
    ({"mode": "mean", "padding_idx": 1}, "offsets", False),
    ({"mode": "max", "include_last_offset": True}, "last", False),
    ({"mode": "sum", "scale_grad_by_freq": True}, "2d", False),
    ({"mode": "mean", "max_norm": 1.0}, "2d", False),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs,layout,psw", BAG_CASES, ids=str)
def test_embedding_bag_module_parity(kwargs, layout, psw, dtype):
    torch = torch_or_skip()
    tol = 1e-5 if dtype == "float32" else 1e-10
    tm = torch.nn.EmbeddingBag(6, 3, **kwargs).to(getattr(torch, dtype))
    em = nn.EmbeddingBag(6, 3, **kwargs)
    if dtype == "float64":
        em = em.double()
    em.load_state_dict(_state(tm))
    rng = np.random.default_rng(1)
    if layout == "2d":
        idx, offs = rng.integers(0, 6, (3, 4)), None
    else:
        idx = rng.integers(0, 6, 9)
        offs = np.array([0, 2, 2, 6] + ([9] if layout == "last" else []))
    w = rng.standard_normal(idx.shape).astype(dtype) if psw else None
    e_psw = ember.tensor(w, requires_grad=True) if psw else None
    t_psw = torch.tensor(w, requires_grad=True) if psw else None
    eo = em(ember.tensor(idx), None if offs is None else ember.tensor(offs), per_sample_weights=e_psw)
    to = tm(torch.tensor(idx), None if offs is None else torch.tensor(offs), per_sample_weights=t_psw)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), atol=tol, rtol=tol)
    g = rng.standard_normal(tuple(to.shape)).astype(dtype)
    (eo * ember.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    if kwargs.get("scale_grad_by_freq"):
        # PyTorch's CPU embedding_bag divides the k-th distinct index's gradient by the count of the k-th
        # *sorted position's* index (a bug); ember divides by each index's own count, as F.embedding does
        ei = ember.tensor(idx.reshape(-1))
        w2 = em.weight.detach().requires_grad_(True)
        (F.embedding(ei, w2, scale_grad_by_freq=True).reshape(3, 4, 3).sum(1) * ember.tensor(g)).sum().backward()
        np.testing.assert_allclose(em.weight.grad.numpy(), w2.grad.numpy(), atol=tol, rtol=tol)
    else:
        np.testing.assert_allclose(em.weight.grad.numpy(), tm.weight.grad.numpy(), atol=tol, rtol=tol)
    if psw:
        np.testing.assert_allclose(e_psw.grad.numpy(), t_psw.grad.numpy(), atol=tol, rtol=tol)


@pytest.mark.parametrize("num_classes", [-1, 5])
def test_one_hot_parity(num_classes):
    torch = torch_or_skip()
    x = np.array([[0, 3], [2, 1]])
    e = F.one_hot(ember.tensor(x), num_classes)
    t = torch.nn.functional.one_hot(torch.tensor(x), num_classes)
    assert e.dtype is ember.int64 and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert tuple(F.one_hot(ember.tensor([], dtype=ember.int64), 3).shape) == (0, 3)
    assert F.one_hot(ember.tensor(2), 3).tolist() == [0, 0, 1]


# -------------------------------------------------------------------------- init, repr, API
def test_default_init_is_standard_normal_with_zero_padding_row():
    emb = nn.Embedding(2000, 50, padding_idx=3)
    w = emb.weight.detach().numpy()
    assert np.all(w[3] == 0)
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1) < 0.01
    bag = nn.EmbeddingBag(2000, 50, padding_idx=0)
    assert np.all(bag.weight.detach().numpy()[0] == 0) and abs(bag.weight.detach().numpy().std() - 1) < 0.01


def test_padding_row_gets_no_gradient_in_module():
    emb = nn.Embedding(4, 2, padding_idx=1)
    emb(ember.tensor([1, 1, 2])).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[1], [0, 0])
    np.testing.assert_array_equal(emb.weight.grad.numpy()[2], [1, 1])


def test_from_pretrained():
    w = ember.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    emb = nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad and emb.num_embeddings == 3 and emb.embedding_dim == 2
    np.testing.assert_array_equal(emb(ember.tensor([2])).numpy(), [[5.0, 6.0]])
    assert nn.Embedding.from_pretrained(w, freeze=False, padding_idx=0).weight.requires_grad
    bag = nn.EmbeddingBag.from_pretrained(w, mode="sum")
    np.testing.assert_array_equal(bag(ember.tensor([[0, 2]])).numpy(), [[6.0, 8.0]])
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(ember.zeros(3))


def test_reprs_and_state_dict_match_torch():
    torch = torch_or_skip()
    specs = [("Embedding", (4, 2), {}),
             ("Embedding", (4, 2), {"padding_idx": 1, "max_norm": 1.0, "norm_type": 1.0,
                                    "scale_grad_by_freq": True, "sparse": True}),
             ("Embedding", (4, 2), {"padding_idx": -1}),
             ("EmbeddingBag", (3, 2), {}),
             ("EmbeddingBag", (3, 2), {"max_norm": 2.0, "norm_type": 3, "scale_grad_by_freq": True, "mode": "sum",
                                       "include_last_offset": True, "padding_idx": 0})]
    for name, args, kwargs in specs:
        e, t = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        assert repr(e) == repr(t)
        assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in t.state_dict().items()]


def test_sparse_gradient_is_refused_clearly():
    emb = nn.Embedding(4, 2, sparse=True)
    with pytest.raises(NotImplementedError, match="sparse"):
        emb(ember.tensor([1]))


# ------------------------------------------------------------------------------------ errors
def test_errors_match_torch():
    torch = torch_or_skip()
    tF = torch.nn.functional

    def bag_args(m):
        return m.tensor([1, 2]), m.randn(3, 2)

    cases = [
        lambda m, f: f.embedding(m.tensor([5]), m.randn(3, 2)),
        lambda m, f: f.embedding(m.tensor([-1]), m.randn(3, 2)),
        lambda m, f: f.embedding(m.tensor([1.0]), m.randn(3, 2)),
        lambda m, f: f.embedding(m.tensor([1]), m.randn(3, 2), padding_idx=3),
        lambda m, f: m.nn.Embedding(3, 2, padding_idx=-4),
        lambda m, f: m.nn.Embedding(3, 2, _weight=m.zeros(2, 2)),
        lambda m, f: f.one_hot(m.tensor([-1])),
        lambda m, f: f.one_hot(m.tensor([3]), 2),
        lambda m, f: f.one_hot(m.tensor([1.0])),
        lambda m, f: f.one_hot(m.tensor([], dtype=m.int64)),
        lambda m, f: f.embedding_bag(*bag_args(m)),
        lambda m, f: f.embedding_bag(*bag_args(m), m.tensor([1, 0])),
        lambda m, f: f.embedding_bag(m.tensor([[1, 2]]), m.randn(3, 2), m.tensor([0])),
        lambda m, f: f.embedding_bag(*bag_args(m), m.tensor([0]), per_sample_weights=m.ones(2), mode="mean"),
        lambda m, f: f.embedding_bag(*bag_args(m), m.tensor([0]), mode="foo"),
        lambda m, f: f.embedding_bag(m.tensor([1, 7]), m.randn(3, 2), m.tensor([0])),
    ]
    for case in cases:
        assert_same_error(lambda: case(ember, F), lambda: case(torch, tF))
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(ember.tensor([5]), ember.randn(3, 2))
