"""Datasets for the NAS trainer, loaded into memory as tensors (nothing downloads).

* ``digits``: scikit-learn's 1797 8x8 digits (embedded; the default), fixed
  60/20/20 train/val/test split.
* ``mnist`` / ``fashion-mnist``: the four idx files (raw or ``.gz``) in a folder:
  ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``.
* ``cifar10``: the official python version, ``<root>/cifar-10-batches-py/``
  (read by ``torchvision.datasets.CIFAR10(download=False)``; those batches are
  Python pickles, so load only copies you trust).
* ``imagefolder``: ``<root>/<class>/<image>`` (``torchvision.datasets.ImageFolder``),
  resized to ``image_size``; a ``train/`` + ``val/`` split layout is used when present.

Validation for mnist/cifar10/imagefolder-without-val is the last 10% of a
fixed permutation (seed 0) of the training set; the test split is the
official test set (digits: its own 20%).

Example:
    >>> ds = load_dataset("digits")
    >>> ds.input_shape, ds.num_classes, len(ds.train)
    ((1, 8, 8), 10, 1078)
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import numpy as np
import torch

if TYPE_CHECKING:
    from numpy.typing import DTypeLike


def shared_data_dir() -> Path:
    """The shared data folder: ``$MOOPT_DATA_DIR`` or ``../shared/data`` beside the repository."""
    env = os.environ.get("MOOPT_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@dataclass
class Split:
    """Inputs ``x`` of shape ``(n, c, h, w)`` (uint8 or float) and labels ``y`` of shape ``(n,)``."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, n: Optional[int]) -> "Split":
        return self if n is None or n >= len(self) else Split(self.x[:n], self.y[:n])


@dataclass
class Dataset:
    """An in-memory image classification dataset.

    Attributes:
        name: Dataset name.
        train, val, test: Splits.
        num_classes: Number of classes.
        scale: Raw value that maps to 1.0 (255 for bytes, 16 for digits).
        mean, std: Per-channel normalization after scaling.
        flip: Whether horizontal flips preserve labels (natural images).
    """

    name: str
    train: Split
    val: Split
    test: Split
    num_classes: int
    scale: float = 255.0
    mean: tuple = (0.5,)
    std: tuple = (0.5,)
    flip: bool = False

    @property
    def input_shape(self) -> tuple:
        return tuple(int(v) for v in self.train.x.shape[1:])

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Raw batch ``(n, c, h, w)`` -> normalized float32."""
        x = x.float() / self.scale
        m = torch.tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1)
        s = torch.tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1)
        return (x - m) / s

    def subset(self, *, train: Optional[int] = None, val: Optional[int] = None,
               test: Optional[int] = None) -> "Dataset":
        """The first ``train``/``val``/``test`` examples of each split (for quick runs)."""
        return Dataset(self.name, self.train.subset(train), self.val.subset(val), self.test.subset(test),
                       self.num_classes, self.scale, self.mean, self.std, self.flip)


def _stats(x: torch.Tensor, scale: float) -> tuple[tuple, tuple]:
    xf = x.float() / scale
    mean = xf.mean(dim=(0, 2, 3))
    std = xf.std(dim=(0, 2, 3)).clamp_min(1e-3)
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def _split_val(x, y, fraction=0.1):
    n = len(y)
    perm = torch.from_numpy(np.random.default_rng(0).permutation(n))
    n_val = max(1, int(round(n * fraction)))
    tr, va = perm[: n - n_val], perm[n - n_val:]
    return Split(x[tr], y[tr]), Split(x[va], y[va])


def load_digits() -> Dataset:
    """scikit-learn's 8x8 digits with a fixed 60/20/20 split (permutation seed 0)."""
    from sklearn.datasets import load_digits as _ld

    d = _ld()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(d.target, dtype=torch.long)
    perm = torch.from_numpy(np.random.default_rng(0).permutation(len(y)))
    n = len(y)
    a, b = int(0.6 * n), int(0.8 * n)
    tr, va, te = perm[:a], perm[a:b], perm[b:]
    train = Split(x[tr], y[tr])
    mean, std = _stats(train.x, 16.0)
    return Dataset("digits", train, Split(x[va], y[va]), Split(x[te], y[te]), 10, 16.0, mean, std, False)


# --------------------------------------------------------------------------- idx (MNIST)
IDX_FILES = {
    "train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte",
}


def _idx_layout(root) -> str:
    return (f"expected in {root}: " + ", ".join(f"{v}[.gz]" for v in IDX_FILES.values())
            + " (the MNIST / Fashion-MNIST idx files)")


