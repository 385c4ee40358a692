"""ember.utils.safetensors: byte-identical to the safetensors package, lazy reads, strict header checks."""
from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import ember
from ember.utils import safetensors as ST


def _tensors():
    return {"w": ember.arange(12.).reshape(3, 4), "b": ember.tensor([1, -2, 3], dtype=ember.int8),
            "d": ember.linspace(0, 1, 4, dtype=ember.float64), "m": ember.tensor([True, False]),
            "h": ember.tensor([0.5, -1.5], dtype=ember.float16), "i": ember.tensor([1 << 40]),
            "c": ember.tensor([1 + 2j], dtype=ember.complex64), "s": ember.tensor(2.5), "e": ember.zeros(0, 3),
            "u": ember.tensor([200, 3], dtype=ember.uint8), "i32": ember.tensor([-7], dtype=ember.int32)}


def _header(data: bytes) -> dict:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n])


def _file(header: dict, payload: bytes = b"", raw_header: bytes | None = None) -> bytes:
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + payload


def test_round_trip_bytes_and_file(tmp_path):
    t = _tensors()
    out = ST.load(ST.save(t, metadata={"format": "pt"}))
    path = tmp_path / "m.safetensors"
    ST.save_file(t, path, metadata={"format": "pt"})
    back = ST.load_file(path)
    for got in (out, back):
        assert set(got) == set(t)
        for k, v in t.items():
            assert got[k].dtype is v.dtype and got[k].shape == v.shape
            np.testing.assert_array_equal(got[k].numpy(), v.numpy())
    assert path.read_bytes() == ST.save(t, metadata={"format": "pt"})


def test_byte_identical_to_the_safetensors_package(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    t = _tensors()
    if ember.bfloat16.np_dtype is not None:
        t["bf"] = ember.tensor([1.5, -2.0, 3.0], dtype=ember.bfloat16)
    tt = {k: (torch.from_numpy(v.numpy().view(np.int16)).view(torch.bfloat16) if v.dtype is ember.bfloat16
              else torch.from_numpy(v.numpy().copy())) for k, v in t.items()}
    assert ST.save(t, metadata={"format": "pt"}) == st.save(tt, metadata={"format": "pt"})
    assert ST.save(t) == st.save(tt)
    # and ember reads theirs
    st.save_file(tt, str(tmp_path / "ref.safetensors"))
    back = ST.load_file(tmp_path / "ref.safetensors")
    for k, v in tt.items():
        got = back[k].float().numpy() if v.dtype == torch.bfloat16 else back[k].numpy()
        want = v.float().numpy() if v.dtype == torch.bfloat16 else v.numpy()
        np.testing.assert_array_equal(got, want)


def test_safe_open_lazy_keys_slices_metadata(tmp_path):
    path = tmp_path / "m.safetensors"
    t = _tensors()
    ST.save_file(t, path, metadata={"author": "ember", "n": "1"})
    with ST.safe_open(path, framework="pt") as f:
        assert f.keys() == sorted(t)
        assert f.metadata() == {"author": "ember", "n": "1"}
        assert f.get_tensor("w").tolist() == t["w"].tolist()
        sl = f.get_slice("w")
        assert sl.get_shape() == [3, 4] and sl.get_dtype() == "F32"
        np.testing.assert_array_equal(sl[1:, ::2].numpy(), t["w"].numpy()[1:, ::2])
        np.testing.assert_array_equal(sl[..., 0].numpy(), t["w"].numpy()[..., 0])
        assert isinstance(f.get_tensor("s"), ember.Tensor) and f.get_tensor("s").item() == 2.5
        with pytest.raises(ST.SafetensorError, match="does not contain"):
            f.get_tensor("nope")
    with ST.safe_open(path, framework="np") as f:
        a = f.get_tensor("d")
        assert isinstance(a, np.ndarray) and a.dtype == np.float64
        assert f.metadata()["author"] == "ember"
    with pytest.raises(ST.SafetensorError, match="closed"):
        f.get_tensor("d")


def test_numpy_framework_reads_unsigned_types_ember_lacks(tmp_path):
    path = tmp_path / "u.safetensors"
    ST.save_file({"u16": np.array([1, 65535], np.uint16)}, path)
    with ST.safe_open(path, framework="np") as f:
        np.testing.assert_array_equal(f.get_tensor("u16"), [1, 65535])
    with ST.safe_open(path, framework="pt") as f, pytest.raises(ST.SafetensorError, match="framework='np'"):
        f.get_tensor("u16")


def test_save_refuses_what_safetensors_refuses():
    w = ember.arange(6.).reshape(2, 3)
    with pytest.raises(ValueError, match="non contiguous"):
        ST.save({"t": w.t()})
    with pytest.raises(RuntimeError, match="share memory"):
        ST.save({"a": w, "b": w[0]})
    ST.save({"a": w[0].clone(), "b": w[1].clone()})
    with pytest.raises(ValueError, match="expected ember.Tensor"):
        ST.save({"a": [1, 2]})
    with pytest.raises(TypeError, match="metadata"):
        ST.save({"a": w}, metadata={"k": 1})
    with pytest.raises(ValueError, match="complex128"):
        ST.save({"a": ember.zeros(1, dtype=ember.complex128)})


GOOD = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "I8", "shape": [3], "data_offsets": [8, 11]}}


