"""Each claim's cells from the tidy tables (runs, weight distances, pruning curves), then the verdicts.

Which statistic, test, threshold and margin each claim uses is stated in spectral/claims.py (the rule); this module
only forms the per-seed samples. Samples are matched by seed only where the pairing is real (C3: distances to the
same seed's direct-full network; C4's per-seed trends; C5-explore: orders applied to one network); elsewhere the
two schemes are two independent samples (Welch), and a seed-paired interval is reported beside it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .claims import CELL_COLUMNS, cell, claim_base, decide, spearman_per_seed, summarize_claims
from .pruning_claims import CONNECTIVITY_READINGS, claim_c5, guard_baselines

ACC = "final_test_accuracy"
ALL_EXPERIMENTS = ("perceptron", "telescopic", "nonlinear")
TREND_MIN_N2 = 3  # C4's trend and closing cells need this many N2 values (rule point 4b)


def delta_of(delta: dict, claim: str) -> float:
    """claims.delta of a claim: 'C3-moves' and 'C4-perceptron' use their claim's (C3, C4) margin."""
    return float(delta.get(claim_base(claim).split("-")[0], 0.0))


def _by_seed(g: pd.DataFrame, scheme: str) -> pd.Series:
    return g[g["scheme"] == scheme].groupby("seed")[ACC].mean()


def scheme_cells(runs, claim, scheme, other, threshold, statistic, *, delta=0.0, equivalence=None,
                 experiments=ALL_EXPERIMENTS) -> list[dict]:
    """Per (dataset, experiment, N2): acc(scheme) - acc(other), Welch, the seed-paired interval beside it."""
    rows = []
    for (dataset, experiment, n2), g in runs[runs["experiment"].isin(experiments)].groupby(
            ["dataset", "experiment", "n2"], sort=True):
        a, b = _by_seed(g, scheme), _by_seed(g, other)
        if a.empty or b.empty:
            continue
        both = pd.concat([a, b], axis=1, join="inner")
        rows.append(cell(claim, dataset, experiment, n2, statistic, threshold, delta=delta, a=a, b=b,
                         diffs=both.iloc[:, 0] - both.iloc[:, 1], primary="welch", equivalence=equivalence,
                         detail=f"mean test accuracy {scheme} {a.mean():.4f} (n {len(a)}) vs {other} {b.mean():.4f} "
                                f"(n {len(b)})"))
    return rows


def claim_c3(distances: pd.DataFrame, delta: float) -> list[dict]:
    """C3 and its control C3-moves, per dataset x metric x raw/standardised, one value per seed."""
    rows = []
    d = distances[distances["seed"].astype(str) != "pooled"]
    for (dataset, standardised), g in d.groupby(["dataset", "standardised"], sort=True):
        kind = "standardised" if str(standardised) == "True" else "raw"
        for metric, column in (("W1", "wasserstein"), ("KS", "ks_statistic")):
            w = g.pivot_table(index="seed", columns="scheme", values=column)
            has = set(w.columns)
            glorot = (f", Glorot initial {w['direct-full@init'].mean():.4f}" if "direct-full@init" in has else "")
            if {"spectral-eigvals", "direct-restricted"} <= has:
                rows.append(cell("C3", dataset, "perceptron", 0, f"{metric}(restricted, full) - {metric}(eigvals, full)"
                                 f", {kind}", 0.0, delta=delta, diffs=w["direct-restricted"] - w["spectral-eigvals"],
                                 a=w["direct-restricted"], b=w["spectral-eigvals"], primary="paired",
                                 detail=f"mean {metric} to direct-full: eigvals {w['spectral-eigvals'].mean():.4f}, "
                                        f"restricted {w['direct-restricted'].mean():.4f}{glorot}"))
            if {"spectral-eigvals", "spectral-eigvals@init"} <= has:
                rows.append(cell("C3-moves", dataset, "perceptron", 0, f"{metric}(eigvals initial, full) - "
                                 f"{metric}(eigvals trained, full), {kind}", 0.0, delta=delta,
                                 diffs=w["spectral-eigvals@init"] - w["spectral-eigvals"],
                                 a=w["spectral-eigvals@init"], b=w["spectral-eigvals"], primary="paired",
                                 detail=f"mean {metric} to direct-full: eigvals initial "
                                        f"{w['spectral-eigvals@init'].mean():.4f}, trained "
                                        f"{w['spectral-eigvals'].mean():.4f}{glorot}"))
    return rows


