"""A specification run joined to its primary run: the verdicts of one choice on the same cells (rule 9).

A specification varies one choice (the eigenvector init, the learning rate per width) and trains only the main
protocol's cells that the choice changes, on seed values of its own (`specification` in the config). Its verdicts:

- **runs**: a cell (dataset, experiment, scheme, N2) the specification trained comes from it, every other cell from
  the primary run; no cell pools seeds across the two runs (`join_runs`);
- **C3's distances**: a scheme's perceptron distances come from the run its perceptron cell comes from; the
  specification writes none, so a scheme it retrained at the perceptron has none, and a dataset whose direct-full
  perceptron it retrained (every distance's reference) has none at all (`join_distances`);
- **seeds**: the two runs must share no seed value, since the paired tests pair by seed number (`judge` refuses);
  every cell of the specification's seed plan must have runs, or the primary's cell would stand in for it;
- **judged cells**: a test that pairs samples across cells by seed (C3's distances to the same seed's direct-full
  network, C4's per-seed trend and closing gap) can be formed only where all its samples come from one run. A claim
  cell with a test under the primary but none under the join is *not judged* under this choice, and is left out of
  both sides (C4's closing gap is formed only where the gap pairs by seed at every width of the trend); a claim
  with no judged cell on a dataset gets a `not judged` row there;
- **both sides re-decided** (Holm per family, spectral/claims.py) on the same judged cells, so the reference value's
  verdict is the primary's on exactly the cells the specification's verdict judges.

C5 and C6 are tested under protocols of their own, which a specification of the main protocol does not change.

    python -m spectral specification output/eigvecs-glorot   # writes specification_cells.csv, _verdicts.csv there
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from .claim_cells import RUN_KEYS, evaluate_config
from .claims import NOT_JUDGED, decide, summarize_claims
from .compare import CELL
from .design import cell_seeds

CLAIM_CELL_KEYS = ["protocol", "claim", "dataset", "experiment", "n2", "statistic"]  # one claim cell
SOURCE = "run"  # the column naming where a joined row comes from
VERDICT_COLUMNS = ["choice", "value", "reference", "claim", "dataset", "verdict", "cells", "cells_hold",
                   "cells_at_threshold", "cells_fail", "cells_judged", "not_judged", "detail"]


class SpecificationError(ValueError):
    """A specification directory or config that cannot be joined."""


def join_runs(primary: pd.DataFrame, spec: pd.DataFrame) -> pd.DataFrame:
    """Every cell the specification trained from it, every other cell from the primary (column `run`)."""
    trained = spec[CELL].drop_duplicates()
    keep = primary.merge(trained, on=CELL, how="left", indicator=True)["_merge"].eq("left_only").to_numpy()
    joined = pd.concat([primary[keep].assign(**{SOURCE: "primary"}), spec.assign(**{SOURCE: "specification"})],
                       ignore_index=True)
    if joined.duplicated(RUN_KEYS).any():  # cannot happen after the split above; a guard against pooling
        raise SpecificationError("a run appears in both the primary and the specification")
    return joined


def join_distances(primary: pd.DataFrame, spec_runs: pd.DataFrame) -> pd.DataFrame:
    """The primary's C3 distances of the schemes whose perceptron cell the specification did not retrain; none of a
    dataset whose direct-full perceptron it retrained (every distance is to that network)."""
    redone = spec_runs[spec_runs["experiment"] == "perceptron"][["protocol", "dataset", "scheme"]].drop_duplicates()
    base = primary.assign(_scheme=primary["scheme"].str.split("@").str[0])  # direct-full@init is direct-full's
    keep = base.merge(redone.rename(columns={"scheme": "_scheme"}), on=["protocol", "dataset", "_scheme"],
                      how="left", indicator=True)["_merge"].eq("left_only").to_numpy()
    reference = redone[redone["scheme"] == "direct-full"][["protocol", "dataset"]]
    keep = keep & base.merge(reference, on=["protocol", "dataset"], how="left",
                             indicator=True)["_merge"].eq("left_only").to_numpy()
    return primary[keep].reset_index(drop=True)


def _tested(cells: pd.DataFrame) -> pd.DataFrame:
    return cells[cells["p_for"].notna()][CLAIM_CELL_KEYS].drop_duplicates()


def judge(primary_runs: pd.DataFrame, primary_distances: pd.DataFrame, spec_runs: pd.DataFrame, config: dict):
    """(cells, verdicts, not_judged) of the main protocol's claims C1-C4 under the primary's value of the choice and
    the specification's, both re-decided on the claim cells that both can test; `not_judged` lists the others."""
    protocol = config["run_protocols"][0]
    spec_runs = spec_runs[spec_runs["protocol"] == protocol]
    if spec_runs.empty:
        raise SpecificationError(f"the specification has no runs of the main protocol {protocol!r}")
    primary_runs = primary_runs[primary_runs["protocol"] == protocol]
    shared = sorted(set(primary_runs["seed"]) & set(spec_runs["seed"]))
    if shared:  # a test pairing by seed number would pair networks of the two runs
        raise SpecificationError(f"the specification reuses seed values of its primary (e.g. {shared[0]}): a "
                                 "specification needs seed values of its own (design --first-seed)")
    sides = {"primary": (primary_runs, primary_distances),
             "specification": (join_runs(primary_runs, spec_runs).drop(columns=SOURCE),
                               join_distances(primary_distances, spec_runs))}
    cells = {side: evaluate_config([runs], [dist], None, protocols=[protocol], claims=config["claims"])[0]
             for side, (runs, dist) in sides.items()}
    both = _tested(cells["primary"]).merge(_tested(cells["specification"]), on=CLAIM_CELL_KEYS)
    not_judged = _tested(cells["primary"]).merge(both, on=CLAIM_CELL_KEYS, how="left", indicator=True)
    not_judged = not_judged[not_judged["_merge"] == "left_only"][CLAIM_CELL_KEYS].reset_index(drop=True)
    alpha = config["claims"]["alpha"]
    decided = {side: decide(c.merge(both, on=CLAIM_CELL_KEYS), alpha) for side, c in cells.items()}
    return decided, {side: summarize_claims(c) for side, c in decided.items()}, not_judged


