"""Losses (functional and modules) incl. CTC: harness (gradcheck + gradgradcheck) and PyTorch parity."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from harness import OpSpec, cases, check_op
from parity import assert_parity, assert_same_error, torch_or_skip

REDS = ("none", "mean", "sum")


def _idx(c):
    return lambda rng, shapes: [rng.uniform(-2, 2, shapes[0]), rng.integers(0, c, shapes[1])]


def _idx_of_classes(rng, shapes):
    """Logits and class indices below the logits' class count (dim 1, or dim 0 when unbatched)."""
    x = shapes[0]
    return [rng.uniform(-2, 2, x), rng.integers(0, x[1] if len(x) > 1 else x[0], shapes[1])]


def _probs(rng, shapes):
    return [rng.uniform(0.05, 0.95, shapes[0]), rng.uniform(0, 1, shapes[1])]


def _sign(rng, shapes):
    return [rng.uniform(-2, 2, shapes[0]), np.where(rng.uniform(-1, 1, shapes[1]) > 0, 1.0, -1.0)]


def _spec(name, fn, shapes, **kw):
    return OpSpec(name, fn, None, shapes, **kw)


PAIR = [((3, 4), (3, 4)), ((), ()), ((2, 3, 4), (2, 3, 4))]
SPECS = []
for red in REDS:
    SPECS += [
        _spec(f"mse-{red}", lambda a, b, r=red: F.mse_loss(a, b, reduction=r), PAIR),
        _spec(f"l1-{red}", lambda a, b, r=red: F.l1_loss(a, b, reduction=r), PAIR),
        _spec(f"smooth_l1-{red}", lambda a, b, r=red: F.smooth_l1_loss(a, b, reduction=r, beta=0.5), PAIR),
        _spec(f"huber-{red}", lambda a, b, r=red: F.huber_loss(a, b, reduction=r, delta=0.7), PAIR),
        _spec(f"nll-{red}", lambda x, t, r=red: F.nll_loss(x, t, reduction=r), [((4, 5), (4,)), ((5,), ()),
                                                                                 ((3, 5, 2, 2), (3, 2, 2))],
              make=_idx(5), nondiff=(1,)),
        _spec(f"ce-{red}", lambda x, t, r=red: F.cross_entropy(x, t, reduction=r, label_smoothing=0.1),
              [((4, 5), (4,)), ((5,), ()), ((3, 5, 2, 2), (3, 2, 2))], make=_idx(5), nondiff=(1,)),
        # no label smoothing: the one-node CrossEntropyLoss (fast_backward, and the ember-op backward twice)
        _spec(f"ce_fused-{red}", lambda x, t, r=red: F.cross_entropy(x, t, reduction=r),
              [((4, 5), (4,)), ((5,), ()), ((3, 5, 2, 2), (3, 2, 2)), ((2, 1), (2,))], make=_idx_of_classes, nondiff=(1,)),
        _spec(f"ce_fused_weight_ignore-{red}", lambda x, t, r=red: F.cross_entropy(
            x, t, weight=ember.tensor([0.5, 2.0, 1.0, 0.1, 3.0], dtype=x.dtype), ignore_index=1, reduction=r),
            [((6, 5), (6,)), ((2, 5, 3), (2, 3))], make=_idx(5), nondiff=(1,)),
        _spec(f"ce_probs-{red}", lambda x, t, r=red: F.cross_entropy(x, t, reduction=r), [((4, 5), (4, 5))],
              nondiff=(1,)),
        _spec(f"bce-{red}", lambda x, t, r=red: F.binary_cross_entropy(x, t, reduction=r), PAIR, make=_probs,
              nondiff=(1,)),
        _spec(f"bce_logits-{red}", lambda x, t, r=red: F.binary_cross_entropy_with_logits(
            x, t, reduction=r, pos_weight=ember.tensor(1.5, dtype=x.dtype)), PAIR, make=_probs),
        _spec(f"kl_div-{red}", lambda x, t, r=red: F.kl_div(x, t, reduction=r, log_target=True), PAIR),
        _spec(f"soft_margin-{red}", lambda x, t, r=red: F.soft_margin_loss(x, t, reduction=r), PAIR, make=_sign,
              nondiff=(1,)),
        _spec(f"poisson_nll-{red}", lambda x, t, r=red: F.poisson_nll_loss(x, t, reduction=r), PAIR),
        _spec(f"gaussian_nll-{red}", lambda x, t, v, r=red: F.gaussian_nll_loss(x, t, v, reduction=r),
              [((3, 4), (3, 4), (3, 4))], make=lambda rng, s: [rng.uniform(-1, 1, s[0]), rng.uniform(-1, 1, s[1]),
                                                               rng.uniform(0.5, 2, s[2])]),
        _spec(f"cos_emb-{red}", lambda a, b, t, r=red: F.cosine_embedding_loss(a, b, t, 0.1, reduction=r),
              [((4, 3), (4, 3), (4,))], make=lambda rng, s: [rng.uniform(-1, 1, s[0]), rng.uniform(-1, 1, s[1]),
                                                             np.array([1.0, -1.0, 1.0, -1.0])], nondiff=(2,)),
        _spec(f"margin_rank-{red}", lambda a, b, t, r=red: F.margin_ranking_loss(a, b, t, 0.2, reduction=r),
              [((5,), (5,), (5,))], make=lambda rng, s: [rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 5),
                                                         np.array([1.0, -1, 1, -1, 1])], nondiff=(2,)),
        _spec(f"hinge_emb-{red}", lambda a, t, r=red: F.hinge_embedding_loss(a, t, 1.5, reduction=r), PAIR,
              make=_sign, nondiff=(1,)),
        _spec(f"triplet-{red}", lambda a, b, c, r=red: F.triplet_margin_loss(a, b, c, reduction=r),
              [((4, 3), (4, 3), (4, 3))]),
        _spec(f"multi_margin-{red}", lambda x, t, r=red: F.multi_margin_loss(x, t, p=2, reduction=r),
              [((4, 5), (4,))], make=_idx(5), nondiff=(1,)),
        _spec(f"mlsm-{red}", lambda x, t, r=red: F.multilabel_soft_margin_loss(x, t, reduction=r), [((4, 5), (4, 5))],
              make=lambda rng, s: [rng.uniform(-2, 2, s[0]), (rng.uniform(0, 1, s[1]) > 0.5).astype(float)],
              nondiff=(1,)),
        _spec(f"mlmargin-{red}", lambda x, t, r=red: F.multilabel_margin_loss(x, t, reduction=r), [((3, 4), (3, 4))],
              make=lambda rng, s: [rng.uniform(-2, 2, s[0]), np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, -1, 0, 0]])],
              nondiff=(1,)),
    ]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(spec, i, layout)


