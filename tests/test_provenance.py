"""Tests for spectral.provenance: which code ran, counted from the run records."""
import json
import subprocess
from pathlib import Path

from spectral.provenance import code_commit, provenance

ROOT = Path(__file__).resolve().parents[1]


def record(commit, dataset="mnist"):
    return {"git_commit": commit, "finished_at": "2026-01-01T00:00:10+00:00", "wall_time_s": 10.0,
            "device": "cpu", "device_name": "x86_64", "threads": 2, "settings": {"dataset": dataset},
            "data": {"sha256": {"f": "abc"}}}


def test_code_commit_is_this_checkouts_head():
    """The running spectral package reports the commit of the checkout it lives in."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert code_commit() is not None and code_commit().split("-")[0] == head


def test_training_commits_count_each_records_commit(tmp_path):
    """Runs are counted per commit; a record without one counts as 'None'; a second commit shows up."""
    paths = []
    for k, commit in enumerate(["a1", "a1", None, "b2"]):
        paths.append(tmp_path / f"r{k}.json")
        paths[-1].write_text(json.dumps(record(commit)))
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "sources.json").write_text("{}")
    prov = provenance(paths, [tmp_path / "mnist" / "sources.json"], {"name": "x"})
    assert prov["training_commits"] == {"a1": 2, "None": 1, "b2": 1} and prov["n_runs"] == 4
    assert provenance(paths[:2], [], {})["training_commits"] == {"a1": 2}
