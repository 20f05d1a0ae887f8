"""Is a rerun the same as the reference? Cell by cell (Welch) and claim by claim (verdicts).

The rule: for every cell (protocol, dataset, experiment, scheme, N2) present in both runs, d = mean(rerun) -
mean(reference) of the test accuracy over seeds, with its Welch 95 % interval (both sides' seed variance). A cell is
*flagged* when that interval excludes 0, i.e. the reference mean lies outside the rerun's interval widened for
both sides' seed variance; a cell whose seeds all agree exactly (sd 0 on both sides) is flagged by any difference,
so a bit-identical rerun passes and a moved number fails. A claim *agrees* when its verdict (claim_verdicts.csv,
per protocol, claim and dataset) is the same. The comparison passes when no cell is flagged, every claim agrees,
and neither run has a cell or claim the other lacks.
Only runs of the same configuration are compared: the provenance configs must be equal except for keys that do
not change results (IGNORED_KEYS).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from .stats import welch_test

CELL = ["protocol", "dataset", "experiment", "scheme", "n2"]
IGNORED_KEYS = {"name", "device", "threads", "data.dir", "ensemble.strategy"}  # where and how fast, not what


class CompareError(ValueError):
    """The two directories cannot be compared (missing files, different configurations)."""


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def config_differences(a: dict, b: dict) -> list[str]:
    """Flattened config keys whose values differ (IGNORED_KEYS and their children left out)."""
    fa, fb = _flatten(a), _flatten(b)
    return sorted(k for k in set(fa) | set(fb)
                  if fa.get(k) != fb.get(k) and not any(k == i or k.startswith(i + ".") for i in IGNORED_KEYS))


REQUIRED = {"tables/runs.csv": CELL + ["seed", "final_test_accuracy"],
            "claim_verdicts.csv": ["protocol", "claim", "dataset", "verdict"]}


def _read(directory: Path, name: str) -> pd.DataFrame | dict:
    """A run's JSON or CSV file; a missing, unreadable or malformed one raises CompareError naming it."""
    path = directory / name
    if not path.is_file():
        raise CompareError(f"{path} is missing (is {directory} an output or results directory of a finished run?)")
    try:
        if name.endswith(".json"):
            return json.loads(path.read_text())
        table = pd.read_csv(path)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise CompareError(f"{path} is malformed: {str(err).splitlines()[0]}") from None
    missing = [c for c in REQUIRED.get(name, []) if c not in table.columns]
    if missing:
        raise CompareError(f"{path} is malformed: it lacks the columns {', '.join(missing)}")
    if name == "tables/runs.csv" and not pd.api.types.is_numeric_dtype(table["final_test_accuracy"]):
        raise CompareError(f"{path} is malformed: final_test_accuracy holds non-numbers")
    return table


def compare_runs(reference, rerun) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells, claims) tables; raises CompareError when the two cannot be compared."""
    reference, rerun = Path(reference), Path(rerun)
    for d in (reference, rerun):
        if not d.is_dir():
            raise CompareError(f"{d} is not a directory")
    diff = config_differences(_read(reference, "provenance.json")["config"], _read(rerun, "provenance.json")["config"])
    if diff:
        raise CompareError(f"the runs come from different configurations; keys that differ: {', '.join(diff)}")
    runs = {side: _read(d, "tables/runs.csv") for side, d in (("reference", reference), ("rerun", rerun))}
    keys = sorted(set(map(tuple, runs["reference"][CELL].values)) | set(map(tuple, runs["rerun"][CELL].values)))
    groups = {side: dict(iter(r.groupby(CELL)["final_test_accuracy"])) for side, r in runs.items()}
    rows = []
    for key in keys:
        a, b = groups["reference"].get(key), groups["rerun"].get(key)
        row = dict(zip(CELL, key))
        if a is None or b is None:
            rows.append({**row, "status": "missing in " + ("reference" if a is None else "rerun")})
            continue
        lo, hi = welch_test(b, a, 0.0).interval(0.95)
        d = b.mean() - a.mean()
        if math.isnan(lo):  # fewer than 2 seeds on a side: only equality can be checked
            flagged = d != 0
        elif lo == hi:  # no seed variance on either side
            flagged = d != 0
        else:
            flagged = not (lo <= 0 <= hi)
        rows.append({**row, "n_reference": len(a), "n_rerun": len(b), "mean_reference": a.mean(), "mean_rerun": b.mean(),
                     "difference": d, "welch_low": lo, "welch_high": hi, "status": "flagged" if flagged else "ok"})
    cells = pd.DataFrame(rows)
    verdicts = {side: _read(d, "claim_verdicts.csv").set_index(["protocol", "claim", "dataset"])["verdict"]
                for side, d in (("reference", reference), ("rerun", rerun))}
    claims = pd.concat(verdicts, axis=1).reset_index()
    claims["status"] = [("agrees" if r == s else "differs") if isinstance(r, str) and isinstance(s, str)
                        else "missing in " + ("reference" if not isinstance(r, str) else "rerun")
                        for r, s in zip(claims["reference"], claims["rerun"])]
    return cells, claims


def summary(cells: pd.DataFrame, claims: pd.DataFrame) -> tuple[bool, str]:
    """(passes, printed summary)."""
    bad_cells = cells[cells["status"] != "ok"]
    bad_claims = claims[claims["status"] != "agrees"]
    lines = [f"cells: {len(cells) - len(bad_cells)} of {len(cells)} ok; claims: {len(claims) - len(bad_claims)} of "
             f"{len(claims)} agree"]
    for r in bad_cells.itertuples():
        what = r.status if r.status != "flagged" else (f"flagged: rerun {r.mean_rerun:.4f} vs reference "
                                                        f"{r.mean_reference:.4f}, Welch 95 % [{r.welch_low:+.4f}, "
                                                        f"{r.welch_high:+.4f}]")
        lines.append(f"  {r.protocol} {r.dataset} {r.experiment} {r.scheme} N2={r.n2}: {what}")
    for r in bad_claims.itertuples():
        lines.append(f"  {r.protocol} {r.claim} {r.dataset}: reference {r.reference}, rerun {r.rerun} ({r.status})")
    return bad_cells.empty and bad_claims.empty, "\n".join(lines)
