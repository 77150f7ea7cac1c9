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
    with pytest.raises(FileNotFoundError, match="class_name"):
        load_dataset("imagefolder", root=tmp_path / "missing")
    (tmp_path / "emptyroot").mkdir()
    with pytest.raises(FileNotFoundError, match="class_name"):
        load_dataset("imagefolder", root=tmp_path / "emptyroot")