# ------------------------------------------------------------------------------------------ parity
class W:
    """A constant (weight, target) passed to both libraries as a tensor that does not require grad."""

    def __init__(self, a):
        self.a = a


def _run(ef, tf, arrays, dt):
    torch = torch_or_skip()
    tol = 1e-5 if dt == np.float32 else 1e-10

    def wrap(fn, lib):
        return lambda *xs: fn(*[lib.tensor(x.a) if isinstance(x, W) else x for x in xs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_parity(wrap(ef, ember), wrap(tf, torch), arrays, atol=tol, rtol=tol)


DTS = [np.float32, np.float64]
POINTWISE = [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
             ("huber_loss", {"delta": 0.7}), ("soft_margin_loss", {}), ("poisson_nll_loss", {}),
             ("poisson_nll_loss", {"log_input": False, "full": True}), ("kl_div", {}), ("kl_div", {"log_target": True}),
             ("binary_cross_entropy_with_logits", {}), ("binary_cross_entropy", {})]


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("name,kw", POINTWISE, ids=[f"{n}{kw}" for n, kw in POINTWISE])
def test_pointwise_loss_parity(name, kw, red, dt):
    rng = np.random.default_rng(0)
    for shape in [(4, 5), (), (2, 3, 4)]:
        a, b = rng.uniform(-2, 2, shape).astype(dt), rng.uniform(-2, 2, shape).astype(dt)
        if name == "soft_margin_loss":
            b = W(np.asarray(np.where(b > 0, 1.0, -1.0)).astype(dt))
        if name == "poisson_nll_loss":
            b = W(np.floor(rng.uniform(0, 5, shape)).astype(dt))
            if not kw.get("log_input", True):
                a = rng.uniform(0.1, 3, shape).astype(dt)
        if name == "kl_div" and not kw.get("log_target"):
            b = rng.uniform(0, 1, shape).astype(dt)
        if name.startswith("binary_cross_entropy"):
            b = rng.uniform(0, 1, shape).astype(dt)
        if name == "binary_cross_entropy":
            a = rng.uniform(0.01, 0.99, shape).astype(dt)
        _run(lambda x, y: getattr(F, name)(x, y, reduction=red, **kw),
             lambda x, y: getattr(__import__("torch").nn.functional, name)(x, y, reduction=red, **kw), [a, b], dt)


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("red", REDS + ("batchmean",))
def test_kl_div_batchmean_and_bce_weights(red, dt):
    TF = torch_or_skip().nn.functional
    rng = np.random.default_rng(1)
    a, b = rng.uniform(-2, 2, (4, 5)).astype(dt), rng.uniform(0, 1, (4, 5)).astype(dt)
    _run(lambda x, y: F.kl_div(x, y, reduction=red), lambda x, y: TF.kl_div(x, y, reduction=red), [a, b], dt)
    if red == "batchmean":
        return
    w, pw = W(rng.uniform(0.1, 2, 5).astype(dt)), W(rng.uniform(0.1, 3, 5).astype(dt))
    _run(lambda x, y, w, p: F.binary_cross_entropy_with_logits(x, y, w, reduction=red, pos_weight=p),
         lambda x, y, w, p: TF.binary_cross_entropy_with_logits(x, y, w, reduction=red, pos_weight=p), [a, b, w, pw], dt)
    p = rng.uniform(0.01, 0.99, (4, 5)).astype(dt)
    _run(lambda x, y, w: F.binary_cross_entropy(x, y, w, reduction=red),
         lambda x, y, w: TF.binary_cross_entropy(x, y, w, reduction=red), [p, b, w], dt)


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("shape,tshape", [((4, 5), (4,)), ((5,), ()), ((3, 5, 2, 3), (3, 2, 3))])
def test_nll_cross_entropy_parity(shape, tshape, red, dt):
    TF = torch_or_skip().nn.functional
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, shape).astype(dt)
    t = rng.integers(0, 5, tshape)
    if t.ndim:
        t.flat[0], t.flat[-1] = 1, 2
    w = rng.uniform(0.1, 2, 5).astype(dt)
    for ls in (0.0, 0.2):
        for usew in (False, True):
            for ii in (-100, 1):
                args = [x, W(t)] + ([W(w)] if usew else [])
                _run(lambda x, t, *w: F.cross_entropy(x, t, *w, ignore_index=ii, reduction=red, label_smoothing=ls),
                     lambda x, t, *w: TF.cross_entropy(x, t, *w, ignore_index=ii, reduction=red, label_smoothing=ls),
                     args, dt)
                if ls == 0:
                    _run(lambda x, t, *w: F.nll_loss(x, t, *w, ignore_index=ii, reduction=red),
                         lambda x, t, *w: TF.nll_loss(x, t, *w, ignore_index=ii, reduction=red), args, dt)
            pt = rng.uniform(0, 1, shape)
            pt = (pt / pt.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)).astype(dt)
            _run(lambda x, t, *w: F.cross_entropy(x, t, *w, reduction=red, label_smoothing=ls),
                 lambda x, t, *w: TF.cross_entropy(x, t, *w, reduction=red, label_smoothing=ls),
                 [x, W(pt)] + ([W(w)] if usew else []), dt)


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("red", REDS)
def test_margin_and_other_losses_parity(red, dt):
    TF = torch_or_skip().nn.functional
    rng = np.random.default_rng(3)
    U = lambda *s, lo=-2, hi=2: rng.uniform(lo, hi, s).astype(dt)  # noqa: E731
    x1, x2 = U(6, 4), U(6, 4)
    y = W(np.where(U(6) > 0, 1.0, -1.0).astype(dt))
    _run(lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.2, reduction=red),
         lambda a, b, y: TF.cosine_embedding_loss(a, b, y, margin=0.2, reduction=red), [x1, x2, y], dt)
    _run(lambda a, b, y: F.margin_ranking_loss(a[:, 0], b[:, 0], y, margin=0.3, reduction=red),
         lambda a, b, y: TF.margin_ranking_loss(a[:, 0], b[:, 0], y, margin=0.3, reduction=red), [x1, x2, y], dt)
    _run(lambda a, y: F.hinge_embedding_loss(a, y, margin=0.5, reduction=red),
         lambda a, y: TF.hinge_embedding_loss(a, y, margin=0.5, reduction=red),
         [x1, W(np.where(U(6, 4) > 0, 1.0, -1.0).astype(dt))], dt)
    for swap in (False, True):
        _run(lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=0.5, p=1.5, reduction=red, swap=swap),
             lambda a, b, c: TF.triplet_margin_loss(a, b, c, margin=0.5, p=1.5, reduction=red, swap=swap),
             [x1, x2, U(6, 4)], dt)
    w4 = W(U(4, lo=.1, hi=2))
    _run(lambda a, y, w: F.multilabel_soft_margin_loss(a, y, w, reduction=red),
         lambda a, y, w: TF.multilabel_soft_margin_loss(a, y, w, reduction=red),
         [x1, W((U(6, 4, lo=0, hi=1) > 0.5).astype(dt)), w4], dt)
    for p in (1, 2):
        _run(lambda a, t, w: F.multi_margin_loss(a, t, p=p, margin=0.7, weight=w, reduction=red),
             lambda a, t, w: TF.multi_margin_loss(a, t, p=p, margin=0.7, weight=w, reduction=red),
             [x1, W(rng.integers(0, 4, (6,))), w4], dt)
    tml = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, -1, 0, 0], [2, 2, -1, 0], [-1, 0, 0, 0], [1, 3, -1, 2]])
    _run(lambda a, t: F.multilabel_margin_loss(a, t, reduction=red),
         lambda a, t: TF.multilabel_margin_loss(a, t, reduction=red), [x1, W(tml)], dt)
    var = U(6, 4, lo=0.1, hi=2)
    for full in (False, True):
        for sl in (slice(None), slice(0, 1)):
            _run(lambda a, b, v: F.gaussian_nll_loss(a, b, v[:, sl], full=full, reduction=red),
                 lambda a, b, v: TF.gaussian_nll_loss(a, b, v[:, sl], full=full, reduction=red), [x1, x2, var], dt)
        _run(lambda a, b, v: F.gaussian_nll_loss(a, b, v[:, 0], full=full, reduction=red),
             lambda a, b, v: TF.gaussian_nll_loss(a, b, v[:, 0], full=full, reduction=red), [x1, x2, var], dt)


