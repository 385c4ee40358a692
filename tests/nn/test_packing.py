"""``ember.nn.utils.rnn`` (PackedSequence and the packing/padding helpers) against ``torch.nn.utils.rnn``."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.nn.utils import rnn as R
from tests.parity import assert_same_error, torch_or_skip

torch = torch_or_skip()
TR = torch.nn.utils.rnn


def _np(t):
    return t.detach().numpy()


def _same_packed(e, t):
    np.testing.assert_array_equal(_np(e.data), _np(t.data))
    assert e.batch_sizes.tolist() == t.batch_sizes.tolist()
    assert str(e.batch_sizes.dtype).endswith("int64")
    for a, b in [(e.sorted_indices, t.sorted_indices), (e.unsorted_indices, t.unsorted_indices)]:
        assert (a is None) == (b is None)
        if a is not None:
            assert a.tolist() == b.tolist()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce", [([5, 3, 2], True), ([3, 5, 2, 4], False), ([2, 2, 1], True),
                                             ([1], True), ([4, 1, 4, 2], False)])
@pytest.mark.parametrize("tail", [(), (2,), (2, 3)])
def test_pack_and_pad_parity(batch_first, lengths, enforce, tail):
    rng = np.random.default_rng(0)
    T, B = max(lengths) + 1, len(lengths)
    x = rng.standard_normal(((B, T) if batch_first else (T, B)) + tail)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ep = R.pack_padded_sequence(ex, lengths, batch_first=batch_first, enforce_sorted=enforce)
    tp = TR.pack_padded_sequence(tx, lengths, batch_first=batch_first, enforce_sorted=enforce)
    _same_packed(ep, tp)
    for total in (None, T + 2):
        for pv in (0.0, -1.5):
            e_pad, e_len = R.pad_packed_sequence(ep, batch_first=batch_first, padding_value=pv, total_length=total)
            t_pad, t_len = TR.pad_packed_sequence(tp, batch_first=batch_first, padding_value=pv, total_length=total)
            np.testing.assert_array_equal(_np(e_pad), _np(t_pad))
            assert e_len.tolist() == t_len.tolist() and str(e_len.dtype) == "ember.int64"
    # gradients through pack -> pad
    w = rng.standard_normal(tuple(t_pad.shape))
    ge, = ember.autograd.grad((e_pad * ember.tensor(w)).sum(), ex)
    gt, = torch.autograd.grad((t_pad * torch.tensor(w)).sum(), tx)
    np.testing.assert_allclose(_np(ge), _np(gt))


def test_lengths_as_tensor_and_floats():
    x = np.arange(15.0).reshape(5, 3)
    for lengths in (ember.tensor([5, 3, 2]), [5.0, 3.0, 2.0]):
        tl = torch.tensor(lengths.tolist()) if isinstance(lengths, ember.Tensor) else lengths
        _same_packed(R.pack_padded_sequence(ember.tensor(x), lengths), TR.pack_padded_sequence(torch.tensor(x), tl))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_parity(batch_first, side):
    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal((n, 2)) for n in (3, 1, 4)]
    es = [ember.tensor(s, requires_grad=True) for s in seqs]
    ts = [torch.tensor(s, requires_grad=True) for s in seqs]
    e = R.pad_sequence(es, batch_first=batch_first, padding_value=7.0, padding_side=side)
    t = TR.pad_sequence(ts, batch_first=batch_first, padding_value=7.0, padding_side=side)
    np.testing.assert_array_equal(_np(e), _np(t))
    w = rng.standard_normal(tuple(t.shape))
    ge = ember.autograd.grad((e * ember.tensor(w)).sum(), es)
    gt = torch.autograd.grad((t * torch.tensor(w)).sum(), ts)
    for a, b in zip(ge, gt):
        np.testing.assert_allclose(_np(a), _np(b))
    # 1-D sequences and a tensor treated as a sequence of rows
    one = R.pad_sequence([ember.tensor([1, 2, 3]), ember.tensor([4])])
    assert one.tolist() == TR.pad_sequence([torch.tensor([1, 2, 3]), torch.tensor([4])]).tolist()
    assert tuple(R.pad_sequence(ember.ones(2, 3)).shape) == tuple(TR.pad_sequence(torch.ones(2, 3)).shape)


def test_pack_unpack_unpad_roundtrip():
    rng = np.random.default_rng(2)
    seqs = [rng.standard_normal((n, 3)) for n in (2, 5, 3)]
    ep = R.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    tp = TR.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    _same_packed(ep, tp)
    for a, s in zip(R.unpack_sequence(ep), seqs):
        np.testing.assert_array_equal(_np(a), s)
    padded = R.pad_sequence([ember.tensor(s) for s in seqs])
    outs = R.unpad_sequence(padded, ember.tensor([2, 5, 3]))
    assert [tuple(o.shape) for o in outs] == [(2, 3), (5, 3), (3, 3)]
    assert tuple(padded.shape) == (5, 3, 3)  # not transposed in place
    for a, s in zip(outs, seqs):
        np.testing.assert_array_equal(_np(a), s)
    outs = R.unpad_sequence(R.pad_sequence([ember.tensor(s) for s in seqs], batch_first=True), [2, 5, 3],
                            batch_first=True)
    for a, s in zip(outs, seqs):
        np.testing.assert_array_equal(_np(a), s)


def test_packed_sequence_object():
    p = R.pack_sequence([ember.tensor([1.0, 2.0]), ember.tensor([3.0])])
    assert isinstance(p, tuple) and p._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert p.sorted_indices is None and p.unsorted_indices is None and not p.is_cuda
    assert p.double().data.dtype == ember.float64 and p.double().batch_sizes is p.batch_sizes
    assert p.to(ember.float32) is p
    assert p.long().data.dtype == ember.int64
    q = R.PackedSequence(p.data, p.batch_sizes, ember.tensor([1, 0]))
    assert q.unsorted_indices.tolist() == [1, 0]
    r = R.PackedSequence((p.data, p.batch_sizes))
    assert r.batch_sizes is p.batch_sizes
    with pytest.raises(AssertionError):
        R.PackedSequence(p.data)


def test_invert_permutation():
    perm = [3, 0, 2, 1]
    assert R.invert_permutation(ember.tensor(perm)).tolist() == TR.invert_permutation(torch.tensor(perm)).tolist()
    assert R.invert_permutation(None) is None


def test_errors_like_torch():
    x5 = lambda lib: lib.randn(5, 3, 2)  # noqa: E731
    for lengths in ([3, 5, 2], [5, 3, 0], [5, 3]):
        assert_same_error(lambda: R.pack_padded_sequence(x5(ember), lengths),
                          lambda: TR.pack_padded_sequence(x5(torch), lengths))
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order when `enforce_sorted` is True"):
        R.pack_padded_sequence(x5(ember), [3, 5, 2])
    assert_same_error(lambda: R.pack_padded_sequence(ember.ones(3), [3]),
                      lambda: TR.pack_padded_sequence(torch.ones(3), [3]))
    assert_same_error(lambda: R.pack_padded_sequence(x5(ember), ember.tensor([[5, 3, 2]])),
                      lambda: TR.pack_padded_sequence(x5(torch), torch.tensor([[5, 3, 2]])))
    p = R.pack_padded_sequence(x5(ember), [5, 3, 2])
    tp = TR.pack_padded_sequence(x5(torch), [5, 3, 2])
    assert_same_error(lambda: R.pad_packed_sequence(p, total_length=3),
                      lambda: TR.pad_packed_sequence(tp, total_length=3))
    assert_same_error(lambda: R.pad_sequence([]), lambda: TR.pad_sequence([]))
    assert_same_error(lambda: R.pad_sequence([ember.ones(2, 3), ember.ones(3, 4)]),
                      lambda: TR.pad_sequence([torch.ones(2, 3), torch.ones(3, 4)]))
    assert_same_error(lambda: R.pad_sequence([ember.ones(2)], padding_side="middle"),
                      lambda: TR.pad_sequence([torch.ones(2)], padding_side="middle"))
    assert_same_error(lambda: R.pad_sequence(3), lambda: TR.pad_sequence(3))
    # a length beyond the padded size: torch reads out of bounds; ember refuses
    with pytest.raises(RuntimeError, match="exceeds the padded sequence length"):
        R.pack_padded_sequence(x5(ember), [6, 3, 2])
