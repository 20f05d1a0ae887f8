"""Verdicts on the paper's claims from the tidy tables: cell tests, Holm correction, one verdict per claim.

The rule, fixed before any table is read:
1. A *cell* is one comparison on one dataset (and experiment, N2, margin...): a statistic per seed, its mean, the
   paired 95 % t interval over seeds, the unpaired Welch interval beside it (the pairing shares only the batch
   order), and two one-sided paired t tests against the claim's threshold: p_for (H0: effect <= threshold) and
   p_against (H0: effect >= threshold; for an equivalence cell, H0: the effect lies inside the margins).
2. Within each claim (every dataset, experiment, N2 of it), Holm's step-down correction is applied to the p_for
   values and, separately, to the p_against values, at family-wise level alpha (default 0.05).
3. A cell `holds` if its Holm-adjusted p_for < alpha, `does not hold` if its Holm-adjusted p_against < alpha,
   else `inconclusive` (always so with fewer than 2 seeds, or when a needed scheme is missing).
4. A claim, per dataset and overall: `does not hold` if some cell does not hold; else `holds` if every cell holds;
   else `holds in part` (listing the cells that hold) if some do; else `inconclusive` (with the reason).
5. mdd80 is the smallest true effect beyond the threshold that a one-sided paired t test at the nominal alpha
   detects with 80 % power given the observed sd over seeds: an `inconclusive` cell whose observed distance to
   the threshold is below mdd80 would need more seeds; one above it would not.

Claims (NC21 = Nat. Commun. 12, 1330 (2021); SR22 = Sci. Rep. 12, 11201 (2022)):
- C1 (NC21): acc(spectral-eigvals) - acc(direct-restricted) > 0 at equal trainable count (every experiment, every N2).
- C2 (NC21): training eigenvectors too closes the gap: acc(spectral-full) - acc(direct-full) > -m, one claim per
  non-inferiority margin m, plus a two-sided equivalence test (TOST, |difference| < m_eq); every experiment.
- C3 (NC21 Fig. 4): eigenvalue-trained weights are distributed more like fully trained ones than restricted ones:
  d(restricted, full) - d(eigvals, full) > 0 for d in {1-Wasserstein, KS statistic} on raw and standardised weights.
- C4 (NC21 Fig. 2): linear telescopic networks gain accuracy with N2 (per-seed Spearman rho of accuracy on N2,
  mean over seeds > 0) and approach full training (acc(eigvals, telescopic, largest N2) - acc(direct-full,
  perceptron) > -m_eq).
  That the trained stack is a linear classifier (retracted = stacked accuracy) is a logged check, not a claim.
- C5 (SR22): removing the hidden nodes with the smallest |lambda| keeps more test accuracy than removing random
  nodes, and than removing the nodes with the smallest incoming-weight norm, at the claim fraction, under SR22's
  setup (the pruning protocol's networks).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from .analysis import mean_ci

CELL_COLUMNS = ["protocol", "claim", "dataset", "experiment", "n2", "statistic", "value", "ci95_low", "ci95_high",
                "welch_low", "welch_high", "n", "threshold", "p_for", "p_against", "p_for_holm", "p_against_holm",
                "mdd80", "verdict", "detail"]
CLAIM_COLUMNS = ["protocol", "claim", "dataset", "verdict", "cells", "cells_hold", "cells_fail", "detail"]
RETRACTION_TOLERANCE = 1e-3  # accuracies are counts / 10000: a float-rounding flip of a few samples at most
CLAIM_TEXT = {
    "C1": "Training eigenvalues only beats direct training of as many randomly chosen weights.",
    "C2": "Training eigenvectors too (spectral-full) is not worse than full direct training by more than the margin.",
    "C2-TOST": "spectral-full and direct-full are equivalent within the margin (two one-sided tests).",
    "C3": "Eigenvalue-trained weights are distributed more like fully trained ones than restricted-trained ones.",
    "C4": "Linear telescopic networks gain accuracy with N2 and approach full training.",
    "C5": "Pruning hidden nodes by smallest |lambda| beats random and weight-norm pruning (SR22's setup).",
}


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p values (NaN stays NaN and is not counted)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok], kind="stable")
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[ok][order]).clip(max=1.0)
    values = np.empty(m)
    values[order] = adjusted
    out[ok] = values
    return out


def one_sided_p(values, threshold: float, greater: bool = True) -> float:
    """Paired one-sided t test p value of H0: mean <= threshold (greater) or mean >= threshold (not greater)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return math.nan
    sd = v.std(ddof=1)
    if sd == 0:
        return 0.0 if (v.mean() > threshold) == greater and v.mean() != threshold else 1.0
    t = (v.mean() - threshold) / (sd / math.sqrt(len(v)))
    return float(stats.t.sf(t, len(v) - 1) if greater else stats.t.cdf(t, len(v) - 1))


