"""Datasets: digits split, idx (raw / gz), CIFAR-10 python folder, image folders, clear errors."""

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch

from moopt.adapters.nas.data import load_dataset, load_digits, read_idx


def test_digits_fixed_split():
    a, b = load_digits(), load_digits()
    assert (len(a.train), len(a.val), len(a.test)) == (1078, 359, 360)
    assert torch.equal(a.train.y, b.train.y) and torch.equal(a.val.x, b.val.x)
    assert a.input_shape == (1, 8, 8) and a.num_classes == 10 and not a.flip
    x = a.prepare(a.train.x)
    assert x.mean().abs() < 1e-4 and (x.std() - 1).abs() < 1e-2
    sub = a.subset(train=10, val=5)
    assert len(sub.train) == 10 and len(sub.val) == 5 and len(sub.test) == 360


def _write_idx(path, arr, gz):
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = header + arr.tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


def _mnist_folder(root, gz, n_train=30, n_test=10):
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    _write_idx(root / "train-images-idx3-ubyte", rng.integers(0, 256, (n_train, 28, 28)), gz)
    _write_idx(root / "train-labels-idx1-ubyte", np.arange(n_train) % 10, gz)
    _write_idx(root / "t10k-images-idx3-ubyte", rng.integers(0, 256, (n_test, 28, 28)), gz)
    _write_idx(root / "t10k-labels-idx1-ubyte", np.arange(n_test) % 10, gz)
    return root


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder(tmp_path, gz):
    root = _mnist_folder(tmp_path / "mnist", gz)
    ds = load_dataset("fashion-mnist", root=root)
    assert ds.input_shape == (1, 28, 28) and ds.num_classes == 10
    assert (len(ds.train), len(ds.val), len(ds.test)) == (27, 3, 10)
    raw = read_idx(root / ("t10k-images-idx3-ubyte" + (".gz" if gz else "")))
    assert torch.equal(ds.test.x[:, 0], torch.from_numpy(raw.copy()))
    assert sorted(torch.cat([ds.train.y, ds.val.y]).tolist()) == sorted((np.arange(30) % 10).tolist())


def test_idx_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_dataset("mnist", root=tmp_path / "nothing")
    root = _mnist_folder(tmp_path / "m", False)
    (root / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_dataset("mnist", root=root)
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04garbage")
    with pytest.raises(ValueError, match="not an idx file"):
        read_idx(bad)
    trunc = tmp_path / "trunc"
    trunc.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 100) + b"\x00" * 10)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(trunc)
    with pytest.raises(ValueError, match="needs root"):
        load_dataset("cifar10")
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("imagenet")