def verdict_rows(verdicts: dict, not_judged: pd.DataFrame, choice: str, values: dict) -> pd.DataFrame:
    """One row per (value of the choice, claim, dataset); `values` maps each side to its value's name."""
    missing = not_judged.groupby(["claim", "dataset"]).size().to_dict()
    missing |= {(claim, "all"): n for claim, n in not_judged.groupby("claim").size().items()}
    rows = []
    for side, frame in verdicts.items():
        judged = set(zip(frame["claim"], frame["dataset"]))
        for (claim, dataset), n in sorted(missing.items()):
            if (claim, dataset) not in judged:
                rows.append({"choice": choice, "value": values[side], "reference": side == "primary",
                             "claim": claim, "dataset": dataset, "verdict": NOT_JUDGED, "cells": 0, "cells_hold": 0,
                             "cells_at_threshold": 0, "cells_fail": 0, "cells_judged": "none", "not_judged": int(n),
                             "detail": "every cell here pairs samples across the two runs"})
        for r in frame.itertuples():
            n = int(missing.get((r.claim, r.dataset), 0))
            rows.append({"choice": choice, "value": values[side], "reference": side == "primary", "claim": r.claim,
                         "dataset": r.dataset, "verdict": r.verdict, "cells": r.cells, "cells_hold": r.cells_hold,
                         "cells_at_threshold": r.cells_at_threshold, "cells_fail": r.cells_fail,
                         "cells_judged": r.cells_judged, "not_judged": n, "detail": r.detail})
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def _table(directory: Path, name: str) -> pd.DataFrame:
    path = directory / "tables" / name
    if not path.is_file():
        raise SpecificationError(f"{path} does not exist")
    return pd.read_csv(path)