@pytest.mark.parametrize("data,match", [
    (b"\x01\x02", "HeaderTooSmall"),
    (struct.pack("<Q", 10 ** 9) + b"{}", "HeaderTooLarge"),
    (struct.pack("<Q", 500) + b"{}", "InvalidHeaderLength"),
    (_file({}, raw_header=b"[1, 2]   "), "InvalidHeaderStart"),
    (_file({}, raw_header=b"{not json"), "InvalidHeaderDeserialization"),
    (_file({}, raw_header=b"\xff\xfe{}"), "UTF-8"),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 12), "MetadataIncompleteBuffer"),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4), "MetadataIncompleteBuffer"),
    (_file({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8), "TensorInvalidInfo"),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12), "InvalidOffset.*overlaps"),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12), "InvalidOffset.*gap"),
    (_file({"a": {"dtype": "X9", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8), "unknown dtype"),
    (_file({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8), "non-negative"),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, b"\0" * 8), "TensorInvalidInfo"),
    (_file({"a": {"dtype": "F32", "shape": [2]}}, b"\0" * 8), "exactly dtype"),
    (_file({"a": {"dtype": "F32", "shape": [2 ** 62, 2 ** 62], "data_offsets": [0, 8]}}, b"\0" * 8), "too large"),
    (_file({"__metadata__": {"k": 1}}), "__metadata__"),
    (_file({}, raw_header=b'{"a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "a": 1}'), "duplicate"),
])
def test_corrupt_or_malicious_headers(tmp_path, data, match):
    with pytest.raises(ST.SafetensorError, match=match):
        ST.load(data)
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(ST.SafetensorError, match=match):
        ST.safe_open(path)


def test_good_header_helper_is_valid():
    out = ST.load(_file(GOOD, b"\0" * 11))
    assert out["a"].tolist() == [0.0, 0.0] and out["b"].dtype is ember.int8


def test_save_model_load_model_with_tied_weights(tmp_path):
    class Tied(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = ember.nn.Embedding(5, 3)
            self.out = ember.nn.Linear(3, 5, bias=False)
            self.out.weight = self.emb.weight

    m = Tied()
    ST.save_model(m, tmp_path / "m.safetensors")
    with ST.safe_open(tmp_path / "m.safetensors") as f:
        assert f.keys() == ["emb.weight"] and f.metadata() == {"out.weight": "emb.weight"}
    m2 = Tied()
    missing, unexpected = ST.load_model(m2, tmp_path / "m.safetensors")
    assert missing == [] and unexpected == []
    np.testing.assert_array_equal(m2.out.weight.detach().numpy(), m.emb.weight.detach().numpy())