def mdd80(sd: float, n: int, alpha: float = 0.05) -> float:
    """Minimal effect (beyond the threshold) a one-sided t test at alpha finds with 80 % power (normal shift)."""
    if n < 2 or math.isnan(sd):
        return math.nan
    return float((stats.t.ppf(1 - alpha, n - 1) + stats.t.ppf(0.8, n - 1)) * sd / math.sqrt(n))


def welch_interval(a, b) -> tuple[float, float]:
    """Unpaired 95 % Welch interval of mean(a) - mean(b)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff, se = a.mean() - b.mean(), math.sqrt(va + vb)
    if se == 0:
        return diff, diff
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = float(stats.t.ppf(0.975, df)) * se
    return diff - half, diff + half


def cell(claim, dataset, experiment, n2, statistic, diffs, threshold, *, a=None, b=None, equivalence=None,
         alpha=0.05, detail="") -> dict:
    """One cell row from per-seed values `diffs` (paired) and, for the Welch interval, the two samples a and b."""
    diffs = np.asarray(diffs, dtype=float)
    diffs = diffs[~np.isnan(diffs)]
    mean, sd, lo, hi = mean_ci(diffs)
    n = len(diffs)
    if equivalence is None:
        p_for, p_against = one_sided_p(diffs, threshold, True), one_sided_p(diffs, threshold, False)
    else:  # TOST: for = both one-sided tests reject; against = the effect lies beyond one margin (Bonferroni x 2)
        p_for = max(one_sided_p(diffs, -equivalence, True), one_sided_p(diffs, equivalence, False))
        p_against = min(1.0, 2 * min(one_sided_p(diffs, -equivalence, False), one_sided_p(diffs, equivalence, True)))
    wl, wh = welch_interval(a, b) if a is not None else (math.nan, math.nan)
    if n < 2:
        detail = f"n = {n} < 2: no interval; " + detail
    return {"claim": claim, "dataset": dataset, "experiment": experiment, "n2": n2, "statistic": statistic,
            "value": mean, "ci95_low": lo, "ci95_high": hi, "welch_low": wl, "welch_high": wh, "n": n,
            "threshold": threshold, "p_for": p_for, "p_against": p_against, "mdd80": mdd80(sd, n, alpha),
            "detail": detail}


def _paired(g: pd.DataFrame, scheme: str, other: str):
    acc = g.pivot_table(index="seed", columns="scheme", values="final_test_accuracy")
    if scheme not in acc or other not in acc:
        return None
    both = acc[[scheme, other]].dropna()
    return both[scheme] - both[other], acc[scheme].dropna(), acc[other].dropna()


def scheme_cells(runs, claim, scheme, other, threshold, statistic, experiments, alpha, equivalence=None):
    """Per (dataset, experiment, n2): the paired difference acc(scheme) - acc(other) over seeds."""
    rows = []
    sub = runs[runs["experiment"].isin(experiments)]
    for (dataset, experiment, n2), g in sub.groupby(["dataset", "experiment", "n2"], sort=True):
        paired = _paired(g, scheme, other)
        if paired is None:
            continue
        diff, a, b = paired
        rows.append(cell(claim, dataset, experiment, n2, statistic, diff, threshold, a=a, b=b, alpha=alpha,
                         equivalence=equivalence,
                         detail=f"mean test accuracy {scheme} {a.mean():.4f} vs {other} {b.mean():.4f}"))
    return rows


def claim_c3(distances: pd.DataFrame, alpha: float) -> list[dict]:
    rows = []
    d = distances[distances["seed"].astype(str) != "pooled"]
    for (dataset, standardised), g in d.groupby(["dataset", "standardised"], sort=True):
        for metric, column in (("W1", "wasserstein"), ("KS", "ks_statistic")):
            w = g.pivot_table(index="seed", columns="scheme", values=column)
            if "spectral-eigvals" not in w or "direct-restricted" not in w:
                continue
            kind = "standardised" if str(standardised) == "True" else "raw"
            diff = (w["direct-restricted"] - w["spectral-eigvals"]).dropna()
            rows.append(cell("C3", dataset, "perceptron", 0, f"{metric}(restricted, full) - {metric}(eigvals, full), "
                             f"{kind} weights", diff, 0.0, a=w["direct-restricted"].dropna(),
                             b=w["spectral-eigvals"].dropna(), alpha=alpha,
                             detail=f"mean {metric} to direct-full: eigvals {w['spectral-eigvals'].mean():.4f}, "
                                    f"restricted {w['direct-restricted'].mean():.4f}"))
    return rows


def retraction_gap(runs: pd.DataFrame) -> float:
    """Largest |retracted - stacked| test accuracy over the telescopic runs (the logged linearity check)."""
    tele = runs[runs["experiment"] == "telescopic"]
    return float((tele["retracted_test_accuracy"] - tele["final_test_accuracy"]).abs().max()) if len(tele) else math.nan


def claim_c4(runs: pd.DataFrame, margin: float, alpha: float) -> list[dict]:
    rows = []
    for dataset, g in runs.groupby("dataset", sort=True):
        ev = g[(g["experiment"] == "telescopic") & (g["scheme"] == "spectral-eigvals")]
        rhos = [stats.spearmanr(s["n2"], s["final_test_accuracy"]).statistic for _, s in ev.groupby("seed")
                if s["n2"].nunique() >= 2]
        rhos = [r for r in rhos if not np.isnan(r)]
        reason = "" if ev["n2"].nunique() >= 2 else "fewer than 2 N2 values in telescopic; "
        rows.append(cell("C4", dataset, "telescopic", -1, "Spearman rho(N2, test accuracy) per seed, spectral-eigvals",
                         rhos, 0.0, alpha=alpha, detail=reason + f"{ev['n2'].nunique()} N2 values"))
        full = g[(g["experiment"] == "perceptron") & (g["scheme"] == "direct-full")].set_index("seed")
        if len(ev) and len(full):
            top = ev[ev["n2"] == ev["n2"].max()].set_index("seed")["final_test_accuracy"]
            ref = full["final_test_accuracy"]
            diff = (top - ref).dropna()
            rows.append(cell("C4", dataset, "telescopic", int(ev["n2"].max()),
                             "acc(spectral-eigvals, telescopic, largest N2) - acc(direct-full, perceptron)", diff,
                             -margin, a=top,
                             b=ref, alpha=alpha, detail=f"eigvals {top.mean():.4f} vs direct-full perceptron "
                                                        f"{ref.mean():.4f}, margin {margin:g}"))
    return rows


def claim_c5(pruning: pd.DataFrame, protocol: str, scheme: str, fraction: float, alpha: float) -> list[dict]:
    rows = []
    sub = pruning[(pruning["protocol"] == protocol) & (pruning["scheme"] == scheme)
                  & np.isclose(pruning["fraction_removed"], fraction)]
    for (dataset, n2), g in sub.groupby(["dataset", "n2"], sort=True):
        acc = g.pivot_table(index="seed", columns="order", values="test_accuracy")
        for other in ("random", "magnitude"):
            if "eigenvalue" not in acc or other not in acc:
                continue
            rows.append(cell("C5", dataset, "nonlinear", int(n2), f"acc(prune by |lambda|) - acc(prune {other}), "
                             f"{fraction:g} removed", acc["eigenvalue"] - acc[other], 0.0, a=acc["eigenvalue"],
                             b=acc[other], alpha=alpha, detail=f"eigenvalue {acc['eigenvalue'].mean():.4f} vs {other} "
                                                               f"{acc[other].mean():.4f}"))
    return rows


def decide(cells: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Holm within each (protocol, claim), then the cell verdicts (rule points 2-3)."""
    cells = cells.copy()
    cells["p_for_holm"] = np.nan
    cells["p_against_holm"] = np.nan
    for _, idx in cells.groupby(["protocol", "claim"]).groups.items():
        cells.loc[idx, "p_for_holm"] = holm(cells.loc[idx, "p_for"])
        cells.loc[idx, "p_against_holm"] = holm(cells.loc[idx, "p_against"])
    cells["verdict"] = np.where(cells["p_for_holm"] < alpha, "holds",
                                np.where(cells["p_against_holm"] < alpha, "does not hold", "inconclusive"))
    return cells[CELL_COLUMNS]