def claim_c4(runs: pd.DataFrame, margin: float, delta: float) -> list[dict]:
    """C4 (trend, gap to direct-full of the same telescopic network, closing gap) and C4-perceptron."""
    rows = []
    for dataset, g in runs.groupby("dataset", sort=True):
        tele = g[g["experiment"] == "telescopic"]
        ev, dft = tele[tele["scheme"] == "spectral-eigvals"], tele[tele["scheme"] == "direct-full"]
        if ev.empty:
            continue
        trend = ev["n2"].nunique() >= TREND_MIN_N2  # a rank correlation over two points is always +-1: no test
        if trend:
            rows.append(cell("C4", dataset, "telescopic", -1, "Spearman rho(N2, accuracy) per seed, trend", 0.0,
                             diffs=spearman_per_seed(ev, ACC), primary="paired",
                             detail=f"{ev['n2'].nunique()} N2 values"))
        top_n2 = int(ev["n2"].max())
        top = ev[ev["n2"] == top_n2].groupby("seed")[ACC].mean()
        refs = {"C4": (dft[dft["n2"] == top_n2].groupby("seed")[ACC].mean(), "direct-full telescopic"),
                "C4-perceptron": (g[(g["experiment"] == "perceptron") & (g["scheme"] == "direct-full")]
                                  .groupby("seed")[ACC].mean(), "direct-full perceptron")}
        for claim, (ref, name) in refs.items():
            if ref.empty:
                continue
            both = pd.concat([top, ref], axis=1, join="inner")
            rows.append(cell(claim, dataset, "telescopic", top_n2, f"acc(spectral-eigvals, largest N2) - acc({name})"
                             f", gap", -margin, delta=delta, a=top, b=ref, diffs=both.iloc[:, 0] - both.iloc[:, 1],
                             detail=f"eigvals {top.mean():.4f} vs {name} {ref.mean():.4f}, margin {margin:g}"))
        gap = ev.merge(dft, on=["seed", "n2"], suffixes=("", "_ref"))  # paired by seed: one run's networks
        if trend and gap["n2"].nunique() == ev["n2"].nunique():  # the gap at every width of the trend, or none
            gap = gap.assign(gap=gap[ACC] - gap[f"{ACC}_ref"])
            rows.append(cell("C4", dataset, "telescopic", -1, "Spearman rho(N2, gap to direct-full telescopic) per "
                             "seed, closing", 0.0, diffs=spearman_per_seed(gap, "gap"), primary="paired",
                             detail=f"gap at N2 = {[int(n) for n in sorted(gap['n2'].unique())]}: "
                                    + ", ".join(f"{v:+.4f}" for v in gap.groupby("n2")["gap"].mean())))
    return rows


def claim_c6(runs: pd.DataFrame, variant: str, reference: str, delta: float) -> list[dict]:
    """C6: eigenvalue-only training under the per-layer variant against the per-node reference, hidden layers only."""
    rows = []
    eig = runs[(runs["scheme"] == "spectral-eigvals") & (runs["experiment"] != "perceptron")]
    for (dataset, experiment, n2), g in eig.groupby(["dataset", "experiment", "n2"], sort=True):
        a = g[g["protocol"] == variant].groupby("seed")[ACC].mean()
        b = g[g["protocol"] == reference].groupby("seed")[ACC].mean()
        if a.empty or b.empty:
            continue
        full = runs[(runs["protocol"] == reference) & (runs["scheme"] == "direct-full") & (runs["dataset"] == dataset)
                    & (runs["experiment"] == experiment) & (runs["n2"] == n2)][ACC]
        closed = ((a.mean() - b.mean()) / (full.mean() - b.mean())) if len(full) and full.mean() != b.mean() else np.nan
        rows.append(cell("C6", dataset, experiment, n2, f"acc(spectral-eigvals, {variant}) - acc(spectral-eigvals, "
                         f"{reference})", 0.0, delta=delta, a=a, b=b,
                         detail=f"{variant} {a.mean():.4f} vs {reference} {b.mean():.4f}; share of the gap to "
                                f"direct-full closed {closed:.2f}"))
    return rows


def claim_names(margins, equivalence_margin) -> list[str]:
    """Claim rows in report order (a run has the ones its tables support)."""
    return (["C1"] + [f"C2@{100 * m:g}pp" for m in margins]
            + [f"C2-TOST@{100 * equivalence_margin:g}pp", "C3", "C3-moves", "C4", "C4-perceptron", "C5"]
            + [f"C5@{r}" for r in CONNECTIVITY_READINGS] + [f"C5-guard@{r}" for r in CONNECTIVITY_READINGS]
            + ["C5-explore", "C6"])


