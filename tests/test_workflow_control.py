"""Workflow control without a full run: lint, config validation, resuming after kill -9, the lock shared with a
plain snakemake, and seed plans (dry runs)."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from spectral.experiments import merge_config
from spectral.provenance import code_commit
from workflow_copy import ROOT, SNAKEMAKE, copy_workflow

pytestmark = pytest.mark.workflow


def test_lint_is_clean():
    done = subprocess.run([SNAKEMAKE, "--lint", "--configfile", "config/smoke.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "Congratulations" in done.stdout + done.stderr, done.stdout + done.stderr


@pytest.mark.parametrize("overlay,message", [
    ({"seeds": "zero"}, "seeds"), ({"schemes": ["spectral-magic"]}, "spectral-magic"),
    ({"unknown_key": 1}, "unknown_key"), ({"threads": 0}, "threads")])
def test_bad_config_stops_before_any_job(overlay, message, tmp_path):
    """Schema validation names the offending key and no job runs."""
    work = copy_workflow(tmp_path)
    (work / "bad.yaml").write_text(yaml.safe_dump(overlay))
    done = subprocess.run([SNAKEMAKE, "-n", "--cores", "1", "--configfile", "config/smoke.yaml", "bad.yaml"], cwd=work,
                          capture_output=True, text=True)
    output = done.stdout + done.stderr  # snakemake prints the validation error on stdout under -n
    assert done.returncode != 0 and message in output, output[-2000:]
    assert not (work / "output" / "smoke").exists()


def test_reproduce_resumes_after_kill_9(tmp_path):
    """A run killed with SIGKILL leaves Snakemake's lock; `make reproduce` removes it and finishes the run."""
    import os
    import signal
    import time
    work = copy_workflow(tmp_path)
    (work / "data.yaml").write_text(yaml.safe_dump({"data": {"dir": str(ROOT / "resources" / "data"),
                                                             "train_subset": 500, "test_subset": 200}}))
    target = "output/smoke/runs/paper/mnist/perceptron/direct-full/n0/seed1.json"
    args = [SNAKEMAKE, target, "--cores", "1", "--configfile", "config/smoke.yaml", "data.yaml"]
    proc = subprocess.Popen(args, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while not list((work / ".snakemake" / "locks").glob("*")) and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    stale = subprocess.run(args, cwd=work, capture_output=True, text=True)
    assert stale.returncode != 0 and "LockException" in stale.stdout + stale.stderr
    done = subprocess.run(["make", "-f", str(ROOT / "Makefile"), "-o", "setup", "reproduce", f"VENV={ROOT / '.venv'}",
                           "CORES=1", "CONFIG=config/smoke.yaml data.yaml", f"TARGET={target}"], cwd=work,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    resumed = json.loads((work / target).read_text())
    (tmp_path / "clean").mkdir()
    clean = copy_workflow(tmp_path / "clean")
    shutil.copy(work / "data.yaml", clean / "data.yaml")
    assert subprocess.run(args, cwd=clean, capture_output=True).returncode == 0
    uninterrupted = json.loads((clean / target).read_text())
    assert resumed["seed"] == 1 and resumed["history"] == [  # bit-identical but for the timings
        {**h, "seconds": r["seconds"]} for h, r in zip(uninterrupted["history"], resumed["history"])]


@pytest.mark.skipif(str(code_commit()).endswith("-dirty") or code_commit() is None,
                    reason="kept seeds need a clean checkout (a run at uncommitted code keeps none)")
def test_a_killed_wide_cell_resumes_from_its_finished_seeds(tmp_path):
    """A sequential cell killed after its first seed kept it in output/<name>/partial/; `make reproduce` takes it
    back (same record, same finish time, marked `kept`), trains the rest, removes the folder and notes the kept
    seeds' seconds for the cell's job time."""
    import os
    import signal
    import time
    work = copy_workflow(tmp_path)
    (work / "seq.yaml").write_text(yaml.safe_dump({"data": {"dir": str(ROOT / "resources" / "data"), "train_subset": 2000,
                                                            "test_subset": 500}, "seeds": [0, 1, 2],
                                                   "ensemble": {"strategy": "sequential"}}))
    cell = "paper/mnist/nonlinear/spectral-eigvals/n50"
    targets = [f"output/smoke/runs/{cell}/seed{k}.json" for k in (0, 1, 2)]
    kept = work / "output" / "smoke" / "partial" / cell / "seed0.json"
    args = [SNAKEMAKE, *targets, "--cores", "1", "--configfile", "config/smoke.yaml", "seq.yaml"]
    proc = subprocess.Popen(args, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while not kept.exists() and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = json.loads(kept.read_text())
    assert not (work / targets[2]).exists()  # killed before the cell's outputs
    done = subprocess.run(["make", "-f", str(ROOT / "Makefile"), "-o", "setup", "reproduce", f"VENV={ROOT / '.venv'}",
                           "CORES=1", "CONFIG=config/smoke.yaml seq.yaml", f"TARGET={' '.join(targets)}"], cwd=work,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    resumed = [json.loads((work / t).read_text()) for t in targets]
    assert resumed[0]["finished_at"] == first["finished_at"] and resumed[0]["history"] == first["history"]
    assert resumed[0]["kept"] and not resumed[2]["kept"] and resumed[2]["finished_at"] > first["finished_at"]
    assert not (work / "output" / "smoke" / "partial" / cell).exists()
    note = json.loads((work / "output" / "smoke" / "benchmarks" / "kept" / f"{cell}.json").read_text())
    kept = [r for r in resumed if r["kept"]]  # the job may have kept seed 1 too before it was killed
    assert note == {"seeds": [r["seed"] for r in kept], "seconds": sum(r["wall_time_s"] for r in kept)}


def test_reproduce_leaves_a_plain_snakemakes_lock_alone(tmp_path):
    """A `snakemake` started without make in the same directory keeps its lock: make reproduce exits 76 and unlocks
    nothing; once it is gone, the check passes."""
    import time
    work = copy_workflow(tmp_path)
    fake = work / "bin" / "snakemake"  # stands in for a running plain snakemake: the name is what is checked
    fake.parent.mkdir()
    fake.write_text("import time\ntime.sleep(60)\n")
    lock = work / ".snakemake" / "locks" / "0.input.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("held")
    proc = subprocess.Popen([sys.executable, str(fake)], cwd=work)
    try:
        time.sleep(0.5)
        checker = [sys.executable, str(ROOT / "tools" / "snakemake_running.py"), str(work)]
        assert subprocess.run(checker, capture_output=True, text=True).stdout.strip() == str(proc.pid)
        done = subprocess.run(["make", "-f", str(ROOT / "Makefile"), "-o", "setup", "reproduce",
                               f"VENV={ROOT / '.venv'}", "CONFIG=config/smoke.yaml"], cwd=work, capture_output=True,
                              text=True)
        assert done.returncode == 2 and "a snakemake started outside make is running" in done.stderr
        assert lock.read_text() == "held"
    finally:
        proc.kill()
        proc.wait()
    assert subprocess.run(checker).returncode == 1


def _smoke_design(work: Path, drop_last: bool = False) -> list[tuple]:
    """A seed plan for the smoke config in work/plan.yaml: 3 seeds for the first training cell, 2 for the others,
    seed values from 100; returns the cells in plan order."""
    from spectral.experiments import config_cells
    cfg = merge_config(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()),
                       yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text()))
    cells = sorted({c for part in config_cells(cfg).values() for c in part})
    keys = ("protocol", "dataset", "experiment", "scheme", "n2")
    plan = [dict(zip(keys, c), seeds=3 if k == 0 else 2) for k, c in enumerate(cells[:-1] if drop_last else cells)]
    (work / "plan.yaml").write_text(yaml.safe_dump({"first_seed": 100, "cells": plan}))
    (work / "overlay.yaml").write_text(yaml.safe_dump({"design": "plan.yaml"}))
    return cells


def test_a_seed_plan_gives_each_cell_its_own_seeds(tmp_path):
    """Under `design`, every training job writes exactly its cell's planned seeds, and nothing reads config seeds."""
    work = copy_workflow(tmp_path)
    cells = _smoke_design(work)
    done = subprocess.run([SNAKEMAKE, "-n", "--cores", "1", "--configfile", "config/smoke.yaml", "overlay.yaml"],
                          cwd=work, capture_output=True, text=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    planned = {"/".join(map(str, c[:4])) + f"/n{c[4]}": [100, 101, 102] if k == 0 else [100, 101]
               for k, c in enumerate(cells)}
    written = {}
    for path in re.findall(r"output/smoke/runs/(\S+?)/seed(\d+)\.json", done.stdout):
        written.setdefault(path[0], set()).add(int(path[1]))
    assert {k: sorted(v) for k, v in written.items()} == planned
    assert "train_cell_3_seeds" in done.stdout and "train_cell_2_seeds" in done.stdout


def test_a_seed_plan_missing_a_cell_stops_before_any_job(tmp_path):
    work = copy_workflow(tmp_path)
    _smoke_design(work, drop_last=True)
    done = subprocess.run([SNAKEMAKE, "-n", "--cores", "1", "--configfile", "config/smoke.yaml", "overlay.yaml"],
                          cwd=work, capture_output=True, text=True)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "has no seeds for 1 training cells" in output, output[-2000:]


def test_training_jobs_start_widest_first(tmp_path):
    """Every training job's Snakemake priority is its cell's N2 (none for the perceptron, N2 = 0), so the scheduler
    starts the widest ready cell first: where the training time is and where the verdicts fail."""
    work = copy_workflow(tmp_path)
    done = subprocess.run([SNAKEMAKE, "-n", "--cores", "1", "--configfile", "config/smoke.yaml"], cwd=work,
                          capture_output=True, text=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    jobs = re.findall(r"rule (train_cell\S*):\n(.*?)(?=\n\S|\Z)", done.stdout, re.S)
    assert jobs
    widths = set()
    for _, body in jobs:
        n2 = int(re.search(r"wildcards: cell=\S+/n(\d+)", body).group(1))
        priority = re.search(r"priority: (\d+)", body)
        assert (int(priority.group(1)) if priority else 0) == n2, body
        widths.add(n2)
    assert len(widths - {0}) >= 2  # at least two widths to order
