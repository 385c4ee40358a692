"""MNIST/FashionMNIST readers on real-format files; download=True against a local HTTP server."""
import functools
import gzip
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

import ember
from ember.vision import datasets, transforms as T
from ember.vision.datasets.mnist import read_idx

DEBIAN = "/usr/share/datasets/fashion-mnist"


def _write_idx(path, arr, gz=True):
    arr = np.asarray(arr)
    code = {np.uint8: 0x08, np.int32: 0x0C}[arr.dtype.type]
    header = bytes([0, 0, code, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    payload = header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(payload)


def _make_raw(folder, n_train=20, n_test=10, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    ext = ".gz" if gz else ""
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labs = rng.integers(0, 10, n, dtype=np.uint8)
        _write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte{ext}"), imgs, gz)
        _write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte{ext}"), labs, gz)
        data[prefix] = (imgs, labs)
    return data


@pytest.mark.parametrize("gz", [True, False])
def test_reads_idx_files_from_raw_folder(tmp_path, gz):
    data = _make_raw(tmp_path / "MNIST" / "raw", gz=gz)
    ds = datasets.MNIST(str(tmp_path), train=False)
    assert len(ds) == 10 and ds.data.dtype is ember.uint8 and ds.targets.dtype is ember.int64
    assert np.array_equal(ds.data.numpy(), data["t10k"][0])
    img, label = ds[3]
    assert np.array_equal(np.asarray(img), data["t10k"][0][3]) and label == int(data["t10k"][1][3])


def test_transforms_to_tensor_and_normalize(tmp_path):
    data = _make_raw(tmp_path / "FashionMNIST" / "raw")
    ds = datasets.FashionMNIST(str(tmp_path), transform=T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]))
    x, y = ds[0]
    assert x.shape == (1, 28, 28) and x.dtype is ember.float32
    np.testing.assert_allclose(x.numpy()[0], data["train"][0][0] / 255.0 * 2 - 1, atol=1e-6)


def test_missing_and_corrupt_files_give_clear_errors(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.MNIST(str(tmp_path / "nothing"))
    raw = tmp_path / "MNIST" / "raw"
    _make_raw(raw)
    path = raw / "train-images-idx3-ubyte.gz"
    blob = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(blob[:-100]))
    with pytest.raises(RuntimeError, match="truncated or corrupt"):
        datasets.MNIST(str(tmp_path))
    path.write_bytes(gzip.compress(b"\x01\x02\x03\x04garbage"))
    with pytest.raises(RuntimeError, match="not an IDX file"):
        read_idx(str(path))


class _Server:
    """A quiet HTTP server on localhost serving one folder (Range requests are answered in full)."""

    def __init__(self, folder):
        handler = functools.partial(_Quiet, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_fetches_verifies_and_places_files(tmp_path, monkeypatch):
    served = tmp_path / "mirror"
    _make_raw(served)
    md5 = {f: hashlib.md5((served / f).read_bytes()).hexdigest() for f in os.listdir(served)}
    resources = [(f, md5[f]) for f, _ in datasets.MNIST.resources]
    root = tmp_path / "root"
    with _Server(served) as srv:
        monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/nothing/", srv.url])
        monkeypatch.setattr(datasets.MNIST, "resources", resources)
        # a stale partial download is replaced, not trusted
        os.makedirs(root / "MNIST" / "raw")
        (root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz.part").write_bytes(b"junk")
        ds = datasets.MNIST(str(root), train=True, download=True)
        assert len(ds) == 20
        assert sorted(os.listdir(root / "MNIST" / "raw")) == sorted(md5)
        # a wrong checksum is refused and leaves no file behind
        monkeypatch.setattr(datasets.MNIST, "resources", [(f, "0" * 32) for f, _ in resources])
        with pytest.raises(RuntimeError, match="checksum mismatch"):
            datasets.MNIST(str(tmp_path / "other"), download=True)
        assert not (tmp_path / "other" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").exists()


@pytest.mark.skipif(not os.path.isdir(DEBIAN), reason="Debian package dataset-fashion-mnist not installed")
def test_finds_debian_fashion_mnist_package(tmp_path):
    test = datasets.FashionMNIST(str(tmp_path), train=False)
    assert len(test) == 10000 and tuple(test.data.shape) == (10000, 28, 28)
    counts = np.bincount(test.targets.numpy(), minlength=10)
    assert counts.tolist() == [1000] * 10
    assert datasets.FashionMNIST.classes[int(test.targets[0])] == "Ankle boot"
