"""Tests of seed ensembles (spectral.train.train_cell, spectral.models.Stacked): each member of a batched ensemble equals training that seed alone."""
import json

import numpy as np
import pytest
import torch

from spectral.train import choose_strategy, train_cell
from spectral.train import TrainConfig

SMALL = dict(train_subset=3000, test_subset=1000, epochs=2, batch_size=128, validation_fraction=0.1, lr=0.01)


@pytest.mark.parametrize("scheme,sizes,activation,eigvals", [
    ("spectral-eigvals", [784, 10], "identity", "per-node"), ("direct-restricted", [784, 16, 10], "relu", "per-node"),
    ("spectral-eigvals", [784, 16, 12, 10], "tanh", "per-node"), ("spectral-full", [784, 16, 10], "tanh", "per-node"),
    ("spectral-eigvals", [784, 16, 10], "relu", "per-layer"), ("spectral-full", [784, 16, 10], "relu", "out-only"),
    ("direct-full", [784, 10], "relu", "per-node"), ("spectral-eigvecs", [784, 8, 10], "relu", "per-node")])
def test_batched_members_equal_single_runs(scheme, sizes, activation, eigvals):
    """Same init, same batch order: batched and sequential agree within float tolerance, member by member."""
    cfg = TrainConfig(sizes=sizes, scheme=scheme, activation=activation, eigvals=eigvals, **SMALL)
    seq = train_cell(cfg, [0, 5, 9], "sequential", quiet=True)
    vec = train_cell(cfg, [0, 5, 9], "batched", quiet=True)
    for (ra, fa, ia), (rb, fb, ib) in zip(seq, vec):
        assert ra["seed"] == rb["seed"] and rb["strategy"]["name"] == "batched"
        for key in fa:  # batched and single matmuls round differently, and training carries a last-bit difference
            # on: single eigenvalues of a relu network moved up to 1.2e-3 apart after 2 epochs of Adam (1 % of |lambda|),
            # run to run. So each array as a whole: within 1 % of its norm; another seed's member is ~100 % away
            a, b = fa[key].astype(float), fb[key].astype(float)  # (masks are boolean)
            assert np.linalg.norm(a - b) <= 1e-2 * np.linalg.norm(a), key
        for key in ia:
            np.testing.assert_array_equal(ia[key], ib[key])
        for ha, hb in zip(ra["history"], rb["history"]):
            assert ha["test_accuracy"] == pytest.approx(hb["test_accuracy"], abs=2e-3)
    assert len({r["final_test_accuracy"] for r, _, _ in vec}) > 1  # members really differ


def test_shared_order_is_explicit():
    """With order_seed every member sees the same batches, so identical seeds-but-order runs differ only by init."""
    cfg = TrainConfig(sizes=[784, 10], scheme="direct-full", order_seed=42, **SMALL)
    seq = train_cell(cfg, [1, 2], "sequential", quiet=True)
    vec = train_cell(cfg, [1, 2], "batched", quiet=True)
    assert seq[0][0]["data_seed"] == seq[1][0]["data_seed"]
    for (_, fa, _), (_, fb, _) in zip(seq, vec):
        np.testing.assert_allclose(fa["layer0.weight"], fb["layer0.weight"], rtol=1e-4, atol=1e-5)


def test_auto_strategy_depends_on_width():
    cpu = torch.device("cpu")
    assert choose_strategy(TrainConfig(sizes=[784, 10]), 5, cpu) == "batched"
    assert choose_strategy(TrainConfig(sizes=[784, 200, 10]), 5, cpu) == "batched"
    assert choose_strategy(TrainConfig(sizes=[784, 201, 10]), 5, cpu) == "sequential"
    assert choose_strategy(TrainConfig(sizes=[784, 500, 10]), 5, cpu) == "sequential"
    assert choose_strategy(TrainConfig(sizes=[784, 500, 10], order_seed=3), 5, cpu) == "batched"
    assert choose_strategy(TrainConfig(sizes=[784, 1000, 10], order_seed=3), 5, cpu) == "sequential"
    assert choose_strategy(TrainConfig(sizes=[784, 2000, 10]), 5, cpu) == "sequential"
    assert choose_strategy(TrainConfig(sizes=[784, 2000, 10]), 5, torch.device("cuda")) == "batched"
    assert choose_strategy(TrainConfig(sizes=[784, 10]), 1, cpu) == "sequential"


