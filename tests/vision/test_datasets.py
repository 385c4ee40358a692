"""Dataset readers on files in the real formats written here (CIFAR pickle batches, IDX, .mat, image trees),
download=True against a localhost server, safe extraction and safe unpickling."""
import hashlib
import io
import os
import pickle
import tarfile
import zipfile

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms as T
from ember.vision.datasets.cifar import load_pickle_batch
from ember.vision.datasets.utils import extract_archive
from test_mnist import DEBIAN, _Server, _write_idx

try:
    from PIL import Image
except ImportError:
    Image = None
needs_pil = pytest.mark.skipif(Image is None, reason="Pillow (the vision extra) is not installed")


def _md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


# ------------------------------------------------------------------------------------------------ CIFAR
def _write_cifar(folder, kind="10", n=6, seed=0):
    """Batches as the "python version" archives hold them: protocol-2 pickles of dicts with a uint8
    N x 3072 array (R, G, B planes per row) and label lists, plus the meta file."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    if kind == "10":
        names, key, meta, meta_key, ncls = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"], "labels", \
            "batches.meta", "label_names", 10
    else:
        names, key, meta, meta_key, ncls = ["train", "test"], "fine_labels", "meta", "fine_label_names", 100
    out = {}
    for name in names:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, ncls, n).tolist()
        entry = {"batch_label": f"{name} of 6", "data": data, key: labels,
                 "filenames": [f"img_{i}.png" for i in range(n)]}
        if kind == "100":
            entry["coarse_labels"] = [lab // 5 for lab in labels]
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(entry, f, protocol=2)
        out[name] = (data, labels)
    with open(os.path.join(folder, meta), "wb") as f:
        pickle.dump({meta_key: [f"class{i}" for i in range(ncls)], "num_vis": 3072}, f, protocol=2)
    return out


def test_cifar10_reads_pickle_batches(tmp_path):
    written = _write_cifar(tmp_path / "cifar-10-batches-py")
    train = datasets.CIFAR10(str(tmp_path), train=True)
    test = datasets.CIFAR10(str(tmp_path), train=False)
    assert len(train) == 30 and len(test) == 6 and train.data.shape == (30, 32, 32, 3)
    data, labels = written["data_batch_2"]
    img = data[1].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(train.data[7], img)
    assert train.targets[7] == labels[1] and train.classes[3] == "class3" and train.class_to_idx["class9"] == 9
    x, y = train[7]
    np.testing.assert_array_equal(np.asarray(x), img)
    assert y == labels[1]
    tt = datasets.CIFAR10(str(tmp_path), train=False, transform=T.Compose([T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)]))
    assert tuple(tt[0][0].shape) == (3, 32, 32) and tt[0][0].dtype is ember.float32


def test_cifar100_uses_fine_labels(tmp_path):
    written = _write_cifar(tmp_path / "cifar-100-python", kind="100")
    ds = datasets.CIFAR100(str(tmp_path), train=True, target_transform=lambda t: t + 1000)
    assert len(ds) == 6 and len(ds.classes) == 100
    assert ds.targets == written["train"][1] and ds[2][1] == written["train"][1][2] + 1000


def test_cifar_missing_or_corrupt_files_give_clear_errors(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.CIFAR10(str(tmp_path))
    _write_cifar(tmp_path / "cifar-10-batches-py")
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(RuntimeError, match="not a valid CIFAR batch"):
        datasets.CIFAR10(str(tmp_path), train=False)
    with open(path, "wb") as f:
        pickle.dump({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}, f, protocol=2)
    with pytest.raises(RuntimeError, match="corrupt"):
        datasets.CIFAR10(str(tmp_path), train=False)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/ember_cifar_pwned",))


def test_cifar_unpickler_refuses_code_and_objects(tmp_path):
    marker = "/tmp/ember_cifar_pwned"
    if os.path.exists(marker):
        os.remove(marker)
    path = tmp_path / "evil"
    path.write_bytes(pickle.dumps({"data": _Evil()}, protocol=2))
    with pytest.raises(RuntimeError, match="unsafe pickle"):
        load_pickle_batch(str(path))
    assert not os.path.exists(marker)
    path.write_bytes(pickle.dumps({"data": np.array([object(), 1], dtype=object)}, protocol=2))
    with pytest.raises(RuntimeError, match="unsafe pickle"):
        load_pickle_batch(str(path))
    path.write_bytes(pickle.dumps([1, 2], protocol=2))
    with pytest.raises(RuntimeError, match="expected a dict"):
        load_pickle_batch(str(path))
    # plain data in every protocol is fine, bytes keys included
    for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
        path.write_bytes(pickle.dumps({b"data": np.arange(6, dtype=np.uint8), "x": [1.5, b"a"]}, protocol=proto))
        entry = load_pickle_batch(str(path))
        assert entry["data"].tolist() == list(range(6)) and entry["x"] == [1.5, b"a"]


def test_cifar_download_verifies_and_extracts(tmp_path, monkeypatch):
    src = tmp_path / "src"
    _write_cifar(src / "cifar-10-batches-py")
    served = tmp_path / "served"
    served.mkdir()
    archive = served / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    md5s = {n: _md5(src / "cifar-10-batches-py" / n) for n in os.listdir(src / "cifar-10-batches-py")}
    with _Server(served) as srv:
        monkeypatch.setattr(datasets.CIFAR10, "url", srv.url + "cifar-10-python.tar.gz")
        monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", _md5(archive))
        monkeypatch.setattr(datasets.CIFAR10, "train_list", [[n, md5s[n]] for n, _ in datasets.CIFAR10.train_list])
        monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", md5s["test_batch"]]])
        root = tmp_path / "root"
        ds = datasets.CIFAR10(str(root), train=False, download=True)
        assert len(ds) == 6 and (root / "cifar-10-python.tar.gz").exists()
        mtime = os.path.getmtime(root / "cifar-10-python.tar.gz")
        datasets.CIFAR10(str(root), train=True, download=True)        # already there: nothing fetched
        assert os.path.getmtime(root / "cifar-10-python.tar.gz") == mtime
        monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", "0" * 32)
        with pytest.raises(RuntimeError, match="checksum mismatch"):
            datasets.CIFAR10(str(tmp_path / "other"), download=True)
        assert not (tmp_path / "other" / "cifar-10-batches-py").exists()


# -------------------------------------------------------------------------------------------- archives
def test_extract_archive_refuses_path_traversal(tmp_path):
    dest = tmp_path / "dest"
    evil_tar = tmp_path / "evil.tar.gz"
    with tarfile.open(evil_tar, "w:gz") as tf:
        for name in ("ok.txt", "../escaped.txt"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tf.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(RuntimeError, match="outside"):
        extract_archive(str(evil_tar), str(dest))
    assert not (tmp_path / "escaped.txt").exists() and not (dest / "ok.txt").exists()

    link_tar = tmp_path / "link.tar"
    with tarfile.open(link_tar, "w") as tf:
        info = tarfile.TarInfo("sub/link")
        info.type, info.linkname = tarfile.SYMTYPE, "../../../etc/passwd"
        tf.addfile(info)
    with pytest.raises(RuntimeError, match="outside"):
        extract_archive(str(link_tar), str(dest))

    evil_zip = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil_zip, "w") as zf:
        zf.writestr("/abs.txt", "x")
    with pytest.raises(RuntimeError, match="outside"):
        extract_archive(str(evil_zip), str(dest))
    good_zip = tmp_path / "good.zip"
    with zipfile.ZipFile(good_zip, "w") as zf:
        zf.writestr("a/b.txt", "fine")
    extract_archive(str(good_zip), str(dest))
    assert (dest / "a" / "b.txt").read_text() == "fine"
    with pytest.raises(RuntimeError, match="not supported"):
        (tmp_path / "plain.bin").write_bytes(b"abc")
        extract_archive(str(tmp_path / "plain.bin"), str(dest))


# ------------------------------------------------------------------------------------ KMNIST / EMNIST
def _idx_pair(folder, prefix, n, rng, classes=10):
    imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labs = rng.integers(0, classes, n, dtype=np.uint8)
    _write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), imgs)
    _write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), labs)
    return imgs, labs


def test_kmnist_and_emnist_read_idx_files(tmp_path):
    rng = np.random.default_rng(1)
    raw = tmp_path / "KMNIST" / "raw"
    raw.mkdir(parents=True)
    imgs, labs = _idx_pair(str(raw), "t10k", 5, rng)
    ds = datasets.KMNIST(str(tmp_path), train=False)
    np.testing.assert_array_equal(ds.data.numpy(), imgs)
    assert ds.classes[0] == "o" and ds[4][1] == int(labs[4])

    raw = tmp_path / "EMNIST" / "raw"
    raw.mkdir(parents=True)
    imgs, labs = _idx_pair(str(raw), "emnist-letters-train", 7, rng, classes=27)
    _idx_pair(str(raw), "emnist-balanced-test", 3, rng, classes=47)
    letters = datasets.EMNIST(str(tmp_path), split="letters")
    assert len(letters) == 7 and letters.classes[:3] == ["N/A", "a", "b"]
    np.testing.assert_array_equal(letters.data.numpy(), imgs)
    balanced = datasets.EMNIST(str(tmp_path), split="balanced", train=False)
    assert len(balanced) == 3 and len(balanced.classes) == 47
    assert len(datasets.EMNIST.classes_split_dict["byclass"]) == 62
    with pytest.raises(ValueError, match="Unknown value 'bogus' for argument split"):
        datasets.EMNIST(str(tmp_path), split="bogus")
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.EMNIST(str(tmp_path), split="digits")


def test_emnist_download_extracts_nist_zip(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    stage = tmp_path / "stage" / "gzip"
    stage.mkdir(parents=True)
    imgs, _ = _idx_pair(str(stage), "emnist-digits-train", 4, rng)
    _idx_pair(str(stage), "emnist-digits-test", 2, rng)
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "gzip.zip", "w") as zf:
        for name in os.listdir(stage):
            zf.write(stage / name, f"gzip/{name}")
    with _Server(served) as srv:
        monkeypatch.setattr(datasets.EMNIST, "url", srv.url + "gzip.zip")
        monkeypatch.setattr(datasets.EMNIST, "md5", _md5(served / "gzip.zip"))
        ds = datasets.EMNIST(str(tmp_path / "root"), split="digits", download=True)
    np.testing.assert_array_equal(ds.data.numpy(), imgs)


# ------------------------------------------------------------------------------------------------- SVHN
def test_svhn_reads_mat_files(tmp_path, monkeypatch):
    sio = pytest.importorskip("scipy.io")
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (32, 32, 3, 5), dtype=np.uint8)
    y = np.array([[10], [1], [2], [10], [9]], dtype=np.uint8)
    sio.savemat(str(tmp_path / "test_32x32.mat"), {"X": x, "y": y})
    ds = datasets.SVHN(str(tmp_path), split="test")
    assert ds.data.shape == (5, 3, 32, 32) and ds.labels.tolist() == [0, 1, 2, 0, 9]
    img, label = ds[1]
    np.testing.assert_array_equal(np.asarray(img), x[:, :, :, 1])
    assert label == 1
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.SVHN(str(tmp_path), split="train")
    with pytest.raises(ValueError, match="Unknown value 'val'"):
        datasets.SVHN(str(tmp_path), split="val")
    (tmp_path / "test_32x32.mat").write_bytes(b"MATLAB garbage" * 10)
    with pytest.raises(RuntimeError, match="not a readable MATLAB file"):
        datasets.SVHN(str(tmp_path), split="test")
    import sys
    monkeypatch.setitem(sys.modules, "scipy.io", None)
    with pytest.raises(ImportError, match="SciPy"):
        datasets.SVHN(str(tmp_path), split="test")


# ------------------------------------------------------------------------------------------ ImageFolder
def _image_tree(root):
    rng = np.random.default_rng(4)
    arrays = {}
    for cls, names in (("dog", ["b.png", "a.jpg", "sub/c.PNG"]), ("cat", ["z.png"]), ("empty", [])):
        os.makedirs(root / cls / "sub", exist_ok=True)
        for name in names:
            arr = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / cls / name, format="JPEG" if name.endswith(".jpg") else "PNG")
            arrays[f"{cls}/{name}"] = arr
    (root / "dog" / "notes.txt").write_text("not an image")
    return arrays


@needs_pil
def test_image_folder_finds_classes_and_loads_images(tmp_path):
    arrays = _image_tree(tmp_path)
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        datasets.ImageFolder(str(tmp_path))
    ds = datasets.ImageFolder(str(tmp_path), allow_empty=True, transform=T.ToTensor())
    assert ds.classes == ["cat", "dog", "empty"] and ds.class_to_idx == {"cat": 0, "dog": 1, "empty": 2}
    rel = [os.path.relpath(p, tmp_path) for p, _ in ds.samples]
    assert rel == ["cat/z.png", "dog/a.jpg", "dog/b.png", "dog/sub/c.PNG"] and ds.targets == [0, 1, 1, 1]
    assert ds.imgs is ds.samples
    x, y = ds[2]
    np.testing.assert_allclose(x.numpy(), arrays["dog/b.png"].transpose(2, 0, 1) / 255.0, atol=1e-6)
    assert y == 1 and tuple(ds[1][0].shape) == (3, 9, 7)
    only_png = datasets.ImageFolder(str(tmp_path), is_valid_file=lambda p: p.endswith(".png"), allow_empty=True)
    assert len(only_png) == 2
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(batch[0].shape) == (4, 3, 9, 7)
    (tmp_path / "cat" / "broken.png").write_bytes(b"\x89PNG not really")
    broken = datasets.ImageFolder(str(tmp_path), allow_empty=True)
    with pytest.raises(RuntimeError, match="Cannot read image file"):
        broken[0]


def test_dataset_folder_with_custom_loader_and_errors(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        np.save(tmp_path / cls / "x.npy", np.full(3, ord(cls)))
    ds = datasets.DatasetFolder(str(tmp_path), loader=np.load, extensions=(".npy",))
    assert [int(s[0][0]) for s in ds] == [97, 98] and ds.targets == [0, 1]
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        datasets.DatasetFolder(str(tmp_path), loader=np.load)
    with pytest.raises(FileNotFoundError, match="Dataset folder not found"):
        datasets.DatasetFolder(str(tmp_path / "nope"), loader=np.load, extensions=(".npy",))

    class Custom(datasets.DatasetFolder):
        def find_classes(self, directory):
            return ["b"], {"b": 0}

    assert len(Custom(str(tmp_path), loader=np.load, extensions=(".npy",))) == 1


# --------------------------------------------------------------------------------------------- FakeData
def test_fake_data_is_deterministic_and_leaves_global_rng_alone():
    ds = datasets.FakeData(size=6, image_size=(3, 8, 10), num_classes=4, transform=T.PILToTensor() if Image
                           else None)
    ember.manual_seed(0)
    before = ember.rand(3)
    ember.manual_seed(0)
    a = [ds[i] for i in range(6)]
    np.testing.assert_array_equal(ember.rand(3).numpy(), before.numpy())
    b = [ds[i] for i in range(6)]
    for (x1, y1), (x2, y2) in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x1), np.asarray(x2))
        assert y1 == y2 and 0 <= y1 < 4
    assert not np.array_equal(np.asarray(a[0][0]), np.asarray(a[1][0]))
    shifted = datasets.FakeData(size=6, image_size=(3, 8, 10), random_offset=1,
                                transform=T.PILToTensor() if Image else None)
    np.testing.assert_array_equal(np.asarray(shifted[0][0]), np.asarray(a[1][0]))
    with pytest.raises(IndexError):
        ds[6]


# --------------------------------------------------------------------------------- real Fashion-MNIST
@needs_pil
@pytest.mark.skipif(not os.path.isdir(DEBIAN), reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_from_debian_through_an_augmenting_loader(tmp_path):
    aug = T.Compose([T.RandomResizedCrop(24, scale=(0.6, 1.0)), T.RandomHorizontalFlip(), T.ToTensor(),
                     T.Normalize((0.286,), (0.353,))])
    ds = datasets.FashionMNIST(str(tmp_path), train=False, transform=aug)
    subset = ember.utils.data.Subset(ds, range(64))

    def first_batch(seed):
        ember.manual_seed(seed)
        return next(iter(DataLoader(subset, batch_size=64, shuffle=True)))

    (x1, y1), (x2, y2) = first_batch(3), first_batch(3)
    assert tuple(x1.shape) == (64, 1, 24, 24) and x1.dtype is ember.float32
    np.testing.assert_array_equal(x1.numpy(), x2.numpy())
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    assert abs(float(x1.mean())) < 0.5
