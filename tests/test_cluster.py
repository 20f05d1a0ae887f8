"""The smoke workflow through a real single-node SLURM (tests/cluster/start-slurm.sh) via --profile profiles/slurm.

Marked `cluster`: needs root and Debian's apt; run with `make test-cluster` (and by .ci/run where allowed).
"""
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
STATE = Path(os.environ.get("SPECTRAL_SLURM_DIR", "/tmp/spectral-slurm"))
TIME_COLUMNS = {"wall_time_s", "strategy", "device"}
pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def slurm_env():
    """Start the cluster, yield the environment its clients need, stop exactly what was started."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("the SLURM test cluster needs root and apt-get")
    subprocess.run(["bash", str(ROOT / "tests" / "cluster" / "start-slurm.sh")], check=True)
    env = {**os.environ, "SLURM_CONF": str(STATE / "slurm.conf"), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    yield env
    subprocess.run(["bash", str(ROOT / "tests" / "cluster" / "stop-slurm.sh")], check=True)


def workdir(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for item in ("Snakefile", "workflow", "config", "environment.yml", "profiles"):
        src = ROOT / item
        shutil.copytree(src, dest / item) if src.is_dir() else shutil.copy(src, dest / item)
    smoke = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    overlay = {"data": {**smoke["data"], "dir": str(ROOT / "resources" / "data")},
               "sensitivity": {"enabled": False}}  # the main DAG only: the cluster path is the same for every rule
    (dest / "overlay.yaml").write_text(yaml.safe_dump(overlay))
    return dest


def run(work: Path, env, *extra, check=True):
    args = [SNAKEMAKE, "--configfile", "config/smoke.yaml", "overlay.yaml", *extra]
    done = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True)
    if check:
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done


def tables(work: Path) -> dict[str, pd.DataFrame]:
    out = {p.stem: pd.read_csv(p) for p in sorted((work / "output" / "smoke" / "tables").glob("*.csv"))}
    out["claims"] = pd.read_csv(work / "output" / "smoke" / "claims.csv")
    return {k: v.drop(columns=[c for c in v if c in TIME_COLUMNS]) for k, v in out.items()}


def test_smoke_through_slurm_equals_local(slurm_env, tmp_path):
    """Every job goes through sbatch; the tables equal a local run's (same seeds, same threads)."""
    local = workdir(tmp_path / "local")
    run(local, slurm_env, "--cores", "2")
    cluster = workdir(tmp_path / "slurm")
    t0 = time.time()
    done = run(cluster, slurm_env, "--profile", "profiles/slurm")
    elapsed = time.time() - t0
    log = done.stdout + done.stderr
    job_ids = set(re.findall(r"has been submitted with SLURM jobid (\d+)", log))
    squeue = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i %T %k"], env=slurm_env, capture_output=True,
                            text=True, check=True).stdout.split("\n")
    completed = [line for line in squeue if " COMPLETED " in line]
    n_jobs = int(re.search(r"(\d+) of \1 steps \(100%\) done", log).group(1))
    print(f"\nSLURM smoke: {n_jobs} jobs, {len(job_ids)} SLURM job ids in the log, {len(completed)} COMPLETED in squeue, "
          f"{elapsed:.0f} s")
    assert len(job_ids) >= n_jobs - 1  # every job but the local target rule `all` went through sbatch
    assert len(completed) >= n_jobs - 1
    ours, theirs = tables(local), tables(cluster)
    assert ours.keys() == theirs.keys()
    for name in ours:
        pd.testing.assert_frame_equal(ours[name], theirs[name], check_exact=False, rtol=1e-9, obj=name)


def test_cancelled_training_job_is_retried(slurm_env, tmp_path):
    """scancel one running training job: Snakemake's retry completes the cell and no output is corrupt."""
    work = workdir(tmp_path / "kill")
    target = [f"output/smoke/runs/paper/mnist/nonlinear/{s}/n50/seed1.json" for s in ("spectral-eigvals", "direct-full")]
    proc = subprocess.Popen([SNAKEMAKE, "--configfile", "config/smoke.yaml", "overlay.yaml", "--profile",
                             "profiles/slurm", *target], cwd=work, env=slurm_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    killed, deadline = None, time.time() + 300
    while killed is None and time.time() < deadline and proc.poll() is None:
        for line in subprocess.run(["squeue", "-h", "-t", "RUNNING", "-o", "%i %k"], env=slurm_env, capture_output=True,
                                   text=True).stdout.splitlines():
            job_id, comment = (line.split(maxsplit=1) + [""])[:2]
            if "train_cell" in comment:
                subprocess.run(["scancel", job_id], env=slurm_env, check=True)
                killed = job_id
                break
        time.sleep(0.2)
    log, _ = proc.communicate(timeout=600)
    assert killed is not None, "no running training job was seen to cancel"
    assert proc.returncode == 0, log[-4000:]
    state = subprocess.run(["squeue", "-h", "-j", killed, "-t", "all", "-o", "%T"], env=slurm_env, capture_output=True,
                           text=True).stdout.strip()
    assert state == "CANCELLED", state
    for path in target:
        record = yaml.safe_load((work / path).read_text())  # JSON is YAML: parses only if complete
        assert record["seed"] == 1 and 0 <= record["final_test_accuracy"] <= 1
    assert not list(work.glob("output/**/*.tmp*"))
