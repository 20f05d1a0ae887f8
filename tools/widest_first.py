"""Run a config's main training cells widest first, then its `all` target (a specification's plan: wide cells first).

    python tools/widest_first.py --cores 2 config/config.yaml config/per-width.yaml

Snakemake's training rules carry no priority (one rule trains every width of a seed list), so this calls Snakemake
once per N2 of the main grid, widest first, with that width's run records as targets, then once for `all`. Each call
is resumable like `make reproduce` (--rerun-incomplete); a killed run continues where it stopped when rerun. The
cells and seeds are the workflow's own (design.training_cells: a specification trains only its plan's cells).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from spectral.design import training_cells  # noqa: E402
from spectral.experiments import load_config  # noqa: E402


def targets_by_width(config: dict) -> dict[int, list[str]]:
    """{N2: run records of the main cells at that N2}, widest first; the perceptron (N2 = 0) last."""
    cells, seeds = training_cells(config)
    out: dict[int, list[str]] = {}
    for cell in cells["main"]:
        path = "/".join([*map(str, cell[:4]), f"n{cell[4]}"])
        out.setdefault(cell[4], []).extend(f"output/{config['name']}/runs/{path}/seed{k}.json"
                                           for k in seeds.get(cell, config["seeds"]))
    return dict(sorted(out.items(), key=lambda kv: -kv[0]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--snakemake", default=str(Path(sys.executable).with_name("snakemake")))
    parser.add_argument("--dry-run", action="store_true", help="print the widths and their record counts only")
    args = parser.parse_args(argv)
    try:
        config = load_config([ROOT / "config" / "config.yaml", *args.configs])
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    options = ["--cores", str(args.cores), "--rerun-incomplete", "--configfile", *map(str, args.configs)]
    for n2, files in targets_by_width(config).items():  # targets first: --configfile takes every word after it
        print(f"N2 = {n2}: {len(files)} run records", flush=True)
        if not args.dry_run and subprocess.run([args.snakemake, *files, *options]).returncode:
            return 1
    return 0 if args.dry_run else subprocess.run([args.snakemake, *options]).returncode


if __name__ == "__main__":
    sys.exit(main())
