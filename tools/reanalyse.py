"""Re-decide a published run under the current verdict rule, in place, from its tables and retrained C5 networks.

    python tools/reanalyse.py results/paper output/paper/runs [--config config/config.yaml]

The published tables keep every trained model's accuracy, so every claim but C5 needs no training. C5 needs the
arrays (npz), which are never published: the C5 networks (the pruning protocol's cells) are retrained first on the
run's own seeds (`snakemake` on those run files, into RUNS, from the run's training commit). The script then
1. compares every retrained record with its published one (final accuracies, every epoch's test loss, final train
   loss) and reports how many are bit-identical and, for the others, how far their test accuracies moved;
2. rebuilds the C5 networks' pruning curves in every order (analysis.ORDERS) from the retrained arrays, keeping the
   published exploratory curves of the main protocol's spectral networks (their old order name `magnitude` is
   `l2`);
3. re-decides every claim, writes claims.csv, claim_verdicts.csv, claims.md and the sensitivity view, keeps the
   verdicts before as claim_verdicts_previous.csv (first re-analysis only), redraws fig5 and the specification
   curve (with the specification runs published beside it);
4. records what it did in provenance.json (`reanalysis`) and a section of README.md;
5. rebuilds report.html from the re-decided tables (tools/rebuild_report.py), so it opens on the same verdicts.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from spectral import plots
from spectral.analysis import ORDERS, pruning_table
from spectral.choices import choice_verdicts, specification_effects
from spectral.claim_cells import evaluate_config, evaluate_grid
from spectral.claims import summarize_claims
from spectral.claims_report import claims_markdown, robustness
from spectral.provenance import code_commit
from spectral.publish import refresh_readme
from spectral.specification import published_specifications
from rebuild_report import rebuild  # tools/, beside this script

SAME = ("final_test_accuracy", "final_train_loss", "final_train_accuracy")
OLD_ORDERS = {"magnitude": "l2", "connectivity": "abs-sum"}  # names before 2026-12-01 (connectivity was |sum_j w_ij|)


def identical(a: dict, b: dict) -> bool:
    return all(a[k] == b[k] for k in SAME) and [h["test_loss"] for h in a["history"]] == [
        h["test_loss"] for h in b["history"]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("published", type=Path)
    parser.add_argument("runs", type=Path, help="the retrained runs' directory (output/<name>/runs)")
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    parser.add_argument("--keep-pruning", action="store_true", help="keep the published pruning.csv when it already "
                        "holds every order (a re-decision that changes no curve)")
    args = parser.parse_args(argv)
    commit = code_commit()  # before this script writes into the (tracked) published directory
    config = yaml.safe_load(args.config.read_text())
    pub, runs_dir = args.published, args.runs
    prov = json.loads((pub / "provenance.json").read_text())
    pconf, grid = config["pruning"], config["sensitivity"]

    # 1. Retrained records against the published ones.
    same, moved, missing = [], [], []
    for new in sorted(runs_dir.glob(f"{pconf['protocol']}/*/nonlinear/*/n*/seed*.json")):
        rel = new.relative_to(runs_dir)
        old = pub / "runs" / rel
        if not old.is_file():
            missing.append(str(rel))
            continue
        a, b = json.loads(old.read_text()), json.loads(new.read_text())
        if identical(a, b):
            same.append(str(rel))
        else:
            moved.append(abs(a["final_test_accuracy"] - b["final_test_accuracy"]))
    if missing or not (same or moved):
        print(f"error: {len(missing)} retrained runs have no published record (e.g. {missing[:1]}), "
              f"{len(same) + len(moved)} have one: retrain the run's own C5 cells", file=sys.stderr)
        return 1
    retrained = (f"{len(same)} of {len(same) + len(moved)} retrained C5 runs are bit-identical to their published "
                 "records" + (f"; the other {len(moved)} moved by at most {100 * max(moved):.2f} pp of test accuracy "
                              f"(median {100 * float(np.median(moved)):.2f} pp)" if moved else ""))

    # 2. Pruning curves: the C5 networks in every order, the exploratory panel as published.
    def keys_of(paths):
        return [(p.parts[-6], p.parts[-5], p.parts[-3], int(p.parts[-2][1:]), int(p.stem[4:])) for p in paths]

    c5 = sorted(runs_dir.glob(f"{pconf['protocol']}/*/nonlinear/*/n*/seed*.npz"))
    published = pd.read_csv(pub / "tables" / "pruning.csv").replace({"order": OLD_ORDERS})
    if args.keep_pruning and set(published["order"]) >= set(ORDERS):  # already rebuilt in every order
        pruning = published
    else:
        pruning = pruning_table(c5, keys_of(c5), pconf["fractions"],
                                {pconf["protocol"]: config["protocols"][pconf["protocol"]]["nonlinear_activation"]},
                                random_repeats=pconf["random_repeats"])
        exploratory = published[published["protocol"] != pconf["protocol"]]
        pruning = pd.concat([exploratory, pruning], ignore_index=True)
        pruning.to_csv(pub / "tables" / "pruning.csv", index=False)

    # 3. Every claim under the current rule: one analysis of the main run and the sensitivity grid.
    protocols = config["run_protocols"] + [p for p in grid["protocols"] if p not in config["run_protocols"]]
    runs_all = [pd.read_csv(pub / "tables" / "runs.csv"), pd.read_csv(pub / "sensitivity" / "runs.csv")]
    dist_all = [pd.read_csv(pub / "tables" / "weights_distance.csv"),
                pd.read_csv(pub / "sensitivity" / "weights_distance.csv")]
    cells, verdicts = evaluate_config(runs_all, dist_all, pruning, protocols=protocols, claims=config["claims"],
                                      pruning_config=pconf)
    if not (pub / "claim_verdicts_previous.csv").is_file():  # the main run's and the grid's verdicts before
        before = [pd.read_csv(pub / "claim_verdicts.csv")]
        grid_before = pd.read_csv(pub / "tables" / "sensitivity_verdicts.csv")
        before.append(grid_before[~grid_before["protocol"].isin(before[0]["protocol"])])
        pd.concat(before, ignore_index=True).to_csv(pub / "claim_verdicts_previous.csv", index=False)
    cells.to_csv(pub / "claims.csv", index=False)
    verdicts.to_csv(pub / "claim_verdicts.csv", index=False)
    robust = robustness(cells, protocols[0])
    view = evaluate_grid(runs_all, dist_all, grid, config["claims"])
    choices = choice_verdicts(verdicts, summarize_claims(view), pconf["connectivity"],
                              published_specifications(pub))
    (pub / "claims.md").write_text(claims_markdown(cells, verdicts, robust, config["claims"]["alpha"], choices))
    view.to_csv(pub / "tables" / "sensitivity.csv", index=False)
    summarize_claims(view).to_csv(pub / "tables" / "sensitivity_verdicts.csv", index=False)
    main_protocol = config["run_protocols"][0]
    plots.fig5_spectrum(pd.read_csv(pub / "tables" / "eigenvalues.csv").query("protocol == @main_protocol"), pruning,
                        pub / "figures" / "fig5_spectrum.png", pub / "figures" / "fig5_spectrum.pdf",
                        c5_protocol=pconf["protocol"])
    plots.fig_sensitivity(view, pub / "figures" / "sensitivity.png", pub / "figures" / "sensitivity.pdf")
    effects = specification_effects(cells, view, pconf["connectivity"],
                                    published_specifications(pub, "specification_cells.csv"))
    effects.to_csv(pub / "tables" / "specification_effects.csv", index=False)
    (pub / "figures" / "README.md").write_text(plots.figures_readme())
    plots.fig_specification_curve(effects, pub / "figures" / "specification_curve.png",
                                  pub / "figures" / "specification_curve.pdf")

    # 4. Provenance and the README note.
    commits = sorted({json.loads(p.read_text()).get("git_commit") or "unknown"
                      for p in runs_dir.glob(f"{pconf['protocol']}/*/nonlinear/*/n*/seed*.json")})
    prov["reanalysis"] = {
        "date": dt.date.today().isoformat(), "commit": commit, "rule": "spectral/claims.py",
        "retrained_bit_identical": retrained, "runs_added": 0, "retrained_at": commits,
        "config": {"claims": config["claims"], "pruning": pconf}}
    (pub / "provenance.json").write_text(json.dumps(prov, indent=1))
    previous = pd.read_csv(pub / "claim_verdicts_previous.csv")
    both = previous.merge(verdicts, on=["protocol", "claim", "dataset"], how="outer", suffixes=("_previous", ""))
    both = both[both["dataset"] == "all"]
    lines = ["", f"## Re-analysis under the rule of {prov['reanalysis']['date']}", "",
             f"Re-decided by `python tools/reanalyse.py` at commit `{commit}` (rule: `spectral/claims.py`, "
             f"docs/verdict-rule.md). Every accuracy table but pruning.csv is the published one. The C5 networks "
             f"were retrained on their own seeds at {', '.join(c[:7] for c in commits)} for their arrays: "
             f"{retrained}; their pruning curves are rebuilt in every order. `report.html` is rebuilt from the "
             "re-decided tables (`tools/rebuild_report.py`; its files carry no Snakemake job metadata); the figures "
             "other than fig5 and the specification curve are from the original analysis.", "",
             "| protocol | claim | verdict before (overall) | verdict now (overall) | cells now: hold / p<alpha / "
             "at threshold / fail / undecided |", "|---|---|---|---|---|"]
    for r in both.itertuples():
        now = "–" if pd.isna(r.verdict) else f"{r.verdict}"
        counts = "–" if pd.isna(r.cells) else (f"{int(r.cells)}: {int(r.cells_hold)} / {int(r.cells_iut)} / "
                                               f"{int(r.cells_at_threshold)} / {int(r.cells_fail)} / "
                                               f"{int(r.cells_undecided)}")
        before = "–" if pd.isna(r.verdict_previous) else r.verdict_previous
        lines.append(f"| {r.protocol} | {r.claim} | {before} | **{now}** | {counts} |")
    readme = (pub / "README.md").read_text()
    readme = readme.split("\n## Re-analysis under the rule")[0].rstrip("\n") + "\n" + "\n".join(lines) + "\n"
    (pub / "README.md").write_text(readme)
    print(rebuild(pub, str(Path(sys.executable).with_name("snakemake"))))  # the report opens on these verdicts
    refresh_readme(pub)  # the commit row names this re-analysis, the size row counts the files now
    print(retrained)
    print(both[["protocol", "claim", "verdict_previous", "verdict"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
