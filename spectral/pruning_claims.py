"""C5's cells (SR22 Fig. 3): a spectral network pruned by its smallest |lambda| against a direct-full network pruned by
incoming connectivity, and the guard that the baseline's order beats random pruning of the same network.

The rule (spectral/claims.py, points 4 and 7) decides them; this module forms the samples from the pruning table
(analysis.pruning_table: per protocol, dataset, N2, scheme, order, seed and fraction removed, the test accuracy).
C5 and C5@<reading> compare two networks trained on different seeds' batch orders (Welch); C5-guard@<reading> and
C5-explore compare orders applied to one network, paired by seed. `guard_baselines` applies rule 7: an order that
does not beat random can never carry C5.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import CONNECTIVITY
from .claims import BASELINE_NOT_BETTER, cell

CONNECTIVITY_READINGS = tuple(CONNECTIVITY)  # C5's baseline orders: l1, abs-sum, l2


def largest_safe_fraction(curve: pd.DataFrame, margin: float) -> pd.Series:
    """Per seed: the largest fraction removed up to which accuracy *stays* within `margin` of the unpruned network's
    (SR22's statement): the last fraction before the curve first leaves the margin, never a later one where a curve
    that dipped comes back (in results/paper no pruning-2022 curve does; 4 of 1,355 curves of other protocols do)."""
    out = {}
    for seed, s in curve.groupby("seed"):
        s = s.sort_values("fraction_removed")
        inside = (s["test_accuracy"] >= s["test_accuracy"].iloc[0] - margin).to_numpy()
        kept = s["fraction_removed"].to_numpy()[:inside.argmin() if not inside.all() else len(inside)]
        out[seed] = float(kept.max())
    return pd.Series(out, dtype=float)


def claim_c5(pruning: pd.DataFrame, *, protocol, scheme, baseline_scheme, connectivity, claim_fraction, area_fraction,
             margin, delta) -> list[dict]:
    """C5 (spectral by |lambda| vs the direct-full baseline pruned by connectivity) under the primary reading
    `connectivity` and, as C5@<reading>, every other reading the table holds; C5-guard@<reading>: does that baseline
    order beat random pruning of the same network (paired by seed); C5-explore (one spectral network's orders)."""
    rows = []
    sub = pruning[pruning["protocol"] == protocol]
    readings = [r for r in CONNECTIVITY_READINGS if r in set(sub["order"])]

    def at(frame, fraction=claim_fraction):
        return frame[np.isclose(frame["fraction_removed"], fraction)].groupby("seed")["test_accuracy"].mean()

    def area(frame):
        return frame[frame["fraction_removed"] <= area_fraction + 1e-9].groupby("seed")["test_accuracy"].mean()

    def paired(claim, dataset, n2, statistic, a, b, threshold, detail):
        both = pd.concat([a, b], axis=1, join="inner")
        return cell(claim, dataset, "nonlinear", n2, statistic, threshold, diffs=both.iloc[:, 0] - both.iloc[:, 1],
                    a=a, b=b, primary="paired", detail=detail)

    for (dataset, n2), g in sub.groupby(["dataset", "n2"], sort=True):
        spec = g[(g["scheme"] == scheme) & (g["order"] == "eigenvalue")]
        direct = g[g["scheme"] == baseline_scheme]
        random = direct[direct["order"] == "random"]
        for reading in readings:
            base = direct[direct["order"] == reading]
            if spec.empty or base.empty:
                continue
            claim = "C5" if reading == connectivity else f"C5@{reading}"
            safe_s, safe_b = largest_safe_fraction(spec, margin), largest_safe_fraction(base, margin)
            note = (f"largest fraction within {margin:g} of unpruned (SR22's statement): spectral {safe_s.mean():.2f}, "
                    f"baseline by {reading} {safe_b.mean():.2f}")
            for statistic, a, b in ((f"acc(|lambda|) - acc(baseline by {reading}), {claim_fraction:g} removed",
                                     at(spec), at(base)),
                                    (f"mean acc up to {area_fraction:g} removed, |lambda| - baseline by {reading}",
                                     area(spec), area(base))):
                rows.append(cell(claim, dataset, "nonlinear", n2, statistic, -margin, delta=delta, a=a, b=b,
                                 detail=f"spectral {a.mean():.4f} vs baseline {b.mean():.4f}; {note}"))
            if reading == connectivity:
                rows.append(cell("C5-explore", dataset, "nonlinear", n2, "largest safe fraction, spectral - baseline",
                                 0.0, a=safe_s, b=safe_b, detail=note))
            if not random.empty:
                for statistic, a, b in ((f"acc({reading}) - acc(random), {claim_fraction:g} removed", at(base),
                                         at(random)),
                                        (f"mean acc up to {area_fraction:g} removed, {reading} - random", area(base),
                                         area(random))):
                    rows.append(paired(f"C5-guard@{reading}", dataset, n2, statistic, a, b, 0.0,
                                       f"baseline by {reading} {a.mean():.4f} vs random {b.mean():.4f}"))
        own = g[g["scheme"] == scheme]
        for other in ("l2", "random"):
            a, b = at(own[own["order"] == "eigenvalue"]), at(own[own["order"] == other])
            if a.empty or b.empty:
                continue
            rows.append(paired("C5-explore", dataset, n2, f"acc(|lambda|) - acc({other}) on the spectral network, "
                               f"{claim_fraction:g} removed", a, b, 0.0, f"|lambda| {a.mean():.4f} vs {other} "
                                                                          f"{b.mean():.4f}"))
    return rows


def guard_baselines(verdicts: pd.DataFrame, connectivity: str) -> pd.DataFrame:
    """Rule point 7: a C5 claim whose baseline order does not beat random (its C5-guard@<reading> verdict is not
    `holds` on that dataset) reads `baseline no better than random` instead of a verdict, so an order no better than
    random can never carry C5. Overall, rule 4 comes first: C5 does not hold if it does not hold on a dataset whose
    baseline beats random; else it reads `baseline no better than random` if the guard fails on some dataset. The
    test against the baseline stays in the detail."""
    verdicts = verdicts.copy()
    guard = verdicts[verdicts["claim"].str.startswith("C5-guard@") & (verdicts["dataset"] != "all")]
    failed = {}  # (protocol, reading) -> datasets where the order does not beat random
    for r in guard.itertuples():
        if r.verdict != "holds":
            failed.setdefault((r.protocol, r.claim.split("@")[1]), []).append(r.dataset)
    c5 = verdicts["claim"].eq("C5") | verdicts["claim"].str.startswith("C5@")
    order = [i for i in verdicts.index[c5] if verdicts.loc[i, "dataset"] != "all"] + [
        i for i in verdicts.index[c5] if verdicts.loc[i, "dataset"] == "all"]  # the datasets before overall
    for i in order:
        row = verdicts.loc[i]
        reading = connectivity if row["claim"] == "C5" else row["claim"].split("@")[1]
        bad = sorted(failed.get((row["protocol"], reading), []))
        if row["dataset"] != "all":
            bad = [d for d in bad if d == row["dataset"]]
        else:  # rule 4 first: overall fails where a dataset with a sound baseline fails
            same = (verdicts["protocol"] == row["protocol"]) & (verdicts["claim"] == row["claim"])
            fails = verdicts[same & (verdicts["dataset"] != "all") & (verdicts["verdict"] == "does not hold")]
            if len(fails):
                verdicts.loc[i, "verdict"] = "does not hold"
                verdicts.loc[i, "detail"] = (f"does not hold on {', '.join(fails['dataset'])}, whose baseline beats "
                                             f"random" + (f"; baseline by {reading} no better than random on "
                                                          f"{', '.join(bad)}" if bad else "") + f"; {row['detail']}")
                continue
        if bad:
            verdicts.loc[i, "detail"] = (f"baseline by {reading} no better than random on {', '.join(bad)} "
                                         f"(C5-guard@{reading}); the test against it: {row['verdict']}; "
                                         f"{row['detail']}")
            verdicts.loc[i, "verdict"] = BASELINE_NOT_BETTER
    return verdicts