def test_nll_all_ignored_and_empty():
    torch = torch_or_skip()
    x = np.random.default_rng(4).standard_normal((3, 4))
    t = np.array([-100, -100, -100])
    e = F.nll_loss(ember.tensor(x), ember.tensor(t))
    tt = torch.nn.functional.nll_loss(torch.tensor(x), torch.tensor(t))
    assert np.isnan(e.item()) and np.isnan(tt.item())
    assert F.nll_loss(ember.tensor(x), ember.tensor(t), reduction="sum").item() == 0


# ------------------------------------------------------------------------------------- modules
LOSS_MODULES = [
    ("L1Loss", {}), ("MSELoss", {"reduction": "sum"}), ("SmoothL1Loss", {"beta": 0.5}), ("HuberLoss", {"delta": 2.0}),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 2}), ("NLLLoss", {"reduction": "none"}),
    ("BCELoss", {}), ("BCEWithLogitsLoss", {}), ("KLDivLoss", {"reduction": "batchmean", "log_target": True}),
    ("PoissonNLLLoss", {"full": True}), ("GaussianNLLLoss", {"full": True}), ("CosineEmbeddingLoss", {"margin": 0.1}),
    ("MarginRankingLoss", {"margin": 0.2}), ("HingeEmbeddingLoss", {}), ("TripletMarginLoss", {"swap": True}),
    ("MultiMarginLoss", {"p": 2}), ("MultiLabelMarginLoss", {}), ("MultiLabelSoftMarginLoss", {}),
    ("SoftMarginLoss", {}), ("CTCLoss", {"blank": 1, "zero_infinity": True}),
]


