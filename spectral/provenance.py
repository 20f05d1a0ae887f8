"""Provenance of a whole workflow run: code version, packages, device, data, config and timing."""
from __future__ import annotations

import collections
import datetime as dt
import functools
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PACKAGES = ("torch", "torchvision", "numpy", "scipy", "pandas", "matplotlib", "seaborn", "snakemake", "tqdm")


@functools.lru_cache(maxsize=None)
def code_commit() -> str | None:
    """The commit of the checkout whose `spectral` package is running (None when it is not a git checkout)."""
    return git_commit(Path(__file__).resolve().parent)


def git_commit(cwd=".") -> str | None:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True, text=True)
    return done.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def provenance(record_paths, source_paths, config: dict) -> dict:
    """Summary of the run records (devices, time span) plus environment, data and config."""
    records = [json.loads(Path(p).read_text()) for p in record_paths]
    ends = [dt.datetime.fromisoformat(r["finished_at"]) for r in records if "finished_at" in r]
    starts = [e - dt.timedelta(seconds=r["wall_time_s"]) for e, r in zip(ends, records)]
    data = {}
    for path in source_paths:
        dataset = Path(path).parent.name
        data[dataset] = {"sources": json.loads(Path(path).read_text()),
                         "sha256": next((r["data"]["sha256"] for r in records if r["settings"]["dataset"] == dataset), {})}
    trained = collections.Counter(str(r.get("git_commit")) for r in records)
    return {
        "git_commit": git_commit(),
        "training_commits": dict(trained),  # commit -> runs it trained ("None": a record from before commits were kept)
        "python": sys.version.split()[0], "platform": platform.platform(),
        "packages": {p: metadata.version(p) for p in PACKAGES},
        "devices": sorted({f"{r['device']} ({r['device_name']})" for r in records}),
        "threads": sorted({r["threads"] for r in records}),
        "n_runs": len(records),  # the main grid (tables/runs.csv); the sensitivity grid is summarised in sensitivity/
        "training_seconds_total": sum(r["wall_time_s"] for r in records),
        "start": min(starts).isoformat() if starts else None, "end": max(ends).isoformat() if ends else None,
        "provenance_written": dt.datetime.now(dt.timezone.utc).isoformat(),
        "data": data, "config": config,
    }
