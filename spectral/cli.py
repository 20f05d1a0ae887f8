"""Command line: `python -m spectral train|compare|publish|design|fetch-data ...`.

Bad input exits with status 2 and one line on stderr, before anything is written; a write that fails midway
(a full disk) exits with status 1 and one line naming the file, leaving no temporary or partial file behind.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from . import data as data_mod
from .compare import CompareError, compare_runs, markdown, markdown_table, summary
from .experiments import load_config
from .headline import update_readme
from .publish import PublishError, publish
from .records import WriteError, write_atomic


DESIGN_FILE = Path("config/design.yaml")


class UsageError(Exception):
    """Bad command-line input."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: one line, status 2
        raise UsageError(message)


def int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def build_parser() -> Parser:
    from .cli_train import add_train_parser
    parser = Parser(prog="python -m spectral", description="Spectral-domain training (Giambagli et al. 2021).")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_train_parser(sub)
    c = sub.add_parser("compare", help="is RUN the same as REFERENCE? per cell (Welch) and per claim (verdict); "
                       "exit 0 same, 1 different, 2 not comparable")
    c.add_argument("reference", type=Path, help="a published results/<name> or output/<name> directory")
    c.add_argument("run", type=Path, help="the rerun's output/<name> directory")
    c.add_argument("--out", type=Path, default=None, help="CSV of the cell comparison (default: RUN/compare.csv)")
    c.add_argument("--markdown", type=Path, default=None, help="also write the comparison as a Markdown page here")
    c.add_argument("--independent", action="store_true", help="two runs of one config on different seeds (pilot "
                   "against confirmatory): seeds, the seed plan, training settings and the learning-rate search "
                   "may differ; cells trained with other settings are listed, not compared; exit 1 when a claim's "
                   "verdicts contradict or more cells are flagged than chance allows")
    ct = sub.add_parser("compare-tuning", help="does a fresh tuning (its grid.csv) reproduce the committed picks? "
                        "exit 0 every pick the same, 1 one differs, 2 not comparable")
    ct.add_argument("committed", type=Path, help="the committed grid, e.g. config/tuned/paper.csv")
    ct.add_argument("fresh", type=Path, help="a fresh tuning's grid, e.g. output/paper/tune/paper/grid.csv")
    ct.add_argument("--markdown", type=Path, default=None, help="also write the table as a Markdown page here")
    pub = sub.add_parser("publish", help="copy a finished run's tables, claims, figures, report, provenance and run "
                         "records (never arrays) from OUTPUT to RESULTS")
    pub.add_argument("output", type=Path)
    pub.add_argument("results", type=Path)
    pub.add_argument("--tables-only", action="store_true", help="tables, claims and provenance only (no figures, "
                     "report or run records): the small CI reference")
    pub.add_argument("--readme", type=Path, default=None, help="also regenerate this README's Results section from "
                     "RESULTS (between its results:start and results:end lines)")
    des = sub.add_parser("design", help="print the committed seed plan (config/design.yaml); with --from-pilot, "
                         "compute it from a published pilot run and write it first")
    des.add_argument("--file", type=Path, default=DESIGN_FILE, help="the design file")
    des.add_argument("--from-pilot", type=Path, default=None, help="a published run (results/<name>) whose claims.csv "
                     "and job times give the effects, sds and costs")
    des.add_argument("--floor", type=int, default=10, help="fewest seeds per training cell (10: every cell also gets "
                     "its distribution-free check)")
    des.add_argument("--cap", type=int, default=20, help="most seeds per training cell; a claim cell needing more is "
                     "declared undecidable at this budget")
    des.add_argument("--figure-seeds", type=int, default=5, help="seeds of a cell no claim uses (drawn in the figures "
                     "only), as in the pilot")
    des.add_argument("--first-seed", type=int, default=1000, help="first new seed value (the pilot used 0-4)")
    des.add_argument("--config", type=Path, nargs="+", default=[Path("config/config.yaml")], help="the run's config "
                     "and its overlays (its C5 networks, C6 protocols, N2 values and alpha)")
    des.add_argument("--main-only", action="store_true", help="a specification run: the plan holds the main grid's "
                     "cells of the config's schemes only")
    des.add_argument("--changed-from", type=Path, nargs="+", default=None, help="with --main-only: only the cells "
                     "whose settings differ from this base config (and its overlays), with the series C4 pairs by "
                     "seed (default: every main cell of the config's schemes)")
    ri = sub.add_parser("results-index", help="regenerate RESULTS/README.md from the published directories (every "
                        "count read from their tables)")
    ri.add_argument("results", type=Path, nargs="?", default=Path("results"))
    sp = sub.add_parser("specification", help="join a finished specification run to its primary run and write "
                        "its verdicts per choice (specification_verdicts.csv, specification_cells.csv) into it")
    sp.add_argument("run", type=Path, help="the specification run (output/<name> or results/<name>)")
    sp.add_argument("--primary", type=Path, default=None, help="the primary run (default: its config's "
                    "specification.primary)")
    dc = sub.add_parser("declared", help="was RUN's seed plan committed before its first record, and are its records "
                        "exactly the plan's seeds? exit 0 yes, 1 a check fails, 2 not checkable")
    dc.add_argument("run", type=Path, help="a finished or published run (output/<name> or results/<name>)")
    dc.add_argument("--repo", type=Path, default=Path("."), help="the git repository that holds its seed plan")
    dc.add_argument("--if-planned", action="store_true", help="a run whose config has no seed plan passes (make "
                    "publish: the merged config in its provenance decides)")
    f = sub.add_parser("fetch-data", help="fill resources/data with verified files, printing each file's source")
    f.add_argument("names", nargs="+", help=f"any of {', '.join(data_mod.DATASETS)}")
    f.add_argument("--data-dir", default=None)
    return parser