def _cifar_folder(root, n=6):
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(base / name, "wb") as f:
            pickle.dump({"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         "labels": [int(v) for v in rng.integers(0, 10, n)]}, f)
    with open(base / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, f)
    return root


def test_cifar10_folder(tmp_path):
    root = _cifar_folder(tmp_path / "cifar")
    ds = load_dataset("cifar10", root=root, verify=False)
    assert ds.input_shape == (3, 32, 32) and ds.num_classes == 10 and ds.flip
    assert len(ds.train) + len(ds.val) == 30 and len(ds.test) == 6
    with pytest.raises(ValueError, match="integrity"):
        load_dataset("cifar10", root=root)  # tiny copies fail the official MD5 check
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        load_dataset("cifar10", root=tmp_path / "empty")
    (root / "cifar-10-batches-py" / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="malformed"):
        load_dataset("cifar10", root=root, verify=False)


def test_cifar10_shapes_labels_and_bytes_keys(tmp_path):
    root = _cifar_folder(tmp_path / "cifar", n=4)
    base = root / "cifar-10-batches-py"
    # the official files, written by Python 2, have bytes keys once read with encoding="bytes"
    rng = np.random.default_rng(3)
    test_x = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
    with open(base / "test_batch", "wb") as f:
        pickle.dump({b"data": test_x, b"labels": [0, 9, 3, 3], b"filenames": [b"a.png"] * 4}, f, protocol=2)
    ds = load_dataset("cifar10", root=root, verify=False)
    assert ds.train.x.dtype == torch.uint8 and tuple(ds.train.x.shape[1:]) == (3, 32, 32)
    assert ds.test.y.tolist() == [0, 9, 3, 3] and ds.test.y.dtype == torch.long
    assert torch.equal(ds.test.x, torch.from_numpy(test_x.reshape(4, 3, 32, 32)))


def test_cifar10_md5_is_checked_when_verify(tmp_path, monkeypatch):
    import hashlib

    from moopt.adapters.nas import data

    root = _cifar_folder(tmp_path / "cifar")
    base = root / "cifar-10-batches-py"
    sums = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in base.iterdir()}
    monkeypatch.setattr(data, "CIFAR_MD5", sums)
    assert len(load_dataset("cifar10", root=root, verify=True).test) == 6
    (base / "data_batch_3").write_bytes((base / "data_batch_3").read_bytes() + b"x")
    with pytest.raises(ValueError, match=r"integrity check \(MD5 of \['data_batch_3'\]"):
        load_dataset("cifar10", root=root, verify=True)


class _Payload:
    """Pickles to a call of os.system: what a planted CIFAR batch would do on a plain pickle.load."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("batch", ["data_batch_2", "test_batch", "batches.meta"])
@pytest.mark.parametrize("verify", [False, True])
def test_cifar10_pickle_payload_is_refused_not_run(tmp_path, monkeypatch, batch, verify):
    import hashlib

    from moopt.adapters.nas import data

    root = _cifar_folder(tmp_path / "cifar")
    marker = tmp_path / "pwned"
    bad = root / "cifar-10-batches-py" / batch
    with open(bad, "wb") as f:
        pickle.dump({"data": np.zeros((6, 3072), np.uint8), "labels": [0] * 6, "x": _Payload(marker)}, f)
    if verify:  # even a file whose MD5 matches (a poisoned mirror) is read as data only
        for p in bad.parent.iterdir():
            monkeypatch.setitem(data.CIFAR_MD5, p.name, hashlib.md5(p.read_bytes()).hexdigest())
    with pytest.raises(ValueError) as err:
        load_dataset("cifar10", root=root, verify=verify)
    msg = str(err.value)
    assert str(bad) in msg and "forbidden global " in msg and ".system" in msg and "do not use it" in msg, msg
    assert not marker.exists()


@pytest.mark.parametrize("obj,shown", [
    ([1, 2, 3], "a pickled list, not a dict"),
    ({"data": np.zeros((6, 100), np.uint8), "labels": [0] * 6}, "expected a uint8 array of shape (n, 3072)"),
    ({"data": np.zeros((6, 3072), np.float32), "labels": [0] * 6}, "'data' is a float32 array"),
    ({"data": np.zeros((6, 3072), np.uint8), "labels": [0] * 5}, "'labels' must be 6 integers in 0..9"),
    ({"data": np.zeros((6, 3072), np.uint8), "labels": [11] * 6}, "'labels' must be 6 integers in 0..9"),
    ({"data": np.zeros((6, 3072), np.uint8)}, "expected 'data' and 'labels'"),
])
def test_cifar10_malformed_batches_are_named(tmp_path, obj, shown):
    root = _cifar_folder(tmp_path / "cifar")
    bad = root / "cifar-10-batches-py" / "data_batch_4"
    bad.write_bytes(pickle.dumps(obj))
    with pytest.raises(ValueError) as err:
        load_dataset("cifar10", root=root, verify=False)
    assert str(bad) in str(err.value) and shown in str(err.value)


def test_image_folder(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(2)
    for cls in ("cat", "dog", "fox"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(5):
            img = Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8))
            img.save(tmp_path / "imgs" / cls / f"{i}.png")
    Image.fromarray(rng.integers(0, 256, (9, 9), dtype=np.uint8)).save(tmp_path / "imgs" / "fox" / "gray.png")
    ds = load_dataset("imagefolder", root=tmp_path / "imgs", image_size=(8, 8))
    assert ds.input_shape == (3, 8, 8) and ds.num_classes == 3
    assert len(ds.train) + len(ds.val) == 16
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset("imagefolder", root=tmp_path / "missing")
    (tmp_path / "emptyroot").mkdir()
    with pytest.raises(ValueError, match=r"0 class folder\(s\) \[\]; a classifier needs at least 2"):
        load_dataset("imagefolder", root=tmp_path / "emptyroot")


def _png(path, rng, size=(8, 8)):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)


def _class_tree(root, classes, n=3, seed=0):
    rng = np.random.default_rng(seed)
    for cls in classes:
        for i in range(n):
            _png(root / cls / f"{i}.png", rng)
    return root


def test_image_folder_train_val_layout(tmp_path):
    _class_tree(tmp_path / "ds" / "train", ("ant", "bee", "cow"), n=4)
    _class_tree(tmp_path / "ds" / "val", ("ant", "bee", "cow"), n=2, seed=1)
    (tmp_path / "ds" / "train" / "bee" / "notes.txt").write_text("not an image, ignored")
    _png(tmp_path / "ds" / "val" / "cow" / "nested" / "deep.PNG", np.random.default_rng(3), size=(5, 7))
    ds = load_dataset("imagefolder", root=tmp_path / "ds", image_size=(6, 6))
    assert ds.num_classes == 3 and ds.input_shape == (3, 6, 6)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (12, 7, 7)
    assert ds.train.y.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert ds.val.y.tolist() == [0, 0, 1, 1, 2, 2, 2]
    assert ds.train.x.dtype == torch.uint8 and ds.name == "imagefolder:ds"


@pytest.mark.parametrize("present,absent", [("train", "val"), ("val", "train")])
def test_image_folder_half_split_layout(tmp_path, present, absent):
    root = tmp_path / "ds"
    _class_tree(root / present, ("ant", "bee"))
    _class_tree(root, ("extra",))  # a class beside train/ must not turn it into a 2-class folder
    with pytest.raises(ValueError) as err:
        load_dataset("imagefolder", root=root)
    msg = str(err.value)
    assert f"found {present}/ without {absent}/" in msg and str(root) in msg
    assert f"add {root / absent}/<class>/..." in msg and "20% of its images are held out" in msg


@pytest.mark.parametrize("layout", ["flat", "train", "val"])
def test_image_folder_needs_two_classes(tmp_path, layout):
    root = tmp_path / "ds"
    if layout == "flat":
        _class_tree(root, ("only",))
        where = f"image folder {root} "
    else:
        _class_tree(root / "train", ("only",) if layout == "train" else ("a", "b"))
        _class_tree(root / "val", ("only",) if layout == "val" else ("a", "b"))
        where = f"{layout} split {root / layout} "
    with pytest.raises(ValueError) as err:
        load_dataset("imagefolder", root=root)
    msg = str(err.value)
    assert msg.startswith(where) and "1 class folder(s) ['only']" in msg and "at least 2" in msg
    assert "<root>/<class>/<image files>" in msg and "<root>/val/<class>/..." in msg


@pytest.mark.parametrize("layout", ["flat", "train", "val"])
def test_image_folder_empty_class(tmp_path, layout):
    root = tmp_path / "ds"
    folder = root if layout == "flat" else root / layout
    if layout != "flat":
        _class_tree(root / ("val" if layout == "train" else "train"), ("a", "b", "c"))
    _class_tree(folder, ("a", "c"))
    (folder / "b").mkdir()
    (folder / "b" / "readme.txt").write_text("no images here")
    with pytest.raises(FileNotFoundError) as err:
        load_dataset("imagefolder", root=root)
    msg = str(err.value)
    where = f"image folder {root}:" if layout == "flat" else f"{layout} split {folder}:"
    assert msg.startswith(where) and f"[{str(folder / 'b')!r}] hold no image files" in msg
    assert ".jpg" in msg and ".png" in msg and str(folder / "a") not in msg and str(folder / "c") not in msg


@pytest.mark.parametrize("content", [b"this is not a png", "truncated"])
def test_image_folder_corrupt_file(tmp_path, content):
    root = _class_tree(tmp_path / "ds", ("a", "b"))
    bad = root / "b" / "broken.png"
    if content == "truncated":
        good = (root / "b" / "0.png").read_bytes()
        _png(bad, np.random.default_rng(5), size=(64, 64))
        content = bad.read_bytes()[: len(good) // 2 + 60]
    bad.write_bytes(content)
    with pytest.raises(ValueError) as err:
        load_dataset("imagefolder", root=root)
    msg = str(err.value)
    assert str(bad) in msg and "remove or replace the file" in msg and msg.startswith(f"image folder {root}:")


def test_image_folder_train_val_classes_differ(tmp_path):
    root = tmp_path / "ds"
    _class_tree(root / "train", ("ant", "bee", "cow"))
    _class_tree(root / "val", ("ant", "bee", "dog"))
    with pytest.raises(ValueError) as err:
        load_dataset("imagefolder", root=root)
    msg = str(err.value)
    assert "missing from val/: ['cow']" in msg and "missing from train/: ['dog']" in msg
    (root / "val" / "dog").rename(root / "val" / "cow")
    assert load_dataset("imagefolder", root=root).num_classes == 3
    _class_tree(root / "val", ("eel",))
    with pytest.raises(ValueError, match=r"; missing from train/: \['eel'\]; add the missing class folders"):
        load_dataset("imagefolder", root=root)
