"""Tensor creation against PyTorch: values, dtypes, shapes, memory sharing and error types."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from parity import assert_same_error, dtype_name, torch_or_skip


def _same(e, t, exact=True):
    assert isinstance(e, ember.Tensor)
    assert tuple(e.shape) == tuple(t.shape), f"shape {tuple(e.shape)} != torch {tuple(t.shape)}"
    assert dtype_name(e.dtype) == dtype_name(t.dtype), f"dtype {e.dtype} != torch {t.dtype}"
    assert e.requires_grad == t.requires_grad
    en, tn = e.detach().numpy(), t.detach().numpy()
    if exact:
        np.testing.assert_array_equal(en, tn)
    else:
        np.testing.assert_allclose(en.astype(np.complex128), tn.astype(np.complex128), rtol=1e-6, atol=1e-6)


# each case: fn(module) -> tensor; compared exactly with torch
CASES = {
    "ints": lambda m: m.tensor([1, 2, 3]),
    "floats": lambda m: m.tensor([1.5, 2.0]),
    "bools": lambda m: m.tensor([True, False]),
    "complex": lambda m: m.tensor([1 + 2j, 3]),
    "mixed_bool_int": lambda m: m.tensor([True, 2]),
    "mixed_int_float": lambda m: m.tensor([1, 2.5]),
    "mixed_int_complex": lambda m: m.tensor([1, 2j]),
    "mixed_bool_float_nested": lambda m: m.tensor([[True], [2.5]]),
    "nested": lambda m: m.tensor([[1, 2], [3., 4]]),
    "tuple": lambda m: m.tensor((1, 2)),
    "empty": lambda m: m.tensor([]),
    "empty_nested": lambda m: m.tensor([[], []]),
    "scalar_int": lambda m: m.tensor(5),
    "scalar_float": lambda m: m.tensor(2.5),
    "scalar_bool": lambda m: m.tensor(False),
    "np_f32_scalar": lambda m: m.tensor(np.float32(1.5)),
    "np_int32_scalar": lambda m: m.tensor(np.int32(3)),
    "list_np_f64": lambda m: m.tensor([np.float64(1.5), 2]),
    "list_np_f32_float": lambda m: m.tensor([np.float32(1.5), 2.5]),
    "list_np_f16_int": lambda m: m.tensor([np.float16(1), 2]),
    "list_np_int8_uint8": lambda m: m.tensor([np.int8(1), np.uint8(2)]),
    "list_bool_np_int8": lambda m: m.tensor([True, np.int8(3)]),
    "list_np_int32": lambda m: m.tensor([np.int32(1)]),
    "list_0d_tensors": lambda m: m.tensor([m.tensor(1.), m.tensor(2.)]),
    "list_0d_f64_tensor": lambda m: m.tensor([m.tensor(1., dtype=m.float64)]),
    "list_tensor_and_float": lambda m: m.tensor([m.tensor(1), 2.5]),
    "np_array_f64": lambda m: m.tensor(np.array([1.5])),
    "np_array_i32": lambda m: m.tensor(np.array([[1, 2]], dtype=np.int32)),
    "dtype_given": lambda m: m.tensor([1, 2], dtype=m.float64),
    "dtype_python_float": lambda m: m.tensor([1], dtype=float),
    "dtype_python_int": lambda m: m.zeros(2, dtype=int),
    "dtype_python_bool": lambda m: m.zeros(2, dtype=bool),
    "requires_grad": lambda m: m.tensor([1., 2.], requires_grad=True),
    "from_tensor": lambda m: m.tensor(m.tensor([1., 2.], requires_grad=True)),
    "as_tensor_list": lambda m: m.as_tensor([1, 2]),
    "as_tensor_dtype": lambda m: m.as_tensor(np.array([1, 2]), dtype=m.float32),
    "asarray": lambda m: m.asarray([1.5]),
    "asarray_dtype": lambda m: m.asarray([1.5], dtype=m.float64),
    "from_numpy_0d": lambda m: m.from_numpy(np.array(2.5)),
    "zeros": lambda m: m.zeros(2, 3),
    "zeros_tuple": lambda m: m.zeros((2, 3)),
    "zeros_list": lambda m: m.zeros([2, 3]),
    "zeros_size_kw": lambda m: m.zeros(size=(2, 3)),
    "zeros_0d": lambda m: m.zeros(()),
    "zeros_empty": lambda m: m.zeros(0, 3),
    "zeros_int": lambda m: m.zeros(2, dtype=m.int32),
    "ones_size_kw": lambda m: m.ones(size=[2]),
    "ones_bool": lambda m: m.ones(2, dtype=m.bool),
    "ones_rg": lambda m: m.ones(2, requires_grad=True),
    "empty_shape": lambda m: m.zeros_like(m.empty(size=(2, 3), dtype=m.int16)),
    "full_int": lambda m: m.full((2,), 3),
    "full_float": lambda m: m.full((2,), 3.5),
    "full_bool": lambda m: m.full((2,), True),
    "full_complex": lambda m: m.full((2,), 1j),
    "full_kw": lambda m: m.full(size=(2,), fill_value=1),
    "full_trunc": lambda m: m.full((2,), 3.7, dtype=m.int32),
    "full_tensor_fill": lambda m: m.full((2,), m.tensor(3)),
    "zeros_like": lambda m: m.zeros_like(m.ones(2, 3, dtype=m.int16)),
    "zeros_like_dtype": lambda m: m.zeros_like(m.zeros(2, dtype=m.int32), dtype=m.float64),
    "ones_like_rg": lambda m: m.ones_like(m.zeros(2), requires_grad=True),
    "full_like_trunc": lambda m: m.full_like(m.zeros(2, dtype=m.int32), 2.7),
    "full_like_float": lambda m: m.full_like(m.zeros(2), 7),
    "arange": lambda m: m.arange(5),
    "arange_float_end": lambda m: m.arange(0.5),
    "arange_float_step": lambda m: m.arange(0, 1, 0.1),
    "arange_float_step2": lambda m: m.arange(1, 2.5, 0.3),
    "arange_neg": lambda m: m.arange(5, 0, -1),
    "arange_neg_float": lambda m: m.arange(1, 0, -0.1),
    "arange_empty": lambda m: m.arange(0),
    "arange_same": lambda m: m.arange(3, 3),
    "arange_f64": lambda m: m.arange(0, 1, 0.1, dtype=m.float64),
    "arange_int_from_floats": lambda m: m.arange(0, 5.5, 1.5, dtype=m.int64),
    "arange_int_float_start": lambda m: m.arange(-0.5, 3, 1, dtype=m.int64),
    "arange_f16": lambda m: m.arange(0, 3, 0.3, dtype=m.float16),
    "arange_tensor": lambda m: m.arange(m.tensor(3)),
    "arange_tensor_float": lambda m: m.arange(m.tensor(3.)),
    "arange_kw": lambda m: m.arange(start=1, end=4),
    "arange_end_kw": lambda m: m.arange(end=4),
    "arange_int32": lambda m: m.arange(3, dtype=m.int32),
    "arange_uint8": lambda m: m.arange(0, 3, dtype=m.uint8),
    "arange_int8_step": lambda m: m.arange(-3, 3, 2, dtype=m.int8),
    "arange_big_ints": lambda m: m.arange(10 ** 17, 10 ** 17 + 3),
    "linspace_1": lambda m: m.linspace(0, 1, 1),
    "linspace_0": lambda m: m.linspace(0, 1, 0),
    "linspace_int": lambda m: m.linspace(0, 10, 4, dtype=m.int64),
    "linspace_int_neg": lambda m: m.linspace(-10, 10, 7, dtype=m.int64),
    "eye": lambda m: m.eye(3),
    "eye_rect_int": lambda m: m.eye(2, 3, dtype=m.int64),
    "eye_bool": lambda m: m.eye(2, dtype=m.bool),
    "eye_rg": lambda m: m.eye(2, requires_grad=True),
    "new_tensor": lambda m: m.zeros(2, dtype=m.float64).new_tensor([1, 2]),
    "new_tensor_rg": lambda m: m.zeros(1).new_tensor([1.], requires_grad=True),
    "new_zeros": lambda m: m.zeros(2, dtype=m.int32).new_zeros(2, 3),
    "new_zeros_tuple": lambda m: m.zeros(2, dtype=m.int32).new_zeros((2, 3)),
    "new_zeros_size_kw": lambda m: m.zeros(2).new_zeros(size=(1, 2)),
    "new_ones": lambda m: m.zeros(2, dtype=m.int32).new_ones([2]),
    "new_ones_dtype": lambda m: m.zeros(1, dtype=m.int8).new_ones(2, dtype=m.float64),
    "new_full": lambda m: m.zeros(2, dtype=m.int32).new_full((2,), 3.7),
    "new_empty": lambda m: m.zeros(2, dtype=m.float16).new_empty(0, 2),
    "legacy_empty": lambda m: m.Tensor(),
    "legacy_data": lambda m: m.Tensor([1, 2]),
    "legacy_tuple_is_data": lambda m: m.Tensor((2, 3)),
    "legacy_size": lambda m: m.zeros_like(m.Tensor(m.Size([2, 3]))),
    "legacy_bool_data": lambda m: m.Tensor([True]),
    "legacy_np": lambda m: m.Tensor(np.array([1, 2])),
    "legacy_tensor": lambda m: m.Tensor(m.tensor([1, 2])),
    "typed_float_data": lambda m: m.FloatTensor([1, 2]),
    "typed_float_shape": lambda m: m.zeros_like(m.FloatTensor(2, 3)),
    "typed_float_empty": lambda m: m.FloatTensor(),
    "typed_double": lambda m: m.DoubleTensor([1.5]),
    "typed_long_trunc": lambda m: m.LongTensor([1.7, -2.5]),
    "typed_int": lambda m: m.IntTensor([1, 2]),
    "typed_bool": lambda m: m.BoolTensor([0, 2]),
    "typed_byte": lambda m: m.ByteTensor([1, 2]),
    "typed_long_size": lambda m: m.zeros_like(m.LongTensor(m.Size([2]))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_creation_matches_torch(name):
    torch = torch_or_skip()
    fn = CASES[name]
    _same(fn(ember), fn(torch))


ERRORS = {
    "ragged": lambda m: m.tensor([[1, 2], [3]]),
    "ragged_deep": lambda m: m.tensor([[[1, 2]], [[3]]]),
    "ragged_scalar_after_list": lambda m: m.tensor([[1, 2], 3]),
    "ragged_list_after_scalar": lambda m: m.tensor([1, [2]]),
    "none": lambda m: m.tensor(None),
    "string": lambda m: m.tensor("abc"),
    "list_of_strings": lambda m: m.tensor(["a"]),
    "int_overflow": lambda m: m.tensor(2 ** 63),
    "int_overflow_list": lambda m: m.tensor([1, 2 ** 63]),
    "int_underflow": lambda m: m.tensor(-2 ** 63 - 1),
    "requires_grad_int": lambda m: m.tensor([1], requires_grad=True),
    "requires_grad_int_zeros": lambda m: m.zeros(2, dtype=m.int32, requires_grad=True),
    "requires_grad_full_int": lambda m: m.full((2,), 3, requires_grad=True),
    "requires_grad_arange": lambda m: m.arange(3, requires_grad=True),
    "requires_grad_bool": lambda m: m.ones(2, dtype=m.bool, requires_grad=True),
    "zeros_negative": lambda m: m.zeros(-1),
    "zeros_float_size": lambda m: m.zeros(2.5),
    "zeros_no_size": lambda m: m.zeros(),
    "full_int_size": lambda m: m.full(2, 1.),
    "arange_bad_sign": lambda m: m.arange(0, 5, -1),
    "arange_zero_step": lambda m: m.arange(0, 5, 0),
    "arange_nan": lambda m: m.arange(0, float("nan")),
    "arange_inf": lambda m: m.arange(0, float("inf")),
    "arange_bool": lambda m: m.arange(3, dtype=m.bool),
    "arange_complex": lambda m: m.arange(3, dtype=m.complex64),
    "linspace_negative": lambda m: m.linspace(0, 1, -1),
    "linspace_no_steps": lambda m: m.linspace(0, 1),
    "eye_negative": lambda m: m.eye(-1),
    "from_numpy_list": lambda m: m.from_numpy([1]),
    "from_numpy_object": lambda m: m.from_numpy(np.array([1, "a"], dtype=object)),
    "from_numpy_str": lambda m: m.from_numpy(np.array(["a"])),
    "legacy_negative": lambda m: m.Tensor(-1),
    "legacy_scalar": lambda m: m.Tensor(2.5),
    "legacy_ragged": lambda m: m.Tensor([[1, 2], [3]]),
    "legacy_complex": lambda m: m.Tensor([1 + 2j]),
    "legacy_string": lambda m: m.Tensor("a"),
    "typed_wrong_dtype_tensor": lambda m: m.FloatTensor(m.tensor([1, 2])),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_creation_errors_match_torch(name):
    torch = torch_or_skip()
    fn = ERRORS[name]
    assert_same_error(lambda: fn(ember), lambda: fn(torch))


def test_arange_integer_dtype_truncated_zero_step():
    # torch 2.13 CPU raises ValueError here (some builds die of SIGFPE, so torch is not called)
    with pytest.raises(ValueError, match="step must be nonzero"):
        ember.arange(0, 2.5, 0.5, dtype=ember.int64)


def test_ragged_message_names_the_lengths():
    with pytest.raises(ValueError, match=r"expected sequence of length 2 at dim 1 \(got 1\)"):
        ember.tensor([[1, 2], [3]])


def test_arange_float_values_match_torch_bitwise():
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    cases = [(0, 10000, 0.37), (1, 2.5, 0.3), (-5, 5, 0.1), (0, 1000, 1 / 3), (5, -3, -0.7), (0, 1, 0.1)]
    for _ in range(10):
        s = float(rng.uniform(-100, 100))
        st = float(rng.uniform(0.01, 3))
        cases.append((s, s + st * int(rng.integers(1, 3000)) + 0.5 * st, st))
    for dt in ("float32", "float64", "float16"):
        for c in cases:
            e = ember.arange(*c, dtype=getattr(ember, dt)).numpy()
            t = torch.arange(*c, dtype=getattr(torch, dt)).numpy()
            assert e.shape == t.shape, (dt, c)
            np.testing.assert_array_equal(e, t, err_msg=f"{dt} {c}")


@pytest.mark.parametrize("args", [(0, 1, 5), (-3.3, 7.1, 11), (0, 1, 100), (-10, 10, 1000), (2, -2, 7)])
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_linspace_logspace_close_to_torch(args, dt):
    torch = torch_or_skip()
    _same(ember.linspace(*args, dtype=getattr(ember, dt)), torch.linspace(*args, dtype=getattr(torch, dt)),
          exact=False)
    e = ember.logspace(args[0] / 10, args[1] / 10, args[2], dtype=getattr(ember, dt))
    t = torch.logspace(args[0] / 10, args[1] / 10, args[2], dtype=getattr(torch, dt))
    assert dtype_name(e.dtype) == dtype_name(t.dtype)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5)


def test_linspace_complex_and_base2_logspace():
    torch = torch_or_skip()
    _same(ember.linspace(0, 1j, 3), torch.linspace(0, 1j, 3), exact=False)
    _same(ember.logspace(0, 3, 4, base=2), torch.logspace(0, 3, 4, base=2), exact=False)
    _same(ember.logspace(0, 3, 4, dtype=ember.int64), torch.logspace(0, 3, 4, dtype=torch.int64))


def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = ember.from_numpy(a)
    a[0, 0] = 100.
    assert t.tolist()[0][0] == 100.
    t.numpy()[1, 2] = -1.
    assert a[1, 2] == -1.
    t.add_(1)
    assert a[0, 1] == 2.
    assert np.shares_memory(t.numpy(), a)
    assert t.dtype is ember.float32


def test_as_tensor_shares_numpy_memory_and_tensor_identity():
    a = np.ones(3)
    t = ember.as_tensor(a)
    assert np.shares_memory(t.numpy(), a)
    assert ember.as_tensor(t) is t
    assert not np.shares_memory(ember.as_tensor(a, dtype=ember.float32).numpy(), a)
    assert not np.shares_memory(ember.tensor(a).numpy(), a)


def test_tensor_copies_and_detaches():
    x = ember.tensor([1., 2.], requires_grad=True)
    y = ember.tensor(x)
    assert y.is_leaf and not y.requires_grad
    y.numpy()[0] = 5
    assert x.detach().numpy()[0] == 1.


def test_default_dtype_float64_changes_inference():
    torch = torch_or_skip()
    prev = torch.get_default_dtype()
    fns = [lambda m: m.tensor([1.]), lambda m: m.tensor([1j]), lambda m: m.arange(0.5), lambda m: m.arange(3),
           lambda m: m.linspace(0, 1, 3), lambda m: m.full((2,), 1.5), lambda m: m.full((2,), 1j),
           lambda m: m.zeros(2), lambda m: m.eye(2), lambda m: m.Tensor([1]), lambda m: m.tensor([1]) + 0.5,
           lambda m: m.logspace(0, 1, 2), lambda m: m.empty(0)]
    try:
        ember.set_default_dtype(ember.float64)
        torch.set_default_dtype(torch.float64)
        for fn in fns:
            assert dtype_name(fn(ember).dtype) == dtype_name(fn(torch).dtype)
        assert ember.tensor([1.]).dtype is ember.float64
    finally:
        torch.set_default_dtype(prev)


def test_out_argument():
    out = ember.zeros(3)
    r = ember.arange(3, out=out)
    assert r is out and out.tolist() == [0., 1., 2.]
    o2 = ember.empty(0, dtype=ember.int64)
    ember.zeros(2, 2, out=o2)
    assert o2.shape == (2, 2) and o2.dtype is ember.int64


def test_typed_constructors_are_callables_with_dtype():
    assert ember.FloatTensor.dtype is ember.float32
    assert repr(ember.LongTensor) == "<class 'ember.LongTensor'>"
    assert ember.tensor([1.5]).type(ember.DoubleTensor).dtype is ember.float64


def test_cuda_without_cupy_names_the_gpu_extra():
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed")
    except ImportError:
        pass
    for fn in (lambda: ember.zeros(2, device="cuda"), lambda: ember.zeros(2).to("cuda"), lambda: ember.zeros(2).cuda(),
               lambda: ember.tensor([1.], device="cuda:0")):
        with pytest.raises(RuntimeError, match=r"\[gpu\]"):
            fn()
