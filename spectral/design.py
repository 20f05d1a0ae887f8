"""The seed plan: how many seeds each training cell gets in the confirmatory run, from a power analysis of a pilot.

The design (a fresh confirmatory run, option (a) of the plan; reasons in config/design.yaml):
- Input: the pilot's claims.csv (every claim cell's effect, its sd(s) over seeds, threshold, delta, test and
  family) and its job times. The pilot's verdicts are not used, only its variance and effect estimates.
- Per claim cell, the seeds that give `power` (0.8) to decide it if the pilot's effect were the truth: towards
  holding at alpha (the intersection-union level); towards failing at alpha / m (m = the cell's Holm family size,
  Holm's first and strictest step, since the rejections of the new run are unknown); and, where the pilot effect
  lies within delta of the threshold, the equivalence test at alpha. The smallest of these is the cell's n.
- A cell whose n exceeds `cap` is declared `undecidable at this budget` (its expectation is stated, not chased).
- A training cell's seeds: the largest n of the claim cells that use it, at least `floor`, at most `cap`; a cell of
  the config that no claim uses (spectral-eigvecs: figures only) gets `figure_seeds`, the pilot's 5.
- Seed values are new: `first_seed`, first_seed + 1, ... (the pilot used 0-4, tuning 0-1), so the confirmatory
  data are independent of everything the plan was computed from.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
import yaml

from . import stats
from .claims import claim_base
from .experiments import config_cells

PLAN_COLUMNS = ["protocol", "claim", "dataset", "experiment", "n2", "statistic", "test", "pilot_n", "value",
                "threshold", "delta", "sd_a", "sd_b", "family_size", "direction", "level", "seeds", "expectation"]


def _needed(r, alpha: float, family: int, cap: int) -> tuple[str, float, int | None]:
    """(direction, level, seeds) for one pilot cell."""
    distance = r.value - r.threshold
    sd_b = None if r.test == "paired" else r.sd_b
    if r.claim.startswith("C2-TOST"):  # equivalence band (-m, m) around 0
        m = -r.threshold
        n = stats.tost_seeds_needed(r.value, m, r.sd_a, sd_b, alpha, cap, outside_level=alpha / family)
        if abs(r.value) < m:
            return "equivalence", alpha, n
        return ("fails" if r.value < 0 else "superior"), alpha / family, n
    direction, level = ("holds", alpha) if distance >= 0 else ("fails", alpha / family)
    n = stats.seeds_needed(distance, r.sd_a, sd_b, level, cap, delta=r.delta, equivalence_level=alpha)
    if r.delta > 0 and abs(distance) < r.delta:
        direction = "at the threshold" if n is not None and stats.equivalence_power(
            distance, r.delta, r.sd_a, sd_b, n, alpha) >= stats.POWER else direction
    return direction, level, n


def power_table(cells: pd.DataFrame, alpha: float, cap: int) -> pd.DataFrame:
    """One row per pilot claim cell: the seeds it needs and what the pilot leads one to expect."""
    family = cells.groupby(["protocol", "claim", "dataset"])["claim"].transform("size")
    rows = []
    for r, m in zip(cells.itertuples(), family):
        if math.isnan(r.sd_a) or (r.test == "welch" and math.isnan(r.sd_b)):
            continue
        direction, level, n = _needed(r, alpha, int(m), cap)
        expectation = {"holds": "expected to hold", "fails": "expected to fail", "equivalence": "expected equivalent",
                       "superior": "expected superior", "at the threshold": "expected at the threshold"}[direction] \
            if n else "undecidable at this budget"
        rows.append({"protocol": r.protocol, "claim": r.claim, "dataset": r.dataset, "experiment": r.experiment,
                     "n2": r.n2, "statistic": r.statistic, "test": r.test, "pilot_n": r.n, "value": r.value,
                     "threshold": r.threshold, "delta": r.delta, "sd_a": r.sd_a, "sd_b": r.sd_b,
                     "family_size": int(m), "direction": direction, "level": level, "seeds": n if n else cap + 1,
                     "expectation": expectation})
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def training_cells_of(r, pruning: dict, layout: tuple[str, str] | None, telescopic_n2s) -> list[tuple]:
    """(protocol, dataset, experiment, scheme, n2) of the training cells a claim cell's samples come from."""
    base = claim_base(r.claim)
    p, d, e, n2 = r.protocol, r.dataset, r.experiment, int(r.n2)
    if base == "C1":
        return [(p, d, e, s, n2) for s in ("spectral-eigvals", "direct-restricted")]
    if base in ("C2", "C2-TOST"):
        return [(p, d, e, s, n2) for s in ("spectral-full", "direct-full")]
    if base in ("C3", "C3-moves"):
        return [(p, d, "perceptron", s, 0) for s in ("spectral-eigvals", "direct-restricted", "direct-full")]
    if base == "C4":
        n2s = list(telescopic_n2s) if n2 == -1 else [n2]
        return [(p, d, "telescopic", s, n) for n in n2s for s in ("spectral-eigvals", "direct-full")]
    if base == "C4-perceptron":
        return [(p, d, "telescopic", "spectral-eigvals", n2), (p, d, "perceptron", "direct-full", 0)]
    if base in ("C5", "C5-explore"):
        return [(pruning["protocol"], d, "nonlinear", s, n2) for s in (pruning["scheme"], pruning["baseline_scheme"])]
    if base == "C6" and layout:
        return [(q, d, e, "spectral-eigvals", n2) for q in layout]
    return []


