"""Verdicts on the papers' claims from the tidy tables: one test per cell, one verdict per claim.

The rule, fixed before any table is read (alpha = claims.alpha, delta = claims.delta of the claim):
1. A *cell* is one comparison on one dataset (experiment, N2, margin...). Its primary test is pre-specified:
   Welch's t test where the two schemes share only a seed's batch order (C1, C2, C4 gaps, C5, C6), a one-sample t
   test over seeds where the pairing is real or the statistic is per seed (C3 and C3-moves: distances to the same
   seed's direct-full network; C4 trends; C5-explore: orders applied to one network). The other interval is
   reported beside it. p_for tests H0 effect <= threshold, p_against H0 effect >= threshold.
2. Holm's step-down correction runs within each *family* = (protocol, claim, dataset): every cell of that claim on
   that dataset under that protocol, whatever else the run holds.
3. A cell is `at the threshold` if delta > 0 and its 1 - 2 alpha interval (90 % at alpha = 0.05) lies inside
   threshold +- delta (two one-sided tests at alpha: equivalent to the threshold, neither holds nor fails); else it `holds` if its Holm-adjusted
   p_for < alpha, `does not hold` if its Holm-adjusted p_against < alpha, else `inconclusive`. For C2-TOST (whose
   claim is an equivalence band, delta 0) `does not hold` means worse than -margin; better than +margin is
   `superior`, not a failure. `wrong_side` flags a cell whose 95 % interval excludes the threshold on the failing
   side, whatever Holm says.
4. A claim, per dataset and overall (both datasets' cells):
   `does not hold` if some cell does not hold (an existence statement: Holm in each family);
   `holds` if every cell has unadjusted p_for < alpha and none is at the threshold (intersection-union test,
   Berger 1982: a universal claim needs no multiplicity correction);
   `at the threshold` if every cell is; `holds in part` if some cells hold (the Holm list); else `inconclusive`.
   Each direction is controlled at alpha per family, so the two together allow at most 2 alpha (only when every
   cell sits exactly at its threshold); `overall` does not hold if any dataset's family does (at most
   alpha x datasets).
5. Power, for a cell still undecided: `level` is the alpha it needs (alpha for the holds direction, the IUT level;
   Holm's next level alpha / (m - rejected) for the failing direction), `mdd80` the smallest distance beyond the
   threshold detected with 80 % power at that level with the cell's own se and df (its seeds, however many each
   arm has), and
   `seeds_needed` the seeds (per arm for Welch) that would decide it with 80 % power if the observed effect were
   true (the one-sided test, or the equivalence test when the effect lies within delta), blank above 1000.
   The formulas (docs/verdict-rule.md): a one-sided t test at `level` with standard error se and df (paired:
   se = sd / sqrt(n), df = n - 1; Welch: se = sqrt(sd_a^2 / n_a + sd_b^2 / n_b) with Welch-Satterthwaite df, n
   seeds in each arm for `seeds_needed`) has power
   1 - F_nct(t_{1-level, df}; df, d / se) against a true distance d (F_nct the noncentral t distribution with
   noncentrality d / se); mdd80 is the d where that power is 0.8 (bisection). `seeds_needed` is the smallest n at
   which either route reaches 0.8: the one-sided test at the observed distance, or, when |distance| < delta, the
   two one-sided tests of |effect - threshold| < delta (power P_low + P_high - 1 of the two noncentral t tails);
   a C2-TOST cell (threshold -m) by its band: the equivalence route while |effect| < m, else the one-sided test beyond
   the nearer bound (stats.tost_seeds_needed).
6. Beside every test with n >= 10: a sign-flip (one-sample) or permutation (Welch) test of the same mean, exact
   (every rearrangement enumerated) while there are at most 2^20 of them (n <= 20 paired seeds; two arms up to
   C(n_a + n_b, n_a) <= 2^20), else Monte Carlo with 100,000 random rearrangements (the 19-against-19 cells);
   `perm_disagrees` marks a cell whose unadjusted decision at alpha differs (listed in claims.md).
7. C5's baseline must beat random (SR22's comparison is against a network pruned by connectivity, so an order no
   better than random would make it a straw man): C5-guard@<reading> tests, on the same direct-full networks paired
   by seed, acc(order) - acc(random) > 0 at the claim fraction and over the curve. A reading whose guard does not
   hold on a dataset (rule 4) is flagged, and its C5 claim on that dataset (and overall) reads `baseline no better
   than random` instead of a verdict: such an order can never be the primary baseline.
Precedence and scope: a cell is labelled by the first that applies of `at the threshold`, `holds`, `does not
hold`, `superior`, `inconclusive` (so a cell both at the threshold and significant is `at the threshold`).
`at the threshold` is a per-cell equivalence statement at alpha with no multiplicity control across a family's
cells (it can neither make a claim hold nor fail: rule 4); Holm controls only the holds and fails directions.
C4's trend and closing cells exist only with at least TREND_MIN_N2 = 3 telescopic N2 values (a rank correlation
over two points is always +-1).

Claims (NC21 = Nat. Commun. 12, 1330 (2021); PRE21 = Phys. Rev. E 104, 054312 (2021); SR22 = Sci. Rep. 12, 11201
(2022); all from their abstracts, introductions and figure captions, see docs/evidence.md; the mapping to our
experiments is our reading):
- C1 (NC21 abstract): acc(spectral-eigvals) - acc(direct-restricted) > 0 at equal trainable count.
- C2@m (NC21 abstract, SR22 introduction): acc(spectral-full) - acc(direct-full) > -m (non-inferiority, primary);
  C2-TOST: |difference| < m_eq (secondary).
- C3 (NC21 Fig. 4 caption): d(restricted, full) - d(eigvals, full) > 0, d in {1-Wasserstein, KS} on raw and
  standardised perceptron weights. C3-moves, its control: d(eigvals at initialisation, full) - d(eigvals, full)
  > 0, i.e. training the eigenvalues moves the weights towards the fully trained distribution.
- C4 (our reading of the linear telescopic networks): eigenvalue-trained telescopic networks gain accuracy with N2
  (per-seed Spearman rho), and at the largest N2 reach direct-full training of the same telescopic network within
  m_eq, with the gap closing as N2 grows. C4-perceptron: the same gap against the direct-full perceptron, the
  class of linear maps the retracted network belongs to.
- C5 (SR22 Fig. 3 caption): the spectral network pruned by smallest |lambda| is not worse, by more than the
  margin, than a direct-full network of the same shape pruned by smallest incoming connectivity: at the claim
  fraction and over the curve (mean accuracy up to the area fraction). Connectivity is pruning.connectivity (l1 =
  sum_j |w_ij|, the authors' pruning code); C5@abs-sum and C5@l2 judge the other readings, C5-guard@<reading> each
  baseline against random (rule 7). C5-explore (exploratory): on the same spectral network, |lambda| against the
  L2-norm and random orders, and the largest fraction each curve keeps within the margin of its unpruned network.
- C6 (PRE21 abstract): two eigenvalue sets per mapping (per-layer) train eigenvalue-only networks better than one
  per node: acc(spectral-eigvals, per-layer) - acc(spectral-eigvals, per-node) > 0 on the cells both run.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

from . import stats

CELL_COLUMNS = ["protocol", "claim", "dataset", "experiment", "n2", "statistic", "test", "value", "se", "df",
                "ci95_low", "ci95_high", "ci90_low", "ci90_high", "paired_low", "paired_high", "welch_low",
                "welch_high", "n", "sd_a", "sd_b", "threshold", "delta", "p_for", "p_against", "p_for_holm",
                "p_against_holm", "p_superior", "iut", "at_threshold", "wrong_side", "p_perm_for", "p_perm_against",
                "perm_disagrees", "level", "mdd80", "seeds_needed", "verdict", "detail"]
CLAIM_COLUMNS = ["protocol", "claim", "dataset", "verdict", "cells", "cells_hold", "cells_iut", "cells_at_threshold",
                 "cells_fail", "cells_undecided", "cells_wrong_side", "cells_judged", "detail"]
SEEDS_CAP = 1000  # seeds_needed is left blank above this
PERMUTATION_MIN_N = 10  # the distribution-free check runs from this many seeds on
BASELINE_NOT_BETTER = "baseline no better than random"  # rule 7: a C5 verdict whose baseline fails its guard
NOT_JUDGED = "not judged under this choice"  # rule 9: a specification's claim none of whose cells both runs test
DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10",
                 "all": "overall"}  # how tables and text name a dataset (and both together)
RETRACTION_TOLERANCE = 1e-3  # accuracies are counts / 10000: a float-rounding flip of a few samples at most
CLAIM_TEXT = {
    "C1": "Training eigenvalues only beats direct training of as many randomly chosen weights.",
    "C2": "Training eigenvectors too (spectral-full) is not worse than full direct training by more than the margin.",
    "C2-TOST": "spectral-full and direct-full are equivalent within the margin (secondary; superiority is no failure).",
    "C3": "Eigenvalue-trained weights are distributed more like fully trained ones than restricted-trained ones.",
    "C3-moves": "Training the eigenvalues moves the weights towards the fully trained distribution (C3's control).",
    "C4": "Telescopic networks gain accuracy with N2 and reach direct-full training of the same network.",
    "C4-perceptron": "The eigenvalue-trained telescopic network reaches the direct-full perceptron.",
    "C5": "Pruning by smallest |lambda| is not worse than a direct-full network pruned by connectivity (SR22 Fig. 3).",
    "C5-guard": "C5's baseline order beats random pruning of the same direct-full network (a baseline must beat random).",
    "C5-explore": "On one spectral network, |lambda| order beats L2-norm and random orders (exploratory).",
    "C6": "Two eigenvalue sets per mapping (per-layer) beat one per node for eigenvalue-only training (PRE21).",
}


def claim_base(claim: str) -> str:
    """'C2@0.5pp' -> 'C2': the key of CLAIM_TEXT and of claims.delta."""
    return claim.split("@")[0]


def cell(claim, dataset, experiment, n2, statistic, threshold, *, delta=0.0, a=None, b=None, diffs=None,
         primary="welch", equivalence=None, detail="") -> dict:
    """One cell row before the family step: the primary test (Welch on a, b or one-sample on diffs), the other
    interval, the distribution-free check. `equivalence` = m turns it into a TOST cell on |effect| < m."""
    welch = stats.welch_test(a, b, threshold) if a is not None else None
    paired = stats.paired_test(diffs, threshold) if diffs is not None else None
    test = welch if primary == "welch" else paired
    assert test is not None, f"{claim}: the primary test {primary!r} has no data"
    p_for, p_against, p_superior = test.p_for, test.p_against, math.nan
    perm = (math.nan, math.nan)
    if test.n >= PERMUTATION_MIN_N and equivalence is None:
        perm = tuple(stats.permutation_p(a, b, threshold, g) if primary == "welch" else
                     stats.sign_flip_p(diffs, threshold, g) for g in (True, False))
    if equivalence is not None:  # TOST: for = inside (-m, m); against = below -m; superior = above +m
        low = _shifted(test, -equivalence)
        high = _shifted(test, equivalence)
        p_for, p_against, p_superior = max(low[0], high[1]), low[1], high[0]
    lo95, hi95 = test.interval(0.95)
    lo90, hi90 = test.interval(0.90)
    pl, ph = paired.interval(0.95) if paired is not None else (math.nan, math.nan)
    wl, wh = welch.interval(0.95) if welch is not None else (math.nan, math.nan)
    sd_a, sd_b = _sds(a, b, diffs, primary)
    if test.n < 2:
        detail = f"n = {test.n} < 2: no test; " + detail
    return {"claim": claim, "dataset": dataset, "experiment": experiment, "n2": int(n2), "statistic": statistic,
            "test": test.kind, "value": test.estimate, "se": test.se, "df": test.df, "ci95_low": lo95,
            "ci95_high": hi95, "ci90_low": lo90, "ci90_high": hi90, "paired_low": pl, "paired_high": ph,
            "welch_low": wl, "welch_high": wh, "n": test.n, "sd_a": sd_a, "sd_b": sd_b,
            "threshold": -equivalence if equivalence is not None else threshold,
            "delta": 0.0 if equivalence is not None else delta, "p_for": p_for, "p_against": p_against,
            "p_superior": p_superior, "p_perm_for": perm[0], "p_perm_against": perm[1], "detail": detail}


def _shifted(test: stats.TTest, threshold: float) -> tuple[float, float]:
    return stats._directions(test.estimate, test.se, test.df, threshold)


def _sds(a, b, diffs, primary) -> tuple[float, float]:
    def sd(x):
        x = np.asarray(x, dtype=float)
        x = x[~np.isnan(x)]
        return float(x.std(ddof=1)) if len(x) > 1 else math.nan
    return (sd(a), sd(b)) if primary == "welch" else (sd(diffs), math.nan)


def decide(cells: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Rule points 2, 3, 5 and 6: Holm per family, verdicts, flags, power of the undecided cells."""
    cells = cells.copy().reset_index(drop=True)
    for col in ("p_for_holm", "p_against_holm", "level", "mdd80"):
        cells[col] = np.nan
    cells["seeds_needed"] = pd.array([pd.NA] * len(cells), dtype="Int64")
    for _, idx in cells.groupby(["protocol", "claim", "dataset"]).groups.items():
        cells.loc[idx, "p_for_holm"] = stats.holm(cells.loc[idx, "p_for"])
        cells.loc[idx, "p_against_holm"] = stats.holm(cells.loc[idx, "p_against"])
        cells.loc[idx, "level_against"] = stats.holm_next_level(cells.loc[idx, "p_against_holm"], alpha)
    thr, delta = cells["threshold"], cells["delta"]
    cells["iut"] = cells["p_for"] < alpha
    half = sps.t.ppf(1 - alpha, cells["df"].astype(float)) * cells["se"].astype(float)  # the 1 - 2 alpha interval
    cells["at_threshold"] = (delta > 0) & (cells["value"] - half > thr - delta) & (cells["value"] + half < thr + delta)
    cells["wrong_side"] = cells["ci95_high"] < thr
    superior = cells["p_superior"] < alpha  # NaN (every non-TOST cell) compares False
    cells["verdict"] = np.select(
        [cells["at_threshold"], cells["p_for_holm"] < alpha, cells["p_against_holm"] < alpha, superior],
        ["at the threshold", "holds", "does not hold", "superior"], "inconclusive")
    pf, pa = cells["p_for"] < alpha, cells["p_against"] < alpha
    cells["perm_disagrees"] = cells["p_perm_for"].notna() & (((cells["p_perm_for"] < alpha) != pf)
                                                             | ((cells["p_perm_against"] < alpha) != pa))
    for i in cells.index[cells["verdict"] == "inconclusive"]:
        r = cells.loc[i]
        distance = r["value"] - r["threshold"]
        level = alpha if distance >= 0 else r["level_against"]
        sd_b = None if r["test"] == "paired" else r["sd_b"]
        cells.loc[i, "level"] = level
        cells.loc[i, "mdd80"] = stats.mdd(float(r["se"]), float(r["df"]), level)
        cells.loc[i, "seeds_needed"] = (  # a TOST cell (it has p_superior; threshold = -m) is decided inside its band
            stats.tost_seeds_needed(r["value"], -r["threshold"], r["sd_a"], sd_b, alpha, SEEDS_CAP, level)
            if pd.notna(r["p_superior"]) else
            stats.seeds_needed(distance, r["sd_a"], sd_b, level, SEEDS_CAP, r["delta"], alpha))
    return cells[CELL_COLUMNS]