def evaluate_claims(runs: pd.DataFrame, distances: pd.DataFrame, pruning: pd.DataFrame | None = None, *,
                    protocols=None, margins=(0.005, 0.01, 0.02), equivalence_margin=0.01, alpha=0.05, delta=None,
                    c5=None, c6=None):
    """(cells, claim-level verdicts). C1-C4 per protocol in `protocols` (default: every protocol in runs);
    C5 with `c5` = the pruning keys (protocol, scheme, baseline_scheme, claim_fraction, area_fraction, margin);
    C6 with `c6` = (variant protocol, reference protocol) when both ran."""
    delta = delta or {}
    protocols = list(protocols or sorted(runs["protocol"].unique()))
    rows = []
    for protocol in protocols:
        r = runs[runs["protocol"] == protocol]
        d = distances[distances["protocol"] == protocol] if len(distances) else distances
        new = scheme_cells(r, "C1", "spectral-eigvals", "direct-restricted", 0.0,
                           "acc(spectral-eigvals) - acc(direct-restricted)", delta=delta_of(delta, "C1"))
        for m in margins:
            new += scheme_cells(r, f"C2@{100 * m:g}pp", "spectral-full", "direct-full", -m,
                                f"acc(spectral-full) - acc(direct-full), margin {m:g}", delta=delta_of(delta, "C2"))
        new += scheme_cells(r, f"C2-TOST@{100 * equivalence_margin:g}pp", "spectral-full", "direct-full", 0.0,
                            f"acc(spectral-full) - acc(direct-full), equivalence margin {equivalence_margin:g}",
                            equivalence=equivalence_margin)
        new += claim_c3(d, delta_of(delta, "C3")) if len(d) else []
        new += claim_c4(r, equivalence_margin, delta_of(delta, "C4"))
        rows += [{**row, "protocol": protocol} for row in new]
    if c6 is not None and set(c6) <= set(runs["protocol"]):
        rows += [{**row, "protocol": c6[0]} for row in claim_c6(runs, c6[0], c6[1], delta_of(delta, "C6"))]
    if pruning is not None and c5 is not None and len(pruning):
        rows += [{**row, "protocol": c5["protocol"]} for row in claim_c5(pruning, delta=delta_of(delta, "C5"), **c5)]
    order = {c: i for i, c in enumerate(claim_names(margins, equivalence_margin))}
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=CELL_COLUMNS), summarize_claims(pd.DataFrame(columns=CELL_COLUMNS))
    frame = frame.assign(_order=frame["claim"].map(order)).sort_values(["_order", "protocol", "dataset"], kind="stable")
    cells = decide(frame.drop(columns="_order"), alpha)
    verdicts = summarize_claims(cells)
    return cells, guard_baselines(verdicts, c5["connectivity"]) if c5 is not None else verdicts


RUN_KEYS = ["protocol", "dataset", "experiment", "scheme", "n2", "seed"]
DISTANCE_KEYS = ["protocol", "dataset", "scheme", "seed", "standardised"]
C5_KEYS = ("protocol", "scheme", "baseline_scheme", "connectivity", "claim_fraction", "area_fraction", "margin")


def evaluate_grid(runs: list[pd.DataFrame], distances: list[pd.DataFrame], grid: dict, claims: dict) -> pd.DataFrame:
    """The sensitivity grid's claim cells: every grid protocol judged on the grid's runs only (its datasets, its N2
    and the perceptron), so that each protocol has the same cells and Holm families (rule 9): the reference
    protocol's wider runs never enter (its trends over eight widths, its gap at the widest N2)."""
    def inside(frame, widths=True):
        keep = frame["protocol"].isin(grid["protocols"]) & frame["dataset"].isin(grid["datasets"])
        return frame[keep & frame["n2"].isin([0, *grid["n2"]])] if widths else frame[keep]
    dist = [inside(d, widths=False) for d in distances if len(d)]
    return evaluate_config([inside(r) for r in runs], dist, None, protocols=grid["protocols"], claims=claims)[0]


def evaluate_config(runs: list[pd.DataFrame], distances: list[pd.DataFrame], pruning: pd.DataFrame | None, *,
                    protocols, claims: dict, pruning_config: dict | None = None):
    """evaluate_claims on the union of several grids' tables (the main run and the sensitivity grid share the cells
    of their common protocol: each run once), with the config's `claims` and `pruning` sections."""
    runs_all = pd.concat(runs, ignore_index=True).drop_duplicates(RUN_KEYS)
    dist = [d for d in distances if len(d)]
    dist_all = pd.concat(dist, ignore_index=True).drop_duplicates(DISTANCE_KEYS) if dist else pd.DataFrame(
        columns=DISTANCE_KEYS)
    c6 = (claims["layout_variant"], claims["layout_reference"]) if claims.get("layout_variant") else None
    c5 = {k: pruning_config[k] for k in C5_KEYS} if pruning_config else None
    return evaluate_claims(runs_all, dist_all, pruning, protocols=protocols, margins=claims["margins"],
                           equivalence_margin=claims["equivalence_margin"], alpha=claims["alpha"],
                           delta=claims.get("delta", {}), c5=c5, c6=c6)