def test_bad_strategy_and_duplicate_seeds():
    with pytest.raises(ValueError, match="strategy must be one of"):
        train_cell(TrainConfig(), [0], "threads")
    with pytest.raises(ValueError, match="seeds must be distinct"):
        train_cell(TrainConfig(), [0, 0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_ensemble_matches_cpu():
    """On CUDA the batched ensemble equals sequential CUDA training and stays close to the CPU run."""
    cpu = train_cell(TrainConfig(sizes=[784, 64, 10], scheme="spectral-eigvals", device="cpu", **SMALL), [0, 1], "sequential", True)
    seq = train_cell(TrainConfig(sizes=[784, 64, 10], scheme="spectral-eigvals", device="cuda", **SMALL), [0, 1], "sequential", True)
    vec = train_cell(TrainConfig(sizes=[784, 64, 10], scheme="spectral-eigvals", device="cuda", **SMALL), [0, 1], "auto", True)
    assert vec[0][0]["strategy"]["name"] == "batched" and vec[0][0]["device"].startswith("cuda")
    for (rc, fc, ic), (rs, fs, _), (rv, fv, iv) in zip(cpu, seq, vec):
        np.testing.assert_array_equal(ic["layer0.eigvals_in"], iv["layer0.eigvals_in"])  # same init on every device
        np.testing.assert_allclose(fs["layer1.weight"], fv["layer1.weight"], rtol=1e-3, atol=1e-4)
        assert abs(rc["final_test_accuracy"] - rv["final_test_accuracy"]) < 0.02


@pytest.mark.parametrize("scheme", ["spectral-eigvals", "direct-restricted", "direct-full", "spectral-full"])
@pytest.mark.parametrize("bias", [False, True])
def test_stacked_forward_equals_members(scheme, bias):
    """Stacked logits equal each member's own, for a shared input (one wide GEMM) and per-member inputs (bmm)."""
    from spectral.models import Stacked
    from spectral.models import build_model
    models = [build_model([784, 16, 10], scheme, "tanh", seed=s, bias=bias, dtype=torch.float64) for s in (0, 1, 2)]
    if bias:
        with torch.no_grad():
            for m in models:
                m[0].bias.uniform_(-1, 1)
    stacked = Stacked(models)
    x = torch.rand(7, 784, dtype=torch.float64)
    xs = torch.rand(3, 7, 784, dtype=torch.float64)
    torch.testing.assert_close(stacked(x), torch.stack([m(x) for m in models]))
    torch.testing.assert_close(stacked(xs), torch.stack([m(xi) for m, xi in zip(models, xs)]))
    n_trainable = sum(p.numel() for p in stacked.parameters() if p.requires_grad)
    assert n_trainable == 3 * sum(p.numel() for p in models[0].parameters() if p.requires_grad)


KEEP = dict(sizes=[784, 16, 10], scheme="spectral-eigvals", train_subset=600, test_subset=200, epochs=1, batch_size=128)


@pytest.fixture
def clean_commit(monkeypatch):
    """Runs recorded at a clean commit, whatever the state of this checkout (kept seeds need one)."""
    import spectral.records
    monkeypatch.setattr(spectral.records, "code_commit", lambda: "c0ffee")


def _mark_kept(keep, seed, accuracy):
    """A kept seed's record with a test accuracy no training gives, so taking it back shows in the results."""
    path = keep / f"seed{seed}.json"
    record = json.loads(path.read_text()) | {"final_test_accuracy": accuracy}
    path.write_text(json.dumps(record))


def test_a_rerun_takes_back_the_kept_seeds_and_trains_the_rest(tmp_path, clean_commit):
    """A job killed after seed 0 kept it; the rerun of the cell takes seed 0 back (its marked record) with its
    arrays, trains seed 1, and equals a cell trained in one go."""
    cfg, keep = TrainConfig(**KEEP), tmp_path / "partial" / "cell"
    (first,) = train_cell(cfg, [0], "sequential", quiet=True, keep=keep)
    _mark_kept(keep, 0, 2.0)
    resumed = train_cell(cfg, [0, 1], "sequential", quiet=True, keep=keep)
    whole = train_cell(cfg, [0, 1], "sequential", quiet=True)
    assert [r["final_test_accuracy"] for r, _, _ in resumed] == [2.0, whole[1][0]["final_test_accuracy"]]
    assert [r["kept"] for r, _, _ in resumed] == [True, False] and not whole[0][0]["kept"]
    for key, value in first[1].items():
        np.testing.assert_array_equal(resumed[0][1][key], value)
    assert {f"seed{s}.{e}" for s in (0, 1) for e in ("json", "npz")} == {p.name for p in keep.iterdir()}


@pytest.mark.parametrize("spoil", ["settings", "seed", "data", "commit", "torn"])
def test_a_kept_seed_that_does_not_match_is_trained_again(tmp_path, clean_commit, monkeypatch, spoil):
    """Other settings, another seed's record, other data, another commit or a torn file: trained again."""
    import spectral.records
    cfg, keep = TrainConfig(**KEEP), tmp_path / "cell"
    train_cell(cfg, [0], "sequential", quiet=True, keep=keep)
    _mark_kept(keep, 0, 2.0)
    path = keep / "seed0.json"
    record = json.loads(path.read_text())
    if spoil == "settings":
        record["settings"]["lr"] *= 3
    elif spoil == "seed":
        record["seed"] = 1
    elif spoil == "data":
        record["data"]["sha256"] = {k: "0" * 64 for k in record["data"]["sha256"]}
    elif spoil == "commit":
        monkeypatch.setattr(spectral.records, "code_commit", lambda: "c0ffee2")
    path.write_text(json.dumps(record)[:-40] if spoil == "torn" else json.dumps(record))
    ((record, _, _),) = train_cell(cfg, [0], "sequential", quiet=True, keep=keep)
    assert record["final_test_accuracy"] <= 1.0


def test_a_dirty_checkout_keeps_nothing(tmp_path, monkeypatch):
    """A run at uncommitted code cannot be verified later, so no seed is kept."""
    import spectral.records
    monkeypatch.setattr(spectral.records, "code_commit", lambda: "c0ffee-dirty")
    train_cell(TrainConfig(**KEEP), [0], "sequential", quiet=True, keep=tmp_path / "cell")
    assert not (tmp_path / "cell").exists()