@pytest.mark.parametrize("cls,kw", LOSS_MODULES, ids=[c for c, _ in LOSS_MODULES])
def test_loss_module_repr_and_attributes(cls, kw):
    torch = torch_or_skip()
    e, t = getattr(nn, cls)(**kw), getattr(torch.nn, cls)(**kw)
    assert repr(e) == repr(t)
    assert e.reduction == t.reduction
    for k in kw:
        assert getattr(e, k) == getattr(t, k)
    assert list(e.state_dict()) == list(t.state_dict())


@pytest.mark.parametrize("dt", DTS)
def test_loss_modules_forward_parity(dt):
    torch = torch_or_skip()
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0.05, 0.95, (4, 5)).astype(dt), rng.uniform(0, 1, (4, 5)).astype(dt)
    t = rng.integers(0, 5, (4,))
    w = rng.uniform(0.5, 2, 5).astype(dt)
    pairs = [("L1Loss", {}, [x, W(y)]), ("MSELoss", {}, [x, y]), ("SmoothL1Loss", {"beta": 0.1}, [x, W(y)]),
             ("HuberLoss", {"delta": 0.1}, [x, W(y)]), ("BCELoss", {}, [x, W(y)]),
             ("BCEWithLogitsLoss", {}, [x, W(y)]), ("CrossEntropyLoss", {"label_smoothing": 0.1}, [x, W(t)]),
             ("CrossEntropyLoss", {"weight": "w"}, [x, W(t)]), ("NLLLoss", {"weight": "w"}, [x, W(t)]),
             ("BCEWithLogitsLoss", {"pos_weight": "w"}, [x, W(y)]), ("MultiMarginLoss", {"weight": "w"}, [x, W(t)]),
             ("KLDivLoss", {"reduction": "batchmean"}, [x, W(y)]), ("SoftMarginLoss", {}, [x, W(np.sign(y - 0.5))]),
             ("GaussianNLLLoss", {}, [x, W(y), W(y + 0.5)])]
    for cls, kw, args in pairs:
        ke = {k: (ember.tensor(w) if v == "w" else v) for k, v in kw.items()}
        kt = {k: (torch.tensor(w) if v == "w" else v) for k, v in kw.items()}
        _run(getattr(nn, cls)(**ke), getattr(torch.nn, cls)(**kt), args, dt)
    assert list(nn.CrossEntropyLoss(weight=ember.tensor(w)).state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=ember.tensor(w)).state_dict()) == ["pos_weight"]