def statistic_kind(statistic: str) -> str:
    """A short name that tells a claim's statistics of one cell apart: 'W1 raw', 'at 0.5 removed', 'curve to 0.9
    removed', 'l2 order at 0.5 removed', 'safe fraction', 'trend'."""
    head, _, tail = (part.strip() for part in statistic.rpartition(","))
    if not head:
        return ""
    if statistic.startswith(("W1", "KS")):
        return f"{statistic[:2]} {tail}"
    if statistic.startswith("mean acc up to"):
        return "curve to " + statistic.split()[4] + " removed"
    if statistic.startswith("largest safe fraction"):
        return "safe fraction"
    if " on the spectral network" in head:
        return f"{head.split('acc(')[-1].split(')')[0]} order at {tail}"
    return f"at {tail}" if tail.endswith("removed") else tail


def cell_label(r) -> str:
    where = {0: r.experiment, -1: f"{r.experiment} (all N2)"}.get(r.n2, f"{r.experiment} N2={r.n2}")
    kind = statistic_kind(r.statistic) if claim_base(r.claim) in ("C3", "C3-moves", "C5", "C5-guard", "C5-explore",
                                                                  "C4") else ""
    return f"{r.dataset} {where}" + (f" [{kind}]" if kind else "")


def claim_verdict(g: pd.DataFrame) -> tuple[str, str]:
    """Rule point 4: (verdict, detail) of a group of decided cells."""
    if g.empty:
        return "inconclusive", "no cells: a scheme, experiment or dataset it needs is missing"
    if g["p_for"].isna().all():
        return "inconclusive", "no cell has a test (" + "; ".join(sorted({d.split(";")[0] for d in g["detail"]})) + ")"
    fail, hold = g[g["verdict"] == "does not hold"], g[g["verdict"] == "holds"]
    near = g[g["verdict"] == "at the threshold"]
    tail = f"; at the threshold: {len(near)}" if len(near) else ""
    if len(fail):
        return "does not hold", "fails at " + "; ".join(cell_label(r) for r in fail.itertuples()) + tail
    if g["iut"].all() and not len(near):
        return "holds", f"every one of {len(g)} cells has p < alpha (intersection-union); {len(hold)} hold after Holm"
    if len(near) == len(g):
        return "at the threshold", f"all {len(g)} cells lie within delta of the threshold"
    if len(hold):
        return "holds in part", "holds at " + "; ".join(cell_label(r) for r in hold.itertuples()) + tail
    return "inconclusive", f"no cell decided{tail}"


