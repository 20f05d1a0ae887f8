"""Do two runs give the same answer? Cell by cell (Welch) and claim by claim (verdicts).

Two kinds of comparison:
- **rerun** (default): the same config run again (your machine against the reference). The provenance configs must
  be equal except for keys that do not change results (IGNORED_KEYS); the seeds are the same, so on one CPU a cell
  agrees exactly and elsewhere within seed noise.
- **independent** (`independent=True`): two runs of one config on different seeds (the pilot against the
  confirmatory run). The configs may also differ in which seeds each cell trains (SAMPLE_KEYS), in the
  protocols' training settings (PROTOCOL_KEY) and in the learning-rate search (TUNING_KEY); a cell is compared
  only where both runs trained it with the same settings (the runs.csv columns SETTINGS), and is listed as
  `settings differ` otherwise.

The rule per cell (protocol, dataset, experiment, scheme, N2; the main grid's and the sensitivity grid's) present in
both runs: d = mean(run) -
mean(reference) of the test accuracy over seeds (each side its own seeds and seed count), with its Welch 95 %
interval. A cell is *flagged* when that interval excludes 0; a cell whose seeds all agree exactly (sd 0 on both
sides) is flagged by any difference, so a bit-identical rerun passes and a moved number fails. Between independent
runs about 5 % of cells are flagged by chance alone, so `summary` prints that expectation and its binomial 95 %
range beside the count; more flagged cells than its 97.5 % quantile (`chance_limit`) is a difference.
Per claim (claim_verdicts.csv: protocol, claim, dataset): `agrees` when the verdicts are equal; otherwise
`contradiction` when one run says holds and the other does not hold, else `power` (the two differ in how decided
they are: holds in part, inconclusive, at the threshold against a decided verdict). A rerun passes when no cell is
flagged, every claim agrees and neither run has a cell or claim the other lacks; independent runs pass when no
claim contradicts the other and no more cells are flagged than `chance_limit` allows.
A run re-decided after it was published (provenance `reanalysis`) is read with the config of that re-decision.
`markdown` renders both tables as a Markdown page (`compare --markdown`), the published pilot-against-confirmatory page.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from .experiments import merge_config
from .chance import LEVEL, chance, chance_counts, chance_limit, mean_difference
from .stats import welch_test

CELL = ["protocol", "dataset", "experiment", "scheme", "n2"]
IGNORED_KEYS = {"name", "device", "threads", "data.dir", "ensemble.strategy",  # where and how fast, not what
                "tune.per_width"}  # the per-width search is its own target; its outcome enters only as rates
LATER_DEFAULTS = {"precision": "fp32"}  # keys added after a run was published: absent means this value
SAMPLE_KEYS = {"seeds", "design"}  # which seeds each cell trains: may differ between independent runs
PROTOCOL_KEY = "protocols"  # training settings: independent runs compare the cells whose settings agree
TUNING_KEY = "tune"  # how the rates were searched; its outcome, the rates, is compared per cell (SETTINGS)
READING_KEY = "pruning.connectivity"  # C5's reading of connectivity: independent runs may differ (C5 not compared)
# A specification run (its config's `specification`) compared --independent with its primary: it trains only some
# cells (n2, schemes, its plan), has no sensitivity grid, and may change its choice's own key (precision; init and
# rates are protocol settings). Cells it did not train are `not in the specification`; its claims are the two values'
# verdicts on the same cells (specification_verdicts.csv, `python -m spectral specification`).
SPECIFICATION_KEYS = {"specification", "n2", "schemes", "sensitivity", "precision"}
SETTINGS = ["eigvals", "sizes", "activation", "epochs", "optimizer", "lr", "batch_size"]  # runs.csv columns
DECIDED = {"holds", "does not hold"}


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


def config_differences(a: dict, b: dict, allowed=frozenset()) -> list[str]:
    """Flattened config keys whose values differ (IGNORED_KEYS, `allowed` and their children left out)."""
    fa, fb = _flatten(a), _flatten(b)
    skip = IGNORED_KEYS | set(allowed)
    return sorted(k for k in set(fa) | set(fb)
                  if fa.get(k, LATER_DEFAULTS.get(k)) != fb.get(k, LATER_DEFAULTS.get(k))
                  and not any(k == i or k.startswith(i + ".") for i in skip))


def run_config(provenance: dict) -> dict:
    """The config a published run's verdicts come from: its own, updated by a later re-decision's."""
    config = provenance["config"]
    again = provenance.get("reanalysis") or {}
    return merge_config(json.loads(json.dumps(config)), again["config"]) if again.get("config") else config


RUNS = ("tables/runs.csv", "sensitivity/runs.csv")  # the main grid's runs, then the sensitivity grid's
REQUIRED = {**{name: CELL + ["seed", "final_test_accuracy"] for name in RUNS},
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
    if name in RUNS and not pd.api.types.is_numeric_dtype(table["final_test_accuracy"]):
        raise CompareError(f"{path} is malformed: final_test_accuracy holds non-numbers")
    return table


def _runs(directory: Path) -> pd.DataFrame:
    """Every run of the main grid and, where the run has one, of the sensitivity grid (its reference protocol's cells
    are main-grid cells too: each run is kept once)."""
    tables = [_read(directory, name) for name in RUNS if name == RUNS[0] or (directory / name).is_file()]
    return pd.concat(tables, ignore_index=True).drop_duplicates(CELL + ["seed"])


def _settings(runs: pd.DataFrame) -> dict:
    """Per cell, the set of training settings its runs recorded (columns of SETTINGS present in runs.csv)."""
    cols = [c for c in SETTINGS if c in runs.columns]
    return {key: set(map(tuple, g[cols].astype(str).values)) for key, g in runs.groupby(CELL)}


def claim_status(reference, run) -> str:
    """agrees / contradiction / power / missing in ... for one claim's two verdicts (see the module docstring)."""
    if not isinstance(reference, str) or not isinstance(run, str):
        return "missing in " + ("reference" if not isinstance(reference, str) else "rerun")
    if reference == run:
        return "agrees"
    return "contradiction" if {reference, run} == DECIDED else "power"


