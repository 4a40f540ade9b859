"""The digits that ``train_lenet`` learns from and is graded on.

``load_mnist(split)`` returns real MNIST digits as LeNet-5 expects them: ``X`` float64
of shape (N, 1, 32, 32) in [0, 1] (each 28x28 digit zero-padded by 2 pixels on every
side) and ``y`` int64 of shape (N,).

By default the digits come from ``mnist5000.npz`` (5,000 MNIST training digits, 500
per class, shipped with the kit; see ``datasets/README.md``), looked up in the
folder named by the environment variable ``KIT_DATA_DIR`` if it is set, else in
``<repo root>/datasets``. Its splits are fixed: the same seeded, stratified split on
every machine.

========== ===================================== ==============================
split      mnist5000.npz (default)               ``path=`` folder of IDX files
========== ===================================== ==============================
"train"    4,000 digits, 400 per class           the 60,000 training digits
"heldout"  1,000 digits, 100 per class           the 10,000 test (t10k) digits
"all"      all 5,000, in file order              train then t10k
========== ===================================== ==============================

Why 4,000 / 1,000: 100 held-out digits per class keep the grade's noise low (at 96%
accuracy, where full marks start, the standard error of the measured accuracy is about
0.6 points, against 0.9 with 500), while 4,000 training digits are still enough for
LeNet-5 to reach about 98%.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sysconfig
import zlib
from pathlib import Path

import numpy as np

from grader import i18n
from grader.config import ROOT
from grader.i18n import _

__all__ = ["load_mnist", "read_idx", "data_dir", "MNIST5000_SHA256", "SPLITS"]

MNIST5000_FILE = "mnist5000.npz"
#: sha256 of ``mnist5000.npz`` as ``datasets/build_mnist.py`` writes it.
MNIST5000_SHA256 = "63818dc867dd7ee1181196c2588842f34debadc19cc80dc16b1dc1401cbb62c4"
SPLITS = ("train", "heldout", "all")
HELDOUT_PER_CLASS = 100
SPLIT_SEED = 20240517  # fixes the split forever: changing it changes every grade

# IDX element types: the third byte of the magic number -> big-endian dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def data_dir() -> Path:
    """The folder holding ``mnist5000.npz``: ``$KIT_DATA_DIR`` if set; else the kit's
    ``datasets/`` (a checkout, an editable install); else where a non-editable install or a
    wheel put it (``<environment>/share/cnn-exercise-kit``)."""
    env = os.environ.get("KIT_DATA_DIR")
    if env:
        return Path(env)
    kit = ROOT / "datasets"
    if (kit / MNIST5000_FILE).is_file():
        return kit
    return Path(sysconfig.get_path("data")) / "share" / "cnn-exercise-kit"


def load_mnist(split: str = "train", path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)`` for ``split`` ("train", "heldout" or "all").

    ``X`` is float64 (N, 1, 32, 32) in [0, 1], ``y`` int64 (N,) with labels 0-9.
    ``path=None`` reads the kit's ``mnist5000.npz`` (its sha256 is checked); ``path``
    may instead name a folder holding the standard MNIST IDX files
    (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte``, each optionally ``.gz``). Each call returns fresh arrays.
    Its errors speak the notebook's language (:func:`grader.i18n.speaking_as_installed`).
    """
    with i18n.speaking_as_installed():
        return _load_mnist(split, path)


def _load_mnist(split: str, path) -> tuple[np.ndarray, np.ndarray]:
    if split not in SPLITS:
        raise ValueError(_("split must be one of {splits}, not {split}").format(splits=SPLITS, split=repr(split)))
    if path is None:
        images, labels = _load_mnist5000()
        if split != "all":
            train_idx, heldout_idx = _split_indices(labels)
            idx = train_idx if split == "train" else heldout_idx
            images, labels = images[idx], labels[idx]
    else:
        folder = Path(path)
        if not folder.is_dir():
            raise FileNotFoundError(_("path={path} is not a folder of MNIST IDX files").format(path=repr(str(path))))
        parts = {"train": ["train"], "heldout": ["t10k"], "all": ["train", "t10k"]}[split]
        pairs = [_load_idx_pair(folder, prefix) for prefix in parts]
        images = np.concatenate([p[0] for p in pairs])
        labels = np.concatenate([p[1] for p in pairs])
    return _to_lenet(images), labels.astype(np.int64)