def seed_plan(table: pd.DataFrame, *, floor: int, cap: int, pruning: dict, layout, telescopic_n2s,
              cells=(), figure_seeds: int = 5) -> pd.DataFrame:
    """Seeds per training cell: the largest need of the claim cells using it, clipped to [floor, cap]; `cells` that
    no claim cell uses (spectral-eigvecs, drawn in the figures only) get `figure_seeds`. Given `cells`, the plan
    holds exactly those (a C4 trend names every N2 of the main grid; a grid protocol trains fewer)."""
    need, why = defaultdict(int), {}
    for r in table.itertuples():
        chased = r.expectation != "undecidable at this budget"  # an undecidable cell is run, at the floor, not chased
        seeds = r.seeds if chased else floor
        for key in training_cells_of(r, pruning, layout, telescopic_n2s):
            if seeds > need[key]:
                need[key] = seeds
                why[key] = f"{r.claim} {r.dataset} {r.experiment} N2={r.n2}" + ("" if chased else " (undecidable)")
    known = set(map(tuple, cells))
    rows = [dict(zip(["protocol", "dataset", "experiment", "scheme", "n2"], key), needed=n, seeds=int(np.clip(n, floor, cap)),
                 driven_by=why[key]) for key, n in need.items() if not known or key in known]
    rows += [dict(zip(["protocol", "dataset", "experiment", "scheme", "n2"], key), needed=0, seeds=figure_seeds,
                  driven_by="no claim: figures only") for key in map(tuple, cells) if key not in need]
    return pd.DataFrame(rows).sort_values(["protocol", "dataset", "experiment", "scheme", "n2"], ignore_index=True)


def cell_seconds(times: pd.DataFrame) -> pd.Series:
    """Each job's cell time (spectral.publish.job_times): its own seconds plus the seeds a killed job of its cell
    had kept (older tables have no `kept_seconds`). Busy wall time (publish.sessions) takes the job's own interval."""
    return times["seconds"] + (times["kept_seconds"] if "kept_seconds" in times else 0.0)