def cell_label(r) -> str:
    where = {0: r.experiment, -1: f"{r.experiment} (all N2)"}.get(r.n2, f"{r.experiment} N2={r.n2}")
    return f"{r.dataset} {where}" + (f" [{r.statistic.split(',')[-1].strip()}]" if r.claim in ("C3", "C5") else "")


def claim_verdict(g: pd.DataFrame) -> tuple[str, str]:
    """Rule point 4: (verdict, detail) of a group of decided cells."""
    if g.empty:
        return "inconclusive", "no cells: a scheme, experiment or dataset it needs is missing"
    hold, fail = g[g["verdict"] == "holds"], g[g["verdict"] == "does not hold"]
    if len(fail):
        return "does not hold", "fails at " + "; ".join(cell_label(r) for r in fail.itertuples())
    if len(hold) == len(g):
        return "holds", f"all {len(g)} cells hold"
    if len(hold):
        return "holds in part", "holds at " + "; ".join(cell_label(r) for r in hold.itertuples())
    reasons = sorted({r.detail.split(";")[0] for r in g.itertuples() if r.n < 2})
    return "inconclusive", "no cell decided" + (f" ({', '.join(reasons)})" if reasons else "")


def summarize_claims(cells: pd.DataFrame, claims, protocols) -> pd.DataFrame:
    """Claim-level verdicts per (protocol, claim, dataset) and overall (dataset 'all')."""
    rows = []
    for protocol in protocols:
        for claim in claims:
            g = cells[(cells["protocol"] == protocol) & (cells["claim"] == claim)]
            for dataset in sorted(g["dataset"].unique()) + ["all"]:
                sub = g if dataset == "all" else g[g["dataset"] == dataset]
                verdict, detail = claim_verdict(sub)
                rows.append({"protocol": protocol, "claim": claim, "dataset": dataset, "verdict": verdict,
                             "cells": len(sub), "cells_hold": int((sub["verdict"] == "holds").sum()),
                             "cells_fail": int((sub["verdict"] == "does not hold").sum()), "detail": detail})
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def claim_names(margins, equivalence_margin) -> list[str]:
    return ["C1"] + [f"C2@{100 * m:g}pp" for m in margins] + [f"C2-TOST@{100 * equivalence_margin:g}pp", "C3", "C4",
                                                              "C5"]