def _to_lenet(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float64 (N, 1, 32, 32) in [0, 1], zero border of 2."""
    X = np.zeros((images.shape[0], 1, 32, 32))
    X[:, 0, 2:30, 2:30] = images / 255.0
    return X


def _split_indices(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seeded, stratified split: HELDOUT_PER_CLASS random digits of each class are held
    out. Both parts come in one fixed random order (not sorted by class)."""
    rng = np.random.default_rng(SPLIT_SEED)
    held = np.zeros(labels.shape[0], dtype=bool)
    for c in range(10):
        held[rng.choice(np.flatnonzero(labels == c), HELDOUT_PER_CLASS, replace=False)] = True
    order = rng.permutation(labels.shape[0])
    return order[~held[order]], order[held[order]]


def _load_mnist5000() -> tuple[np.ndarray, np.ndarray]:
    file = data_dir() / MNIST5000_FILE
    if not file.is_file():
        raise FileNotFoundError(_(
            "MNIST digits not found at {file}. Put the kit's {name} there, or set KIT_DATA_DIR to the "
            "folder holding it (maintainers: python datasets/build_mnist.py rebuilds it).").format(
            file=file, name=MNIST5000_FILE))
    blob = file.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != MNIST5000_SHA256:
        raise ValueError(_(
            "{file} is corrupt or not the kit's file: sha256 {digest}, expected {expected}. Replace it "
            "with the kit's {name}.").format(file=file, digest=digest, expected=MNIST5000_SHA256,
                                             name=MNIST5000_FILE))
    with np.load(file, allow_pickle=False) as npz:
        return npz["images"], npz["labels"]


def _find_idx(folder: Path, prefix: str, kind: str) -> Path:
    ndim = 3 if kind == "images" else 1
    names = [f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"]
    for name in names:
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(_("no {name} (or .gz) in {folder}").format(name=names[0], folder=folder))


def _load_idx_pair(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(_find_idx(folder, prefix, "images"))
    labels = read_idx(_find_idx(folder, prefix, "labels"))
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(_("{prefix} images: expected uint8 (N, 28, 28), got {dtype} {shape}").format(
            prefix=prefix, dtype=images.dtype, shape=images.shape))
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(_("{prefix} labels: expected uint8 (N,), got {dtype} {shape}").format(
            prefix=prefix, dtype=labels.dtype, shape=labels.shape))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(_("{prefix}: {images} images but {labels} labels").format(
            prefix=prefix, images=images.shape[0], labels=labels.shape[0]))
    if labels.size and labels.max() > 9:
        raise ValueError(_("{prefix} labels: found label {label}, expected 0-9").format(prefix=prefix, label=labels.max()))
    return images, labels


def read_idx(file: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped if its name ends in ``.gz``) into a native-endian array.

    Layout: two zero bytes, a type byte, a byte giving the number of dimensions, then
    each dimension as a big-endian uint32, then the data, big-endian, row-major.
    """
    file = Path(file)
    try:
        raw = gzip.decompress(file.read_bytes()) if file.suffix == ".gz" else file.read_bytes()
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{file}: " + _("cannot read ({error})").format(error=e)) from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{file}: " + _("not an IDX file (bad magic number {magic})").format(
            magic=raw[:4].hex() or "empty"))
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_DTYPES:
        raise ValueError(f"{file}: " + _("unknown IDX element type {code}").format(code=f"0x{type_code:02x}"))
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"{file}: " + _("truncated IDX header"))
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{file}: " + _("{size} bytes, but a {dtype} array of shape {shape} needs {expected}").format(
            size=len(raw), dtype=dtype, shape=shape, expected=expected))
    data = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))
