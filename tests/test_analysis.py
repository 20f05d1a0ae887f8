"""Tests for spectral.analysis: summaries, distances, pruning and the operator table."""
import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from spectral.analysis import mean_ci, operator_table, pruning_rows, summarize, weight_distances, weight_histograms


def test_mean_ci_matches_scipy():
    v = [0.91, 0.92, 0.95, 0.90, 0.93]
    mean, sd, lo, hi = mean_ci(v)
    ref = stats.t.interval(0.95, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))
    assert mean == pytest.approx(np.mean(v)) and sd == pytest.approx(np.std(v, ddof=1))
    assert (lo, hi) == pytest.approx(ref)
    assert np.isnan(mean_ci([0.5])[2])


def test_summary_groups_cells():
    runs = pd.DataFrame({"protocol": "paper", "dataset": "mnist", "experiment": "perceptron", "scheme": ["a", "a", "b"], "n2": 0,
                         "final_test_accuracy": [0.8, 0.9, 0.7], "trainable": [10, 10, 20]})
    s = summarize(runs).set_index("scheme")
    assert s.loc["a", "n"] == 2 and s.loc["a", "mean"] == pytest.approx(0.85) and s.loc["b", "trainable"] == 20


def test_weight_distances_see_shape_and_scale():
    """Raw distances see a scale change; standardised ones do not."""
    rng = np.random.default_rng(0)
    ref = {("p", "d", "direct-full", k): rng.normal(0, 1, 5000) for k in range(3)}
    scaled = {("p", "d", "spectral-eigvals", k): 3 * rng.normal(0, 1, 5000) for k in range(3)}
    uniform = {("p", "d", "direct-restricted", k): rng.uniform(-1, 1, 5000) for k in range(3)}
    table = weight_distances({**ref, **scaled, **uniform}).set_index(["scheme", "seed", "standardised"])
    assert table.loc[("spectral-eigvals", "pooled", False), "wasserstein"] > 1.0
    assert table.loc[("spectral-eigvals", "pooled", True), "wasserstein"] < 0.05
    assert table.loc[("direct-restricted", "pooled", True), "ks_statistic"] > 0.05
    hist = weight_histograms({**ref, **scaled})
    widths = hist["bin_right"] - hist["bin_left"]
    for _, g in hist.groupby("scheme"):
        assert (g["density"] * widths[g.index]).sum() == pytest.approx(1.0, abs=0.02)


def test_pruning_by_eigenvalue_removes_smallest_first():
    """Zero-|lambda| nodes carry no signal here, so removing them first keeps the accuracy; the full net is intact."""
    torch.manual_seed(0)
    n2 = 20
    w1 = torch.randn(n2, 5)
    w2 = torch.randn(3, n2)
    lam = np.linspace(0.01, 1, n2)
    w2[:, :10] = 0  # the 10 smallest-|lambda| nodes are dead
    x = torch.randn(400, 5)
    y = (torch.relu(x @ w1.T) @ w2.T).argmax(1)
    arrays = {"layer0.weight": w1.numpy(), "layer1.weight": w2.numpy(), "layer0.eigvals_out": lam}
    rows = pd.DataFrame(pruning_rows(arrays, x, y, [0.0, 0.5], seed=1))
    by = rows.set_index(["order", "fraction_removed"])["test_accuracy"]
    assert by[("eigenvalue", 0.0)] == 1.0 and by[("eigenvalue", 0.5)] == 1.0
    assert by[("random", 0.5)] < 1.0
    assert by[("l2", 0.0)] == 1.0  # every order starts from the intact network
    assert set(rows["order"]) == {"eigenvalue", "l2", "random"}  # a spectral network: |lambda|, L2 norm, random
    assert rows.set_index(["order", "fraction_removed"])["nodes_kept"][("random", 0.5)] == 10


def test_operator_table_identity():
    op = operator_table([3, 2], seed=0)
    a = op[op["matrix"] == "A"].pivot(index="row", columns="col", values="value").to_numpy()
    phi = op[op["matrix"] == "Phi"].pivot(index="row", columns="col", values="value").to_numpy()
    lam = op[op["matrix"] == "Lambda"].pivot(index="row", columns="col", values="value").to_numpy()
    np.testing.assert_allclose(a, phi @ lam @ np.linalg.inv(phi), atol=1e-12)


def test_l2_order_removes_smallest_incoming_norm_first():
    """Nodes with tiny incoming weights go first under "l2", whatever their eigenvalues say."""
    torch.manual_seed(1)
    n2 = 10
    w1 = torch.randn(n2, 4)
    w1[:5] *= 1e-3  # the five weakest incoming rows ...
    w2 = torch.randn(3, n2)
    x = torch.randn(300, 4)
    y = (torch.relu(x @ w1.T) @ w2.T).argmax(1)
    lam = np.linspace(1, 0.1, n2)  # ... have the largest |lambda|, so the eigenvalue order removes the strong ones
    rows = pd.DataFrame(pruning_rows({"layer0.weight": w1.numpy(), "layer1.weight": w2.numpy(),
                                      "layer0.eigvals_out": lam}, x, y, [0.5], seed=0))
    by = rows.set_index("order")["test_accuracy"]
    assert by["l2"] > 0.95 and by["eigenvalue"] < by["l2"]


def test_connectivity_readings_rank_as_computed_by_hand():
    """A direct network's orders: l1 = sum_j |w_ij| (the authors' dense_trimming), abs-sum = |sum_j w_ij|, l2."""
    from spectral.analysis import pruning_orders
    w1 = np.array([[3.0, -3.0], [1.0, 1.0], [0.5, 0.0], [-2.0, -2.5]])  # rows: hidden nodes, columns: inputs
    # l1: 6, 2, 0.5, 4.5 -> 2, 1, 3, 0; abs-sum: 0, 2, 0.5, 4.5 -> 0, 2, 1, 3; l2: 4.24, 1.41, 0.5, 3.20 -> 2, 1, 3, 0
    orders = pruning_orders({"layer0.weight": w1, "layer1.weight": np.ones((2, 4))}, seed=0, random_repeats=3)
    assert set(orders) == {"l1", "abs-sum", "l2", "random"} and len(orders["random"]) == 3
    assert orders["l1"][0].tolist() == [2, 1, 3, 0]
    assert orders["abs-sum"][0].tolist() == [0, 2, 1, 3]
    assert orders["l2"][0].tolist() == [2, 1, 3, 0]
    assert sorted(orders["random"][0].tolist()) == [0, 1, 2, 3]


def test_run_rows_from_cli_records_classify_their_cell():
    """A record without the workflow's cell key still gathers: experiment and N2 come from sizes and activation."""
    from spectral.analysis import run_row
    base = {"seed": 0, "trainable": 1, "final_train_accuracy": 0.9, "final_test_accuracy": 0.9,
            "retracted_test_accuracy": None, "wall_time_s": 1.0, "device": "cpu", "strategy": {"name": "single"}}
    settings = {"dataset": "mnist", "scheme": "spectral-eigvals", "eigvals": "per-node", "epochs": 1,
                "optimizer": "adam", "lr": 0.1, "batch_size": 10}
    for sizes, act, expected in (([784, 10], "identity", ("perceptron", 0)), ([784, 50, 10], "identity", ("telescopic", 50)),
                                 ([784, 50, 10], "tanh", ("nonlinear", 50))):
        row = run_row({**base, "settings": {**settings, "sizes": sizes, "activation": act}})
        assert (row["experiment"], row["n2"]) == expected and row["protocol"] == "custom"