def primary_tables(primary_dir, seen: tuple = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, C3 distances) of a primary run; a primary that is itself a specification run is first joined onto its
    own primary (join_runs, join_distances), so a specification can be judged against a joined view (the Glorot φ
    at per-width rates against uniform φ at per-width rates, itself results/per-width over results/paper)."""
    primary_dir = Path(primary_dir)
    if primary_dir.resolve() in seen:
        raise SpecificationError(f"{primary_dir} is its own primary, through {len(seen)} specification run(s)")
    runs = _table(primary_dir, "runs.csv")
    prov_path = primary_dir / "provenance.json"
    spec = json.loads(prov_path.read_text())["config"].get("specification") if prov_path.is_file() else None
    if not spec:
        return runs, _table(primary_dir, "weights_distance.csv")
    base_runs, base_distances = primary_tables(spec["primary"], seen + (primary_dir.resolve(),))
    shared = sorted(set(base_runs["seed"]) & set(runs["seed"]))
    if shared:  # cannot be judged apart: a test pairing by seed would pair networks of the two runs
        raise SpecificationError(f"{primary_dir} reuses seed values of its own primary (e.g. {shared[0]})")
    return join_runs(base_runs, runs).drop(columns=SOURCE), join_distances(base_distances, runs)


def specification(spec_dir, primary_dir=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(verdict rows, decided cells) of a finished specification run, its settings from its provenance.json."""
    spec_dir = Path(spec_dir)
    prov_path = spec_dir / "provenance.json"
    if not prov_path.is_file():
        raise SpecificationError(f"{prov_path} does not exist: not a finished run")
    config = json.loads(prov_path.read_text())["config"]
    spec = config.get("specification")
    if not spec:
        raise SpecificationError(f"{spec_dir} is not a specification run (its config has no `specification`)")
    primary_dir = Path(primary_dir or spec["primary"])
    spec_runs = _table(spec_dir, "runs.csv")
    if config.get("design") and Path(config["design"]).is_file():  # else `declared` checks it at publish
        with open(config["design"]) as f:
            planned = {cell for cell in cell_seeds(yaml.safe_load(f)) if cell[0] in config["run_protocols"][:1]}
        trained = set(spec_runs[CELL].itertuples(index=False, name=None))
        missing = sorted(planned - {(p, d, e, s, int(n)) for p, d, e, s, n in trained})
        if missing:
            raise SpecificationError(f"{len(missing)} cells of the seed plan {config['design']} have no runs in "
                                     f"{spec_dir}, e.g. {'/'.join(map(str, missing[0]))}: finish the run first (its "
                                     "primary's cell would stand in for it)")
    cells, verdicts, not_judged = judge(*primary_tables(primary_dir), spec_runs, config)
    values = {"primary": spec.get("reference") or str(primary_dir), "specification": spec["value"]}
    decided = pd.concat([c.assign(choice=spec["choice"], choice_value=values[side], reference=side == "primary")
                         for side, c in cells.items()],
                        ignore_index=True)
    return verdict_rows(verdicts, not_judged, spec["choice"], values), decided


def specification_of(primary, results) -> bool:
    """Does a specification whose primary is `primary` (a path such as results/per-width) judge a choice of `results`:
    `primary` is `results`, or itself a specification run (published beside `results`) whose primary chain reaches
    it? A loop of primaries reaches nothing."""
    seen, name = set(), Path(primary).name
    while name != Path(results).name:
        prov = Path(results).parent / name / "provenance.json"
        spec = json.loads(prov.read_text())["config"].get("specification") if prov.is_file() else None
        if spec is None or name in seen:
            return False
        seen.add(name)
        name = Path(spec["primary"]).name
    return True


def root_primary(results) -> Path:
    """The run at the end of `results`' primary chain (itself when it is no specification run, or has no
    provenance.json for its caller to refuse): the run whose views a specification joins (results/per-width and the
    combination both join results/paper's). A loop of primaries is refused."""
    results, seen = Path(results), set()
    while (results / "provenance.json").is_file():
        spec = json.loads((results / "provenance.json").read_text())["config"].get("specification")
        if not spec:
            break
        if results.resolve() in seen:
            raise SpecificationError(f"{results} is its own primary, through {len(seen)} specification run(s)")
        seen.add(results.resolve())
        results = results.parent / Path(spec["primary"]).name
    return results


def specification_runs(results: Path, table: str = "specification_verdicts.csv") -> list[Path]:
    """The specification runs published beside `results` (results/*/ holding `table`) that judge a choice of it
    (specification_of: the combination, Glorot φ at per-width rates with primary results/per-width, is one of
    results/paper's), sorted by name."""
    return [path.parent for path in sorted(Path(results).parent.glob(f"*/{table}"))
            if specification_of(json.loads((path.parent / "provenance.json").read_text())["config"]["specification"]
                                ["primary"], results)]


def published_specifications(results: Path, table: str = "specification_verdicts.csv") -> pd.DataFrame | None:
    """A table (`specification_verdicts.csv` or `specification_cells.csv`) of the specification runs published
    beside `results` (specification_runs), concatenated; None if there are none."""
    frames = [pd.read_csv(run / table) for run in specification_runs(results, table)]
    return pd.concat(frames, ignore_index=True) if frames else None
