"""Re-analyse a published run (the 5-seed pilot) under the current verdict rule, in place.

    python tools/reanalyse_pilot.py results/paper output/paper/runs [--config config/config.yaml]

The published tables keep every trained model's accuracy, so C1, C2, C4 and C6 need no training. Three analyses
need the arrays (npz), which are never published, so their cells are retrained first (`snakemake` on those run files,
into RUNS):
- C3 and C3-moves: the perceptron networks of every protocol (their initial weights are the untrained controls);
- C5: the pruning protocol's spectral networks and the new direct-full baseline networks of the same shape.
The script checks that every retrained run that the pilot already had is bit-identical to its published record
(final accuracies, every epoch's test loss, final train loss). It then adds the new baseline runs, rebuilds the
weight-distance and pruning tables from RUNS, re-decides every claim, redraws the two figures those tables feed, and
records what it did in provenance.json (`reanalysis`) and README.md. The previous claim-level verdicts (the main
run's and, for the other protocols, the sensitivity grid's) are kept as claim_verdicts_previous.csv for the
side-by-side table.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from spectral import plots
from spectral.analysis import gather_runs, load_weights, pruning_table, summarize, weight_distances
from spectral.claim_cells import evaluate_config, grid_view
from spectral.claims import summarize_claims
from spectral.claims_report import claims_markdown, robustness
from spectral.provenance import code_commit

SAME = ("final_test_accuracy", "final_train_loss", "final_train_accuracy")


def identical(a: dict, b: dict) -> bool:
    return all(a[k] == b[k] for k in SAME) and [h["test_loss"] for h in a["history"]] == [
        h["test_loss"] for h in b["history"]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pilot", type=Path)
    parser.add_argument("runs", type=Path, help="the retrained runs' directory (output/<name>/runs)")
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    args = parser.parse_args(argv)
    commit = code_commit()  # before this script writes into the (tracked) published directory
    config = yaml.safe_load(args.config.read_text())
    pilot, runs_dir = args.pilot, args.runs
    prov = json.loads((pilot / "provenance.json").read_text())
    pconf = config["pruning"]
    grid = config["sensitivity"]

    # 1. Retrained runs: bit-identical where the pilot has them; the new ones are added.
    same, differ, added = [], [], []
    for new in sorted(runs_dir.rglob("seed*.json")):
        rel = new.relative_to(runs_dir)
        old = pilot / "runs" / rel
        if old.is_file():
            (same if identical(json.loads(old.read_text()), json.loads(new.read_text())) else differ).append(str(rel))
        else:
            added.append(rel)
    if differ:
        print(f"error: {len(differ)} retrained runs differ from the published ones, e.g. {differ[0]}", file=sys.stderr)
        return 1
    for rel in added:
        (pilot / "runs" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(runs_dir / rel, pilot / "runs" / rel)
    runs = pd.read_csv(pilot / "tables" / "runs.csv")
    if added:
        runs = pd.concat([runs, gather_runs([runs_dir / rel for rel in added])], ignore_index=True).drop_duplicates(
            ["protocol", "dataset", "experiment", "scheme", "n2", "seed"]).sort_values(
            ["protocol", "dataset", "experiment", "scheme", "n2", "seed"], ignore_index=True)
        runs.to_csv(pilot / "tables" / "runs.csv", index=False)
        summarize(runs).to_csv(pilot / "tables" / "summary.csv", index=False)

    # 2. Weight distances (with the untrained controls) and pruning curves, from the retrained arrays.
    def keys_of(paths):
        return [(p.parts[-6], p.parts[-5], p.parts[-3], int(p.parts[-2][1:]), int(p.stem[4:])) for p in paths]

    perceptrons = sorted(runs_dir.glob("*/*/perceptron/*/n0/seed*.npz"))
    weights = load_weights(perceptrons, keys_of(perceptrons))
    main_protocol = config["run_protocols"][0]
    distances = weight_distances(weights)
    distances[distances["protocol"] == main_protocol].to_csv(pilot / "tables" / "weights_distance.csv", index=False)
    distances[distances["protocol"].isin(grid["protocols"])].to_csv(pilot / "sensitivity" / "weights_distance.csv",
                                                                    index=False)
    c5 = sorted(runs_dir.glob(f"{pconf['protocol']}/*/nonlinear/*/n*/seed*.npz"))
    pruning = pruning_table(c5, keys_of(c5), pconf["fractions"],
                            {pconf["protocol"]: config["protocols"][pconf["protocol"]]["nonlinear_activation"]},
                            connectivity=pconf["connectivity"], random_repeats=pconf["random_repeats"])
    published = pd.read_csv(pilot / "tables" / "pruning.csv")
    exploratory = published[published["protocol"] != pconf["protocol"]]  # the main protocol's panel, as published
    pruning = pd.concat([exploratory, pruning], ignore_index=True)
    pruning.to_csv(pilot / "tables" / "pruning.csv", index=False)

    # 3. Every claim under the current rule: one analysis of the main run and the sensitivity grid.
    protocols = config["run_protocols"] + [p for p in grid["protocols"] if p not in config["run_protocols"]]
    runs_all = [runs, pd.read_csv(pilot / "sensitivity" / "runs.csv")]
    dist_all = [pd.read_csv(pilot / "tables" / "weights_distance.csv"),
                pd.read_csv(pilot / "sensitivity" / "weights_distance.csv")]
    cells, verdicts = evaluate_config(runs_all, dist_all, pruning, protocols=protocols, claims=config["claims"],
                                      pruning_config=pconf)
    if not (pilot / "claim_verdicts_previous.csv").is_file():  # the main run's and the grid's verdicts before
        before = [pd.read_csv(pilot / "claim_verdicts.csv")]
        grid_before = pd.read_csv(pilot / "tables" / "sensitivity_verdicts.csv")
        before.append(grid_before[~grid_before["protocol"].isin(before[0]["protocol"])])
        pd.concat(before, ignore_index=True).to_csv(pilot / "claim_verdicts_previous.csv", index=False)
    cells.to_csv(pilot / "claims.csv", index=False)
    verdicts.to_csv(pilot / "claim_verdicts.csv", index=False)
    robust = robustness(cells, protocols[0])
    (pilot / "claims.md").write_text(claims_markdown(cells, verdicts, robust, config["claims"]["alpha"]))
    view = grid_view(cells, grid)
    view.to_csv(pilot / "tables" / "sensitivity.csv", index=False)
    summarize_claims(view).to_csv(pilot / "tables" / "sensitivity_verdicts.csv", index=False)

    # 4. The figures these tables feed.
    plots.fig5_spectrum(pd.read_csv(pilot / "tables" / "eigenvalues.csv").query("protocol == @main_protocol"), pruning,
                        pilot / "figures" / "fig5_spectrum.png", pilot / "figures" / "fig5_spectrum.pdf")
    plots.fig_sensitivity(view, pilot / "figures" / "sensitivity.png", pilot / "figures" / "sensitivity.pdf")

    # 5. Job times of the new baseline networks, provenance and the README note.
    bench = runs_dir.parent / "benchmarks" / "jobs"
    times = pd.read_csv(pilot / "tables" / "job_times.csv")
    new_cells = {tuple(rel.parts[:4]) + (int(rel.parts[4][1:]),) for rel in added}
    rows = []
    for cell in sorted(new_cells):
        tsv = bench.joinpath(*cell[:4], f"n{cell[4]}.tsv")
        if tsv.is_file():
            b = pd.read_csv(tsv, sep="\t").iloc[-1]
            end = dt.datetime.fromtimestamp(tsv.stat().st_mtime, dt.timezone.utc).isoformat(timespec="seconds")
            rows.append(dict(zip(["protocol", "dataset", "experiment", "scheme", "n2"], cell), seconds=float(b["s"]),
                             cpu_seconds=float(b["cpu_time"]), max_rss_mb=float(b["max_rss"]), end=end))
    times = pd.concat([times, pd.DataFrame(rows)], ignore_index=True).drop_duplicates(
        ["protocol", "dataset", "experiment", "scheme", "n2"])
    times.to_csv(pilot / "tables" / "job_times.csv", index=False)
    commits = sorted({json.loads((runs_dir / rel).read_text()).get("git_commit") or "unknown" for rel in added})
    prov["reanalysis"] = {
        "date": dt.date.today().isoformat(), "commit": commit, "rule": "spectral/claims.py",
        "retrained_bit_identical": f"{len(same)} of {len(same)} retrained runs equal their published records",
        "runs_added": len(added), "added_cells": [list(map(str, c)) for c in sorted(new_cells)],
        "added_runs_trained_at": commits, "config": {"claims": config["claims"], "pruning": pconf}}
    (pilot / "provenance.json").write_text(json.dumps(prov, indent=1))
    previous = pd.read_csv(pilot / "claim_verdicts_previous.csv")
    both = previous.merge(verdicts, on=["protocol", "claim", "dataset"], how="outer", suffixes=("_previous", ""))
    both = both[both["dataset"] == "all"]
    lines = ["", "## Re-analysis under the rule of 2026-11-29", "",
             f"Re-decided by `python tools/reanalyse_pilot.py` at commit `{commit}` on {prov['reanalysis']['date']}"
             f" (rule: `spectral/claims.py`, docs/verdict-rule.md). The tables of accuracies are the published ones; "
             f"{len(same)} retrained runs (the perceptrons, for C3's untrained controls, and the C5 networks, for "
             f"their arrays) are bit-identical to their published records; {len(added)} runs are new: the C5 "
             f"baseline, direct-full networks of the pruning protocol (trained at {', '.join(commits)}). "
             "`report.html` and figures other than fig5 and sensitivity are from the original analysis.", "",
             "| protocol | claim | verdict before (overall) | verdict now (overall) | cells now: hold / p<alpha / "
             "at threshold / fail / undecided |", "|---|---|---|---|---|"]
    for r in both.itertuples():
        now = "–" if pd.isna(r.verdict) else f"{r.verdict}"
        counts = "–" if pd.isna(r.cells) else (f"{int(r.cells)}: {int(r.cells_hold)} / {int(r.cells_iut)} / "
                                               f"{int(r.cells_at_threshold)} / {int(r.cells_fail)} / "
                                               f"{int(r.cells_undecided)}")
        before = "–" if pd.isna(r.verdict_previous) else r.verdict_previous
        lines.append(f"| {r.protocol} | {r.claim} | {before} | **{now}** | {counts} |")
    readme = (pilot / "README.md").read_text()
    readme = readme.split("\n## Re-analysis under the rule")[0].rstrip("\n") + "\n" + "\n".join(lines) + "\n"
    (pilot / "README.md").write_text(readme)
    decided = cells["verdict"].isin(["holds", "does not hold"]).mean()
    print(f"{len(same)} retrained runs bit-identical, {len(added)} added; {len(cells)} cells: "
          f"{decided:.0%} decided, {(cells['verdict'] == 'at the threshold').mean():.0%} at the threshold, "
          f"{cells['verdict'].isin(['inconclusive', 'superior']).mean():.0%} undecided")
    print(both[["protocol", "claim", "verdict_previous", "verdict"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
