"""DLPack: zero-copy exchange with NumPy, PyTorch and (if installed) JAX and CuPy."""
from __future__ import annotations

import numpy as np
import pytest

import ember


def test_numpy_reads_ember_without_copy():
    t = ember.arange(6.).reshape(2, 3)
    a = np.from_dlpack(t)
    assert a.shape == (2, 3) and a.dtype == np.float32
    a[0, 0] = 42.0
    assert t[0, 0].item() == 42.0
    assert t.__dlpack_device__() == (1, 0)
    v = np.from_dlpack(t.t())  # strided views keep their strides
    assert v.strides == (4, 12)


def test_ember_reads_numpy_without_copy():
    a = np.arange(5, dtype=np.int64)
    t = ember.from_dlpack(a)
    assert t.dtype is ember.int64 and t.tolist() == [0, 1, 2, 3, 4]
    t[1] = 10
    assert a[1] == 10
    with pytest.raises(TypeError, match="uint16"):
        ember.from_dlpack(np.zeros(2, np.uint16))
    with pytest.raises(TypeError, match="expected an object with __dlpack__"):
        ember.from_dlpack([1, 2])


def test_requires_grad_must_be_detached():
    t = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        np.from_dlpack(t)
    assert np.from_dlpack(t.detach()).tolist() == [1.0, 1.0]


def test_torch_both_ways_share_memory():
    torch = pytest.importorskip("torch")
    e = ember.arange(4.)
    t = torch.from_dlpack(e)
    t[0] = -1.0
    assert e[0].item() == -1.0 and t.dtype == torch.float32
    src = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    back = ember.from_dlpack(src)
    src[1, 2] = 99.0
    assert back[1, 2].item() == 99.0 and back.dtype is ember.float64
    tb = ember.from_dlpack(torch.tensor([True, False]))
    assert tb.dtype is ember.bool and tb.tolist() == [True, False]
    # legacy capsules (torch.utils.dlpack.to_dlpack / ember.utils.dlpack.to_dlpack)
    from ember.utils.dlpack import to_dlpack, from_dlpack
    cap = torch.utils.dlpack.to_dlpack(torch.ones(3))
    assert from_dlpack(cap).tolist() == [1.0, 1.0, 1.0]
    assert torch.utils.dlpack.from_dlpack(to_dlpack(ember.full((2,), 7.0))).tolist() == [7.0, 7.0]


def test_from_ember_tensor_shares_and_detaches():
    t = ember.ones(3, requires_grad=True)
    u = ember.from_dlpack(t)
    assert not u.requires_grad
    u.add_(1)
    assert t.detach().tolist() == [2.0, 2.0, 2.0]


def test_jax_if_installed():
    jnp = pytest.importorskip("jax.numpy")
    import jax
    e = ember.from_dlpack(jnp.arange(3.0))
    assert e.tolist() == [0.0, 1.0, 2.0]
    j = jax.dlpack.from_dlpack(ember.arange(3.).__dlpack__()) if not hasattr(jnp, "from_dlpack") \
        else jnp.from_dlpack(ember.arange(3.))
    assert j.tolist() == [0.0, 1.0, 2.0]


def test_cupy_if_gpu():
    if not ember.cuda.is_available():
        pytest.skip("needs CuPy and a GPU")
    import cupy
    c = cupy.arange(4, dtype=cupy.float32)
    e = ember.from_dlpack(c)
    assert e.device.type == "cuda"
    c[0] = 5
    assert e[0].item() == 5.0
    back = cupy.from_dlpack(e)
    back[1] = 7
    assert e[1].item() == 7.0 and e.__dlpack_device__() == (2, 0)
