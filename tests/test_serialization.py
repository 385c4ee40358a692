"""ember.save / ember.load: PyTorch's zip layout both ways, sharing, atomic writes, and refusal of
malicious checkpoints (nothing in them may run)."""
from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

import ember
from ember import serialization as S

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "complex64"]


def _sample(name: str, shape=(2, 3)) -> np.ndarray:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape) * 10
    if name == "bool":
        return a > 0
    if name == "complex64":
        return (a + 1j * a[::-1]).astype(np.complex64)
    return a.astype(name)


def _roundtrip(obj, **kw):
    buf = io.BytesIO()
    S.save(obj, buf)
    buf.seek(0)
    return S.load(buf, **kw)


def _same(a: ember.Tensor, b: np.ndarray) -> None:
    assert a.shape == b.shape
    assert a.dtype.name == b.dtype.name
    np.testing.assert_array_equal(a.numpy(), b)


# ------------------------------------------------------------------------------- ember <-> ember
@pytest.mark.parametrize("dt", DTYPES)
def test_roundtrip_dtypes(dt):
    a = _sample(dt)
    out = _roundtrip({"t": ember.from_numpy(a), "z": ember.from_numpy(np.array(a[0, 0])),
                      "e": ember.from_numpy(a[:0])})
    _same(out["t"], a)
    _same(out["z"], a[0, 0])
    _same(out["e"], a[:0])


def test_roundtrip_containers_and_values():
    t = ember.arange(6.).reshape(2, 3)
    obj = {"list": [t, 1, 2.5, "s", None, True], "tuple": (t, (3, 4)), "nested": {"a": {"b": [t]}},
           "od": collections.OrderedDict([("w", t), ("b", ember.zeros(3))]), "size": ember.Size([2, 3]),
           "dtype": ember.float16, "device": ember.device("cpu"), "bytes": b"\x00\xff", "set": {1, 2},
           "complex": 1 + 2j}
    out = _roundtrip(obj)
    assert type(out["od"]) is collections.OrderedDict and list(out["od"]) == ["w", "b"]
    assert out["size"] == ember.Size([2, 3]) and isinstance(out["size"], ember.Size)
    assert out["dtype"] is ember.float16 and out["device"] == ember.device("cpu")
    assert out["bytes"] == b"\x00\xff" and out["set"] == {1, 2} and out["complex"] == 1 + 2j
    assert out["list"][1:] == [1, 2.5, "s", None, True]
    assert isinstance(out["tuple"], tuple) and out["tuple"][1] == (3, 4)
    np.testing.assert_array_equal(out["nested"]["a"]["b"][0].numpy(), t.numpy())
    # one tensor referenced three times is stored once and comes back as one object
    assert out["list"][0] is out["tuple"][0] is out["od"]["w"]


def test_views_stay_shared_and_noncontiguous():
    base = ember.from_numpy(np.arange(12, dtype=np.float32))
    view = ember.from_numpy(base.numpy()[2:8])
    tr = ember.from_numpy(base.numpy().reshape(3, 4).T)       # non-contiguous
    step = ember.from_numpy(base.numpy()[::3])                 # strided
    buf = io.BytesIO()
    S.save({"base": base, "view": view, "tr": tr, "step": step}, buf)
    assert sum(n.startswith("archive/data/") for n in zipfile.ZipFile(buf).namelist()) == 1
    buf.seek(0)
    out = S.load(buf)
    np.testing.assert_array_equal(out["tr"].numpy(), base.numpy().reshape(3, 4).T)
    np.testing.assert_array_equal(out["step"].numpy(), base.numpy()[::3])
    assert out["tr"].stride() == (1, 4)
    out["base"].numpy()[3] = 100.0                               # writes show through every view
    assert out["view"].numpy()[1] == 100.0 and out["tr"].numpy()[3, 0] == 100.0 and out["step"].numpy()[1] == 100


def test_negative_strides_are_saved_as_copies():
    a = np.arange(5, dtype=np.float64)
    out = _roundtrip(ember.from_numpy(a[::-1]))
    np.testing.assert_array_equal(out.numpy(), a[::-1])


def test_requires_grad_and_map_location():
    t = ember.ones(2, requires_grad=True)
    out = _roundtrip({"t": t}, map_location="cpu")
    assert out["t"].requires_grad and out["t"].is_leaf
    seen = []
    out = _roundtrip({"t": t}, map_location=lambda storage, loc: seen.append(loc) or storage)
    assert seen == ["cpu"] and out["t"].device == ember.device("cpu")
    out = _roundtrip({"t": t}, map_location={"cuda:0": "cpu"})
    assert out["t"].device == ember.device("cpu")
    with pytest.raises(TypeError):
        _roundtrip({"t": t}, map_location=3)