def cost(plan: pd.DataFrame, job_times: pd.DataFrame, pilot_seeds: int, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Projected job seconds per training cell: the pilot's job seconds per seed times the planned seeds
    (start-up included in the per-seed figure: a slight overestimate for wide cells, none for narrow ones). A pilot
    that ran under a seed plan of its own divides each job by its cell's seeds (`runs`, its runs.csv), else by
    `pilot_seeds`."""
    keys = ["protocol", "dataset", "experiment", "scheme", "n2"]
    job_times = job_times.assign(seconds=cell_seconds(job_times))  # with the seeds a killed job had kept
    merged = plan.merge(job_times[keys + ["seconds"]], on=keys, how="left")
    n = pilot_seeds
    if runs is not None:
        n = merged[keys].merge(runs.groupby(keys).size().rename("n").reset_index(), on=keys, how="left")["n"].fillna(
            pilot_seeds).to_numpy()
    per_seed = merged["seconds"] / n
    fallback = per_seed.groupby([merged["experiment"], merged["n2"]]).transform("median")
    merged["seconds_per_seed"] = per_seed.fillna(fallback)
    merged["projected_seconds"] = merged["seconds_per_seed"] * merged["seeds"]
    return merged.drop(columns="seconds")


RATIONALE = (
    "A fresh confirmatory run (option a), not a two-stage design (option b). The pilot (results of the published "
    "5-seed run, seeds 0-4) was already analysed, at alpha = 0.05 with Holm, before this plan existed, so declaring "
    "it now as a stage 1 with its own alpha would be chosen after seeing its data; a fresh run keeps every test "
    "exact and uses the pilot only for what a pilot is for, effect and variance estimates. It also gives the suite "
    "two independent runs of one config to compare (pilot against confirmatory). The cost is re-training cells the "
    "pilot already decided, which is small: a cell that decides easily needs only the floor.")


CAVEATS = [
    "The seeds come from point estimates of a 5-seed pilot (an sd from 5 values is uncertain by a factor of about 1.5 "
    "either way): the expectations are expectations, not results; the floor of 10 hedges against an optimistic sd.",
    "The pilot trained the telescopic networks at the linear family's learning rates; the confirmatory run uses the "
    "telescopic family's own (tuned 2026-11-29), so those cells' sds and effects may differ from the pilot's.",
    "Hours are at the pilot's job seconds per seed on its machine, before any training-speed work.",
    "Adding seeds after looking at this run's verdicts is optional stopping and is not allowed: more seeds mean a new "
    "declared design with new seed values.",
]


SPECIFICATION = (
    "A specification run: only the main grid's cells whose settings this config changes (its schemes), on new seed "
    "values, with the effects and sds of the published run named as pilot; its verdicts join these cells to the "
    "published run's other cells (each cell from one run, never seeds pooled across runs).")


SPECIFICATION_CAVEATS = [
    "The seeds come from the published run's effects and sds under its own choices; under this specification's "
    "choices they may differ, so the expectations are expectations, not results; the floor of 10 hedges against that.",
    "Hours are at the published run's job seconds per seed on its machine (one thread per job, two jobs at once).",
    "Adding seeds after looking at this run's verdicts is optional stopping and is not allowed: more seeds mean a new "
    "declared design with new seed values.",
]


# C4's trend and closing gap pair these telescopic series by seed across N2: a specification that changes one of
# their cells trains both series at every N2 of that dataset, so the pairs lie within one run (spectral/specification)
PAIRED_SERIES = (("telescopic", "spectral-eigvals"), ("telescopic", "direct-full"))


def changed_cells(config: dict, base: dict, cells: list[tuple]) -> list[tuple]:
    """The cells whose training settings (experiments.workflow_cell_config) differ between `config` and `base`,
    and, for a dataset where a cell of PAIRED_SERIES changed, every cell of both series of that dataset."""
    from .experiments import workflow_cell_config
    changed = {c for c in cells if workflow_cell_config(config, *c) != workflow_cell_config(base, *c)}
    paired = {(c[0], c[1]) for c in changed if (c[2], c[3]) in PAIRED_SERIES}
    return [c for c in cells if c in changed or ((c[0], c[1]) in paired and (c[2], c[3]) in PAIRED_SERIES)]


def build(pilot, config: dict, *, alpha: float, floor: int, cap: int, first_seed: int,
          figure_seeds: int = 5, main_only: bool = False, changed_from: dict | None = None) -> tuple[dict, pd.DataFrame]:
    """(design.yaml contents, power table) from a published pilot directory (claims.csv, job_times, provenance) for
    the confirmatory run of `config` (its pruning networks, C6 protocols and N2 values); `main_only`: a
    specification run that trains the main grid's cells of `config` only (SPECIFICATION); `changed_from` (a base
    config, with `main_only`): only the cells whose settings differ from it, with their paired series
    (changed_cells)."""
    import json
    from pathlib import Path
    pilot = Path(pilot)
    cells = pd.read_csv(pilot / "claims.csv")
    prov = json.loads((pilot / "provenance.json").read_text())
    table = power_table(cells, alpha, cap)
    layout = (config["claims"].get("layout_variant"), config["claims"].get("layout_reference"))
    parts = config_cells(config)
    cells = parts["main"] if main_only else (
        parts["main"] + parts["pruning"] + (parts["sensitivity"] if config["sensitivity"]["enabled"] else []))
    if changed_from is not None:
        if not main_only:
            raise ValueError("changed_from needs main_only: only a specification run trains a subset of cells")
        cells = changed_cells(config, changed_from, cells)
        if not cells:
            raise ValueError("no training cell's settings differ from the base config: nothing to specify")
    plan = seed_plan(table, floor=floor, cap=cap, pruning=config["pruning"],
                     layout=layout if all(layout) else None, telescopic_n2s=config["n2"], cells=cells,
                     figure_seeds=figure_seeds)
    runs = pd.read_csv(pilot / "tables" / "runs.csv") if prov["config"].get("design") else None
    priced = cost(plan, pd.read_csv(pilot / "tables" / "job_times.csv"), len(prov["config"]["seeds"]), runs)
    by_n2 = priced.groupby("n2").agg(cells=("seeds", "size"), models=("seeds", "sum"),
                                     hours=("projected_seconds", lambda s: round(s.sum() / 3600, 2)))
    design = {
        "design": f"specification {config['name']}" if main_only else "fresh confirmatory run",
        "why": SPECIFICATION if main_only else RATIONALE,
        "pilot": {"path": str(pilot), "commit": prov.get("git_commit"),
                  "seeds": prov["config"].get("design") or prov["config"]["seeds"],
                  "reanalysed_at": prov.get("reanalysis", {}).get("commit")},
        "alpha": alpha, "power": stats.POWER, "floor": floor, "cap": cap, "figure_seeds": figure_seeds,
        "first_seed": first_seed,
        "seed_values": f"a cell with n seeds uses seeds {first_seed} .. {first_seed} + n - 1",
        "caveats": SPECIFICATION_CAVEATS if main_only else CAVEATS,
        "expectations": {k: int(v) for k, v in table["expectation"].value_counts().items()},
        "compute": {"training_cells": len(plan), "models": int(plan["seeds"].sum()),
                    "projected_job_hours": round(float(priced["projected_seconds"].sum()) / 3600, 2),
                    "at": "the pilot's measured job seconds per seed on its machine",
                    "by_n2": {int(n): {k: (float(v) if k == "hours" else int(v)) for k, v in row.items()}
                              for n, row in by_n2.iterrows()}},
        "cells": [{"protocol": r.protocol, "dataset": r.dataset, "experiment": r.experiment, "scheme": r.scheme,
                   "n2": int(r.n2), "seeds": int(r.seeds), "driven_by": r.driven_by} for r in plan.itertuples()],
    }
    return design, table


def cell_seeds(design: dict) -> dict[tuple, list[int]]:
    """{(protocol, dataset, experiment, scheme, n2): seed values} of a design."""
    first = int(design["first_seed"])
    return {(c["protocol"], c["dataset"], c["experiment"], c["scheme"], int(c["n2"])): list(range(first, first + c["seeds"]))
            for c in design["cells"]}


def training_cells(config: dict) -> tuple[dict[str, list[tuple]], dict[tuple, list[int]]]:
    """What a validated config trains: its cells by part of the DAG (experiments.config_cells) and {cell: seed values}
    from its seed plan ({} without one: every cell trains config["seeds"]). A specification trains exactly its plan's
    main cells (changed_cells), nothing else. ValueError when the plan lacks a cell the config trains."""
    cells = config_cells(config)
    if config["specification"]:
        cells = {"main": cells["main"], "pruning": [], "sensitivity": []}
    if not config["design"]:
        return cells, {}
    with open(config["design"]) as f:
        seeds = cell_seeds(yaml.safe_load(f))
    if config["specification"]:
        cells["main"] = [c for c in cells["main"] if c in seeds]
    missing = [c for part in cells.values() for c in part if c not in seeds]
    if missing:
        raise ValueError(f"design {config['design']} has no seeds for {len(missing)} training cells of this config, e.g. "
                         f"{'/'.join(map(str, missing[0]))}: write a new design for this config")
    return cells, seeds


def describe(design: dict) -> str:
    """What `python -m spectral design` prints: the choice, the rule, the expectations and the compute."""
    c = design["compute"]
    pilot = design["pilot"]
    moved = f", since moved to {pilot['moved_to']}" if pilot.get("moved_to") else ""
    lines = [f"design: {design['design']} (pilot {pilot['path']} at {str(pilot['commit'])[:7]}{moved}, "
             f"seeds {pilot['seeds']})", "", design["why"], "",
             f"alpha {design['alpha']}, power {design['power']}, seeds per claim's training cell in [{design['floor']}, "
             f"{design['cap']}], {design['figure_seeds']} for a figures-only cell; new seed values: "
             f"{design['seed_values']}", "",
             "claim cells by expectation: " + ", ".join(f"{k} {v}" for k, v in design["expectations"].items()), "",
             f"{c['training_cells']} training cells, {c['models']} models, {c['projected_job_hours']} h of jobs "
             f"({c['at']})", "", "N2     cells  models  hours"]
    lines += [f"{n2:<6} {row['cells']:>5} {row['models']:>7} {row['hours']:>6.2f}" for n2, row in c["by_n2"].items()]
    lines += ["", "caveats:"] + [f"- {text}" for text in design.get("caveats", [])]
    return "\n".join(lines)
