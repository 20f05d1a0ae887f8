"""Tests for spectral.data: real verified MNIST/Fashion-MNIST, and every failure on small synthetic IDX files."""
import gzip
import hashlib

import numpy as np
import pytest
import torch

from spectral import data


def idx_bytes(array: np.ndarray) -> bytes:
    """Serialise a uint8 array as an IDX file (magic 0x0803 images / 0x0801 labels)."""
    header = (0x800 + array.ndim).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A data dir with four tiny synthetic IDX files whose checksums are declared canonical."""
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (6, 28, 28)), "train-labels-idx1-ubyte": rng.integers(0, 10, 6),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (3, 28, 28)), "t10k-labels-idx1-ubyte": rng.integers(0, 10, 3)}
    sums = {}
    (tmp_path / "mnist").mkdir()
    for name, arr in arrays.items():
        raw = idx_bytes(arr)
        sums[name] = hashlib.sha256(raw).hexdigest()
        (tmp_path / "mnist" / f"{name}.gz").write_bytes(gzip.compress(raw))
    monkeypatch.setitem(data.SHA256, "mnist", sums)
    monkeypatch.setenv("SPECTRAL_CACHE_DIR", str(tmp_path / "empty-cache"))
    return tmp_path, arrays


def test_synthetic_files_load(fake_mnist):
    """Well-formed gz IDX files load as float32 in [0, 1] and int64 labels."""
    root, arrays = fake_mnist
    x, y = data.load("mnist", "train", data_dir=root)
    assert x.dtype == torch.float32 and x.shape == (6, 784) and y.dtype == torch.int64
    torch.testing.assert_close(x, torch.from_numpy(arrays["train-images-idx3-ubyte"].reshape(6, -1) / 255.0).float())
    assert torch.equal(y, torch.from_numpy(arrays["train-labels-idx1-ubyte"]).long())


def test_missing_file(fake_mnist):
    """A missing file names itself and how to get it."""
    root, _ = fake_mnist
    (root / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataError, match=r"t10k-labels-idx1-ubyte: not found .*fetch-data mnist"):
        data.load("mnist", "test", data_dir=root)


def test_truncated_gzip(fake_mnist):
    root, _ = fake_mnist
    path = root / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(data.DataError, match="train-images-idx3-ubyte.gz: cannot decompress"):
        data.load("mnist", "train", data_dir=root)


def test_truncated_payload(fake_mnist):
    """A plain IDX file shorter than its header says is refused as truncated."""
    root, arrays = fake_mnist
    (root / "mnist" / "train-images-idx3-ubyte.gz").unlink()
    (root / "mnist" / "train-images-idx3-ubyte").write_bytes(idx_bytes(arrays["train-images-idx3-ubyte"])[:-5])
    with pytest.raises(data.DataError, match="truncated"):
        data.load("mnist", "train", data_dir=root)


def test_wrong_magic(fake_mnist):
    root, arrays = fake_mnist
    raw = bytearray(idx_bytes(arrays["train-labels-idx1-ubyte"]))
    raw[2] = 0x09
    (root / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(data.DataError, match="wrong magic number 0x00000901"):
        data.load("mnist", "train", data_dir=root)


def test_checksum_mismatch_names_both_sums(fake_mnist):
    """A well-formed file with other pixels fails on its checksum, naming expected and actual values."""
    root, arrays = fake_mnist
    other = idx_bytes(arrays["t10k-images-idx3-ubyte"] ^ 1)
    (root / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(other))
    expected = data.SHA256["mnist"]["t10k-images-idx3-ubyte"]
    with pytest.raises(data.DataError, match=f"expected sha256 {expected}, got {hashlib.sha256(other).hexdigest()}"):
        data.load("mnist", "test", data_dir=root)


def test_fetch_copies_verified_payload_to_cache(fake_mnist, tmp_path):
    """fetch-data decompresses verified files into the cache and reports their source."""
    root, _ = fake_mnist
    cache = tmp_path / "cache"
    sources = data.fetch("mnist", data_dir=root, cache=cache, log=lambda *_: None)
    assert set(sources) == set(data.SHA256["mnist"]) and all(s.startswith("data_dir") for s in sources.values())
    for name, digest in data.SHA256["mnist"].items():
        assert hashlib.sha256((cache / "mnist" / name).read_bytes()).hexdigest() == digest
    assert not list((cache / "mnist").glob("*.tmp"))


def test_fetch_writes_nothing_for_corrupt_source(fake_mnist, tmp_path):
    root, arrays = fake_mnist
    (root / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(arrays["train-labels-idx1-ubyte"] ^ 1)))
    cache = tmp_path / "cache2"
    with pytest.raises(data.DataError, match="checksum mismatch"):
        data.fetch("mnist", data_dir=root, cache=cache, log=lambda *_: None)
    assert not (cache / "mnist" / "train-labels-idx1-ubyte").exists()


def test_unknown_dataset_and_split():
    with pytest.raises(ValueError, match="dataset must be one of"):
        data.load("kmnist", "train")
    with pytest.raises(ValueError, match="split must be one of"):
        data.load("mnist", "validation")


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_real_data(name):
    """The cached real datasets verify and have the canonical shapes and class balance."""
    x_tr, y_tr = data.load(name, "train")
    x_te, y_te = data.load(name, "test")
    assert x_tr.shape == (60000, 784) and x_te.shape == (10000, 784)
    assert 0 <= x_tr.min() and x_tr.max() == 1
    assert torch.bincount(y_tr).tolist() == ([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
                                             if name == "mnist" else [6000] * 10)
    assert torch.bincount(y_te).sum() == 10000
