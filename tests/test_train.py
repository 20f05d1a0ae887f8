"""Tests for spectral.train: determinism, records, learning on real MNIST, atomic writes."""
import json

import numpy as np
import pytest
import torch

from spectral.models import SCHEMES, build_model
from spectral.records import save_run, snapshot
from spectral.train import TrainConfig, epoch_batches, split_indices, train_single

SMALL = dict(train_subset=6000, test_subset=2000, epochs=1, batch_size=100)


def test_bit_identical_rerun():
    """Two runs with the same seed give bit-identical metrics and weights on CPU."""
    cfg = TrainConfig(sizes=[784, 32, 10], scheme="spectral-full", validation_fraction=0.1, lr=0.01, **SMALL)
    (m1, r1, _), (m2, r2, _) = train_single(cfg, 3, quiet=True), train_single(cfg, 3, quiet=True)
    assert r1["history"] == [{**h, "seconds": r1["history"][i]["seconds"]} for i, h in enumerate(r2["history"])]
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values()):
        assert torch.equal(a, b)
    _, r3, _ = train_single(cfg, 4, quiet=True)
    assert r3["final_test_accuracy"] != r1["final_test_accuracy"] or r3["history"] != r1["history"]


def test_initial_model_is_build_model_of_seed():
    """The run's starting point is build_model(sizes, scheme, seed=seed)."""
    cfg = TrainConfig(sizes=[784, 10], scheme="spectral-eigvals", **SMALL)
    _, _, initial = train_single(cfg, 11, quiet=True)
    expected = snapshot(build_model([784, 10], "spectral-eigvals", seed=11))
    for key in expected:
        np.testing.assert_array_equal(initial[key], expected[key])


def test_batches_and_split_are_seeded_partitions():
    """Validation and train indices partition range(n); an epoch visits every train index once."""
    tr, va = split_indices(1000, 0.2, seed=5)
    assert len(va) == 200 and sorted(torch.cat([tr, va]).tolist()) == list(range(1000))
    batches = epoch_batches(tr, 64, torch.Generator().manual_seed(1), torch.device("cpu"))
    assert [len(b) for b in batches][-1] == 800 - 64 * 12
    assert sorted(torch.cat(batches).tolist()) == tr.tolist()
    assert torch.equal(split_indices(1000, 0.2, seed=5)[1], va) and not torch.equal(split_indices(1000, 0.2, seed=6)[1], va)


# Learning on real MNIST after one epoch on 6000 images: chance is 10 %. Floors sit well below measured values
# (direct-full 0.86, spectral-full 0.86, spectral-eigvecs 0.85, direct-restricted 0.70, spectral-eigvals 0.62).
FLOORS = {"direct-full": 0.80, "spectral-full": 0.78, "spectral-eigvecs": 0.75, "direct-restricted": 0.5,
          "spectral-eigvals": 0.4}


@pytest.mark.parametrize("scheme", SCHEMES)
def test_learns_real_mnist(scheme):
    """Each scheme beats chance by a wide margin on the real test set."""
    cfg = TrainConfig(sizes=[784, 10], scheme=scheme, lr=0.03 if scheme in ("spectral-eigvals", "direct-restricted") else 0.01,
                      **SMALL)
    _, record, _ = train_single(cfg, 0, quiet=True)
    assert record["final_test_accuracy"] >= FLOORS[scheme], record["final_test_accuracy"]
    assert record["data"]["n_test"] == 2000 and record["trainable"] > 0


def test_record_contents_and_atomic_save(tmp_path):
    """The record carries settings, provenance and retraction; save leaves no temporary file."""
    cfg = TrainConfig(sizes=[784, 20, 10], scheme="spectral-eigvals", activation="identity", **SMALL)
    model, record, initial = train_single(cfg, 0, quiet=True)
    assert record["retracted_test_accuracy"] == pytest.approx(record["final_test_accuracy"], abs=1e-3)
    assert record["settings"]["sizes"] == [784, 20, 10]
    assert record["trainable"] == 784 + 20 + 10  # per-node, the default layout: one eigenvalue per node
    assert record["data"]["sha256"]["t10k-images-idx3-ubyte"].startswith("0fa7898d")
    assert {"torch", "python", "numpy"} <= set(record["versions"])
    save_run(record, snapshot(model), initial, tmp_path / "r" / "seed0.json", tmp_path / "r" / "seed0.npz")
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["seed0.json", "seed0.npz"]
    arrays = np.load(tmp_path / "r" / "seed0.npz")
    assert arrays["layer0.weight"].shape == (20, 784) and "init.layer1.eigvals_out" in arrays
    assert json.loads((tmp_path / "r" / "seed0.json").read_text())["seed"] == 0


@pytest.mark.parametrize("field,value,match", [
    ("dataset", "kmnist", "dataset must be one of"), ("sizes", [784, 11], "class count"),
    ("sizes", [700, 10], "feature count"), ("lr", 0.0, "lr must be"), ("epochs", 0, "epochs must be"),
    ("batch_size", 0, "batch size"), ("validation_fraction", 1.0, r"\[0, 1\)"), ("optimizer", "rmsprop", "optimizer"),
    ("device", "tpu", "device must be")])
def test_config_rejects_bad_values(field, value, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**{field: value})


def _adam_runs(monkeypatch, fused: set, scheme: str):
    """(final arrays, record) of one short training with spectral.train.FUSED set to `fused`."""
    import spectral.train
    monkeypatch.setattr(spectral.train, "FUSED", fused)
    cfg = TrainConfig(sizes=[784, 32, 10], scheme=scheme, optimizer="adam", lr=0.01, **SMALL)
    model, record, _ = train_single(cfg, seed=3, quiet=True)
    return snapshot(model), record


@pytest.mark.parametrize("scheme", ["direct-full", "spectral-full", "spectral-eigvals"])
def test_fused_adam_stays_close_to_the_default_loop(monkeypatch, scheme):
    """Fused Adam rounds in another order: one step agrees to float32 rounding, a 60-step training within 1e-3."""
    import spectral.train
    model = build_model([784, 32, 10], scheme, seed=1)
    other = build_model([784, 32, 10], scheme, seed=1)
    x, y = torch.rand(50, 784), torch.randint(0, 10, (50,))
    cfg = TrainConfig(sizes=[784, 32, 10], scheme=scheme, optimizer="adam", lr=0.01)
    monkeypatch.setattr(spectral.train, "FUSED", {"adam"})
    fused = spectral.train.make_optimizer(cfg, model)
    monkeypatch.setattr(spectral.train, "FUSED", set())
    default = spectral.train.make_optimizer(cfg, other)
    assert fused.defaults["fused"] and not default.defaults["fused"]
    for net, opt in ((model, fused), (other, default)):
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    for a, b in zip(model.parameters(), other.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)  # lr 0.01: a wrong update would miss by ~1e-2
    (fa, ra), (fb, rb) = _adam_runs(monkeypatch, {"adam"}, scheme), _adam_runs(monkeypatch, set(), scheme)
    for key in fa:
        np.testing.assert_allclose(fa[key], fb[key], rtol=1e-3, atol=1e-3)
    assert abs(ra["final_test_accuracy"] - rb["final_test_accuracy"]) <= 0.005
