"""Rebuild a published run's Snakemake report from its published tables, so that it opens on the current verdicts.

    python tools/rebuild_report.py results/paper

A published run re-decided later (tools/reanalyse.py) keeps its tables and figures up to date, but its report.html
is the one Snakemake wrote when the run finished. This stages the published claims, tables, figures and tuning
files as output/<name>/ in a temporary directory, writes the report's landing tables there with the current
`headline.published_verdicts` (the README headline's table: the specification runs published beside it
included), and runs `snakemake --report` on the run's own config (provenance.json, with the re-analysis's settings).
Snakemake's per-file job metadata does not travel with a published run, so the rebuilt report's files carry no job
details; the run's commit, machine and times are in provenance.json. The report replaces RESULTS/report.html in one
rename, and provenance.json records the rebuild (`report`).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from spectral.records import write_atomic  # noqa: E402
from spectral.headline import LANDING_FILES, answer_rows, landing_tables, published_verdicts  # noqa: E402
from spectral.provenance import code_commit  # noqa: E402

STAGED = ("claims.csv", "claim_verdicts.csv", "claims.md", "tables", "figures", "tune")


def rebuild(results: Path, snakemake: str) -> Path:
    """Write results/report.html from the published files; returns its path."""
    commit = code_commit()  # before anything here changes the tree
    table, config, choices, _ = published_verdicts(results)
    name = config["name"]
    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        stage = Path(tmp)
        out = stage / "output" / name
        (out / "report").mkdir(parents=True)
        for item in STAGED:
            if (results / item).exists():
                (out / item).symlink_to((results / item).resolve())
        (stage / "config").symlink_to(ROOT / "config")  # the seed plan the config names (config/design.yaml)
        (stage / "config.yaml").write_text(yaml.safe_dump(config))
        answer = answer_rows(table, choices, pd.read_csv(results / "claims.csv"), config["run_protocols"][0],
                             config["datasets"], config["claims"]["equivalence_margin"])
        for kind, part in landing_tables(table, answer).items():
            part.to_csv(out / "report" / LANDING_FILES[kind], index=False)
        done = subprocess.run([snakemake, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(stage),
                               "--configfile", str(stage / "config.yaml"), "--cores", "1",
                               "--report", str(stage / "report.html")], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"snakemake --report failed: {done.stderr.strip().splitlines()[-1:]}")
        target = results / "report.html"
        shutil.copyfile(stage / "report.html", target.with_name("report.html.tmp"))
        os.replace(target.with_name("report.html.tmp"), target)
    prov_path = results / "provenance.json"
    prov = json.loads(prov_path.read_text())
    prov["report"] = {"rebuilt": dt.date.today().isoformat(), "commit": commit,
                      "reanalysis_commit": (prov.get("reanalysis") or {}).get("commit"),
                      "how": "tools/rebuild_report.py: snakemake --report on the published tables (no job metadata)"}
    write_atomic(prov_path, json.dumps(prov, indent=1))  # as publish and reanalyse write it
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a published run, e.g. results/paper")
    parser.add_argument("--snakemake", default=str(Path(sys.executable).with_name("snakemake")))
    args = parser.parse_args(argv)
    if not (args.results / "provenance.json").is_file() or not (args.results / "claim_verdicts.csv").is_file():
        print(f"error: {args.results} is not a published run (no provenance.json or claim_verdicts.csv)",
              file=sys.stderr)
        return 2
    try:
        path = rebuild(args.results, args.snakemake)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{path}: rebuilt from the published tables ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
