"""Tidy tables from run records: runs, summary, weight distributions, eigenvalues and pruning.

Implementation choices:
- Every table is long-form (one observation per row) so that seaborn and pandas group it directly.
- 95 % confidence intervals of a mean use Student's t over seeds (n - 1 degrees of freedom); n = 1 gives NaN.
- Weight distributions are compared with the 1-Wasserstein distance and the two-sample KS statistic, both on raw
  and on standardised (z-scored per model) weights; per-seed rows pair models of the same seed, `pooled` rows
  pool all seeds.
- Pruning removes hidden nodes of a trained 784 -> N2 -> 10 network (row i of W1 and column i of W2): a spectral
  network in order of increasing |lambda| of the hidden node ("eigenvalue": lambda_out of the first layer;
  SpectralTools' spectralprune.py@25e3f5a ranks by |diag_end|), a direct one in order of increasing incoming
  connectivity under each reading (SR22 Fig. 3 caption: "the absolute value of each node's incoming connectivity"):
  "l1" = sum_j |w_ij|, the authors' own pruning code (Funzioni.py@866efa9 `dense_trimming`:
  np.abs(weights).sum(axis=0) of the (in, out) kernel, the same from 2340e34 on), "abs-sum" = |sum_j w_ij| (the
  caption's literal words; Functions.py@955482a `dense_connectivity_trim`) and "l2" = the L2 norm. The spectral
  network is also ranked by "l2", and both get seeded "random" orders, whose accuracies are averaged.
- Weight distances also compare the initial weights of the spectral-eigvals and direct-full (Glorot) runs with the
  trained direct-full weights (C3's untrained controls), where the npz holds them.
- Every table is keyed by protocol as well: runs of different protocols never mix.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats

from .experiments import classify

RUN_COLUMNS = ["protocol", "eigvals", "dataset", "experiment", "scheme", "sizes", "n2", "activation", "seed", "trainable",
               "epochs",
               "optimizer", "lr", "batch_size", "final_train_accuracy", "final_test_accuracy",
               "retracted_test_accuracy", "wall_time_s", "device", "strategy"]


def run_row(record: dict) -> dict:
    """One runs.csv row from a run record (the workflow's `cell` names the protocol; a CLI run is 'custom')."""
    s = record["settings"]
    experiment, n2 = classify(s["sizes"], s["activation"])
    return {"protocol": record.get("cell", {}).get("protocol", "custom"), "eigvals": s.get("eigvals", "per-layer"),
            "dataset": s["dataset"], "experiment": experiment, "scheme": s["scheme"],
            "sizes": "-".join(map(str, s["sizes"])), "n2": n2, "activation": s["activation"],
            "seed": record["seed"], "trainable": record["trainable"], "epochs": s["epochs"], "optimizer": s["optimizer"],
            "lr": s["lr"], "batch_size": s["batch_size"], "final_train_accuracy": record["final_train_accuracy"],
            "final_test_accuracy": record["final_test_accuracy"],
            "retracted_test_accuracy": record["retracted_test_accuracy"], "wall_time_s": record["wall_time_s"],
            "device": record["device"], "strategy": record["strategy"]["name"]}


def gather_runs(paths) -> pd.DataFrame:
    rows = [run_row(json.loads(Path(p).read_text())) for p in paths]
    return pd.DataFrame(rows, columns=RUN_COLUMNS).sort_values(
        ["protocol", "dataset", "experiment", "scheme", "n2", "seed"], ignore_index=True)


def mean_ci(values) -> tuple[float, float, float, float]:
    """(mean, sd, ci95 low, ci95 high) with Student's t over the values."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    mean = float(v.mean()) if n else math.nan
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (protocol, dataset, experiment, scheme, n2): n, mean, sd, 95 % CI of test accuracy, trainable count."""
    rows = []
    keys = ["protocol", "dataset", "experiment", "scheme", "n2"]
    for key, g in runs.groupby(keys, sort=True):
        mean, sd, lo, hi = mean_ci(g["final_test_accuracy"])
        rows.append(dict(zip(keys, key), n=len(g), mean=mean, sd=sd,
                         ci95_low=lo, ci95_high=hi, trainable=int(g["trainable"].iloc[0])))
    return pd.DataFrame(rows)


def standardise(w: np.ndarray) -> np.ndarray:
    return (w - w.mean()) / w.std()


def weight_distances(weights: dict[tuple[str, str, str, int], np.ndarray], reference: str = "direct-full") -> pd.DataFrame:
    """Distances of each scheme's weights to the reference scheme's, per seed and pooled, raw and standardised.

    `weights` maps (protocol, dataset, scheme, seed) to a flat weight vector.
    """
    rows = []
    for protocol, dataset in sorted({(p, d) for p, d, _, _ in weights}):
        mine = {(s, k): w for (p, d, s, k), w in weights.items() if (p, d) == (protocol, dataset)}
        seeds = sorted({k for s, k in mine if s == reference})
        for scheme in sorted({s for s, _ in mine} - {reference}):
            paired = [k for k in seeds if (scheme, k) in mine]
            groups = [(str(k), [mine[scheme, k]], [mine[reference, k]]) for k in paired]
            groups.append(("pooled", [mine[scheme, k] for k in paired], [mine[reference, k] for k in paired]))
            for label, xs, refs in groups:
                if not xs:
                    continue
                for standardised in (False, True):
                    prep = standardise if standardised else (lambda w: w)
                    x = np.concatenate([prep(w) for w in xs])
                    r = np.concatenate([prep(w) for w in refs])
                    ks = stats.ks_2samp(x, r)
                    rows.append({"protocol": protocol, "dataset": dataset, "scheme": scheme, "reference": reference,
                                 "seed": label, "standardised": standardised,
                                 "wasserstein": stats.wasserstein_distance(x, r), "ks_statistic": ks.statistic,
                                 "ks_pvalue": ks.pvalue})
    return pd.DataFrame(rows, columns=["protocol", "dataset", "scheme", "reference", "seed", "standardised",
                                       "wasserstein", "ks_statistic", "ks_pvalue"])


def weight_histograms(weights: dict[tuple[str, str, str, int], np.ndarray], bins: int = 80) -> pd.DataFrame:
    """Pooled-over-seeds density of each scheme's trained weights (initial ones left out) on common bins per protocol
    and dataset (0.1-99.9 %)."""
    rows = []
    weights = {key: w for key, w in weights.items() if "@init" not in key[2]}
    for protocol, dataset in sorted({(p, d) for p, d, _, _ in weights}):
        mine = {(s, k): w for (p, d, s, k), w in weights.items() if (p, d) == (protocol, dataset)}
        pooled = {s: np.concatenate([w for (s2, _), w in sorted(mine.items()) if s2 == s])
                  for s in sorted({s for s, _ in mine})}
        lo, hi = np.percentile(np.concatenate(list(pooled.values())), [0.1, 99.9])
        edges = np.linspace(lo, hi, bins + 1)
        for scheme, w in pooled.items():
            density, _ = np.histogram(w, edges, density=True)
            rows += [{"protocol": protocol, "dataset": dataset, "scheme": scheme, "bin_left": a, "bin_right": b,
                      "weight": (a + b) / 2, "density": p} for a, b, p in zip(edges[:-1], edges[1:], density)]
    return pd.DataFrame(rows)


def eigenvalue_rows(arrays, dataset: str, scheme: str, seed: int, layer: int = 0) -> list[dict]:
    """Initial and trained eigenvalues of one spectral layer, one row per node."""
    rows = []
    for side in ("in", "out"):
        key = f"layer{layer}.eigvals_{side}"
        for node, (init, trained) in enumerate(zip(arrays[f"init.{key}"], arrays[key])):
            rows.append({"dataset": dataset, "scheme": scheme, "seed": seed, "layer": layer, "side": side,
                         "node": node, "initial": float(init), "trained": float(trained)})
    return rows


CONNECTIVITY = {"l1": lambda w: np.abs(w).sum(axis=1), "abs-sum": lambda w: np.abs(w.sum(axis=1)),
                "l2": lambda w: np.linalg.norm(w, axis=1)}  # w: (N2, in), one row of incoming weights per node
ORDERS = ("eigenvalue", *CONNECTIVITY, "random")  # every pruning order, by one name in tables, claims and figures


def pruning_orders(arrays, seed: int, random_repeats: int = 1) -> dict[str, list]:
    """Removal orders of a 784 -> N2 -> 10 network's hidden nodes, each a list of rankings (several for random).

    A spectral network (its npz has eigenvalues) is ranked by |lambda| of the hidden node ("eigenvalue") and by its
    incoming-weight L2 norm ("l2"); a direct one by every reading of its incoming connectivity (CONNECTIVITY: "l1",
    "abs-sum", "l2"). Both get `random_repeats` seeded random orders.
    """
    w1 = arrays["layer0.weight"]
    n2 = w1.shape[0]
    rng = np.random.default_rng(seed)
    if "layer0.eigvals_out" in arrays:
        orders = {"eigenvalue": [np.argsort(np.abs(arrays["layer0.eigvals_out"]), kind="stable")],
                  "l2": [np.argsort(CONNECTIVITY["l2"](w1), kind="stable")]}
    else:
        orders = {name: [np.argsort(f(w1), kind="stable")] for name, f in CONNECTIVITY.items()}
    orders["random"] = [rng.permutation(n2) for _ in range(random_repeats)]
    return orders


@torch.no_grad()
def pruning_rows(arrays, x: torch.Tensor, y: torch.Tensor, fractions, seed: int, activation: str = "relu",
                 random_repeats: int = 1) -> list[dict]:
    """Test accuracy of a 784 -> N2 -> 10 network as hidden nodes are removed in each order (random: the mean over
    its repeats)."""
    from .models import ACTIVATIONS
    w1 = torch.from_numpy(arrays["layer0.weight"])
    w2 = torch.from_numpy(arrays["layer1.weight"])
    hidden = ACTIVATIONS[activation]()(x @ w1.T)  # (N, N2), computed once; pruning masks its columns
    n2 = w1.shape[0]
    rows = []
    for order, rankings in pruning_orders(arrays, seed, random_repeats).items():
        for fraction in fractions:
            accs = []
            for ranking in rankings:
                keep = torch.ones(n2, dtype=torch.bool)
                keep[torch.from_numpy(ranking[:int(round(fraction * n2))].copy())] = False
                logits = hidden[:, keep] @ w2[:, keep].T
                accs.append(float((logits.argmax(1) == y).float().mean()))
            rows.append({"order": order, "fraction_removed": fraction, "nodes_kept": int(keep.sum()),
                         "test_accuracy": float(np.mean(accs))})
    return rows


INIT_CONTROLS = ("spectral-eigvals", "direct-full")  # C3's untrained controls: spectral and Glorot initial weights


def load_weights(paths, keys) -> dict[tuple[str, str, str, int], np.ndarray]:
    """{(protocol, dataset, scheme, seed): flat first-layer weights} from npz files and their run keys; the initial
    weights of INIT_CONTROLS' runs come as scheme '<scheme>@init' where the npz holds them."""
    out = {}
    for path, (p, d, s, _, k) in zip(paths, keys):
        arrays = np.load(path)
        out[p, d, s, int(k)] = arrays["layer0.weight"].ravel()
        if s in INIT_CONTROLS and "init.layer0.weight" in arrays:
            out[p, d, f"{s}@init", int(k)] = arrays["init.layer0.weight"].ravel()
    return out


def eigenvalue_table(paths, keys) -> pd.DataFrame:
    rows = []
    for path, (protocol, dataset, scheme, _, seed) in zip(paths, keys):
        rows += [{"protocol": protocol, **r} for r in eigenvalue_rows(np.load(path), dataset, scheme, int(seed))]
    return pd.DataFrame(rows, columns=["protocol", "dataset", "scheme", "seed", "layer", "side", "node", "initial",
                                       "trained"])


def pruning_table(paths, keys, fractions, activations: dict, test_subset=None, data_dir=None,
                  random_repeats=1) -> pd.DataFrame:
    """Pruning curves of every (protocol, dataset, scheme, n2, seed) network; `activations` maps protocol -> name."""
    from . import data as data_mod
    tests, rows = {}, []
    for path, (protocol, dataset, scheme, n2, seed) in zip(paths, keys):
        if dataset not in tests:
            x, y = data_mod.load(dataset, "test", data_dir)
            tests[dataset] = (x[:test_subset], y[:test_subset])
        for row in pruning_rows(np.load(path), *tests[dataset], fractions, int(seed), activations[protocol],
                                random_repeats):
            rows.append({"protocol": protocol, "dataset": dataset, "scheme": scheme, "n2": int(n2), "seed": int(seed),
                         **row})
    return pd.DataFrame(rows, columns=["protocol", "dataset", "scheme", "n2", "seed", "order", "fraction_removed",
                                       "nodes_kept", "test_accuracy"])


def operator_table(sizes, seed: int) -> pd.DataFrame:
    """Long-form entries of Phi, Lambda, Phi^-1 and A = Phi Lambda Phi^-1 for a tiny spectral layer."""
    from .layers import SpectralLinear
    n_in, n_out = sizes
    layer = SpectralLinear(n_in, n_out, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    phi = layer.eigenvector_matrix().detach()
    n = len(phi)
    matrices = {"Phi": phi, "Lambda": torch.diag(torch.cat([layer.eigvals_in, layer.eigvals_out]).detach()),
                "Phi^-1": 2 * torch.eye(n, dtype=torch.float64) - phi, "A": layer.transfer_operator().detach()}
    return pd.DataFrame([{"matrix": name, "row": i, "col": j, "value": float(m[i, j]), "n_in": n_in}
                         for name, m in matrices.items() for i in range(n) for j in range(n)])
