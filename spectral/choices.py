"""The verdict per choice: each claim's verdict under every value of every choice varied, and the values that change it.

A *choice* is a setting a verdict could depend on: the protocol (`paper`, `authors-2020`, `per-layer`, judged on the
sensitivity grid's cells), C5's reading of connectivity (`l1`, `abs-sum`, `l2`, on C5's cells) and the choice of each
published specification run (the tuning, the eigenvector init, the precision: spectral/specification.py, on the
primary's cells that both runs test). All values of one choice are judged on the same cells.

`choice_verdicts` gathers those verdicts in one table; `verdict_changes` reads, per claim, which values give another
verdict than the choice's reference value (REFERENCE_CHOICE, or the primary run for a specification). That one
structure has two renderings: `same_verdict` for the tables' "same verdict under" column and `changes_in_words` for the
answer's one line (spectral/headline.py). `specification_effects` gives the specification curve's effects for the same
choices, a summary for the figure, not a verdict.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .claims import DATASET_NAMES, NOT_JUDGED, claim_base

REFERENCE_CHOICE = {"protocol": "paper", "connectivity": "l1"}  # the headline's value of each choice
CHOICE_COLUMNS = ["claim", "dataset", "choice", "value", "reference", "verdict", "cells", "not_judged"]
SCOPE = {"protocol": " (on the cells the protocols share)"}  # the grid runs fewer widths than the main run
# How a value reads in prose, in both renderings: 'the authors-2020 protocol', not 'authors-2020' beside a 'paper' that
# a reader takes for the publication; 'rates tuned at N2 = 100', not a width; 'φ drawn Glorot-uniform', not 'eigvec init
# glorot'. A choice not listed reads 'CHOICE VALUE'.
EIGVEC_INITS = {"uniform": "U(−0.2, 0.2)", "glorot": "Glorot-uniform"}  # config/eigvecs-glorot.yaml's two values
VALUE_WORDS = {"protocol": "the {} protocol".format, "connectivity": "connectivity read as {}".format,
               "tuning": lambda v: f"rates tuned {'at ' if v.startswith('N2') else ''}{v}",
               "eigvec init": lambda v: f"φ drawn {EIGVEC_INITS.get(v, v)}", "precision": "{} matmuls".format}
VALUE_WORDS["eigvec init at per-width rates"] = lambda v: f"φ drawn {EIGVEC_INITS.get(v, v)} at per-width rates"


def value_words(choice: str, value: str) -> str:
    """A choice's value in words (VALUE_WORDS): value_words("tuning", "N2 = 100") == "rates tuned at N2 = 100"."""
    return VALUE_WORDS.get(choice, f"{choice} {{}}".format)(value)