# ------------------------------------------------------------------------------------------- CTC
def _ctc_case(rng, T=7, N=3, C=5, S=4):
    x = rng.standard_normal((T, N, C))
    tg = rng.integers(1, C, (N, S))
    tg[0, 1] = tg[0, 0]  # a repeated label needs a blank between
    return x, tg, (7, 6, 4), (4, 2, 0)


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("zero_inf", [False, True])
def test_ctc_parity_through_log_softmax(red, zero_inf, dt):
    torch = torch_or_skip()
    x, tg, il, tl = _ctc_case(np.random.default_rng(6))
    x = x.astype(dt)
    for form in ("tuple", "tensor", "concat"):
        def ember_fn(a):
            t = ember.tensor(tg)
            i, l = (il, tl) if form == "tuple" else (ember.tensor(il), ember.tensor(tl))
            if form == "concat":
                t = ember.tensor(np.concatenate([tg[n, :tl[n]] for n in range(3)]))
            return F.ctc_loss(a.log_softmax(2), t, i, l, reduction=red, zero_infinity=zero_inf)

        def torch_fn(a):
            t = torch.tensor(tg)
            i, l = (il, tl) if form == "tuple" else (torch.tensor(il), torch.tensor(tl))
            if form == "concat":
                t = torch.tensor(np.concatenate([tg[n, :tl[n]] for n in range(3)]))
            return torch.nn.functional.ctc_loss(a.log_softmax(2), t, i, l, reduction=red, zero_infinity=zero_inf)
        tol = 2e-5 if dt == np.float32 else 1e-10
        assert_parity(ember_fn, torch_fn, [x], atol=tol, rtol=tol)


def test_ctc_exact_gradient_and_relation_to_torch():
    torch = torch_or_skip()
    from ember.autograd.gradcheck import gradcheck
    x, tg, il, tl = _ctc_case(np.random.default_rng(7))
    lp = torch.tensor(x).log_softmax(2).requires_grad_()
    lpe = ember.tensor(lp.detach().numpy(), requires_grad=True)
    gt, = torch.autograd.grad(torch.nn.functional.ctc_loss(lp, torch.tensor(tg), il, tl, reduction="sum"), lp)
    ge, = ember.autograd.grad(F.ctc_loss(lpe, ember.tensor(tg), il, tl, reduction="sum"), [lpe])
    # PyTorch's kernel adds exp(log_probs) inside each sequence (cancelled by log_softmax's backward)
    inside = (np.arange(7)[:, None] < np.array(il)[None, :])[:, :, None]
    np.testing.assert_allclose(ge.numpy(), gt.numpy() - np.exp(lp.detach().numpy()) * inside, atol=1e-12)
    assert gradcheck(lambda a: F.ctc_loss(a, ember.tensor(tg), il, tl, reduction="none"), [lpe])