def read_idx(path) -> np.ndarray:
    """Read one idx file (raw or gzip) into a numpy array of its dtype and shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path} is not an idx file (bad magic number {data[:4]!r}).")
    dtypes: dict[int, DTypeLike] = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    code, ndim = data[2], data[3]
    if code not in dtypes:
        raise ValueError(f"{path}: unknown idx type code 0x{code:02x}.")
    dims = struct.unpack(f">{ndim}I", data[4: 4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=dtypes[code], offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says shape {dims} but the file holds {arr.size} values (truncated?).")
    return arr.reshape(dims)


def _find(root: Path, stem: str) -> Path:
    for cand in (root / stem, root / (stem + ".gz"), root / stem.replace("-idx", ".idx")):
        if cand.is_file():
            return cand
    raise FileNotFoundError(f"missing {stem}[.gz]; {_idx_layout(root)}.")


def load_idx_folder(root, *, name: str = "mnist") -> Dataset:
    """MNIST-format idx files in ``root`` (raw or gzipped)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder {root} does not exist; {_idx_layout(root)}.")
    arrays = {k: read_idx(_find(root, v)) for k, v in IDX_FILES.items()}
    for part in ("train", "test"):
        x, y = arrays[f"{part}_x"], arrays[f"{part}_y"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{root}: {part} images {x.shape} and labels {y.shape} do not match; {_idx_layout(root)}.")
    tx = torch.from_numpy(arrays["train_x"].astype(np.uint8)).unsqueeze(1)
    ty = torch.from_numpy(arrays["train_y"].astype(np.int64))
    train, val = _split_val(tx, ty)
    test = Split(torch.from_numpy(arrays["test_x"].astype(np.uint8)).unsqueeze(1),
                 torch.from_numpy(arrays["test_y"].astype(np.int64)))
    n_cls = int(max(ty.max(), test.y.max())) + 1
    mean, std = _stats(train.x, 255.0)
    return Dataset(name, train, val, test, n_cls, 255.0, mean, std, False)


# --------------------------------------------------------------------------- CIFAR-10
CIFAR_LAYOUT = ("expected <root>/cifar-10-batches-py/ with data_batch_1..data_batch_5, test_batch and "
                "batches.meta (the official 'CIFAR-10 python version')")


def load_cifar10(root, *, verify: bool = True) -> Dataset:
    """CIFAR-10 in the official python format via ``torchvision.datasets.CIFAR10(download=False)``.

    Args:
        root: Folder holding ``cifar-10-batches-py/``.
        verify: Check the official MD5 sums (turn off for re-packed or tiny test copies).
    """
    from torchvision.datasets import CIFAR10

    root = Path(root)
    base = root / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
    missing = [n for n in names if not (base / n).is_file()]
    if missing:
        raise FileNotFoundError(f"CIFAR-10 files {missing} not found; {CIFAR_LAYOUT}.")

    class _Cifar(CIFAR10):
        meta = CIFAR10.meta if verify else dict(CIFAR10.meta, md5=None)

        def _check_integrity(self):  # noqa: D401 - torchvision hook
            return super()._check_integrity() if verify else True

    try:
        tr = _Cifar(str(root), train=True, download=False)
        te = _Cifar(str(root), train=False, download=False)
    except RuntimeError as exc:
        raise ValueError(f"CIFAR-10 in {root} failed its integrity check ({exc}); {CIFAR_LAYOUT}; "
                         "pass verify=False for a re-packed copy.") from None
    except Exception as exc:  # malformed pickle / arrays
        raise ValueError(f"CIFAR-10 in {root} is malformed ({type(exc).__name__}: {exc}); {CIFAR_LAYOUT}.") from None
    tx = torch.from_numpy(np.ascontiguousarray(tr.data.transpose(0, 3, 1, 2)))
    ty = torch.tensor(tr.targets, dtype=torch.long)
    train, val = _split_val(tx, ty)
    test = Split(torch.from_numpy(np.ascontiguousarray(te.data.transpose(0, 3, 1, 2))),
                 torch.tensor(te.targets, dtype=torch.long))
    mean, std = _stats(train.x, 255.0)
    return Dataset("cifar10", train, val, test, 10, 255.0, mean, std, True)


# --------------------------------------------------------------------------- image folders
def _load_imagefolder(root: Path, size) -> tuple[torch.Tensor, torch.Tensor, list]:
    from torchvision import transforms
    from torchvision.datasets import ImageFolder

    try:
        ds = ImageFolder(str(root), transform=transforms.Compose(
            [transforms.Resize(tuple(size)), transforms.PILToTensor()]))
    except (FileNotFoundError, RuntimeError) as exc:
        raise FileNotFoundError(f"{exc}; expected <root>/<class_name>/<image files>.") from None
    xs, ys = [], []
    for i in range(len(ds)):
        x, y = ds[i]
        xs.append(x[:3] if x.shape[0] >= 3 else x.expand(3, -1, -1))
        ys.append(y)
    return torch.stack(xs), torch.tensor(ys, dtype=torch.long), ds.classes


def load_image_folder(root, *, image_size=(32, 32)) -> Dataset:
    """Class-labelled images in ``root/<class>/...`` (or ``root/train`` and ``root/val``), as RGB."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist; expected <root>/<class_name>/<image files>.")
    if (root / "train").is_dir() and (root / "val").is_dir():
        tx, ty, classes = _load_imagefolder(root / "train", image_size)
        vx, vy, vclasses = _load_imagefolder(root / "val", image_size)
        if vclasses != classes:
            raise ValueError(f"{root}: train classes {classes} differ from val classes {vclasses}.")
        train, val = Split(tx, ty), Split(vx, vy)
        test = val
    else:
        tx, ty, classes = _load_imagefolder(root, image_size)
        train, val = _split_val(tx, ty, 0.2)
        test = val
    mean, std = _stats(train.x, 255.0)
    return Dataset(f"imagefolder:{root.name}", train, val, test, len(classes), 255.0, mean, std, True)


DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "imagefolder")


def load_dataset(name: str = "digits", *, root=None, image_size=(32, 32), verify: bool = True) -> Dataset:
    """Load a dataset by name (see the module docstring for layouts).

    Args:
        name: One of :data:`DATASETS`.
        root: Folder of the files (every dataset but ``digits``).
        image_size: ``(h, w)`` for ``imagefolder``.
        verify: MD5 check for ``cifar10``.

    Raises:
        ValueError: unknown name or malformed files.
        FileNotFoundError: missing folder or files (the message names the layout).
    """
    if name == "digits":
        return load_digits()
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {list(DATASETS)}.")
    if root is None:
        raise ValueError(f"dataset {name!r} needs root= (the folder holding its files).")
    if name in ("mnist", "fashion-mnist"):
        return load_idx_folder(root, name=name)
    if name == "cifar10":
        return load_cifar10(root, verify=verify)
    return load_image_folder(root, image_size=image_size)
