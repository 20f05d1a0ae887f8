"""Join the specification runs published beside a primary run into its choice views, from published tables alone.

    python tools/join_specifications.py results/paper [--readme README.md] [--no-report]

A primary that is itself a specification run (results/per-width, the combination's primary) stands for the run at
the end of its primary chain (specification.root_primary); `--readme` rewrites the README's Results section only when
that run is results/paper, whose section it is.

A specification run (config `specification:`, e.g. results/per-width) publishes its own verdicts, both values of its
choice judged on the same cells (specification_verdicts.csv, specification_cells.csv). Its primary's verdicts do not
change, but the views that list every choice do: claims.md's "Verdicts per choice", the specification curve
(tables/specification_effects.csv, figures/specification_curve.*), the report's landing table and the README's
headline. This rewrites exactly those from the primary's published tables (claims.csv, claim_verdicts.csv, the
sensitivity grid's tables) and the specifications published beside it, with the rule settings the primary was
decided under (provenance.json, its re-analysis included). Nothing is retrained and no verdict is re-decided:
tools/reanalyse.py does that, and needs the C5 networks' arrays. provenance.json records the join
(`specifications_joined`). Exit 0 done, 2 with one line when RESULTS is no published run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from spectral import plots  # noqa: E402
from spectral.choices import choice_verdicts, specification_effects  # noqa: E402
from spectral.claims_report import claims_markdown, robustness  # noqa: E402
from spectral.records import write_atomic  # noqa: E402
from spectral.compare import run_config  # noqa: E402
from spectral.headline import update_readme  # noqa: E402
from spectral.publish import refresh_readme  # noqa: E402
from spectral.provenance import code_commit  # noqa: E402
from spectral.specification import (SpecificationError, published_specifications, root_primary,  # noqa: E402
                                    specification_runs)

NEEDED = ("provenance.json", "claims.csv", "claim_verdicts.csv", "tables/sensitivity.csv",
          "tables/sensitivity_verdicts.csv")


def join(results: Path) -> list[str]:
    """Rewrite `results`' choice views with the specifications published beside it; returns their run names."""
    prov = json.loads((results / "provenance.json").read_text())
    config = run_config(prov)
    connectivity = config["pruning"]["connectivity"]
    cells = pd.read_csv(results / "claims.csv", dtype={"seeds_needed": "Int64"})  # as claims.py holds it
    verdicts = pd.read_csv(results / "claim_verdicts.csv")
    view = pd.read_csv(results / "tables" / "sensitivity.csv")
    grid_verdicts = pd.read_csv(results / "tables" / "sensitivity_verdicts.csv")
    specs = published_specifications(results)
    choices = choice_verdicts(verdicts, grid_verdicts, connectivity, specs)
    robust = robustness(cells, config["run_protocols"][0])
    write_atomic(results / "claims.md",
                 claims_markdown(cells, verdicts, robust, config["claims"]["alpha"], choices))
    effects = specification_effects(cells, view, connectivity,
                                    published_specifications(results, "specification_cells.csv"))
    write_atomic(results / "tables" / "specification_effects.csv", effects.to_csv(index=False))
    plots.fig_specification_curve(effects, results / "figures" / "specification_curve.png",
                                  results / "figures" / "specification_curve.pdf")
    return [run.name for run in specification_runs(results)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the primary's published directory (results/<name>)")
    parser.add_argument("--readme", type=Path, help="also regenerate this README's Results section from RESULTS")
    parser.add_argument("--no-report", action="store_true", help="leave report.html as it is")
    args = parser.parse_args(argv)
    try:  # a specification's primary may itself be one (the combination's results/per-width): join the base run
        args.results = root_primary(args.results)
    except SpecificationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    missing = [name for name in NEEDED if not (args.results / name).is_file()]
    if missing:
        print(f"error: {args.results} is not a published run with a sensitivity grid ({missing[0]} is missing)",
              file=sys.stderr)
        return 2
    commit = code_commit()  # before anything here changes the tree
    names = join(args.results)
    prov_path = args.results / "provenance.json"
    prov = json.loads(prov_path.read_text())
    prov["specifications_joined"] = {"date": dt.date.today().isoformat(), "commit": commit, "runs": names,
                                     "report": not args.no_report}
    write_atomic(prov_path, json.dumps(prov, indent=1))
    if not args.no_report:
        from rebuild_report import rebuild  # tools/, beside this script
        rebuild(args.results, str(Path(sys.executable).with_name("snakemake")))
    refresh_readme(args.results)  # its commit row names this join, its size row counts the files now
    if args.readme and args.results.name == "paper":  # the README's Results section is results/paper's
        update_readme(args.readme, args.results)
    print(f"{args.results}: joined {', '.join(names) or 'no specification run'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
