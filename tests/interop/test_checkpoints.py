"""Checkpoints: PyTorch's legacy (pre-1.6) format (the MTCNN weights of facenet-pytorch), every storage
dtype of the zip format, shared storages, map_location, weights_only and the allowlist."""
from __future__ import annotations

import collections
import importlib.util
import io
import os
import pickle

import numpy as np
import pytest

import ember
from ember import serialization as S


def _facenet_data() -> str:
    spec = importlib.util.find_spec("facenet_pytorch")  # located, never imported (it needs torchvision)
    if spec is None or spec.origin is None:
        pytest.skip("facenet-pytorch is not installed (pip install --no-deps facenet-pytorch)")
    return os.path.join(os.path.dirname(spec.origin), "data")


# ------------------------------------------------------------------------------------- MTCNN
def _mtcnn(nn, kind: str):
    """facenet-pytorch's PNet/RNet/ONet, built from either library's ``nn`` (same module names)."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            if kind == "pnet":
                layers = [("conv1", nn.Conv2d(3, 10, 3)), ("prelu1", nn.PReLU(10)),
                          ("pool1", nn.MaxPool2d(2, 2, ceil_mode=True)), ("conv2", nn.Conv2d(10, 16, 3)),
                          ("prelu2", nn.PReLU(16)), ("conv3", nn.Conv2d(16, 32, 3)), ("prelu3", nn.PReLU(32)),
                          ("conv4_1", nn.Conv2d(32, 2, 1)), ("softmax4_1", nn.Softmax(dim=1)),
                          ("conv4_2", nn.Conv2d(32, 4, 1))]
            elif kind == "rnet":
                layers = [("conv1", nn.Conv2d(3, 28, 3)), ("prelu1", nn.PReLU(28)),
                          ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)), ("conv2", nn.Conv2d(28, 48, 3)),
                          ("prelu2", nn.PReLU(48)), ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True)),
                          ("conv3", nn.Conv2d(48, 64, 2)), ("prelu3", nn.PReLU(64)),
                          ("dense4", nn.Linear(576, 128)), ("prelu4", nn.PReLU(128)),
                          ("dense5_1", nn.Linear(128, 2)), ("softmax5_1", nn.Softmax(dim=1)),
                          ("dense5_2", nn.Linear(128, 4))]
            else:
                layers = [("conv1", nn.Conv2d(3, 32, 3)), ("prelu1", nn.PReLU(32)),
                          ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)), ("conv2", nn.Conv2d(32, 64, 3)),
                          ("prelu2", nn.PReLU(64)), ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True)),
                          ("conv3", nn.Conv2d(64, 64, 3)), ("prelu3", nn.PReLU(64)),
                          ("pool3", nn.MaxPool2d(2, 2, ceil_mode=True)), ("conv4", nn.Conv2d(64, 128, 2)),
                          ("prelu4", nn.PReLU(128)), ("dense5", nn.Linear(1152, 256)), ("prelu5", nn.PReLU(256)),
                          ("dense6_1", nn.Linear(256, 2)), ("softmax6_1", nn.Softmax(dim=1)),
                          ("dense6_2", nn.Linear(256, 4)), ("dense6_3", nn.Linear(256, 10))]
            for name, layer in layers:
                setattr(self, name, layer)

        def forward(self, x):
            if kind == "pnet":
                x = self.prelu3(self.conv3(self.prelu2(self.conv2(self.pool1(self.prelu1(self.conv1(x)))))))
                return self.conv4_2(x), self.softmax4_1(self.conv4_1(x))
            x = self.pool2(self.prelu2(self.conv2(self.pool1(self.prelu1(self.conv1(x))))))
            x = self.prelu3(self.conv3(x))
            if kind == "onet":
                x = self.prelu4(self.conv4(self.pool3(x)))
            x = x.permute(0, 3, 2, 1).contiguous()
            if kind == "rnet":
                x = self.prelu4(self.dense4(x.view(x.shape[0], -1)))
                return self.dense5_2(x), self.softmax5_1(self.dense5_1(x))
            x = self.prelu5(self.dense5(x.view(x.shape[0], -1)))
            return self.dense6_2(x), self.dense6_3(x), self.softmax6_1(self.dense6_1(x))

    return Net()


@pytest.mark.parametrize("kind,size", [("pnet", 23), ("rnet", 24), ("onet", 48)])
def test_mtcnn_legacy_checkpoints_load_and_run_like_pytorch(kind, size):
    torch = pytest.importorskip("torch")
    path = os.path.join(_facenet_data(), f"{kind}.pt")
    with open(path, "rb") as fh:
        assert fh.read(2) != b"PK"  # really the legacy format
    state = ember.load(path)
    ref = torch.load(path)
    assert type(state) is collections.OrderedDict and list(state) == list(ref)
    for k, v in ref.items():
        assert state[k].dtype is ember.float32 and tuple(state[k].shape) == tuple(v.shape)
        np.testing.assert_array_equal(state[k].numpy(), v.numpy())
    enet, tnet = _mtcnn(ember.nn, kind), _mtcnn(torch.nn, kind)
    assert list(enet.state_dict()) == list(ref)
    enet.load_state_dict(state)
    tnet.load_state_dict(ref)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, size, size + 3 if kind == "pnet" else size)).astype(np.float32)
    with ember.no_grad(), torch.no_grad():
        eout = enet.eval()(ember.from_numpy(x))
        tout = tnet.eval()(torch.from_numpy(x))
    for e, t in zip(eout, tout):
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------ legacy format
def _legacy_bytes(obj) -> io.BytesIO:
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    buf.seek(0)
    return buf


def _torch_objects(torch):
    base = torch.arange(12.).reshape(3, 4)
    return {"f32": base, "view": base[1:, ::2], "t": base.t(), "f64": torch.linspace(0, 1, 3, dtype=torch.float64),
            "f16": torch.tensor([1.5, -2.0], dtype=torch.float16), "i8": torch.tensor([-1, 5], dtype=torch.int8),
            "u8": torch.tensor([255], dtype=torch.uint8), "i16": torch.tensor([-300], dtype=torch.int16),
            "i32": torch.tensor([7], dtype=torch.int32), "i64": torch.tensor([1 << 40]),
            "bool": torch.tensor([True, False]), "c64": torch.tensor([1 + 2j], dtype=torch.complex64),
            "c128": torch.tensor([3 - 1j], dtype=torch.complex128),
            "bf16": torch.tensor([1.5, -3.25, 1e30], dtype=torch.bfloat16), "empty": torch.zeros(0, 3),
            "scalar": torch.tensor(2.5), "param": torch.nn.Parameter(torch.ones(2)), "list": [1, "a", (2.5, None)]}


def _check_against(out, ref, torch):
    for k, v in ref.items():
        if not isinstance(v, torch.Tensor):
            assert out[k] == v
            continue
        e = out[k]
        assert tuple(e.shape) == tuple(v.shape), k
        want = v.detach().float().numpy() if v.dtype == torch.bfloat16 else v.detach().numpy()
        got = e.detach().float().numpy() if e.dtype is ember.bfloat16 else e.detach().numpy()
        np.testing.assert_array_equal(got, want, err_msg=k)
        if v.dtype != torch.bfloat16 or ember.bfloat16.np_dtype is not None:
            assert e.dtype.name == str(v.dtype).split(".")[-1], k
        if v.numel():  # (ember reports (0, 0) strides for empty tensors; PyTorch contiguous ones)
            assert e.stride() == v.stride(), k


@pytest.mark.parametrize("legacy", [True, False], ids=["legacy", "zip"])
def test_every_storage_dtype_and_shared_views(legacy):
    torch = pytest.importorskip("torch")
    ref = _torch_objects(torch)
    buf = io.BytesIO()
    torch.save(ref, buf, _use_new_zipfile_serialization=not legacy)
    buf.seek(0)
    out = ember.load(buf)
    _check_against(out, ref, torch)
    assert isinstance(out["param"], ember.nn.Parameter) and out["param"].requires_grad
    out["f32"][1, 0] = 100.0  # views loaded from one storage still share memory
    assert out["view"][0, 0].item() == 100.0 and out["t"][0, 1].item() == 100.0


def test_bfloat16_without_ml_dtypes_widens_exactly(monkeypatch):
    torch = pytest.importorskip("torch")
    vals = torch.tensor([1.5, -3.25, 1e30, -0.0, float("inf")], dtype=torch.bfloat16)
    data = {"bf": vals, "view": vals[1:3]}
    want = vals.float().numpy()
    monkeypatch.setattr(ember.bfloat16, "np_dtype", None)  # as if ml_dtypes were not installed
    for legacy in (False, True):
        buf = io.BytesIO()
        torch.save(data, buf, _use_new_zipfile_serialization=not legacy)
        buf.seek(0)
        with pytest.warns(UserWarning, match="ml_dtypes"):
            out = ember.load(buf)
        assert out["bf"].dtype is ember.float32
        np.testing.assert_array_equal(out["bf"].numpy(), want)
        np.testing.assert_array_equal(out["view"].numpy(), want[1:3])


def test_legacy_map_location_and_weights_only():
    torch = pytest.importorskip("torch")
    buf = _legacy_bytes({"w": torch.ones(2), "step": 3})
    seen = []

    def loc(storage, location):
        seen.append(location)
        return storage

    assert ember.load(buf, map_location=loc)["step"] == 3 and seen == ["cpu"]
    buf.seek(0)
    assert ember.load(buf, map_location={"cpu": "cpu"})["w"].device.type == "cpu"
    buf.seek(0)
    assert ember.load(buf, map_location=ember.device("cpu"))["w"].tolist() == [1.0, 1.0]
    path = _path_of(buf)
    try:
        with pytest.raises(RuntimeError, match="mmap"):
            ember.load(path, mmap=True)
    finally:
        os.remove(path)


def _path_of(buf: io.BytesIO) -> str:
    import tempfile
    fd, path = tempfile.mkstemp(suffix=".pt")
    with os.fdopen(fd, "wb") as fh:
        fh.write(buf.getvalue())
    return path


class Config:  # a user class pickled into a checkpoint
    def __init__(self, lr):
        self.lr = lr


def test_legacy_weights_only_refuses_code_and_allowlist_extends():
    torch = pytest.importorskip("torch")
    buf = _legacy_bytes({"cfg": Config(0.5), "w": torch.zeros(1)})
    with pytest.raises(pickle.UnpicklingError, match="Config"):
        ember.load(io.BytesIO(buf.getvalue()))
    with S.safe_globals([Config]):
        assert ember.load(io.BytesIO(buf.getvalue()))["cfg"].lr == 0.5
    assert ember.load(io.BytesIO(buf.getvalue()), weights_only=False)["cfg"].lr == 0.5


def test_legacy_whole_module_pickles_need_weights_only_false():
    torch = pytest.importorskip("torch")
    buf = _legacy_bytes(torch.nn.Linear(2, 2))
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(buf.getvalue()))


def test_corrupt_legacy_files_raise_clearly():
    torch = pytest.importorskip("torch")
    good = _legacy_bytes({"w": torch.arange(4.)}).getvalue()
    with pytest.raises(RuntimeError, match="truncated|corrupt"):
        ember.load(io.BytesIO(good[:-5]))
    with pytest.raises(RuntimeError, match="magic number"):
        ember.load(io.BytesIO(pickle.dumps(12345, protocol=2) + good[40:]))
    with pytest.raises((pickle.UnpicklingError, RuntimeError)):
        ember.load(io.BytesIO(b"\x80\x02garbage" * 3))
    # the element count written before the data must match the pickle's declaration
    i = good.rfind(np.int64(4).tobytes())
    bad = good[:i] + np.int64(9).tobytes() + good[i + 8:]
    with pytest.raises(RuntimeError, match="declares"):
        ember.load(io.BytesIO(bad))


def test_legacy_symbolic_pass_runs_no_code(tmp_path):
    """The first (symbolic) pass over a legacy pickle must not call anything, even with weights_only=False
    the real pass is the only one that runs the pickle's calls."""
    torch = pytest.importorskip("torch")
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    buf = _legacy_bytes({"x": Evil(), "w": torch.ones(1)})
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(buf.getvalue()))
    assert not marker.exists()


def test_ember_save_round_trips_through_torch_for_complex128_and_bf16():
    torch = pytest.importorskip("torch")
    if ember.bfloat16.np_dtype is None:
        pytest.skip("needs ml_dtypes for ember bfloat16 tensors")
    obj = {"c": ember.tensor([1 + 2j, -3j], dtype=ember.complex128),
           "b": ember.tensor([1.5, -2.0], dtype=ember.bfloat16)}
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    out = torch.load(buf)
    assert out["c"].dtype == torch.complex128 and out["c"].tolist() == [1 + 2j, -3j]
    assert out["b"].dtype == torch.bfloat16 and out["b"].float().tolist() == [1.5, -2.0]
