"""Tensor conversions against PyTorch: values, dtypes and gradients through ``to``/``type``/``clone``...,
the ``grad_fn`` names they record, and how their results print."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from parity import assert_parity, assert_same_error, dtype_name, torch_or_skip

torch = torch_or_skip()

_rng = np.random.default_rng(7)
X = _rng.standard_normal((3, 4))
X32 = X.astype(np.float32)

CONVERSIONS = {
    "to_float64": (lambda m: (lambda x: x.to(m.float64)), X32),
    "to_float16": (lambda m: (lambda x: x.to(m.float16)), X32),
    "to_int": (lambda m: (lambda x: x.to(m.int32)), X32),
    "to_bool": (lambda m: (lambda x: x.to(m.bool)), X32),
    "to_complex": (lambda m: (lambda x: x.to(m.complex64)), X32),
    "to_device_and_dtype": (lambda m: (lambda x: x.to("cpu", m.float64)), X32),
    "to_copy": (lambda m: (lambda x: x.to(m.float32, copy=True) * 2), X32),
    "double": (lambda m: (lambda x: x.double()), X32),
    "float": (lambda m: (lambda x: x.float()), X),
    "half": (lambda m: (lambda x: x.half()), X32),
    "long": (lambda m: (lambda x: x.long()), X32),
    "type_str": (lambda m: (lambda x: x.type("torch.DoubleTensor")), X32),
    "type_dtype": (lambda m: (lambda x: x.type(m.float64)), X32),
    "type_as": (lambda m: (lambda x: x.type_as(m.zeros(1, dtype=m.float64))), X32),
    "clone": (lambda m: (lambda x: x.clone() * x), X),
    "contiguous_t": (lambda m: (lambda x: x.t().contiguous() * 3), X),
    "detach_mul": (lambda m: (lambda x: x.detach() * x), X),
    "data_mul": (lambda m: (lambda x: x.data * x), X),
    "cpu": (lambda m: (lambda x: x.cpu() * 2), X),
    "new_tensor_mul": (lambda m: (lambda x: x.new_tensor([1., 2., 3., 4.]) * x), X),
    "new_ones_mul": (lambda m: (lambda x: x.new_ones(4) * x), X),
    "new_full_add": (lambda m: (lambda x: x.new_full((3, 4), 0.5) + x), X32),
    "zeros_like_add": (lambda m: (lambda x: m.zeros_like(x) + x), X),
    "full_like_mul": (lambda m: (lambda x: m.full_like(x, 2.) * x), X32),
}


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_conversion_values_dtypes_and_gradients(name):
    make, data = CONVERSIONS[name]
    # complex outputs: values only (a real loss of a complex tensor needs .real, tested elsewhere)
    assert_parity(make(ember), make(torch), [data], grad="complex" not in name,
                  atol=1e-3 if "16" in name or "half" in name else 1e-6)


@pytest.mark.parametrize("target", ["float64", "float16", "complex64", "float32"])
def test_cast_records_tocopy_and_prints_like_torch(target):
    e = ember.tensor([1.5, -2.25], requires_grad=True).to(getattr(ember, target))
    t = torch.tensor([1.5, -2.25], requires_grad=True).to(getattr(torch, target))
    assert e.requires_grad == t.requires_grad and e.is_leaf == t.is_leaf
    if t.grad_fn is not None:
        assert e.grad_fn.name() == type(t.grad_fn).__name__
    assert repr(e) == repr(t).replace("torch.", "ember.")


def test_clone_grad_fn_and_repr():
    e = ember.tensor([1., 2.], requires_grad=True).clone()
    t = torch.tensor([1., 2.], requires_grad=True).clone()
    assert e.grad_fn.name() == type(t.grad_fn).__name__
    assert repr(e) == repr(t)


def test_integer_cast_of_grad_tensor_stops_grad():
    e = ember.tensor([1.5], requires_grad=True).long()
    t = torch.tensor([1.5], requires_grad=True).long()
    assert e.requires_grad == t.requires_grad is False
    assert dtype_name(e.dtype) == dtype_name(t.dtype)


def test_item_tolist_numpy_values_match():
    for data, dt in (([1.1, -2.7], "float32"), ([1.1, -2.7], "float64"), ([3, -4], "int16"), ([True], "bool"),
                     ([1 + 2j], "complex64"), ([0.1], "float16")):
        e = ember.tensor(data, dtype=getattr(ember, dt))
        t = torch.tensor(data, dtype=getattr(torch, dt))
        assert e.tolist() == t.tolist()
        assert type(e[0].item()) is type(t[0].item()) and e[0].item() == t[0].item()
        np.testing.assert_array_equal(e.numpy(), t.numpy())
        assert e.numpy().dtype == t.numpy().dtype


ERRORS = {
    "to_bad_dtype_arg": lambda m: m.ones(2).to("float64"),
    "to_bad_device_string": lambda m: m.ones(2).to("gpu"),
    "to_unknown_kw": lambda m: m.ones(2).to(foo=1),
    "type_bad": lambda m: m.ones(2).type("torch.NotATensor"),
    "item_multi": lambda m: m.ones(2).item(),
    "int_multi": lambda m: int(m.ones(2)),
    "float_empty": lambda m: float(m.ones(0)),
    "numpy_requires_grad": lambda m: m.ones(2, requires_grad=True).numpy(),
    "new_zeros_negative": lambda m: m.ones(2).new_zeros(-1),
    "new_full_int_size": lambda m: m.ones(2).new_full(2, 1.),
    "new_tensor_ragged": lambda m: m.ones(2).new_tensor([[1], [1, 2]]),
    "requires_grad_int_new": lambda m: m.ones(2, dtype=m.int64).new_zeros(2, requires_grad=True),
    "like_not_tensor": lambda m: m.zeros_like([1, 2]),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_conversion_errors(name):
    assert_same_error(lambda: ERRORS[name](ember), lambda: ERRORS[name](torch))
