"""Datasets for the NAS trainer, loaded into memory as tensors (nothing downloads).

* ``digits``: scikit-learn's 1797 8x8 digits (embedded; the default), fixed
  60/20/20 train/val/test split.
* ``mnist`` / ``fashion-mnist``: the four idx files (raw or ``.gz``) in a folder:
  ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``.
* ``cifar10``: the official python version, ``<root>/cifar-10-batches-py/``
  (read by ``torchvision.datasets.CIFAR10(download=False)``; those batches are
  Python pickles, so load only copies you trust).
* ``imagefolder``: ``<root>/<class>/<image>`` (the rules of ``torchvision.datasets.ImageFolder``),
  resized to ``image_size``, as RGB.  Either a folder of class folders (20% of
  its images, a fixed permutation with seed 0, are held out for validation) or
  the split layout ``<root>/train/<class>/...`` + ``<root>/val/<class>/...``
  (val is also the test split).  A clear error, not a silently wrong dataset, for:
  ``train/`` without ``val/`` or the reverse (else ``train`` would be read as
  a class); fewer than 2 classes; train and val class folders that differ; a
  class folder without image files (``.jpg .jpeg .png .ppm .bmp .pgm .tif
  .tiff .webp``, any case; FileNotFoundError); a file with an image extension
  that PIL cannot read (named, to remove or replace).

Validation for mnist/cifar10 is the last 10% of a fixed permutation (seed 0)
of the training set; the test split is the official test set (digits: its own 20%).

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
IMAGEFOLDER_LAYOUT = ("expected <root>/<class>/<image files> with one folder per class, at least 2 classes "
                      "(20% of the images are held out for validation), or <root>/train/<class>/... and "
                      "<root>/val/<class>/... with the same class folders")


def _image_extensions() -> tuple[str, ...]:
    """The file extensions read as images (torchvision's ``IMG_EXTENSIONS``, any letter case)."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    return tuple(IMG_EXTENSIONS)


def _split_folders(root: Path) -> Optional[tuple[Path, Path]]:
    """``(root/train, root/val)`` for the split layout, ``None`` for a folder of class folders.

    Raises:
        ValueError: only one of ``train/`` and ``val/`` exists (the other would be read as a class).
    """
    train, val = root / "train", root / "val"
    if train.is_dir() and val.is_dir():
        return train, val
    for found, missing in ((train, val), (val, train)):
        if found.is_dir():
            raise ValueError(
                f"image folder {root}: found {found.name}/ without {missing.name}/; add {missing}/<class>/... "
                f"with the same class folders as {found.name}/, or point root at a folder of class folders "
                f"directly (e.g. {found}; then 20% of its images are held out for validation).")
    return None


def _class_folders(folder: Path, where: str) -> list[str]:
    """The sorted class folder names of ``folder`` (as ``ImageFolder`` finds them); at least 2."""
    classes = sorted(e.name for e in os.scandir(folder) if e.is_dir())
    if len(classes) < 2:
        raise ValueError(f"{where} has {len(classes)} class folder(s) {classes}; a classifier needs at least 2; "
                         f"{IMAGEFOLDER_LAYOUT}.")
    return classes


def _image_files(folder: Path) -> list[str]:
    """Image files under ``folder`` (recursive, symlinks followed) in ``ImageFolder``'s order."""
    exts = _image_extensions()
    return [os.path.join(d, f) for d, _, files in sorted(os.walk(folder, followlinks=True))
            for f in sorted(files) if f.lower().endswith(exts)]


def _image_samples(folder: Path, classes: list[str], where: str) -> list[tuple[str, int]]:
    """``(path, class index)`` of every image; raises when a class folder holds none."""
    samples: list[tuple[str, int]] = []
    empty: list[str] = []
    for i, cls in enumerate(classes):
        files = _image_files(folder / cls)
        if not files:
            empty.append(str(folder / cls))
        samples.extend((f, i) for f in files)
    if empty:
        raise FileNotFoundError(f"{where}: class folder(s) {empty} hold no image files (accepted extensions: "
                                f"{', '.join(_image_extensions())}, any case); add images or remove the folder(s).")
    return samples


def _read_image(path: str, where: str):
    """Open ``path`` as an RGB PIL image; a corrupt or non-image file raises ValueError naming it."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, Image.DecompressionBombError) as exc:
        raise ValueError(f"{where}: cannot read image file {path} ({type(exc).__name__}: {exc}); "
                         "remove or replace the file.") from None


def _load_imagefolder(folder: Path, size, classes: list[str], where: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Every image of ``folder/<class>/`` resized to ``size`` as uint8 RGB ``(n, 3, h, w)``, with labels."""
    from torchvision import transforms

    samples = _image_samples(folder, classes, where)
    tf = transforms.Compose([transforms.Resize(tuple(size)), transforms.PILToTensor()])
    xs = [tf(_read_image(path, where)) for path, _ in samples]
    return torch.stack(xs), torch.tensor([y for _, y in samples], dtype=torch.long)


def _same_classes(root: Path, classes: list[str], vclasses: list[str]) -> None:
    if vclasses == classes:
        return
    gaps = [f"missing from {split}/: {sorted(set(a) - set(b))}"
            for split, a, b in (("val", classes, vclasses), ("train", vclasses, classes)) if set(a) - set(b)]
    raise ValueError(f"image folder {root}: train/ and val/ must hold the same class folders; {'; '.join(gaps)}; "
                     "add the missing class folders (with images) or remove the extra ones.")


def load_image_folder(root, *, image_size=(32, 32)) -> Dataset:
    """Class-labelled images in ``root/<class>/...`` (or ``root/train`` and ``root/val``), as RGB.

    Raises:
        FileNotFoundError: ``root`` is missing, or a class folder holds no image file.
        ValueError: ``train/`` without ``val/`` (or the reverse), fewer than 2 classes, train and val
            classes that differ, or a file that cannot be read as an image (the message names it).
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist; {IMAGEFOLDER_LAYOUT}.")
    split = _split_folders(root)
    if split is not None:
        classes = _class_folders(split[0], f"train split {split[0]}")
        _same_classes(root, classes, _class_folders(split[1], f"val split {split[1]}"))
        train = Split(*_load_imagefolder(split[0], image_size, classes, f"train split {split[0]}"))
        val = Split(*_load_imagefolder(split[1], image_size, classes, f"val split {split[1]}"))
    else:
        classes = _class_folders(root, f"image folder {root}")
        train, val = _split_val(*_load_imagefolder(root, image_size, classes, f"image folder {root}"), 0.2)
    mean, std = _stats(train.x, 255.0)
    return Dataset(f"imagefolder:{root.name}", train, val, val, len(classes), 255.0, mean, std, True)


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
