"""Reporting the claims: robustness of each verdict across protocols, and claims.md.

`robustness` compares the claim-level verdicts of the sensitivity grid's protocols; `claims_markdown` writes the
claim-level table first, then the rule (spectral/claims.py), the robustness section and every cell.
"""
from __future__ import annotations

import math

import pandas as pd

from .claims import CLAIM_TEXT


def robustness(verdicts: pd.DataFrame, cells: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per claim: `robust` if its overall verdict is the same under every protocol, else which flips it and how far.

    "How far": the mean over shared cells of (effect under that protocol - effect under `reference`).
    """
    rows = []
    overall = verdicts[verdicts["dataset"] == "all"]
    for claim, g in overall.groupby("claim", sort=False):
        by = dict(zip(g["protocol"], g["verdict"]))
        if reference not in by:
            continue
        flips = {p: v for p, v in by.items() if v != by[reference]}
        parts = []
        for p in flips:
            ref = cells[(cells["protocol"] == reference) & (cells["claim"] == claim)]
            other = cells[(cells["protocol"] == p) & (cells["claim"] == claim)]
            keys = ["dataset", "experiment", "n2", "statistic"]
            merged = ref.merge(other, on=keys, suffixes=("_ref", "_p"))
            shift = (merged["value_p"] - merged["value_ref"]).mean() if len(merged) else math.nan
            parts.append(f"{p} flips it to {flips[p]} (mean effect shift {shift:+.4f} over {len(merged)} cells)")
        rows.append({"claim": claim, "reference": reference, "verdicts": "; ".join(f"{p}: {v}" for p, v in by.items()),
                     "robust": not flips, "detail": "; ".join(parts) or "same verdict"})
    return pd.DataFrame(rows, columns=["claim", "reference", "verdicts", "robust", "detail"])


def _fmt(x, signed=True) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else (f"{x:+.4f}" if signed else f"{x:.4f}")


RULE_TEXT = ("Rule (spectral/claims.py): each cell is a one-sided paired t test over seeds against the claim's "
             "threshold; Holm's correction runs over the cells of each claim (family-wise alpha); a cell `holds` if "
             "its Holm-adjusted p < alpha, `does not hold` if the opposite one-sided test does, else `inconclusive`. A "
             "claim `does not hold` if any cell does not hold, `holds` if every cell holds, `holds in part` if some "
             "do, else `inconclusive`. mdd80: the smallest effect beyond the threshold a test at the nominal alpha "
             "detects with 80 % power at the observed sd.")


def claims_markdown(cells: pd.DataFrame, verdicts: pd.DataFrame, robust: pd.DataFrame | None = None,
                    alpha: float = 0.05) -> str:
    """claims.md: the claim-level table first, then the rule, the robustness section, then every cell."""
    lines = ["# Claims of Giambagli et al. (2021) and the 2022 pruning follow-up: verdicts", "",
             "| protocol | claim | dataset | verdict | cells (hold / fail) | detail |", "|---|---|---|---|---|---|"]
    for r in verdicts.itertuples():
        lines.append(f"| {r.protocol} | {r.claim} | {r.dataset} | **{r.verdict}** | {r.cells} ({r.cells_hold} / "
                     f"{r.cells_fail}) | {r.detail} |")
    lines += ["", RULE_TEXT + f" alpha = {alpha:g}.", ""]
    if robust is not None:
        lines += ["## Robustness across protocols", "",
                  "A claim is `robust` if its overall verdict is the same under every protocol of the sensitivity "
                  "grid (tables/sensitivity.csv, a smaller grid than the main run).", "",
                  "| claim | robust | verdicts | detail |", "|---|---|---|---|"]
        lines += [f"| {r.claim} | {'yes' if r.robust else '**no**'} | {r.verdicts} | {r.detail} |"
                  for r in robust.itertuples()]
        lines.append("")
    for (protocol, claim), g in cells.groupby(["protocol", "claim"], sort=False):
        base = claim.split("@")[0]
        lines += [f"## {claim} ({protocol}): {CLAIM_TEXT.get(base, '')}", "",
                  "| dataset | experiment | N2 | statistic | value | 95 % CI (paired) | Welch 95 % CI | n | p Holm | "
                  "mdd80 | verdict |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in g.itertuples():
            n2 = {0: "–", -1: "all"}.get(r.n2, r.n2)
            lines.append(f"| {r.dataset} | {r.experiment} | {n2} | {r.statistic} | {_fmt(r.value)} | "
                         f"[{_fmt(r.ci95_low)}, {_fmt(r.ci95_high)}] | [{_fmt(r.welch_low)}, {_fmt(r.welch_high)}] | "
                         f"{r.n} | {_fmt(r.p_for_holm, False)} | {_fmt(r.mdd80, False)} | **{r.verdict}** |")
        lines.append("")
    return "\n".join(lines)