def check_writable(directory: Path) -> None:
    """Create `directory` if needed and prove a file can be written there."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory):
            pass
    except OSError as err:
        raise UsageError(f"output directory {str(directory)!r} is not writable ({err.strerror})") from None


def run_compare(args) -> int:
    cells, claims = compare_runs(args.reference, args.run, independent=args.independent)
    out = args.out or args.run / "compare.csv"
    table = pd.concat([cells.assign(kind="cell"), claims.rename(columns={"reference": "verdict_reference",
                                                                         "rerun": "verdict_rerun"}).assign(kind="claim")])
    write_atomic(out, table.to_csv(index=False))
    if args.markdown:
        write_atomic(args.markdown, markdown(cells, claims, str(args.reference), str(args.run)))
    ok, text = summary(cells, claims, (str(args.reference), str(args.run)))
    print(text)
    if args.independent:
        contradicts = (claims["status"] == "contradiction").any()
        print(("no claim contradicts the other run and no more cells are flagged than chance allows" if ok else
               "DIFFERENT: " + ("a claim contradicts the other run" if contradicts else
                                "more cells flagged than chance allows")) + f" ({out})")
    else:
        print(("same: every cell within its interval and every verdict agrees" if ok else "DIFFERENT") + f" ({out})")
    return 0 if ok else 1


def run_design(args) -> None:
    from . import design as design_mod
    if args.from_pilot is not None:
        for name in ("claims.csv", "provenance.json", "tables/job_times.csv"):
            if not (args.from_pilot / name).is_file():
                raise UsageError(f"{args.from_pilot / name} is missing: --from-pilot needs a published run")
        config = load_config(args.config)
        if not 2 <= args.floor <= args.cap or args.figure_seeds < 2:
            raise UsageError(f"need 2 <= --floor <= --cap and --figure-seeds >= 2, got floor {args.floor!r}, cap "
                             f"{args.cap!r}, figure seeds {args.figure_seeds!r}")
        design, table = design_mod.build(args.from_pilot, config, alpha=config["claims"]["alpha"], floor=args.floor,
                                         cap=args.cap, first_seed=args.first_seed,
                                         figure_seeds=args.figure_seeds, main_only=args.main_only,
                                         changed_from=load_config(args.changed_from) if args.changed_from else None)
        power_csv = args.file.with_name(args.file.stem + "_power.csv")
        design["power_table"] = str(power_csv)
        header = (f"# The declared seed plan of {config.get('name', 'the run')}: written by `python -m spectral design "
                  f"--from-pilot {args.from_pilot} --config {' '.join(map(str, args.config))}"
                  + (" --main-only" if args.main_only else "")
                  + (f" --changed-from {' '.join(map(str, args.changed_from))}" if args.changed_from else "")
                  + f" --first-seed {args.first_seed} --file {args.file}`\n# before any of "
                  "its runs existed; `python -m spectral design --file FILE` prints it. Rule: spectral/design.py. Per "
                  "claim cell: " + str(power_csv) + ".\n")
        write_atomic(power_csv, table.to_csv(index=False))
        write_atomic(args.file, header + yaml.safe_dump(design, sort_keys=False, width=120))
    if not args.file.is_file():
        raise UsageError(f"{args.file} does not exist: write it with --from-pilot results/<name>")
    print(design_mod.describe(yaml.safe_load(args.file.read_text())))


def run_compare_tuning(args) -> int:
    from .tune import PICK, compare_picks, grid_moves, tuning_summary
    grids = []
    for path in (args.committed, args.fresh):
        try:
            grid = pd.read_csv(path)
        except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
            raise CompareError(f"{path} cannot be read as a tuning grid: {str(err).splitlines()[0]}") from None
        missing = [c for c in PICK + ["lr", "val_accuracy", "chosen"] if c not in grid.columns]
        if missing:
            raise CompareError(f"{path} is not a tuning grid: it lacks the columns {', '.join(missing)}")
        grids.append(grid)
    table = compare_picks(*grids)
    ok, text = tuning_summary(table, grid_moves(*grids))
    shown = table.round({"val_accuracy_committed": 4, "val_accuracy_fresh": 4, "cost_pp": 2})
    print(text + "\n" + "\n".join(markdown_table(shown)))
    if args.markdown:
        write_atomic(args.markdown, f"# Tuning `{args.fresh}` against `{args.committed}`\n\nWritten by `python -m "
                     f"spectral compare-tuning {args.committed} {args.fresh}`. {text}.\n\n"
                     + "\n".join(markdown_table(shown)) + "\n")
    return 0 if ok else 1


def run_specification(args) -> None:
    from .specification import specification
    from .provenance import code_commit
    verdicts, cells = specification(args.run, args.primary)
    write_atomic(args.run / "specification_cells.csv", cells.to_csv(index=False))
    write_atomic(args.run / "specification_verdicts.csv", verdicts.to_csv(index=False))
    write_atomic(args.run / "specification.json", json.dumps(  # which code wrote the two tables (the README says)
        {"commit": code_commit() or "unknown", "written": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}) + "\n")
    shown = verdicts[verdicts["dataset"] == "all"][["claim", "value", "verdict", "cells", "not_judged"]]
    print("\n".join(markdown_table(shown)))


def main(argv=None) -> int:
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        args = build_parser().parse_args(argv)
        if args.command == "train":
            from .cli_train import run_train
            run_train(args, argv)
        elif args.command == "compare":
            return run_compare(args)
        elif args.command == "compare-tuning":
            return run_compare_tuning(args)
        elif args.command == "design":
            run_design(args)
        elif args.command == "results-index":
            from .results_index import results_index
            if not (args.results / "paper" / "provenance.json").is_file():
                raise UsageError(f"{args.results} has no published paper/ run")
            write_atomic(args.results / "README.md", results_index(args.results) + "\n")
            print(f"{args.results / 'README.md'}: regenerated")
        elif args.command == "specification":
            run_specification(args)
        elif args.command == "declared":
            from .declared import check, report, seed_plan
            if args.if_planned and not seed_plan(args.run):
                print(f"{args.run}: no seed plan, nothing declared to check")
                return 0
            found = check(args.run, args.repo)
            print(report(args.run, found))
            return 0 if found.ok else 1
        elif args.command == "publish":
            if args.readme is not None and args.tables_only:
                raise UsageError("--readme needs the full run's figures: leave out --tables-only")
            files = publish(args.output, args.results, args.tables_only)
            print(f"published {len(files)} files, {sum(f.stat().st_size for f in files) / 1e6:.1f} MB -> {args.results}")
            if args.readme is not None:
                changed = update_readme(args.readme, args.results)
                print(f"{args.readme}: Results section {'regenerated' if changed else 'already up to date'}")
        else:
            for name in args.names:
                data_mod.check_dataset(name)
            for name in args.names:
                data_mod.fetch(name, args.data_dir)
    except (UsageError, ValueError, data_mod.DataError, CompareError, PublishError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except WriteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0
