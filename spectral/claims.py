"""Verdicts on the paper's claims from the tidy tables, with paired 95 % intervals over seeds.

C1: spectral-eigvals beats direct-restricted at equal trainable count (every experiment and N2).
C2: spectral-full is within `margin` (default 1 percentage point) of direct-full, read one-sided: spectral-full
    is not worse than direct-full by more than the margin (being better does not contradict the claim).
C3: the spectral-eigvals weight distribution is closer to direct-full's than direct-restricted's is
    (per-seed paired difference of standardised 1-Wasserstein distances).
C4: in E2 spectral-eigvals accuracy increases with N2 (Spearman rho over all seeds and N2, Fisher-z interval)
    while the network stays a linear classifier (retracted accuracy equals stacked accuracy on every run).

Verdict rule: `holds` when the 95 % interval lies wholly on the claim's side of its threshold, `does not hold`
when it lies wholly on the other side, `inconclusive` otherwise (including n < 2).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from .analysis import mean_ci

COLUMNS = ["claim", "dataset", "experiment", "n2", "statistic", "value", "ci95_low", "ci95_high", "n", "threshold",
           "verdict", "detail"]
RETRACTION_TOLERANCE = 1e-3  # accuracies are counts / 10000: a float-rounding flip of a few samples at most


def verdict(low: float, high: float, threshold: float) -> str:
    """holds if [low, high] > threshold, does not hold if < threshold, else inconclusive."""
    if math.isnan(low) or math.isnan(high):
        return "inconclusive"
    if low > threshold:
        return "holds"
    if high < threshold:
        return "does not hold"
    return "inconclusive"


def paired_rows(runs, claim, scheme, other, threshold, statistic, experiments) -> list[dict]:
    """Per (dataset, experiment, n2): mean over seeds of acc(scheme) - acc(other), its t interval, the verdict."""
    rows = []
    sub = runs[runs["experiment"].isin(experiments)]
    for (dataset, experiment, n2), g in sub.groupby(["dataset", "experiment", "n2"], sort=True):
        acc = g.pivot_table(index="seed", columns="scheme", values="final_test_accuracy")
        if scheme not in acc or other not in acc:
            continue
        diff = (acc[scheme] - acc[other]).dropna()
        mean, _, lo, hi = mean_ci(diff)
        rows.append({"claim": claim, "dataset": dataset, "experiment": experiment, "n2": n2, "statistic": statistic,
                     "value": mean, "ci95_low": lo, "ci95_high": hi, "n": len(diff), "threshold": threshold,
                     "verdict": verdict(lo, hi, threshold),
                     "detail": f"mean test accuracy {scheme} {acc[scheme].mean():.4f} vs {other} {acc[other].mean():.4f}"})
    return rows


def claim_c3(distances: pd.DataFrame) -> list[dict]:
    rows = []
    d = distances[(distances["standardised"]) & (distances["seed"] != "pooled")]
    for dataset, g in d.groupby("dataset", sort=True):
        w = g.pivot_table(index="seed", columns="scheme", values="wasserstein")
        if "spectral-eigvals" not in w or "direct-restricted" not in w:
            continue
        diff = (w["direct-restricted"] - w["spectral-eigvals"]).dropna()
        mean, _, lo, hi = mean_ci(diff)
        rows.append({"claim": "C3", "dataset": dataset, "experiment": "perceptron", "n2": 0,
                     "statistic": "W1(restricted, full) - W1(eigvals, full), standardised weights", "value": mean,
                     "ci95_low": lo, "ci95_high": hi, "n": len(diff), "threshold": 0.0,
                     "verdict": verdict(lo, hi, 0.0),
                     "detail": f"mean W1 to direct-full: eigvals {w['spectral-eigvals'].mean():.4f}, "
                               f"restricted {w['direct-restricted'].mean():.4f}"})
    return rows


def claim_c4(runs: pd.DataFrame) -> list[dict]:
    rows = []
    tele = runs[runs["experiment"] == "telescopic"]
    for dataset, g in tele.groupby("dataset", sort=True):
        ev = g[g["scheme"] == "spectral-eigvals"]
        n = len(ev)
        if n < 4 or ev["n2"].nunique() < 2:
            lo = hi = rho = math.nan
        else:
            rho = float(stats.spearmanr(ev["n2"], ev["final_test_accuracy"]).statistic)
            half = 1.96 / math.sqrt(n - 3)
            z = np.arctanh(np.clip(rho, -0.999999, 0.999999))
            lo, hi = float(np.tanh(z - half)), float(np.tanh(z + half))
        gap = (g["retracted_test_accuracy"] - g["final_test_accuracy"]).abs().max()
        linear = bool(gap <= RETRACTION_TOLERANCE)
        v = verdict(lo, hi, 0.0)
        if not linear:
            v = "does not hold"
        rows.append({"claim": "C4", "dataset": dataset, "experiment": "telescopic", "n2": -1,
                     "statistic": "Spearman rho(N2, test accuracy), spectral-eigvals", "value": rho, "ci95_low": lo,
                     "ci95_high": hi, "n": n, "threshold": 0.0, "verdict": v,
                     "detail": f"max |retracted - stacked| accuracy over all E2 runs: {gap:.2e} "
                               f"({'linear' if linear else 'NOT linear'})"})
    return rows


def evaluate_claims(runs: pd.DataFrame, distances: pd.DataFrame, margin: float = 0.01) -> pd.DataFrame:
    """All claim rows; n2 = 0 for the perceptron, -1 where a row spans every N2."""
    rows = paired_rows(runs, "C1", "spectral-eigvals", "direct-restricted", 0.0,
                       "acc(spectral-eigvals) - acc(direct-restricted)", ["perceptron", "telescopic", "nonlinear"])
    rows += paired_rows(runs, "C2", "spectral-full", "direct-full", -margin,
                        "acc(spectral-full) - acc(direct-full)", ["perceptron", "nonlinear"])
    rows += claim_c3(distances) + claim_c4(runs)
    return pd.DataFrame(rows, columns=COLUMNS)


CLAIM_TEXT = {
    "C1": "Training eigenvalues only beats direct-space training of as many randomly chosen weights.",
    "C2": "Training eigenvectors too (spectral-full) comes within 1 percentage point of full direct training.",
    "C3": "Eigenvalue-trained weights are distributed more like fully trained ones than restricted-trained ones.",
    "C4": "A linear telescopic network's eigenvalue-trained accuracy grows with N2 while it remains a linear classifier.",
}


def claims_markdown(claims: pd.DataFrame) -> str:
    """Human-readable claims report: one section per claim, a verdict count and the rows."""
    lines = ["# Claims of Giambagli et al. (2021): verdicts", "",
             "Verdict: `holds` if the 95 % interval lies wholly on the claim's side of the threshold, "
             "`does not hold` if wholly on the other side, `inconclusive` otherwise.", ""]
    for claim, g in claims.groupby("claim", sort=True):
        counts = g["verdict"].value_counts().to_dict()
        lines += [f"## {claim}: {CLAIM_TEXT[claim]}", "",
                  "Verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), "",
                  "| dataset | experiment | N2 | value | 95 % CI | n | verdict |", "|---|---|---|---|---|---|---|"]
        for r in g.itertuples():
            n2 = {0: "-", -1: "all"}.get(r.n2, r.n2)
            lines.append(f"| {r.dataset} | {r.experiment} | {n2} | {r.value:+.4f} | [{r.ci95_low:+.4f}, {r.ci95_high:+.4f}]"
                         f" | {r.n} | **{r.verdict}** |")
        lines += ["", f"Statistic: {g['statistic'].iloc[0]}.", ""]
    return "\n".join(lines)
