"""Tensor attributes, conversions, ``ember.Size`` and ``ember.device`` against PyTorch."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ember
from parity import dtype_name, torch_or_skip


def _norm(x):
    """A comparable form of a result from ember or torch."""
    if type(x).__name__ == "Tensor":
        return ("tensor", dtype_name(x.dtype), tuple(x.shape), x.detach().numpy().tolist(), x.requires_grad,
                x.is_leaf)
    if type(x).__name__ in ("Size", "device", "dtype"):
        return repr(x).replace("torch.", "ember.")
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype.name, x.tolist())
    return x


ATTRS = {
    "shape": lambda m: m.zeros(2, 3).shape,
    "size": lambda m: m.zeros(2, 3).size(),
    "size_dim": lambda m: m.zeros(2, 3).size(1),
    "size_neg_dim": lambda m: m.zeros(2, 3).size(-2),
    "dim": lambda m: m.zeros(2, 3).dim(),
    "ndim": lambda m: m.zeros(2, 3, 4).ndim,
    "ndimension": lambda m: m.zeros(2).ndimension(),
    "numel": lambda m: m.zeros(2, 3).numel(),
    "nelement": lambda m: m.zeros(2, 3).nelement(),
    "dtype": lambda m: m.zeros(2, dtype=m.int16).dtype,
    "device": lambda m: m.zeros(2).device,
    "is_cuda": lambda m: m.zeros(2).is_cuda,
    "is_cpu": lambda m: m.zeros(2).is_cpu,
    "T": lambda m: m.tensor([[1, 2, 3], [4, 5, 6]]).T,
    "T_1d": lambda m: m.tensor([1, 2]).T,
    "mT": lambda m: m.arange(12).reshape(2, 2, 3).mT,
    "is_leaf": lambda m: m.tensor([1.], requires_grad=True).is_leaf,
    "is_leaf_result": lambda m: (m.tensor([1.], requires_grad=True) * 2).is_leaf,
    "is_leaf_no_grad": lambda m: (m.tensor([1.]) * 2).is_leaf,
    "requires_grad": lambda m: (m.tensor([1.], requires_grad=True) * 2).requires_grad,
    "grad_none": lambda m: m.zeros(2).grad,
    "grad_fn_none": lambda m: m.zeros(2).grad_fn,
    "grad_fn_name": lambda m: type((m.tensor([1.], requires_grad=True) * 2).grad_fn).__name__
    if m.__name__ == "torch" else (m.tensor([1.], requires_grad=True) * 2).grad_fn.name(),
    "data": lambda m: m.tensor([1.], requires_grad=True).data,
    "item_float": lambda m: m.tensor([2.5]).item(),
    "item_int": lambda m: m.tensor([[3]], dtype=m.uint8).item(),
    "item_bool": lambda m: m.tensor(True).item(),
    "item_type": lambda m: type(m.tensor(3, dtype=m.int32).item()).__name__,
    "tolist": lambda m: m.tensor([[1, 2], [3, 4]], dtype=m.int32).tolist(),
    "tolist_0d": lambda m: m.tensor(2.5).tolist(),
    "tolist_bool": lambda m: m.tensor([True, False]).tolist(),
    "numpy": lambda m: m.tensor([1., 2.]).numpy(),
    "numpy_int": lambda m: m.tensor([1, 2], dtype=m.int8).numpy(),
    "float": lambda m: m.tensor([1, 2]).float(),
    "double": lambda m: m.tensor([1]).double(),
    "half": lambda m: m.tensor([1.5]).half(),
    "long": lambda m: m.tensor([1.7, -1.7]).long(),
    "int": lambda m: m.tensor([1.7]).int(),
    "bool": lambda m: m.tensor([1.5, 0]).bool(),
    "short": lambda m: m.tensor([3.]).short(),
    "byte": lambda m: m.tensor([3.]).byte(),
    "char": lambda m: m.tensor([3.]).char(),
    "to_dtype": lambda m: m.tensor([1.5]).to(m.int32),
    "to_dtype_kw": lambda m: m.tensor([1.5]).to(dtype=m.float64),
    "to_device_dtype": lambda m: m.tensor([1.5]).to("cpu", m.float16),
    "to_device_obj": lambda m: m.tensor([1.5]).to(m.device("cpu")),
    "to_other": lambda m: m.tensor([1.5]).to(m.tensor([1], dtype=m.int8)),
    "to_copy": lambda m: m.tensor([1.5]).to(dtype=m.float32, copy=True),
    "to_grad": lambda m: m.tensor([1.5], requires_grad=True).to(m.float64),
    "to_same_is_self": lambda m: (lambda t: t.to(m.float32) is t)(m.tensor([1.])),
    "to_copy_is_not_self": lambda m: (lambda t: t.to(m.float32, copy=True) is t)(m.tensor([1.])),
    "type_name": lambda m: m.tensor([1.]).type(),
    "type_name_int": lambda m: m.tensor([1]).type(),
    "type_name_bool": lambda m: m.tensor([True]).type(),
    "type_str": lambda m: m.tensor([1.5]).type("torch.IntTensor"),
    "type_dtype": lambda m: m.tensor([1.5]).type(m.int64),
    "type_class": lambda m: m.tensor([1.5]).type(m.DoubleTensor),
    "type_as": lambda m: m.tensor([1.5]).type_as(m.tensor([1])),
    "clone": lambda m: m.tensor([1.], requires_grad=True).clone(),
    "detach": lambda m: (m.tensor([1.], requires_grad=True) * 2).detach(),
    "detach_": lambda m: (m.tensor([1.], requires_grad=True) * 2).detach_(),
    "contiguous": lambda m: m.zeros(2, 3).t().contiguous().is_contiguous(),
    "is_contiguous": lambda m: m.zeros(2, 3).is_contiguous(),
    "is_contiguous_t": lambda m: m.zeros(2, 3).t().is_contiguous(),
    "stride": lambda m: m.zeros(2, 3, 4).stride(),
    "stride_t": lambda m: m.zeros(2, 3).t().stride(),
    "stride_dim": lambda m: m.zeros(2, 3).stride(-1),
    "storage_offset": lambda m: m.zeros(2, 3).storage_offset(),
    "cpu": lambda m: m.zeros(2).cpu(),
    "cpu_is_self": lambda m: (lambda t: t.cpu() is t)(m.zeros(2)),
    "element_size": lambda m: m.zeros(2, 3, dtype=m.float16).element_size(),
    "element_size_c": lambda m: m.zeros(1, dtype=m.complex128).element_size(),
    "itemsize": lambda m: m.zeros(2, dtype=m.int16).itemsize,
    "nbytes": lambda m: m.zeros(2, 3, dtype=m.float64).nbytes,
    "array": lambda m: np.asarray(m.tensor([1., 2.])),
    "array_dtype": lambda m: np.asarray(m.tensor([1., 2.]), dtype=np.float64),
    "len": lambda m: len(m.zeros(3, 2)),
    "iter": lambda m: [x.tolist() for x in m.tensor([[1., 2.], [3., 4.]])],
    "bool_1": lambda m: bool(m.tensor([0.])),
    "bool_true": lambda m: bool(m.tensor(3)),
    "float_": lambda m: float(m.tensor([[2.5]])),
    "float_of_int": lambda m: float(m.tensor(3)),
    "int_": lambda m: int(m.tensor([2.7])),
    "int_neg": lambda m: int(m.tensor(-2.7)),
    "complex_": lambda m: complex(m.tensor(2.)),
    "index": lambda m: [10, 20, 30][m.tensor(1)],
    "index_1elem": lambda m: [10, 20, 30][m.tensor([2])],
    "index_bool": lambda m: [10, 20, 30][m.tensor(True)],
    "range_index": lambda m: list(range(m.tensor(3))),
    "format_0d": lambda m: f"{m.tensor(2.5):.2f}",
    "format_int_0d": lambda m: f"{m.tensor(7):>4}",
    "format_empty_spec": lambda m: f"{m.tensor([1., 2.])}".replace("torch.", "ember."),
    "hash_identity": lambda m: (lambda t: hash(t) == hash(t) and len({t, t}) == 1)(m.tensor(1.)),
    "hash_distinct": lambda m: len({m.tensor(1.), m.tensor(1.)}),
    "is_floating_point": lambda m: (m.zeros(1).is_floating_point(), m.zeros(1, dtype=m.int32).is_floating_point()),
    "is_complex": lambda m: m.zeros(1, dtype=m.complex64).is_complex(),
    "is_signed": lambda m: (m.zeros(1, dtype=m.uint8).is_signed(), m.zeros(1).is_signed()),
    "get_device": lambda m: m.zeros(1).get_device(),
    "version": lambda m: (lambda t: (t._version, t.add_(1)._version))(m.zeros(2)),
}


@pytest.mark.parametrize("name", list(ATTRS))
def test_attribute_matches_torch(name):
    torch = torch_or_skip()
    fn = ATTRS[name]
    assert _norm(fn(ember)) == _norm(fn(torch))


ERRORS = {
    "item_two": lambda m: m.tensor([1., 2.]).item(),
    "item_empty": lambda m: m.tensor([]).item(),
    "len_0d": lambda m: len(m.tensor(1.)),
    "iter_0d": lambda m: iter(m.tensor(1.)),
    "bool_many": lambda m: bool(m.tensor([1., 2.])),
    "bool_empty": lambda m: bool(m.tensor([])),
    "numpy_requires_grad": lambda m: m.tensor([1.], requires_grad=True).numpy(),
    "array_requires_grad": lambda m: np.asarray(m.tensor([1.], requires_grad=True)),
    "int_many": lambda m: int(m.tensor([1, 2])),
    "float_many": lambda m: float(m.tensor([1., 2.])),
    "complex_many": lambda m: complex(m.tensor([1., 2.])),
    "index_float": lambda m: [1, 2][m.tensor(1.)],
    "index_many": lambda m: [1, 2][m.tensor([1, 1])],
    "size_bad_dim": lambda m: m.zeros(2, 3).size(5),
    "stride_bad_dim": lambda m: m.zeros(2, 3).stride(2),
    "type_bad_name": lambda m: m.tensor([1.5]).type("torch.Foo"),
    "type_bad_short_name": lambda m: m.tensor([1.5]).type("FloatTensor"),
    "type_python_type": lambda m: m.tensor([1.5]).type(float),
    "to_bad_device": lambda m: m.tensor([1.5]).to("foo"),
    "to_bad_kwarg": lambda m: m.tensor([1.5]).to(foo=1),
    "requires_grad_int": lambda m: m.tensor([1]).requires_grad_(),
    "requires_grad_nonleaf_off": lambda m: (m.tensor([1.], requires_grad=True) * 2).requires_grad_(False),
    "deepcopy_nonleaf": lambda m: copy.deepcopy(m.tensor([1.], requires_grad=True) * 2),
    "grad_wrong_shape": lambda m: setattr(m.zeros(2, requires_grad=True), "grad", m.zeros(3)),
    "grad_wrong_dtype": lambda m: setattr(m.zeros(2, requires_grad=True), "grad", m.zeros(2, dtype=m.float64)),
    "grad_not_tensor": lambda m: setattr(m.zeros(2, requires_grad=True), "grad", 1.0),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    from parity import assert_same_error
    torch_or_skip()
    fn = ERRORS[name]
    import torch
    assert_same_error(lambda: fn(ember), lambda: fn(torch))


def test_error_messages_name_values():
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        ember.tensor([1., 2.]).item()
    with pytest.raises(ValueError, match="only one element tensors can be converted to Python scalars"):
        int(ember.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        bool(ember.tensor([1., 2.]))
    with pytest.raises(RuntimeError, match="no values is ambiguous"):
        bool(ember.tensor([]))
    with pytest.raises(ValueError, match="invalid type: 'torch.Foo'"):
        ember.tensor([1.]).type("torch.Foo")


def test_numpy_shares_memory_and_detach_shares_version():
    t = ember.zeros(3)
    a = t.numpy()
    a[0] = 5.
    assert t.tolist()[0] == 5.
    x = ember.ones(2, requires_grad=True)
    d = x.detach()
    assert np.shares_memory(d.numpy(), x.detach().numpy())
    d.add_(1)
    assert x._version == d._version == 1
    assert x.numpy(force=True)[0] == 2.


def test_deepcopy_and_pickle_round_trip():
    x = ember.tensor([[1., 2.], [3., 4.]], dtype=ember.float64, requires_grad=True)
    x.grad = ember.ones(2, 2, dtype=ember.float64)
    y = copy.deepcopy(x)
    assert y is not x and y.requires_grad and y.is_leaf and y.dtype is ember.float64
    assert y.tolist() == x.tolist() and y.grad.tolist() == x.grad.tolist()
    y.detach().add_(1)
    assert x.tolist()[0][0] == 1.
    memo_pair = copy.deepcopy([x, x])
    assert memo_pair[0] is memo_pair[1]
    for t in (x, ember.tensor([1, 2], dtype=ember.int16), ember.tensor(True), ember.zeros(0, 3),
              ember.tensor([1 + 2j])):
        z = pickle.loads(pickle.dumps(t))
        assert z.dtype is t.dtype and z.shape == t.shape and z.requires_grad == t.requires_grad
        assert z.tolist() == t.tolist()


def test_detach_inplace_on_view_raises():
    base = ember.zeros(4, requires_grad=True) * 1
    view = base.view(2, 2)
    with pytest.raises(RuntimeError):
        view.detach_()


def test_hash_is_identity_not_value():
    a, b = ember.tensor([1.]), ember.tensor([1.])
    d = {a: 1, b: 2}
    assert d[a] == 1 and d[b] == 2


def test_repr_of_cuda_free_tensor_has_no_device_suffix():
    assert "device" not in repr(ember.zeros(2))


# --------------------------------------------------------------------------------------- Size
def test_size_behaves_like_torch_size():
    torch = torch_or_skip()
    e, t = ember.Size([2, 3]), torch.Size([2, 3])
    assert repr(e) == repr(t).replace("torch.", "ember.")
    assert str(e) == str(t).replace("torch.", "ember.")
    assert e.numel() == t.numel() == 6
    assert ember.Size([]).numel() == 1
    assert isinstance(e[1:], ember.Size) and e[1:] == (3,)
    assert isinstance(e[0], int)
    assert e == (2, 3) and e == t and (2, 3) == e
    assert e != [2, 3]
    assert hash(e) == hash((2, 3))
    for r in (e + (4,), (1,) + e, e * 2, 2 * e):
        assert isinstance(r, ember.Size)
    assert repr(e + (4,)) == repr(t + (4,)).replace("torch.", "ember.")
    assert isinstance(ember.zeros(2, 3).shape, ember.Size)
    assert isinstance(ember.zeros(2, 3).size(), ember.Size)
    assert pickle.loads(pickle.dumps(e)) == e and isinstance(pickle.loads(pickle.dumps(e)), ember.Size)
    assert ember.Size([np.int64(2), ember.tensor(3)]) == (2, 3)
    with pytest.raises(TypeError):
        ember.Size([1.5])
    with pytest.raises(TypeError):
        torch.Size([1.5])


# ------------------------------------------------------------------------------------- device
DEVICES = ["cpu", "cuda", "cuda:1", "cpu:0", "meta", "mps", "cuda:-1", "gpu", "cuda:x", "CUDA", "", "cuda:1:2",
           " cpu", "cuda:01", "cuda:", ("cuda", 1), ("cpu", 0), ("cuda:1", 2), ("cuda", -1), ("cuda", "1"),
           ("cuda", True), -1, True, 1.5, None]


@pytest.mark.parametrize("arg", DEVICES, ids=[repr(d) for d in DEVICES])
def test_device_parsing_matches_torch(arg):
    torch = torch_or_skip()
    args = arg if isinstance(arg, tuple) else (arg,)
    try:
        t = torch.device(*args)
    except Exception as exc:  # noqa: BLE001 - comparing exception types
        with pytest.raises(type(exc)) as info:
            ember.device(*args)
        assert str(info.value) == str(exc) or isinstance(exc, TypeError)
        return
    e = ember.device(*args)
    assert (e.type, e.index, repr(e), str(e)) == (t.type, t.index, repr(t), str(t))


def test_device_objects():
    torch = torch_or_skip()
    cpu = ember.device("cpu")
    assert ember.device(cpu) is cpu and ember.device("cpu") is cpu
    assert ember.device("cuda", 1) == ember.device("cuda:1")
    assert ember.device("cuda:0") != ember.device("cuda")
    assert (ember.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")
    assert {ember.device("cpu"): 1}[ember.device("cpu")] == 1
    assert pickle.loads(pickle.dumps(ember.device("cuda:1"))) == ember.device("cuda:1")
    assert ember.device(0) == ember.device("cuda:0")
    with pytest.raises(AttributeError):
        cpu.type = "cuda"
    # tensors on any CPU device report the plain cpu device, like PyTorch
    assert ember.zeros(1, device="cpu:0").device is cpu
    assert ember.zeros(1).to("cpu:0").device is cpu
    assert str(torch.zeros(1, device="cpu:0").device) == "cpu"
    with pytest.raises(RuntimeError, match="no backend for device type 'mps'"):
        ember.zeros(1, device="mps")


def _cuda_or_skip():
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception:  # noqa: BLE001 - CuPy without a driver
        pytest.skip("no CUDA device")
    return cupy


def test_cuda_tensors_round_trip_and_print():
    _cuda_or_skip()
    x = ember.tensor([1.5, 2.5], device="cuda")
    assert x.device == ember.device("cuda:0") and x.is_cuda and x.type() == "torch.cuda.FloatTensor"
    assert repr(x) == "tensor([1.5000, 2.5000], device='cuda:0')"
    assert repr(ember.tensor([1, 2], device="cuda").double()) == \
        "tensor([1., 2.], device='cuda:0', dtype=ember.float64)"
    assert x.tolist() == [1.5, 2.5] and x.cpu().device is ember.device("cpu")
    with pytest.raises(TypeError):
        x.numpy()
    z = ember.tensor([1., 2.], requires_grad=True)
    zc = z.to("cuda")
    assert zc.grad_fn.name() == "ToCopyBackward0" and zc.device == ember.device("cuda", 0)
    (zc * zc).sum().backward()
    assert z.grad.device is ember.device("cpu") and z.grad.tolist() == [2., 4.]
    for t in (ember.zeros(2, device="cuda"), ember.arange(3, device="cuda"), ember.rand(2, device="cuda"),
              ember.randn(2, device="cuda"), ember.randint(0, 3, (2,), device="cuda"), ember.eye(2, device="cuda"),
              ember.full((2,), 1., device="cuda"), ember.zeros_like(x), ember.rand_like(x), x.new_tensor([1.]),
              ember.empty(3, device="cuda").uniform_(), ember.multinomial(ember.ones(3, device="cuda"), 2),
              pickle.loads(pickle.dumps(x)), copy.deepcopy(x)):
        assert t.device == ember.device("cuda:0")
    with pytest.raises(RuntimeError, match="same device"):
        ember.zeros(2, device="cuda") + ember.zeros(2)
