"""Reporting the claims: robustness of each effect across protocols, and claims.md.

`robustness` compares each claim cell's effect under every other protocol with the reference protocol's (the
difference of two independent estimates, with its 95 % interval); `claims_markdown` writes the claim-level table
first, then what each verdict means (spectral/claims.py), the robustness section and every cell.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from scipy import stats

from .choices import same_verdict
from .claims import CLAIM_TEXT, DATASET_NAMES, claim_base

KEYS = ["claim", "dataset", "experiment", "n2", "statistic"]
SHIFT_COLUMNS = ["claim", "protocol", "reference", "dataset", "experiment", "n2", "statistic", "effect_reference",
                 "effect", "shift", "shift_low", "shift_high", "delta", "moved", "reversed"]


def effect_shifts(cells: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per cell shared by `reference` and another protocol: shift = effect - effect under reference, 95 % interval
    from both standard errors (Welch-Satterthwaite df); `moved` if the interval lies beyond +- delta, `reversed` if
    the two protocols' 95 % intervals exclude the threshold on opposite sides. Trend cells (all N2) are left out:
    their N2 sets differ between grids."""
    ref = cells[(cells["protocol"] == reference) & (cells["n2"] != -1)]
    rows = []
    for protocol in sorted(set(cells["protocol"]) - {reference}):
        other = cells[(cells["protocol"] == protocol) & (cells["n2"] != -1)]
        merged = ref.merge(other, on=KEYS, suffixes=("_ref", ""))
        for r in merged.itertuples():
            shift = r.value - r.value_ref
            se = math.hypot(r.se, r.se_ref)
            df = (r.se ** 2 + r.se_ref ** 2) ** 2 / (r.se ** 4 / r.df + r.se_ref ** 4 / r.df_ref) if se > 0 else np.inf
            half = float(stats.t.ppf(0.975, df)) * se if se > 0 else 0.0
            low, high = shift - half, shift + half
            above = lambda lo, hi, t: 1 if lo > t else -1 if hi < t else 0  # noqa: E731
            side_ref = above(r.ci95_low_ref, r.ci95_high_ref, r.threshold_ref)
            side = above(r.ci95_low, r.ci95_high, r.threshold)
            rows.append({"claim": r.claim, "protocol": protocol, "reference": reference, "dataset": r.dataset,
                         "experiment": r.experiment, "n2": r.n2, "statistic": r.statistic,
                         "effect_reference": r.value_ref, "effect": r.value, "shift": shift, "shift_low": low,
                         "shift_high": high, "delta": r.delta, "moved": bool(low > r.delta or high < -r.delta),
                         "reversed": bool(side_ref * side == -1)})
    return pd.DataFrame(rows, columns=SHIFT_COLUMNS)


def robustness(cells: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per claim: `robust` if no other protocol moves a cell's effect beyond delta or reverses it significantly."""
    shifts = effect_shifts(cells, reference)
    rows = []
    for claim, g in shifts.groupby("claim", sort=False):
        bad = g[g["moved"] | g["reversed"]]
        parts = [f"{r.protocol} {'reverses' if r.reversed else 'moves'} {r.dataset} {r.experiment} N2={r.n2} by "
                 f"{r.shift:+.4f} [{r.shift_low:+.4f}, {r.shift_high:+.4f}]" for r in bad.itertuples()]
        largest = g.loc[g["shift"].abs().idxmax()]
        rows.append({"claim": claim, "reference": reference, "protocols": ", ".join(sorted(g["protocol"].unique())),
                     "cells": len(g), "moved": int(g["moved"].sum()), "reversed": int(g["reversed"].sum()),
                     "robust": bad.empty, "largest_shift": float(largest["shift"]),
                     "detail": "; ".join(parts) or f"largest shift {largest['shift']:+.4f} ({largest['protocol']}, "
                                                   f"{largest['dataset']} {largest['experiment']} N2={largest['n2']})"})
    return pd.DataFrame(rows, columns=["claim", "reference", "protocols", "cells", "moved", "reversed", "robust",
                                       "largest_shift", "detail"])


def _fmt(x, signed=True) -> str:
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:+.4f}" if signed else f"{x:.4f}" if isinstance(x, float) else str(x)


