"""In-place ops and version counters against torch: errors, gradients through views, detach/.data."""
import numpy as np
import pytest

import ember
from parity import torch_or_skip, assert_same_error

X = np.arange(12, dtype=np.float64).reshape(3, 4) / 7 + 0.3


def _run_both(scenario):
    torch = torch_or_skip()
    return scenario(ember), scenario(torch)


def _grads(lib, fn):
    x = lib.tensor(X, requires_grad=True)
    out = fn(lib, x)
    w = lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))
    (out * w).sum().backward()
    return out.detach().numpy().copy(), x.grad.numpy().copy()


VIEW_CASES = {
    "getitem_col_mul": lambda lib, x: _apply(x * 1, lambda y: y[:, 0].mul_(2)),
    "getitem_row_add": lambda lib, x: _apply(x * 1, lambda y: y[1].add_(y[0] * 3)),
    "narrow_mul": lambda lib, x: _apply(x * 1, lambda y: y.narrow(1, 2, 2).mul_(y.narrow(1, 0, 2))),
    "transpose_mul": lambda lib, x: _apply(x * 1, lambda y: y.t().mul_(2)),
    "view_add": lambda lib, x: _apply(x * 2, lambda y: y.view(12).add_(1)),
    "view_of_view": lambda lib, x: _apply(x.sin(), lambda y: y.view(2, 6).narrow(1, 2, 3).mul_(-3)),
    "inplace_then_use_view": lambda lib, x: _inplace_then_view(x),
    "base_inplace_view_used": lambda lib, x: _base_after_view(x),
    "chain_of_inplace": lambda lib, x: _apply(x * 1, lambda y: y.mul_(2).add_(1).mul_(x)),
}


def _apply(y, f):
    f(y)
    return y


def _inplace_then_view(x):
    y = x * 1
    v = y.narrow(0, 1, 1)
    v.mul_(5)
    return v * y.sum()


def _base_after_view(x):
    y = x * 1
    v = y.view(12)
    y.mul_(3)          # v sees the write; its graph must be rebased too
    return v * 2


# Known gap: an in-place op whose other operand is a non-overlapping view of the same base is flagged as a
# modified saved tensor (the version counter is per base, not per region), where PyTorch accepts it.
_KNOWN = {"narrow_mul": "an in-place op's saved operand that is another view of the same base is flagged stale"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(reason=_KNOWN[n], strict=True))
                                  if n in _KNOWN else n for n in VIEW_CASES])
def test_inplace_through_views_matches_torch(name):
    torch = torch_or_skip()
    fn = VIEW_CASES[name]
    if "getitem" in name and not hasattr(ember.Tensor, "__getitem__"):
        pytest.skip("indexing not available")
    (eo, eg), (to, tg) = _grads(ember, fn), _grads(torch, fn)
    np.testing.assert_allclose(eo, to, rtol=1e-12)
    np.testing.assert_allclose(eg, tg, rtol=1e-12, atol=1e-12)


def _msg(e):
    return str(e).replace("torch.", "").replace("ember.", "")


@pytest.mark.parametrize("case", ["leaf", "view_of_leaf", "saved_input", "saved_output", "saved_leaf_no_grad",
                                  "dirty_dtype", "saved_output_through_view",
                                  pytest.param("overlapping_views", marks=pytest.mark.xfail(
                                      strict=True, reason="partially overlapping in-place operands are not "
                                                          "detected (ember raises a version error instead)"))])
def test_inplace_errors_match_torch(case):
    torch = torch_or_skip()
    msgs = []

    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        try:
            if case == "leaf":
                x.add_(1)
            elif case == "view_of_leaf":
                x.view(3).mul_(2)
            elif case == "saved_input":
                y = x * 1
                z = y.sin()
                y.mul_(2)
                z.sum().backward()
            elif case == "saved_output":
                y = x.exp()
                y.mul_(2)
                y.sum().backward()
            elif case == "saved_leaf_no_grad":
                z = x.sin()
                with lib.no_grad():
                    x.mul_(2)
                z.sum().backward()
            elif case == "saved_output_through_view":
                y = x.exp()
                y.view(3, 1).mul_(2)
                y.sum().backward()
            elif case == "overlapping_views":
                y = x * 1
                y.narrow(0, 1, 2).mul_(y.narrow(0, 0, 2))
                y.sum().backward()
            elif case == "dirty_dtype":
                lib.ones(2, dtype=lib.int64).mul_(1.5)
        except RuntimeError as e:
            msgs.append(_msg(e))
            raise
    assert_same_error(lambda: run(ember), lambda: run(torch))
    assert msgs[1] == msgs[0], f"ember: {msgs[1]}\ntorch: {msgs[0]}"


def test_modified_saved_tensor_message_start():
    x = ember.ones(3, requires_grad=True)
    y = x * 1
    z = y.sin()
    y.add_(1)
    with pytest.raises(RuntimeError, match="^one of the variables needed for gradient computation has been "
                                           "modified by an inplace operation"):
        z.sum().backward()


def test_inplace_on_leaf_under_no_grad_is_allowed_and_bumps_version():
    x = ember.ones(3, requires_grad=True)
    v0 = x._version
    with ember.no_grad():
        x.mul_(2)
    assert x._version == v0 + 1 and x.is_leaf and x.requires_grad


def test_version_counter_semantics_match_torch():
    def sc(lib):
        a = lib.ones(3)
        d = a.detach()
        v = a.view(3)
        data = a.data
        out = [a._version]
        a.add_(1)
        out += [a._version, d._version, v._version, data._version]
        d.mul_(2)                      # detach() shares the counter
        out += [a._version, v._version]
        data.mul_(2)                   # .data does not
        out += [a._version, data._version]
        return out, a.tolist()
    e, t = _run_both(sc)
    assert e == t


def test_detach_shares_version_so_saved_check_fires():
    x = ember.ones(3, requires_grad=True)
    y = x * 1
    z = y.sin()
    y.detach().mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_data_inplace_bypasses_check():
    def sc(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y.sin()
        y.data.mul_(2)         # silently changes what backward sees: PyTorch's documented escape hatch
        z.sum().backward()
        return x.grad.tolist()
    e, t = _run_both(sc)
    np.testing.assert_allclose(e, t)


def test_inplace_result_grad_fn_and_identity():
    x = ember.ones(3, requires_grad=True)
    y = x * 1
    r = y.mul_(2)
    assert r is y and y.grad_fn is not None and not y.is_leaf
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])
