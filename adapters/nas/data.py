"""Datasets for the NAS trainer, loaded into memory as tensors (nothing downloads).

* ``digits``: scikit-learn's 1797 8x8 digits (embedded; the default), fixed
  60/20/20 train/val/test split.
* ``mnist`` / ``fashion-mnist``: the four idx files (raw or ``.gz``) in a folder:
  ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``.
* ``cifar10``: the official python version, ``<root>/cifar-10-batches-py/``.
  Those batches are Python pickles; moopt reads them with a restricted unpickler
  that builds numpy arrays, lists and strings only, so a planted payload is
  refused, never run (see docs/security.md); the MD5 sums are checked unless
  ``verify=False``.
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
import hashlib
import os
import pickle
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

#: MD5 sums of the official CIFAR-10 python files (as torchvision.datasets.CIFAR10 lists them)
CIFAR_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}

#: the only globals a CIFAR-10 batch pickle may name: numpy array and dtype reconstruction (numpy 1
#: and 2 module names), and the bytes decoder of protocol-2 pickles written by Python 3
CIFAR_PICKLE_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("_codecs", "encode"),
})


class _CifarUnpickler(pickle.Unpickler):
    """An unpickler that builds only plain data and numpy arrays (CIFAR-10 batches hold nothing else).

    Any other global (``os.system``, ``builtins.eval``, a class with a ``__reduce__``) raises
    :class:`pickle.UnpicklingError` before anything is called, so a planted payload never runs.
    """

    def find_class(self, module: str, name: str):
        if (module, name) not in CIFAR_PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"forbidden global {module}.{name}")
        return super().find_class(module, name)


def read_cifar_pickle(path) -> dict:
    """Read one CIFAR-10 python file with :class:`_CifarUnpickler` (data only, never code).

    Keys are returned as ``str`` (``"data"``, ``"labels"``, ``"label_names"``), whether the file was
    written by Python 2 (the official files) or 3.

    Raises:
        ValueError: the file names a forbidden global (the message names the file and the global),
            is not a pickle of a dict, or is truncated.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            obj = _CifarUnpickler(f, encoding="latin1").load()
    except pickle.UnpicklingError as exc:
        if str(exc).startswith("forbidden global"):
            raise ValueError(f"CIFAR-10 file {path} is refused: it names the {exc}, which a CIFAR-10 batch never "
                             "contains (only numpy arrays, lists and strings); the file may be an attack: do not "
                             f"use it; download the official files again. {CIFAR_LAYOUT}.") from None
        raise ValueError(f"CIFAR-10 file {path} is malformed (not a pickle: {exc}); {CIFAR_LAYOUT}.") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError, MemoryError) as exc:
        raise ValueError(f"CIFAR-10 file {path} is malformed ({type(exc).__name__}: {exc}); {CIFAR_LAYOUT}.") from None
    if not isinstance(obj, dict):
        raise ValueError(f"CIFAR-10 file {path} is malformed (a pickled {type(obj).__name__}, not a dict); "
                         f"{CIFAR_LAYOUT}.")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(images (n, 3, 32, 32) uint8, labels (n,) int64)`` of one batch file, shapes and labels checked."""
    d = read_cifar_pickle(path)
    if "data" not in d or "labels" not in d:
        raise ValueError(f"CIFAR-10 file {path} is malformed (keys {sorted(map(str, d))}; expected 'data' and "
                         f"'labels'); {CIFAR_LAYOUT}.")
    data, labels = d["data"], d["labels"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        shown = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(f"CIFAR-10 file {path}: 'data' is a {shown}; expected a uint8 array of shape (n, 3072); "
                         f"{CIFAR_LAYOUT}.")
    try:
        y = np.asarray(labels)
        ok = y.ndim == 1 and y.dtype.kind in "iu" and len(y) == len(data) and (len(y) == 0 or
                                                                               (y.min() >= 0 and y.max() <= 9))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"CIFAR-10 file {path}: 'labels' must be {len(data)} integers in 0..9 (one per image); "
                         f"{CIFAR_LAYOUT}.")
    return data.reshape(-1, 3, 32, 32), y.astype(np.int64)


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_cifar10(root, *, verify: bool = True) -> Dataset:
    """CIFAR-10 in the official python format, read as data only (a restricted unpickler).

    The batch files are Python pickles; moopt reads them with an unpickler that admits numpy arrays,
    lists and strings and nothing else (:func:`read_cifar_pickle`), whatever ``verify`` says, so a
    file that would run code on loading is refused (a ValueError naming the file and the global).

    Args:
        root: Folder holding ``cifar-10-batches-py/``.
        verify: Check the official MD5 sums (turn off for re-packed or tiny test copies).
    """
    root = Path(root)
    base = root / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
    missing = [n for n in names if not (base / n).is_file()]
    if missing:
        raise FileNotFoundError(f"CIFAR-10 files {missing} not found; {CIFAR_LAYOUT}.")
    if verify:
        bad = [n for n in names if _md5(base / n) != CIFAR_MD5[n]]
        if bad:
            raise ValueError(f"CIFAR-10 in {root} failed its integrity check (MD5 of {bad} differs from the official "
                             f"files); {CIFAR_LAYOUT}; pass verify=False for a re-packed copy.")
    read_cifar_pickle(base / "batches.meta")  # refused like the batches if it names anything but data
    parts = [_cifar_batch(base / f"data_batch_{i}") for i in range(1, 6)]
    tx = torch.from_numpy(np.ascontiguousarray(np.concatenate([x for x, _ in parts])))
    ty = torch.from_numpy(np.concatenate([y for _, y in parts]))
    train, val = _split_val(tx, ty)
    x_test, y_test = _cifar_batch(base / "test_batch")
    test = Split(torch.from_numpy(np.ascontiguousarray(x_test)), torch.from_numpy(y_test))
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