def evaluate_claims(runs: pd.DataFrame, distances: pd.DataFrame, pruning: pd.DataFrame | None = None, *,
                    protocols=None, margins=(0.005, 0.01, 0.02), equivalence_margin=0.01, alpha=0.05,
                    pruning_protocol=None, pruning_scheme="spectral-full", pruning_fraction=0.5):
    """(cells, claim-level verdicts). C1-C4 per protocol in `protocols`; C5 on `pruning_protocol`'s networks."""
    protocols = list(protocols or sorted(runs["protocol"].unique()))
    rows = []
    for protocol in protocols:
        r = runs[runs["protocol"] == protocol]
        d = distances[distances["protocol"] == protocol] if len(distances) else distances
        new = scheme_cells(r, "C1", "spectral-eigvals", "direct-restricted", 0.0,
                           "acc(spectral-eigvals) - acc(direct-restricted)", ["perceptron", "telescopic", "nonlinear"],
                           alpha)
        for m in margins:
            new += scheme_cells(r, f"C2@{100 * m:g}pp", "spectral-full", "direct-full", -m,
                                f"acc(spectral-full) - acc(direct-full), margin {m:g}",
                                ["perceptron", "telescopic", "nonlinear"], alpha)
        new += scheme_cells(r, f"C2-TOST@{100 * equivalence_margin:g}pp", "spectral-full", "direct-full", 0.0,
                            f"acc(spectral-full) - acc(direct-full), equivalence margin {equivalence_margin:g}",
                            ["perceptron", "telescopic", "nonlinear"], alpha, equivalence=equivalence_margin)
        new += claim_c3(d, alpha) if len(d) else []
        new += claim_c4(r, equivalence_margin, alpha)
        rows += [{**row, "protocol": protocol} for row in new]
    names = claim_names(margins, equivalence_margin)
    c5_protocols = []
    if pruning is not None and pruning_protocol is not None:
        rows += [{**row, "protocol": pruning_protocol}
                 for row in claim_c5(pruning, pruning_protocol, pruning_scheme, pruning_fraction, alpha)]
        c5_protocols = [pruning_protocol]
    cells = decide(pd.DataFrame(rows, columns=[c for c in CELL_COLUMNS if c not in
                                               ("p_for_holm", "p_against_holm", "verdict")]), alpha)
    verdicts = pd.concat([summarize_claims(cells, names[:-1], protocols),
                          summarize_claims(cells, ["C5"], c5_protocols)], ignore_index=True)
    return cells, verdicts