def test_path_archive_name_mmap_and_atomic_replace(tmp_path):
    path = tmp_path / "model.ckpt.pt"
    S.save({"w": ember.arange(4.)}, path)
    assert zipfile.ZipFile(path).namelist()[0] == "model.ckpt/data.pkl"
    out = S.load(str(path), mmap=True)
    np.testing.assert_array_equal(out["w"].numpy(), [0, 1, 2, 3])
    out["w"].numpy()[0] = 7.0                                   # copy-on-write: the file does not change
    np.testing.assert_array_equal(S.load(path)["w"].numpy(), [0, 1, 2, 3])
    with pytest.raises(ValueError, match="file path"):
        S.load(io.BytesIO(path.read_bytes()), mmap=True)
    assert os.listdir(tmp_path) == ["model.ckpt.pt"]               # no temporary file left behind


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot pickle this")


def test_failed_save_leaves_existing_file_untouched(tmp_path):
    path = tmp_path / "ckpt.pt"
    S.save({"w": ember.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="cannot pickle"):
        S.save({"w": ember.zeros(3), "bad": _Unpicklable()}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_zip_layout_is_aligned_and_complete():
    buf = io.BytesIO()
    S.save({"a": ember.ones(3), "b": ember.zeros(0)}, buf)
    z = zipfile.ZipFile(buf)
    names = z.namelist()
    assert names[:4] == ["archive/data.pkl", "archive/.format_version", "archive/.storage_alignment",
                         "archive/byteorder"]
    assert names[-2:] == ["archive/version", "archive/.data/serialization_id"]
    assert z.read("archive/version") == b"3\n" and z.read("archive/byteorder") == b"little"
    raw = buf.getvalue()
    for info in z.infolist():
        assert info.compress_type == zipfile.ZIP_STORED
        n, m = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
        assert (info.header_offset + 30 + n + m) % 64 == 0
    assert z.testzip() is None


def test_safe_globals_registry():
    S.clear_safe_globals()
    buf = io.BytesIO()
    S.save({"c": collections.Counter(a=1)}, buf)
    with pytest.raises(pickle.UnpicklingError, match="collections.Counter"):
        S.load(io.BytesIO(buf.getvalue()))
    S.add_safe_globals([collections.Counter])
    try:
        assert S.get_safe_globals() == [collections.Counter]
        assert S.load(io.BytesIO(buf.getvalue()))["c"] == collections.Counter(a=1)
    finally:
        S.clear_safe_globals()
    assert S.get_safe_globals() == []
    assert S.load(io.BytesIO(buf.getvalue()), weights_only=False)["c"] == collections.Counter(a=1)


# ------------------------------------------------------------------------------- PyTorch interop
@pytest.mark.parametrize("dt", DTYPES)
def test_torch_save_ember_load(dt):
    torch = pytest.importorskip("torch")
    a = _sample(dt, (3, 4))
    base = torch.from_numpy(a.copy())
    buf = io.BytesIO()
    torch.save({"t": base, "view": base[1:, ::2], "tr": base.t(), "z": torch.from_numpy(np.array(a[0, 0])),
                "e": torch.from_numpy(a[:0].copy())}, buf)
    buf.seek(0)
    out = S.load(buf)
    _same(out["t"], a)
    _same(out["view"], a[1:, ::2])
    _same(out["tr"], a.T)
    _same(out["z"], a[0, 0])
    _same(out["e"], a[:0])
    assert out["tr"].stride() == base.t().stride()
    assert np.shares_memory(out["t"].numpy(), out["view"].numpy())


@pytest.mark.parametrize("dt", DTYPES)
def test_ember_save_torch_load(dt):
    torch = pytest.importorskip("torch")
    a = _sample(dt, (3, 4))
    base = ember.from_numpy(a)
    buf = io.BytesIO()
    S.save({"t": base, "view": ember.from_numpy(a[1:, ::2]), "tr": ember.from_numpy(a.T),
                "z": ember.from_numpy(np.array(a[0, 0])), "e": ember.from_numpy(a[:0])}, buf)
    buf.seek(0)
    out = torch.load(buf)  # torch's default weights_only=True: ember's files pass torch's allowlist
    for key, ref in (("t", a), ("view", a[1:, ::2]), ("tr", a.T), ("z", a[0, 0]), ("e", a[:0])):
        assert str(out[key].dtype) == f"torch.{dt}"
        np.testing.assert_array_equal(out[key].numpy(), ref)
    assert out["tr"].stride() == (1, 4)
    assert out["view"].untyped_storage().data_ptr() == out["t"].untyped_storage().data_ptr()


def test_torch_state_dict_and_parameters():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    buf = io.BytesIO()
    torch.save({"sd": model.state_dict(), "p": torch.nn.Parameter(torch.ones(2)), "sz": torch.Size([1, 2]),
                "dt": torch.int64, "dev": torch.device("cpu"), "step": 3}, buf)
    buf.seek(0)
    out = S.load(buf)
    sd = out["sd"]
    assert type(sd) is collections.OrderedDict and list(sd) == list(model.state_dict())
    assert sd._metadata == model.state_dict()._metadata  # set by a BUILD on the OrderedDict
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(sd[k].numpy() if not sd[k].requires_grad else sd[k].detach().numpy(),
                                      v.numpy())
        assert sd[k].dtype.name == str(v.dtype).split(".")[-1]
    assert out["p"].requires_grad
    assert out["sz"] == ember.Size([1, 2]) and out["dt"] is ember.int64 and out["step"] == 3


def test_pickle_bytes_identical_to_torch():
    """Same object graph, same bytes: only the random serialization id differs."""
    torch = pytest.importorskip("torch")
    t = torch.arange(10.)
    tobj = {"a": t, "v": t[2:6], "b": torch.tensor(True), "od": collections.OrderedDict(x=torch.ones(2, 3).long()),
            "sz": torch.Size([2]), "dt": torch.float16, "l": [1, 2.5, "s", (None,)], "dev": torch.device("cpu"),
            "by": b"xy", "g": torch.ones(2, requires_grad=True)}
    e = ember.arange(10.)
    eobj = {"a": e, "v": ember.from_numpy(e.numpy()[2:6]), "b": ember.tensor(True),
            "od": collections.OrderedDict(x=ember.ones(2, 3, dtype=ember.int64)), "sz": ember.Size([2]),
            "dt": ember.float16, "l": [1, 2.5, "s", (None,)], "dev": ember.device("cpu"), "by": b"xy",
            "g": ember.ones(2, requires_grad=True)}
    tb, eb = io.BytesIO(), io.BytesIO()
    torch.save(tobj, tb)
    S.save(eobj, eb)
    tz, ez = zipfile.ZipFile(tb), zipfile.ZipFile(eb)
    assert tz.namelist() == ez.namelist()
    for name in tz.namelist():
        if not name.endswith("serialization_id"):
            assert tz.read(name) == ez.read(name), name
    assert [i.header_offset for i in tz.infolist()] == [i.header_offset for i in ez.infolist()]
    assert len(tb.getvalue()) == len(eb.getvalue())


def test_torch_untyped_storage_v3_and_from_type():
    torch = pytest.importorskip("torch")
    t = torch.arange(4.)
    t.extra_attr = 1  # saved through _rebuild_from_type_v2
    buf = io.BytesIO()
    torch.save({"t": t}, buf)
    buf.seek(0)
    with pytest.warns(UserWarning, match="extra_attr"):
        out = S.load(buf)
    np.testing.assert_array_equal(out["t"].numpy(), [0, 1, 2, 3])


# ------------------------------------------------------------------------------- malicious files
SENTINEL_CMD = "touch {}"


def _zip_with(pkl: bytes, records: dict | None = None, archive: str = "archive") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{archive}/data.pkl", pkl)
        z.writestr(f"{archive}/byteorder", "little")
        for k, v in (records or {}).items():
            z.writestr(f"{archive}/{k}", v)
        z.writestr(f"{archive}/version", "3\n")
    return buf.getvalue()


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _call(func: bytes, arg: str) -> bytes:
    return func + b"(X" + struct.pack("<I", len(arg)) + arg.encode() + b"tR"


def _malicious(sentinel: str) -> dict:
    cmd = SENTINEL_CMD.format(sentinel)
    pyc = f"open({sentinel!r}, 'w').close()"

    class Evil:
        def __reduce__(self):
            return (os.system, (cmd,))

    class EvilPopen:
        def __reduce__(self):
            import subprocess
            return (subprocess.Popen, (["touch", sentinel],))

    # getattr(builtins, 'exec')(code): a builtins.getattr chain reaching exec
    getattr_chain = (b"\x80\x02" + _global("builtins", "getattr") + b"(" + _global("builtins", "__import__")
                     + b"(X\x08\x00\x00\x00builtinstRX\x04\x00\x00\x00exectR" + b"(X"
                     + struct.pack("<I", len(pyc)) + pyc.encode() + b"tR.")
    # a legitimate tensor followed by a BUILD that would set attributes on it
    ok_pkl = _torch_pickle_of_tensor()
    build = ok_pkl[:-1] + b"}X\x03\x00\x00\x00_vcK\x01sb."
    return {
        "os.system": pickle.dumps({"x": Evil()}, protocol=2),
        "posix.system": b"\x80\x02" + _call(_global("posix", "system"), cmd) + b".",
        "eval": b"\x80\x02" + _call(_global("builtins", "eval"), pyc) + b".",
        "exec protocol 0": b"c__builtin__\nexec\n(V" + pyc.encode() + b"\ntR.",
        "getattr chain": getattr_chain,
        "subprocess.Popen": pickle.dumps(EvilPopen(), protocol=2),
        "custom __reduce__ class": pickle.dumps([_ReduceToSystem(cmd)], protocol=4),
        "stack_global os.system": b"\x80\x04\x8c\x02os\x8c\x06system\x93X" + struct.pack("<I", len(cmd))
                                  + cmd.encode() + b"\x85R.",
        "INST os.system": b"(X" + struct.pack("<I", len(cmd)) + cmd.encode() + b"ios\nsystem\n.",
        "BUILD on a tensor": build,
    }


class _ReduceToSystem:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def _torch_pickle_of_tensor() -> bytes:
    buf = io.BytesIO()
    S.save(ember.ones(2), buf)
    return zipfile.ZipFile(buf).read("archive/data.pkl")


@pytest.mark.parametrize("case", ["os.system", "posix.system", "eval", "exec protocol 0", "getattr chain",
                                  "subprocess.Popen", "custom __reduce__ class", "stack_global os.system",
                                  "INST os.system", "BUILD on a tensor"])
def test_malicious_pickles_are_refused(tmp_path, case):
    sentinel = str(tmp_path / "pwned")
    data = _zip_with(_malicious(sentinel)[case], {"data/0": np.ones(2, np.float32).tobytes()})
    path = tmp_path / "evil.pt"
    path.write_bytes(data)
    with pytest.raises(pickle.UnpicklingError) as info:
        S.load(path)
    assert "Weights only load failed" in str(info.value) or "ember.load" in str(info.value)
    assert not os.path.exists(sentinel)


def test_refusal_names_the_global(tmp_path):
    data = _zip_with(b"\x80\x02" + _call(_global("os", "system"), "true") + b".")
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global: GLOBAL os.system"):
        S.load(io.BytesIO(data))


def test_weights_only_false_is_unrestricted(tmp_path):
    sentinel = tmp_path / "ran"
    data = _zip_with(pickle.dumps(_ReduceToSystem(f"touch {sentinel}"), protocol=2))
    S.load(io.BytesIO(data), weights_only=False)  # documented as unsafe: it does run the code
    assert sentinel.exists()


def test_corrupt_archives(tmp_path):
    good = io.BytesIO()
    S.save({"w": ember.arange(4.)}, good)
    raw = good.getvalue()
    pkl = zipfile.ZipFile(good).read("archive/data.pkl")
    with pytest.raises(RuntimeError, match="not a PyTorch zip checkpoint"):   # truncated zip
        S.load(io.BytesIO(raw[:len(raw) // 2]))
    with pytest.raises(RuntimeError, match="not a PyTorch zip checkpoint"):   # garbage
        S.load(io.BytesIO(b"this is not a checkpoint" * 20))
    with pytest.raises(RuntimeError, match="no record archive/data/0"):       # missing storage record
        S.load(io.BytesIO(_zip_with(pkl)))
    with pytest.raises(RuntimeError, match="holds 8 bytes but the pickle declares 16"):  # mismatched size
        S.load(io.BytesIO(_zip_with(pkl, {"data/0": b"\x00" * 8})))
    with pytest.raises(RuntimeError, match="holds 64 bytes"):                 # oversized record
        S.load(io.BytesIO(_zip_with(pkl, {"data/0": b"\x00" * 64})))
    # a tensor whose size/stride would read past its storage
    bad = pkl.replace(b"K\x04\x85", b"K\x40\x85")
    assert bad != pkl
    with pytest.raises(RuntimeError, match="reads past the end"):
        S.load(io.BytesIO(_zip_with(bad, {"data/0": np.arange(4, dtype=np.float32).tobytes()})))
    with pytest.raises(RuntimeError, match="no record archive/data.pkl"):
        S.load(io.BytesIO(_only_records()))


def _only_records() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


def test_exported_as_ember_save_and_load():
    assert ember.save is S.save and ember.load is S.load