RULE_TEXT = """What the verdicts mean (the rule, spectral/claims.py, fixed before any table was read):
- A cell's primary test is Welch's t test where the two schemes share only a seed's batch order (C1, C2, C4 gaps,
  C5, C6) and a one-sample t test over seeds where the pairing is real (C3, C4 trends, C5-explore); the other
  interval is shown beside it.
- `holds` (cell): Holm-adjusted p < alpha within its family (protocol x claim x dataset); `does not hold`: the
  opposite one-sided test, Holm-adjusted; `at the threshold`: its 90 % interval lies within threshold +- delta
  (equivalent to the threshold: neither holds nor fails); `superior` (C2-TOST only): better than the equivalence
  band, which is no failure of the paper's claim; else `inconclusive`. A cell marked *wrong side* has its 95 %
  interval on the failing side of the threshold, even if Holm leaves it inconclusive.
- A claim `holds` if every cell has unadjusted p < alpha and none is at the threshold (intersection-union test:
  a claim about every cell needs no multiplicity correction); `does not hold` if some cell does not hold; `at the
  threshold` if every cell is; `holds in part` if some cells hold after Holm; else `inconclusive`. Each direction
  is controlled at alpha per family; together they allow at most 2 alpha; `all` fails if any dataset does.
- For an undecided cell: `level` is the alpha it is tested at (alpha towards holding, Holm's next level towards
  failing), mdd80 the smallest distance from the threshold found there with 80 % power with its seeds, and
  `seeds needed` the seeds per arm that would decide it with 80 % power if its observed effect were the truth.
  Adding seeds to this run and re-testing is optional stopping and is not done: new seeds belong to a declared
  design (config/design.yaml).
- C5's baseline must beat random pruning of the same networks (C5-guard@<reading>); where it does not, C5 reads
  `baseline no better than random` instead of a verdict. The first label that applies wins (at the threshold,
  holds, does not hold, superior, inconclusive); `at the threshold` has no multiplicity control."""