def cells_judged(g: pd.DataFrame) -> str:
    """Which cells a claim verdict judges, by width: 'N2 = 10, 100; perceptron; all-N2 trend' (two verdict tables of
    one claim that judge different cells say so here)."""
    widths = sorted(int(n) for n in g["n2"].unique() if n > 0)
    parts = ([f"N2 = {', '.join(map(str, widths))}"] if widths else []) + (["perceptron"] if (g["n2"] == 0).any()
                                                                          else [])
    return "; ".join(parts + (["all-N2 trend"] if (g["n2"] == -1).any() else [])) or "none"


def summarize_claims(cells: pd.DataFrame) -> pd.DataFrame:
    """Claim-level verdicts per (protocol, claim, dataset) and overall (dataset 'all')."""
    rows = []
    for (protocol, claim), g in cells.groupby(["protocol", "claim"], sort=False):
        for dataset in sorted(g["dataset"].unique()) + ["all"]:
            sub = g if dataset == "all" else g[g["dataset"] == dataset]
            verdict, detail = claim_verdict(sub)
            v = sub["verdict"]
            rows.append({"protocol": protocol, "claim": claim, "dataset": dataset, "verdict": verdict,
                         "cells": len(sub), "cells_hold": int((v == "holds").sum()), "cells_iut": int(sub["iut"].sum()),
                         "cells_at_threshold": int((v == "at the threshold").sum()),
                         "cells_fail": int((v == "does not hold").sum()),
                         "cells_undecided": int(v.isin(["inconclusive", "superior"]).sum()),
                         "cells_wrong_side": int(sub["wrong_side"].sum()), "cells_judged": cells_judged(sub),
                         "detail": detail})
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def retraction_gap(runs: pd.DataFrame) -> float:
    """Largest |retracted - stacked| test accuracy over the telescopic runs (the logged linearity check)."""
    tele = runs[runs["experiment"] == "telescopic"]
    return float((tele["retracted_test_accuracy"] - tele["final_test_accuracy"]).abs().max()) if len(tele) else math.nan


def spearman_per_seed(frame: pd.DataFrame, value: str) -> list[float]:
    """Per seed, Spearman's rho of `value` on N2, over seeds trained at every N2 of `frame` (under a seed plan a cell
    may have more seeds than the trend's others); seeds with no spread are left out."""
    n2s = frame["n2"].nunique()
    rhos = [sps.spearmanr(s["n2"], s[value]).statistic for _, s in frame.groupby("seed")
            if n2s >= 2 and s["n2"].nunique() == n2s]
    return [r for r in rhos if not np.isnan(r)]