def test_ctc_unbatched_impossible_and_double_backward():
    torch = torch_or_skip()
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 4))
    assert_parity(lambda a: F.ctc_loss(a.log_softmax(1), ember.tensor([1, 2]), (5,), (2,), reduction="none"),
                  lambda a: torch.nn.functional.ctc_loss(a.log_softmax(1), torch.tensor([1, 2]), (5,), (2,),
                                                         reduction="none"), [x], atol=1e-10)
    # an impossible alignment (3 repeated labels need 5 steps): inf, or 0 with zero_infinity
    lp = rng.standard_normal((3, 2, 4))
    tg = np.array([[1, 1, 1], [1, 2, 3]])
    for zi in (False, True):
        assert_parity(lambda a: F.ctc_loss(a.log_softmax(2), ember.tensor(tg), (3, 3), (3, 2), reduction="none",
                                           zero_infinity=zi),
                      lambda a: torch.nn.functional.ctc_loss(a.log_softmax(2), torch.tensor(tg), (3, 3), (3, 2),
                                                             reduction="none", zero_infinity=zi), [lp],
                      grad=zi, atol=1e-10)
    # zero-length inputs and targets
    assert_parity(lambda a: F.ctc_loss(a, ember.tensor(tg), (0, 3), (0, 2), reduction="none"),
                  lambda a: torch.nn.functional.ctc_loss(a, torch.tensor(tg), (0, 3), (0, 2), reduction="none"),
                  [lp], grad=False, atol=1e-10)
    # the CTC gradient is not differentiable again (as in PyTorch)
    a = ember.tensor(lp, requires_grad=True)
    g, = ember.autograd.grad(F.ctc_loss(a, ember.tensor(tg), (3, 3), (1, 2)), [a], create_graph=True)
    ta = torch.tensor(lp, requires_grad=True)
    tgr, = torch.autograd.grad(torch.nn.functional.ctc_loss(ta, torch.tensor(tg), (3, 3), (1, 2)), [ta],
                               create_graph=True)
    assert_same_error(lambda: g.sum().backward(), lambda: tgr.sum().backward())


def test_ctc_module_and_errors():
    torch = torch_or_skip()
    lp = np.random.default_rng(9).standard_normal((3, 2, 4))
    e, t = ember.tensor(lp).log_softmax(2), torch.tensor(lp).log_softmax(2)
    tg = np.array([[1, 1, 1], [1, 2, 3]])
    np.testing.assert_allclose(nn.CTCLoss(reduction="sum")(e, ember.tensor(tg), (3, 3), (1, 2)).item(),
                               torch.nn.CTCLoss(reduction="sum")(t, torch.tensor(tg), (3, 3), (1, 2)).item())
    TF = torch.nn.functional
    et, tt = ember.tensor(tg), torch.tensor(tg)
    assert_same_error(lambda: F.ctc_loss(e, et, (4, 3), (3, 2)), lambda: TF.ctc_loss(t, tt, (4, 3), (3, 2)))
    assert_same_error(lambda: F.ctc_loss(e, et, (3,), (3, 2)), lambda: TF.ctc_loss(t, tt, (3,), (3, 2)))
    assert_same_error(lambda: F.ctc_loss(e, et, (3, 3), (4, 2)), lambda: TF.ctc_loss(t, tt, (3, 3), (4, 2)))
    assert_same_error(lambda: F.ctc_loss(e, et, (3, 3), (3, 2), blank=4),
                      lambda: TF.ctc_loss(t, tt, (3, 3), (3, 2), blank=4))
    assert_same_error(lambda: F.ctc_loss(e, et, (3, 3), (3, 2), reduction="bad"),
                      lambda: TF.ctc_loss(t, tt, (3, 3), (3, 2), reduction="bad"))
    assert_same_error(lambda: F.ctc_loss(e, et, (3, 3), (-1, 2)), lambda: TF.ctc_loss(t, tt, (3, 3), (-1, 2)))
    assert_same_error(lambda: F.ctc_loss(e, ember.tensor([1, 2, 3]), (3, 3), (3, 2)),
                      lambda: TF.ctc_loss(t, torch.tensor([1, 2, 3]), (3, 3), (3, 2)))
    assert_same_error(lambda: F.ctc_loss(e, et, ember.tensor([3, 3]), (3, 2)),
                      lambda: TF.ctc_loss(t, tt, torch.tensor([3, 3]), (3, 2)))