def compare_runs(reference, rerun, independent: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells, claims) tables; raises CompareError when the two cannot be compared."""
    reference, rerun = Path(reference), Path(rerun)
    for d in (reference, rerun):
        if not d.is_dir():
            raise CompareError(f"{d} is not a directory")
    allowed = SAMPLE_KEYS | {PROTOCOL_KEY, TUNING_KEY, READING_KEY} if independent else set()
    configs = [run_config(_read(d, "provenance.json")) for d in (reference, rerun)]
    specification = independent and bool(configs[1].get("specification"))
    if specification:
        allowed |= SPECIFICATION_KEYS
    diff = config_differences(*configs, allowed)
    reading_differs = bool(config_differences(*configs, set(_flatten(configs[0])) - {READING_KEY}))
    if diff:
        hint = "" if independent else " (two runs on different seeds: --independent)"
        raise CompareError(f"the runs come from different configurations; keys that differ: {', '.join(diff)}{hint}")
    runs = {side: _runs(d) for side, d in (("reference", reference), ("rerun", rerun))}
    keys = sorted(set(map(tuple, runs["reference"][CELL].values)) | set(map(tuple, runs["rerun"][CELL].values)))
    groups = {side: dict(iter(r.groupby(CELL)["final_test_accuracy"])) for side, r in runs.items()}
    settings = {side: _settings(r) for side, r in runs.items()}
    rows = []
    for key in keys:
        a, b = groups["reference"].get(key), groups["rerun"].get(key)
        row = dict(zip(CELL, key))
        if a is None or b is None:
            rows.append({**row, "status": "not in the specification" if specification and b is None else
                         "missing in " + ("reference" if a is None else "rerun")})
            continue
        row.update({"n_reference": len(a), "n_rerun": len(b), "mean_reference": a.mean(), "mean_rerun": b.mean()})
        if settings["reference"][key] != settings["rerun"][key]:
            rows.append({**row, "status": "settings differ"})
            continue
        test = welch_test(b, a, 0.0)
        lo, hi = test.interval(LEVEL)
        d = b.mean() - a.mean()
        if math.isnan(lo) or lo == hi:  # fewer than 2 seeds on a side, or no seed variance: only equality counts
            flagged = d != 0
        else:
            flagged = not (lo <= 0 <= hi)
        rows.append({**row, "difference": d, "se": test.se, "welch_low": lo, "welch_high": hi,
                     "status": "flagged" if flagged else "ok"})
    cells = pd.DataFrame(rows)
    if specification:
        claims = _specification_claims(rerun, configs[1])
    else:
        verdicts = {side: _read(d, "claim_verdicts.csv").set_index(["protocol", "claim", "dataset"])["verdict"]
                    for side, d in (("reference", reference), ("rerun", rerun))}
        claims = pd.concat(verdicts, axis=1).reset_index()
    claims["status"] = [claim_status(r, s) for r, s in zip(claims["reference"], claims["rerun"])]
    if reading_differs:  # C5's verdicts judge different baselines: not compared
        c5 = claims["claim"].str.match(r"C5(@|-guard|$)")
        claims.loc[c5, "status"] = "reading differs"
    cells.attrs["independent"] = claims.attrs["independent"] = independent
    return cells, claims


def _specification_claims(run: Path, config: dict) -> pd.DataFrame:
    """protocol, claim, dataset, reference (the primary's value), rerun (the specification's): both re-decided on the
    same cells by spectral.specification."""
    path = run / "specification_verdicts.csv"
    if not path.is_file():
        raise CompareError(f"{path} is missing: join the specification first (python -m spectral specification {run})")
    table = pd.read_csv(path)
    sides = {side: table[table["reference"].astype(bool) == (side == "reference")].set_index(["claim", "dataset"])[
        "verdict"] for side in ("reference", "rerun")}
    claims = pd.concat(sides, axis=1).reset_index()
    claims.insert(0, "protocol", config["run_protocols"][0])
    return claims


def summary(cells: pd.DataFrame, claims: pd.DataFrame, names=("reference", "rerun")) -> tuple[bool, str]:
    """(passes, printed summary); `names` are the two runs as the reader knows them (their paths)."""
    first, second = names
    independent = cells.attrs.get("independent", False)
    compared = cells[cells["status"].isin(["ok", "flagged"])]
    flagged = compared[compared["status"] == "flagged"]
    n, n_flagged = chance_counts(compared)
    shared = (f"; {len(compared) - n} cells that two protocols share (the same records) counted once: {n_flagged} "
              f"of {n}" if n < len(compared) else "")
    counts = claims["status"].value_counts()
    lines = [f"cells: {len(compared) - len(flagged)} of {len(compared)} compared agree within their Welch 95 % "
             f"interval" + (f" ({len(flagged)} flagged{shared}; {chance(n)}; independent runs pass with at "
                            f"most {chance_limit(n)} flagged)" if independent else "")
             + "".join(f"; {n} {s}" for s, n in cells["status"].value_counts().items() if s not in ("ok", "flagged")),
             "claims: " + ", ".join(f"{n} {s}" for s, n in counts.items())]
    if independent and n:
        mean, low, high = mean_difference(compared)
        lines.insert(1, f"mean difference over the {n} cells ({second} - {first}): {100 * mean:+.3f} pp, 95 % "
                        f"[{100 * low:+.3f}, {100 * high:+.3f}] pp (each cell's Welch se, the cells taken as independent)")
    for r in cells[cells["status"] != "ok"].itertuples():
        if r.status == "settings differ":
            continue
        what = r.status if r.status != "flagged" else (f"flagged: {second} {r.mean_rerun:.4f} vs {first} "
                                                        f"{r.mean_reference:.4f}, Welch 95 % [{r.welch_low:+.4f}, "
                                                        f"{r.welch_high:+.4f}]")
        lines.append(f"  {r.protocol} {r.dataset} {r.experiment} {r.scheme} N2={r.n2}: {what}")
    for r in claims[claims["status"] != "agrees"].itertuples():
        lines.append(f"  {r.protocol} {r.claim} {r.dataset}: {first} {r.reference}, {second} {r.rerun} ({r.status})")
    if independent:
        return (not (claims["status"] == "contradiction").any() and n_flagged <= chance_limit(n),
                "\n".join(lines))
    return bool((cells["status"] == "ok").all() and (claims["status"] == "agrees").all()), "\n".join(lines)


def markdown_table(frame: pd.DataFrame) -> list[str]:
    rows = [" | ".join(str(v).replace("|", "\\|") for v in r) for r in frame.itertuples(index=False)]
    return ["| " + " | ".join(frame.columns) + " |", "|---" * len(frame.columns) + "|"] + [f"| {r} |" for r in rows]


def markdown(cells: pd.DataFrame, claims: pd.DataFrame, reference: str, run: str) -> str:
    """The comparison as a Markdown page: the summary, the cells per protocol and experiment (compared, flagged,
    settings differ, missing), every flagged cell with its interval, and every claim's two verdicts with its status."""
    _, text = summary(cells, claims, (reference, run))
    status = cells["status"].where(~cells["status"].str.startswith("missing"), "missing")
    counts = pd.crosstab([cells["protocol"], cells["experiment"]], status).reindex(
        columns=["ok", "flagged", "settings differ", "missing"], fill_value=0).reset_index()
    counts.columns = ["protocol", "experiment", "agree", "flagged", "settings differ", "missing"]
    flagged = cells[cells["status"] == "flagged"]
    flagged = pd.DataFrame({**{k: flagged[k] for k in CELL}, "seeds": [f"{a} / {b}" for a, b in zip(
        flagged["n_reference"], flagged["n_rerun"])], "mean": [f"{a:.4f} / {b:.4f}" for a, b in zip(
        flagged["mean_reference"], flagged["mean_rerun"])], "difference": flagged["difference"].map("{:+.4f}".format),
        "Welch 95 %": [f"[{lo:+.4f}, {hi:+.4f}]" for lo, hi in zip(flagged["welch_low"], flagged["welch_high"])]})
    verdicts = claims.rename(columns={"reference": reference, "rerun": run})
    lines = [f"# `{run}` against `{reference}`", "", "Written by `python -m spectral compare"
             + (" --independent" if cells.attrs.get("independent") else "") + f" {reference} {run} --markdown ...` "
             "(the rule: docs/compare.md).", "", "```", text, "```", "",
             "## Cells per protocol and experiment", "", *markdown_table(counts), "",
             f"## Flagged cells ({len(flagged)}): seeds and means are `{reference}` / `{run}`", ""]
    lines += markdown_table(flagged) if len(flagged) else ["none"]
    lines += ["", "## Claims", "", *markdown_table(verdicts), ""]
    return "\n".join(lines)