def claims_markdown(cells: pd.DataFrame, verdicts: pd.DataFrame, robust: pd.DataFrame | None = None,
                    alpha: float = 0.05, choices: pd.DataFrame | None = None) -> str:
    """claims.md: the claim-level table first, then the verdicts per choice (choice_verdicts), the rule, the effect
    shifts across protocols, then every cell."""
    lines = ["# Claims of Giambagli et al. (2021) and its follow-ups (PRE 2021, Sci. Rep. 2022): verdicts", "",
             "| protocol | claim | dataset | verdict | cells: hold / p<alpha / at threshold / fail / undecided | "
             "wrong side | cells judged | detail |", "|---|---|---|---|---|---|---|---|"]
    for r in verdicts.itertuples():
        lines.append(f"| {r.protocol} | {r.claim} | {r.dataset} | **{r.verdict}** | {r.cells}: {r.cells_hold} / "
                     f"{r.cells_iut} / {r.cells_at_threshold} / {r.cells_fail} / {r.cells_undecided} | "
                     f"{r.cells_wrong_side} | {getattr(r, 'cells_judged', '–')} | {r.detail} |")
    if choices is not None and len(choices):
        lines += ["", "## Verdicts per choice", "",
                  "Each claim's verdict under every value of each choice, each judged on the same cells as the "
                  "others of its choice (`cells`): the protocols on the sensitivity grid's cells, C5's connectivity "
                  "readings on C5's networks. *Same verdict under* (README, report) summarises this table.", "",
                  "| claim | dataset | choice | value | verdict | cells judged |", "|---|---|---|---|---|---|"]
        lines += [f"| {r.claim} | {r.dataset} | {r.choice} | {r.value} | {r.verdict} | {r.cells} |"
                  for r in choices.sort_values(["claim", "choice", "dataset", "value"]).itertuples()]
    lines += ["", RULE_TEXT, f"alpha = {alpha:g}.", ""]
    if robust is not None and len(robust):
        lines += ["## Effect shifts across protocols (detail)", "",
                  f"Each claim cell that the reference protocol `{robust['reference'].iloc[0]}` shares with another "
                  "protocol: the effect's shift with its 95 % interval; *moved*: the interval lies outside +- delta; "
                  "*reversed*: the two protocols' intervals exclude the threshold on opposite sides. Detail behind "
                  "the verdicts, not a verdict (docs/verdict-rule.md, rule 10).", "",
                  "| claim | no cell moved or reversed | protocols | cells | moved | reversed | detail |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r.claim} | {'yes' if r.robust else 'no'} | {r.protocols} | {r.cells} | {r.moved} | "
                  f"{r.reversed} | {r.detail} |" for r in robust.itertuples()]
        lines.append("")
    flagged = cells[cells["perm_disagrees"].astype(bool)]
    if len(flagged):
        lines += ["## Where the distribution-free check disagrees with the t test", ""]
        lines += [f"- {r.protocol} {r.claim} {r.dataset} {r.experiment} N2={r.n2}, {r.statistic}: p_for t "
                  f"{r.p_for:.3g}, permutation {r.p_perm_for:.3g}; p_against t {r.p_against:.3g}, permutation "
                  f"{r.p_perm_against:.3g}" for r in flagged.itertuples()]
        lines.append("")
    for (protocol, claim), g in cells.groupby(["protocol", "claim"], sort=False):
        lines += [f"## {claim} ({protocol}): {CLAIM_TEXT.get(claim_base(claim), '')}", "",
                  "| dataset | experiment | N2 | statistic | test | value | 95 % CI | paired CI | Welch CI | n | "
                  "threshold ± delta | p | p Holm | level | mdd80 | seeds needed | verdict |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in g.itertuples():
            n2 = {0: "–", -1: "all"}.get(r.n2, r.n2)
            flag = " (wrong side)" if r.wrong_side else ""
            lines.append(f"| {r.dataset} | {r.experiment} | {n2} | {r.statistic} | {r.test} | {_fmt(r.value)} | "
                         f"[{_fmt(r.ci95_low)}, {_fmt(r.ci95_high)}] | [{_fmt(r.paired_low)}, {_fmt(r.paired_high)}] | "
                         f"[{_fmt(r.welch_low)}, {_fmt(r.welch_high)}] | {r.n} | {r.threshold:+g} ± {r.delta:g} | "
                         f"{_fmt(r.p_for, False)} | {_fmt(r.p_for_holm, False)} | {_fmt(r.level, False)} | "
                         f"{_fmt(r.mdd80, False)} | {_fmt(r.seeds_needed, False)} | **{r.verdict}**{flag} |")
        lines.append("")
    return "\n".join(lines)


def verdict_text(row) -> str:
    """'holds in part (10/17, 1 at threshold, 1 fail)': cells that hold after Holm of the claim's cells, then the rest."""
    counts = f"{row.cells_hold}/{row.cells}" + (f", {row.cells_at_threshold} at threshold" if row.cells_at_threshold
                                                 else "") + (f", {row.cells_fail} fail" if row.cells_fail else "")
    return f"{row.verdict} ({counts})"


def verdict_counts(text: str) -> tuple[str, int, int]:
    """(verdict, failing cells, claim cells) of a verdict_text: 'does not hold (15/17, 1 at threshold, 1 fail)' ->
    ('does not hold', 1, 17); '–' -> ('–', 0, 0)."""
    n = re.search(r"\(\d+/(\d+)", text)
    fail = re.search(r"(\d+) fail\)", text)
    return text.split(" (")[0], (int(fail.group(1)) if fail else 0), (int(n.group(1)) if n else 0)


# The papers' claims, in their words where the text could be read (docs/evidence.md), else our summary of it; every
# other claim row is our reading, a control or a secondary test. C2's primary margin is claims.equivalence_margin.
PAPER_CLAIMS = {
    "C1": ("NC21 abstract", "\u201cAdjusting the eigenvalues, when freezing the eigenvectors entries, yields "
           "performances that are superior to those attained with standard methods restricted to operate with an "
           "identical number of free parameters.\u201d"),
    "C2": ("SR22 introduction (our summary)", "Training the eigenvector block as well bridges the gap to full direct "
           "training."),
    "C3": ("NC21 Fig. 4 caption (our summary)", "Eigenvalue-trained perceptron weights are distributed like fully "
           "trained ones; a random subset of as many directly trained weights gives very different ones."),
    "C5": ("SR22 Fig. 3 caption (our summary)", "A spectral network pruned by its eigenvalues keeps its accuracy "
           "better than a direct network pruned by incoming connectivity."),
    "C6": ("PRE21 abstract (our summary)", "Two eigenvalue sets per mapping bring eigenvalue-only training closer "
           "to conventional training."),
}
OWN_PROTOCOL_CLAIMS = ("C5", "C6")  # claims tested under their own protocols (pruning-2022; per-layer against paper)


def verdict_table(verdicts: pd.DataFrame, choices: pd.DataFrame, protocol: str, datasets, *,
                  equivalence_margin: float) -> pd.DataFrame:
    """The answer at a glance: per claim of `protocol` (C5 and C6 under their own protocols) whether it is one of the
    papers' claims (`kind` paper, with its source and words) or ours (a reading, control or secondary test), its
    verdict per dataset and overall, and the choices under which that verdict stays the same (`choices`:
    choices.choice_verdicts)."""
    primary_c2 = f"C2@{100 * equivalence_margin:g}pp"
    columns = [DATASET_NAMES.get(d, d) for d in list(datasets) + ["all"]]
    own = verdicts["claim"].str.startswith(OWN_PROTOCOL_CLAIMS)
    rows = []
    for claim, g in verdicts[(verdicts["protocol"] == protocol) | own].groupby("claim", sort=False):
        base = claim_base(claim)
        paper = base in PAPER_CLAIMS and (base != "C2" or claim == primary_c2) and "@" not in claim.replace(
            primary_c2, "")
        source, words = PAPER_CLAIMS[base] if paper else ("our reading", CLAIM_TEXT.get(base, "").rstrip("."))
        if base in ("C5", "C5-guard") and "@" in claim:
            words += f" (connectivity read as {claim.split('@')[1]})"
        by = {DATASET_NAMES.get(r.dataset, r.dataset): verdict_text(r) for r in g.itertuples()}
        rows.append({"kind": "paper" if paper else "ours", "claim": claim, "source": source, "statement": words,
                     **{c: by.get(c, "–") for c in columns}, "same verdict under": same_verdict(choices, claim)})
    return pd.DataFrame(rows, columns=["kind", "claim", "source", "statement", *columns, "same verdict under"])
