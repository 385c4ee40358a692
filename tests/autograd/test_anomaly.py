"""detect_anomaly: NaN in backward names the function and shows the forward traceback."""
import warnings

import pytest

import ember
from ember.autograd import detect_anomaly, set_detect_anomaly, is_anomaly_enabled


class NanBackward(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * float("nan")


def _forward_of_sqrt(x):
    return x.sqrt()   # the line the anomaly traceback must point at


def test_nan_in_custom_backward_raises_and_names_function():
    x = ember.ones(2, requires_grad=True)
    with pytest.warns(UserWarning) as rec:
        with detect_anomaly():
            y = NanBackward.apply(x).sum()
            with pytest.raises(RuntimeError) as e:
                y.backward()
    assert str(e.value) == "Function 'NanBackwardBackward' returned nan values in its 0th output."
    msgs = [str(w.message) for w in rec]
    assert any(m.startswith("Anomaly Detection has been enabled.") for m in msgs)
    trace = [m for m in msgs if m.startswith("Error detected in NanBackwardBackward. Traceback of forward call")]
    assert trace and "NanBackward.apply(x)" in trace[0]


def test_nan_in_builtin_backward_names_op_and_forward_line():
    x = ember.zeros(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with detect_anomaly():
            y = _forward_of_sqrt(x)
            with pytest.raises(RuntimeError, match=r"^Function 'SqrtBackward0' returned nan values in its 0th "
                                                   r"output\.$"):
                (y * 0).sum().backward()
    trace = [str(w.message) for w in rec if "Error detected in SqrtBackward0" in str(w.message)]
    assert trace and "_forward_of_sqrt" in trace[0] and "return x.sqrt()" in trace[0]


def test_matches_torch_message():
    from parity import torch_or_skip
    torch = torch_or_skip()
    msgs = []
    for lib in (ember, torch):
        x = lib.zeros(2, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly():
                y = x.log().exp()
                with pytest.raises(RuntimeError) as e:
                    y.sum().backward()
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_without_anomaly_nan_passes_silently():
    x = ember.ones(2, requires_grad=True)
    NanBackward.apply(x).sum().backward()
    assert x.grad.isnan().all()


def test_check_nan_false():
    x = ember.ones(2, requires_grad=True)
    with pytest.warns(UserWarning):
        with detect_anomaly(check_nan=False):
            NanBackward.apply(x).sum().backward()
    assert x.grad.isnan().all()


def test_error_in_backward_warns_with_forward_trace():
    class Boom(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise RuntimeError("boom")

    x = ember.ones(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with detect_anomaly():
            y = Boom.apply(x)
            with pytest.raises(RuntimeError, match="boom"):
                y.sum().backward()
    assert any("Error detected in BoomBackward" in str(w.message) for w in rec)


def test_enable_flags_and_restore():
    assert not is_anomaly_enabled()
    with pytest.warns(UserWarning):
        with detect_anomaly():
            assert is_anomaly_enabled()
            with set_detect_anomaly(False):
                assert not is_anomaly_enabled()
            assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled()


def test_decorator():
    with pytest.warns(UserWarning):
        @detect_anomaly()
        def f():
            return is_anomaly_enabled()
        assert f() is True
    assert not is_anomaly_enabled()