def choice_verdicts(verdicts: pd.DataFrame, grid_verdicts: pd.DataFrame | None, connectivity: str,
                    specifications: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every claim's verdict per dataset under each value of each choice, each judged on the same cells as the others
    of its choice: `protocol` on the sensitivity grid's cells (grid_verdicts, C1-C4), C5's `connectivity` reading
    (C5 = `connectivity`, C5@<reading>), and the specification runs' choices (spectral/specification.py: both values
    re-decided on the primary's cells that both runs can test). `reference` marks the headline's value."""
    rows = []
    if grid_verdicts is not None:
        g = grid_verdicts[grid_verdicts["claim"].map(claim_base).str.match(r"C[1-4]")]
        rows += [{"claim": r.claim, "dataset": r.dataset, "choice": "protocol", "value": r.protocol,
                  "reference": r.protocol == REFERENCE_CHOICE["protocol"], "verdict": r.verdict,
                  "cells": "the sensitivity grid's", "not_judged": 0} for r in g.itertuples()]
    c5 = verdicts[(verdicts["claim"] == "C5") | verdicts["claim"].str.match(r"C5@")]
    for r in c5.itertuples():
        value = connectivity if r.claim == "C5" else r.claim.split("@")[1]
        rows.append({"claim": "C5", "dataset": r.dataset, "choice": "connectivity", "value": value,
                     "reference": value == connectivity, "verdict": r.verdict, "cells": "C5's", "not_judged": 0})
    if specifications is not None:
        rows += [{"claim": r.claim, "dataset": r.dataset, "choice": r.choice, "value": r.value,
                  "reference": bool(r.reference), "verdict": r.verdict,
                  "cells": f"the primary's that both runs test ({r.cells_judged}{_not_judged('; ', r.not_judged)})",
                  "not_judged": int(r.not_judged)}
                 for r in specifications.itertuples()]
    return pd.DataFrame(rows, columns=CHOICE_COLUMNS)


@dataclass(frozen=True)
class Change:
    """A value of a choice under which a claim's verdict on a dataset (or "all") differs from the reference value's
    verdict on the same cells; `left_out`: the claim cells of that dataset that neither value is judged on (rule 9: a
    test pairing samples across the two runs), so the reference's verdict here may differ from its full-range one."""
    choice: str
    value: str
    dataset: str
    verdict: str
    reference_value: str
    reference_verdict: str
    left_out: int = 0


@dataclass(frozen=True)
class VerdictChanges:
    """A claim's choices: those judged (`varied`, sorted), the values that change its verdict (`changes`, by choice and
    value, MNIST first), the choices under which it could not be judged (`unjudged`: no cell both values test, or no
    reference value to compare with) and the datasets its choices were judged on (`datasets`, "all" left out)."""
    varied: tuple[str, ...]
    changes: tuple[Change, ...]
    unjudged: tuple[str, ...]
    datasets: tuple[str, ...] = ()
    partly: tuple[tuple[str, str], ...] = ()  # (choice, dataset) not judged where the choice is judged elsewhere

    @property
    def unchanged(self) -> tuple[str, ...]:
        """The choices varied that change nothing."""
        changing = {c.choice for c in self.changes}
        return tuple(choice for choice in self.varied if choice not in changing)


def verdict_changes(choices: pd.DataFrame, claim: str) -> VerdictChanges | None:
    """Which values of the choices varied for `claim` (choice_verdicts) change its verdict: per value, each dataset
    whose verdict differs from the reference value's, or "all" only where no dataset differs; a dataset where either
    value is not judged is no change. None when no choice was varied for the claim. ValueError when a choice has two
    reference verdicts on one dataset (two runs varying one choice: their references are other cells)."""
    g = choices[choices["claim"] == claim]
    if g.empty:
        return None
    is_ref = g["reference"].astype(bool)
    doubled = g[is_ref].duplicated(["choice", "dataset"])
    if doubled.any():
        row = g[is_ref][doubled].iloc[0]
        raise ValueError(f"{claim}: choice {row['choice']!r} has two reference verdicts on {row['dataset']} (two runs "
                         "vary it?): each value must be compared with its own run's reference")
    unjudged = tuple(sorted(ch for ch, c in g.groupby("choice")
                            if (c["verdict"] == NOT_JUDGED).all() or not c["reference"].astype(bool).any()))
    g = g[~g["choice"].isin(unjudged)]
    changes = []
    for (choice, value), c in g[~g["reference"].astype(bool)].groupby(["choice", "value"], sort=True):
        ref = g[(g["choice"] == choice) & g["reference"].astype(bool)].set_index("dataset")
        differ = [r for r in c.itertuples() if r.dataset in ref.index and NOT_JUDGED not in
                  (r.verdict, ref.loc[r.dataset, "verdict"]) and r.verdict != ref.loc[r.dataset, "verdict"]]
        shown = [r for r in differ if r.dataset != "all"] or differ
        changes += [Change(choice, value, r.dataset, r.verdict, ref["value"].iloc[0], ref.loc[r.dataset, "verdict"],
                           _count(ref.loc[r.dataset].get("not_judged")))
                    for r in sorted(shown, key=lambda r: r.dataset != "mnist")]
    datasets = tuple(sorted(set(g["dataset"]) - {"all"}, key=lambda d: d != "mnist"))
    partly = tuple(sorted(((ch, d) for (ch, d), c in g[g["dataset"] != "all"].groupby(["choice", "dataset"])
                           if (c["verdict"] == NOT_JUDGED).all()), key=lambda cd: (cd[0], cd[1] != "mnist")))
    return VerdictChanges(tuple(sorted(set(g["choice"]))), tuple(changes), unjudged, datasets, partly)


def _partly(found: VerdictChanges, the: str = "") -> list[str]:
    """'not judged on D under X' for each choice judged on some datasets but not on D."""
    by: dict[str, list[str]] = {}
    for choice, dataset in found.partly:
        by.setdefault(choice, []).append(DATASET_NAMES.get(dataset, dataset))
    return [f"not judged on {', '.join(names)} under {the}{choice}" for choice, names in by.items()]


def _count(n) -> int:
    return int(n) if n is not None and pd.notna(n) else 0


def _not_judged(before: str, n, after: str = "") -> str:
    """'<before>2 claim cells not judged<after>' for a verdict re-decided without n of its claim cells; '' for none."""
    n = _count(n)
    return f"{before}{n} claim cell{'s' if n > 1 else ''} not judged{after}" if n else ""


def _against(ref: tuple[str, str], words: str) -> str:
    """'against holds under φ drawn U(−0.2, 0.2)[, 2 claim cells not judged]' from (its verdict, cells left out)."""
    return f"against {ref[0]} under {words}{ref[1]}"


def same_verdict(choices: pd.DataFrame, claim: str) -> str:
    """The tables' "same verdict under": 'every choice (…)' when no value of any choice changes the claim's verdict,
    else 'changes under Y (D: verdict against REFERENCE's on the same cells; …)' for each value Y (value_words),
    then 'same under Z' for the choices varied that change nothing, then 'not judged under W'; '–' when no choice
    was varied for it."""
    found = verdict_changes(choices, claim)
    if found is None:
        return "–"
    notes = [f"not judged under {choice}" for choice in found.unjudged] + _partly(found)
    if not found.varied:
        return "; ".join(notes) or "–"
    if not found.changes:
        return "; ".join([f"every choice ({', '.join(found.varied)})", *notes])
    by_value: dict[tuple[str, str], list[str]] = {}
    for c in found.changes:
        by_value.setdefault((c.choice, c.value), []).append(
            f"{DATASET_NAMES.get(c.dataset, c.dataset)}: {c.verdict} against {c.reference_verdict} under "
            f"{value_words(c.choice, c.reference_value)} on the same cells{_not_judged(' (', c.left_out, ')')}")
    text = "changes under " + "; ".join(f"{value_words(choice, value)} (" + "; ".join(parts) + ")"
                                        for (choice, value), parts in by_value.items())
    if found.unchanged:
        text += f"; same under {', '.join(found.unchanged)}"
    return "; ".join([text, *notes])


def changes_in_words(found: VerdictChanges | None) -> str:
    """The answer line's part on choices: 'the same under every choice varied'; or, per choice that changes the
    verdict, each value with the verdict it gives and the reference value's on the same cells ('depends on the
    protocol (on the cells the protocols share): under the authors-2020 protocol, holds in part on Fashion-MNIST
    (against holds under the paper protocol)'),
    then 'the same under the X' for the choices that change nothing; then 'not judged under the W'. "" when no
    choice was varied for the claim."""
    if found is None:
        return ""
    unjudged = (["not judged under the " + " and the ".join(found.unjudged)] if found.unjudged else []) + _partly(
        found, "the ")
    if not found.varied:
        return "; ".join(unjudged)
    if not found.changes:
        return "; ".join(["the same under every choice varied", *unjudged])
    where: dict[tuple, list[str]] = {}  # (choice, value, verdict, reference value, its verdict) -> datasets
    for c in found.changes:  # a reference verdict on fewer cells than the full range says so
        ref_verdict = (c.reference_verdict, _not_judged(", ", c.left_out))
        where.setdefault((c.choice, c.value, c.verdict, c.reference_value, ref_verdict), []).append(c.dataset)
    every = "both datasets" if len(found.datasets) == 2 else "every dataset"
    by_choice: dict[str, dict[str, list[tuple[str, str, str]]]] = {}  # choice -> value -> (verdict, on, ref verdict)
    refs: dict[str, set[tuple[str, str]]] = {}  # choice -> {(reference value, its verdict)}
    for (choice, value, verdict, ref_value, ref_verdict), datasets in where.items():
        on = ("overall" if datasets == ["all"] else f"on {every}" if len(datasets) > 1 and
              set(datasets) == set(found.datasets) else "on " + ", ".join(DATASET_NAMES.get(d, d) for d in datasets))
        by_choice.setdefault(choice, {}).setdefault(value, []).append((verdict, on, ref_verdict))
        refs.setdefault(choice, set()).add((ref_value, ref_verdict))
    parts = []
    for choice, values in sorted(by_choice.items()):
        ref_value, ref_verdict = next(iter(refs[choice]))
        one_ref = len(refs[choice]) == 1  # one reference verdict: said once, after the choice's values
        words = value_words(choice, ref_value)
        said = "; ".join(f"under {value_words(choice, value)}, " + ", ".join(
            f"{verdict} {on}" + ("" if one_ref else f" ({_against(ref, words)})") for verdict, on, ref in items)
            for value, items in values.items())
        parts.append(f"depends on the {choice}{SCOPE.get(choice, '')}: {said}"
                     + (f" ({_against(ref_verdict, words)})" if one_ref else ""))
    if found.unchanged:
        parts.append("the same under the " + " and the ".join(found.unchanged))
    return "; ".join(parts + unjudged)


CURVE_CLAIMS = ("C1", "C2@1pp", "C5")  # headline claims whose cells share one unit (pp of test accuracy)
EFFECT_COLUMNS = ["claim", "dataset", "choice", "value", "reference", "cells", "effect", "low", "high"]


def specification_effects(cells: pd.DataFrame, grid_cells: pd.DataFrame | None, connectivity: str,
                          spec_cells: pd.DataFrame | None = None, claims=CURVE_CLAIMS) -> pd.DataFrame:
    """Per claim x dataset x (choice, value): the mean over the choice's shared cells of (effect - threshold), with a
    normal 95 % interval from the cells' standard errors (independent cells: se = sqrt(sum se^2) / k). The values
    of one choice are judged on the same cells, as in choice_verdicts; the figure's summary, not a verdict."""
    parts = []
    if grid_cells is not None:
        parts.append(grid_cells.assign(choice="protocol", choice_value=grid_cells["protocol"],
                                       reference=grid_cells["protocol"] == REFERENCE_CHOICE["protocol"]))
    c5 = cells[(cells["claim"] == "C5") | cells["claim"].str.startswith("C5@")]
    reading = c5["claim"].map(lambda c: connectivity if c == "C5" else c.split("@")[1])
    parts.append(c5.assign(claim="C5", choice="connectivity", choice_value=reading, reference=reading == connectivity))
    if spec_cells is not None:  # spectral.specification's decided cells (choice, choice_value; reference: primary)
        parts.append(spec_cells)
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[frame["claim"].isin(claims) & frame["se"].notna()]
    rows = []
    for (claim, choice, value, reference), g in frame.groupby(["claim", "choice", "choice_value", "reference"]):
        for dataset, d in g.groupby("dataset"):
            effect = float((d["value"] - d["threshold"]).mean())
            se = float(np.sqrt((d["se"] ** 2).sum()) / len(d))
            rows.append({"claim": claim, "dataset": dataset, "choice": choice, "value": value,
                         "reference": bool(reference), "cells": len(d), "effect": effect, "low": effect - 1.96 * se,
                         "high": effect + 1.96 * se})
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)
