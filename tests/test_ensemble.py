"""Tests of seed ensembles (spectral.train.train_cell, spectral.models.Stacked): each member of a batched ensemble equals training that seed alone."""
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