# --------------------------------------------------------------------------------------- errors
def test_loss_errors_match_torch():
    torch = torch_or_skip()
    TF = torch.nn.functional
    x, tx = ember.randn(3, 4), torch.randn(3, 4)
    assert_same_error(lambda: F.nll_loss(x, ember.tensor([0, 4, 1])), lambda: TF.nll_loss(tx, torch.tensor([0, 4, 1])))
    assert_same_error(lambda: F.cross_entropy(x, ember.tensor([0, -2, 1])),
                      lambda: TF.cross_entropy(tx, torch.tensor([0, -2, 1])))
    assert_same_error(lambda: F.nll_loss(x, ember.tensor([0., 1., 1.])),
                      lambda: TF.nll_loss(tx, torch.tensor([0., 1., 1.])))
    assert_same_error(lambda: F.nll_loss(x, ember.tensor([0, 1])), lambda: TF.nll_loss(tx, torch.tensor([0, 1])))
    assert_same_error(lambda: F.cross_entropy(ember.randn(2, 3, 4), ember.tensor([[0, 1, 1, 1]])),
                      lambda: TF.cross_entropy(torch.randn(2, 3, 4), torch.tensor([[0, 1, 1, 1]])))
    assert_same_error(lambda: F.nll_loss(x, ember.tensor([0, 1, 1]), weight=ember.ones(3)),
                      lambda: TF.nll_loss(tx, torch.tensor([0, 1, 1]), weight=torch.ones(3)))
    assert_same_error(lambda: F.binary_cross_entropy(x.sigmoid(), ember.rand(3, 5)),
                      lambda: TF.binary_cross_entropy(tx.sigmoid(), torch.rand(3, 5)))
    assert_same_error(lambda: F.binary_cross_entropy(x, ember.rand(3, 4)) if x.min() < 0 else F.binary_cross_entropy(
        x - 5, ember.rand(3, 4)), lambda: TF.binary_cross_entropy(tx - 5, torch.rand(3, 4)))
    assert_same_error(lambda: F.binary_cross_entropy_with_logits(x, ember.rand(3)),
                      lambda: TF.binary_cross_entropy_with_logits(tx, torch.rand(3)))
    assert_same_error(lambda: F.mse_loss(x, ember.randn(3, 4), reduction="bad"),
                      lambda: TF.mse_loss(tx, torch.randn(3, 4), reduction="bad"))
    assert_same_error(lambda: F.l1_loss(x, ember.randn(3, 4), reduction="avg"),
                      lambda: TF.l1_loss(tx, torch.randn(3, 4), reduction="avg"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_error(lambda: F.mse_loss(x, ember.randn(3, 5)), lambda: TF.mse_loss(tx, torch.randn(3, 5)))
    assert_same_error(lambda: F.cross_entropy(x, ember.tensor([0, 1, 1]), label_smoothing=1.5),
                      lambda: TF.cross_entropy(tx, torch.tensor([0, 1, 1]), label_smoothing=1.5))
    assert_same_error(lambda: F.smooth_l1_loss(x, x, beta=-1.0), lambda: TF.smooth_l1_loss(tx, tx, beta=-1.0))
    assert_same_error(lambda: F.huber_loss(x, x, delta=0.0), lambda: TF.huber_loss(tx, tx, delta=0.0))
    assert_same_error(lambda: F.multi_margin_loss(x, ember.tensor([0, 1, 1]), p=3),
                      lambda: TF.multi_margin_loss(tx, torch.tensor([0, 1, 1]), p=3))
    assert_same_error(lambda: F.gaussian_nll_loss(x, x, -ember.ones(3, 4)),
                      lambda: TF.gaussian_nll_loss(tx, tx, -torch.ones(3, 4)))
    assert_same_error(lambda: F.cross_entropy(x, ember.rand(3, 5)), lambda: TF.cross_entropy(tx, torch.rand(3, 5)))


# ------------------------------------------------------------------------- fused cross entropy
def _two_node_cross_entropy(x, t, **kw):
    """The reference composition the fused node replaces."""
    return F.nll_loss(F.log_softmax(x, 1), t, **kw)


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("red", REDS)
def test_fused_cross_entropy_matches_two_nodes(red, dt):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((7, 6)).astype(dt)
    x[0, :3] = x[0, 0]   # ties, including at the max
    x[1] *= 1e4          # large logits: exp must not overflow
    x[2, 4] = 1e4
    t = np.array([0, 1, 4, 3, 2, 2, 5])
    w = rng.uniform(0.1, 2, 6).astype(dt)
    tol = 1e-5 if dt == np.float32 else 1e-12
    for kw in ({}, {"weight": w}, {"ignore_index": 2}, {"weight": w, "ignore_index": 0}):
        xs = [ember.tensor(x, requires_grad=True) for _ in range(2)]
        ekw = {k: (ember.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        fused = F.cross_entropy(xs[0], ember.tensor(t), reduction=red, **ekw)
        ref = _two_node_cross_entropy(xs[1], ember.tensor(t), reduction=red, **ekw)
        assert fused.grad_fn.name() == "NllLossBackward0"
        np.testing.assert_allclose(fused.detach().numpy(), ref.detach().numpy(), rtol=tol, atol=tol)
        g = rng.standard_normal(fused.shape).astype(dt)
        (g1,), (g2,) = (ember.autograd.grad(o, [a], ember.tensor(g), create_graph=cg)
                        for o, a, cg in ((fused, xs[0], False), (ref, xs[1], True)))
        np.testing.assert_allclose(g1.numpy(), g2.detach().numpy(), rtol=tol, atol=tol)
        # double backward: the ember-op backward against the composition's
        gg = rng.standard_normal(x.shape).astype(dt)
        h1, = ember.autograd.grad(ember.autograd.grad(F.cross_entropy(xs[0], ember.tensor(t), reduction=red, **ekw),
                                                      [xs[0]], ember.tensor(g), create_graph=True)[0],
                                  [xs[0]], ember.tensor(gg))
        h2, = ember.autograd.grad(g2, [xs[1]], ember.tensor(gg))
        np.testing.assert_allclose(h1.numpy(), h2.numpy(), rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("red", REDS)
def test_fused_cross_entropy_torch_edge_cases(red):
    torch = torch_or_skip()
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 3))
    # every target ignored: nan (or 0) loss and, as in PyTorch, a zero gradient
    _run(lambda a, t: F.cross_entropy(a, t, reduction=red), lambda a, t: torch.nn.functional.cross_entropy(
        a, t, reduction=red), [x, W(np.full(4, -100))], np.float64)
    # non-contiguous logits (a transposed view) and a retained graph backwarded twice
    xt = rng.standard_normal((3, 4)).astype(np.float32)
    _run(lambda a, t: F.cross_entropy(a.t(), t, reduction=red), lambda a, t: torch.nn.functional.cross_entropy(
        a.t(), t, reduction=red), [xt, W(np.array([0, 2, 1, 2]))], np.float32)
    a = ember.tensor(xt, requires_grad=True)
    loss = F.cross_entropy(a.t(), ember.tensor([0, 2, 1, 2]), reduction=red).sum()
    loss.backward(retain_graph=True)
    first = a.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * first, rtol=1e-6)
    # a leaf's .grad may share memory with the node's saved array: a second backward must not overwrite it
    b = ember.tensor(xt.T.copy(), requires_grad=True)
    loss = F.cross_entropy(b, ember.tensor([0, 2, 1, 2]), reduction=red).sum()
    loss.backward(retain_graph=True)
    first = b.grad
    kept = first.numpy().copy()
    loss.backward()
    np.testing.assert_array_equal(first.numpy(), kept)
    np.testing.assert_allclose(b.grad.numpy(), 2 * kept, rtol=1e-6)


def test_fused_cross_entropy_many_row_blocks():
    """Logits wider than a cache block are processed a few rows at a time: same as the two-node form."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((9, 70001)).astype(np.float32) * 5
    t = rng.integers(0, 70001, 9)
    a, b = ember.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    la, lb = F.cross_entropy(a, ember.tensor(t)), _two_node_cross_entropy(b, ember.tensor(t))
    np.testing.assert_allclose(la.item(), lb.item(), rtol=1e-6)
    la.backward()
    lb.backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-9)


def test_cross_entropy_logits_changed_in_place_after_the_loss_still_backpropagate():
    # PyTorch's log_softmax saves its output, so editing the logits afterwards is allowed; the fused node
    # must not version-check the logits on an ordinary backward
    x = ember.randn(4, 5, dtype=ember.float64, requires_grad=True)
    target = ember.tensor([0, 1, 2, 3])
    ref = ember.autograd.grad(F.cross_entropy(x * 2, target), x)[0]
    logits = x * 2
    loss = F.cross_entropy(logits, target)
    with ember.no_grad():
        logits.add_(1)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), ref.numpy(), rtol=1e-12)
