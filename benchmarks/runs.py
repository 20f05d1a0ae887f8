"""Whole runs: the quick config timed end to end in a scratch copy of the workflow (before/after strategies), and
where a finished run's time went against its GEMM floor and the roofline's two models (`bench.py --workflow`,
`bench.py --run`).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from roofline import epoch_floors, step_flops

ROOT = Path(__file__).resolve().parents[1]


def run_quick(cores: int, strategy: str, seeds=None, until_training: bool = False) -> tuple[float, pd.DataFrame | None]:
    """Wall time of the quick config (data already verified in resources/data) in a scratch copy of the workflow."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for item in ("Snakefile", "workflow", "config", "environment.yml"):
            src = ROOT / item
            shutil.copytree(src, work / item) if src.is_dir() else shutil.copy(src, work / item)
        overlay = {"ensemble": {"strategy": strategy, "order_seed": None},
                   "data": {"dir": str(ROOT / "resources" / "data"), "train_subset": None, "test_subset": None}}
        if seeds is not None:
            overlay["seeds"] = seeds
        (work / "overlay.yaml").write_text(yaml.safe_dump(overlay))
        snakemake = str(Path(sys.executable).with_name("snakemake"))
        args = [snakemake, "--cores", str(cores), "--configfile", "config/quick.yaml", "overlay.yaml"]
        t0 = time.perf_counter()
        subprocess.run(args + (["--until", "train_cell"] if until_training else []), cwd=work, check=True,
                       capture_output=True)
        elapsed = time.perf_counter() - t0
        runs = None if until_training else pd.read_csv(work / "output" / "quick" / "tables" / "runs.csv")
        return elapsed, runs


def bench_workflow(cores: int, peak: float) -> pd.DataFrame:
    """Quick config: training phase as per-seed jobs (before), in-process sequential, and auto; then end to end."""
    seeds = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["seeds"]
    per_seed = sum(run_quick(cores, "sequential", [k], until_training=True)[0] for k in seeds)
    sequential = run_quick(cores, "sequential", until_training=True)[0]
    auto = run_quick(cores, "auto", until_training=True)[0]
    end_to_end, runs = run_quick(cores, "auto")
    flops = training_flops(runs)
    return pd.DataFrame([{"cores": cores, "train_per_seed_jobs_s": per_seed, "train_cell_sequential_s": sequential,
                          "train_cell_auto_s": auto, "speedup_vs_per_seed_jobs": per_seed / auto,
                          "speedup_vs_sequential": sequential / auto, "end_to_end_s": end_to_end,
                          "training_gflop": flops / 1e9,
                          "reproduction_efficiency_pct": 100 * flops / (peak * 1e9) / end_to_end}])


def training_flops(runs: pd.DataFrame, n_train: int = 60000) -> float:
    """Sum over runs of the training FLOPs (`step_flops` x epochs x training images)."""
    per_epoch = runs["sizes"].map(lambda s: step_flops([int(v) for v in s.split("-")], n_train))
    return float((per_epoch * runs["epochs"]).sum())


def eval_flops(sizes, epochs: int, n_test: int = 10000, n_train: int = 60000) -> float:
    """Forward FLOPs of the evaluation passes: the test split after every epoch and the training split at the end."""
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 2.0 * macs * (n_test * epochs + n_train)


def bench_run(run: Path, peak: float, bandwidth: float | None = None) -> tuple[pd.DataFrame, dict]:
    """Where a finished run's time went: per N2, job time against its matmul FLOPs and, with `bandwidth`, against
    the roofline's max and sum models (epoch_floors per run); the run against its floors.

    `run` is an output/<name> (benchmark files) or results/<name> (tables/job_times.csv) directory. The GEMM floor
    is all training and evaluation FLOPs at `peak` (the GEMM peak), as if every job ran one GEMM at peak back to back.
    """
    from spectral.design import cell_seconds
    from spectral.publish import JOB_KEYS, job_times, sessions
    runs = pd.read_csv(run / "tables" / "runs.csv")
    published = run / "tables" / "job_times.csv"
    times = pd.read_csv(published) if published.is_file() else job_times(run)
    data = json.loads((run / "provenance.json").read_text())["config"]["data"]
    n_train, n_test = data.get("train_subset") or 60000, data.get("test_subset") or 10000  # MNIST, Fashion-MNIST
    sizes = [[int(v) for v in s.split("-")] for s in runs["sizes"]]
    runs["train_flop"] = [step_flops(s, n_train) * e for s, e in zip(sizes, runs["epochs"])]
    runs["eval_flop"] = [eval_flops(s, e, n_test, n_train) for s, e in zip(sizes, runs["epochs"])]
    if bandwidth:
        floors = [epoch_floors(s, sc, int(b), n_train, n_test, peak, bandwidth, ev) for s, sc, b, ev in
                  zip(sizes, runs["scheme"], runs["batch_size"], runs["eigvals"])]
        runs["max_model_s"] = [f["max_model_s"] * e for f, e in zip(floors, runs["epochs"])]
        runs["sum_model_s"] = [f["sum_model_s"] * e for f, e in zip(floors, runs["epochs"])]
    else:
        runs["max_model_s"] = runs["sum_model_s"] = float("nan")
    keys = JOB_KEYS
    cells = runs.groupby(keys)[["train_flop", "eval_flop", "max_model_s", "sum_model_s"]].sum().reset_index().merge(
        times.assign(seconds=cell_seconds(times)), on=keys)  # with the seeds a killed job had kept
    table = cells.groupby("n2").agg(jobs=("seconds", "size"), job_s=("seconds", "sum"), train_tflop=("train_flop", "sum"),
                                    eval_tflop=("eval_flop", "sum"), max_model_s=("max_model_s", "sum"),
                                    sum_model_s=("sum_model_s", "sum")).reset_index()
    table[["train_tflop", "eval_tflop"]] /= 1e12
    table["pct_peak"] = 100 * (table["train_tflop"] + table["eval_tflop"]) * 1e12 / (peak * 1e9) / table["job_s"]
    table["x_max_model"] = table["job_s"] / table["max_model_s"]
    table["x_sum_model"] = table["job_s"] / table["sum_model_s"]
    busy = sum(s["busy_s"] for s in sessions(times))
    floor = (cells["train_flop"].sum() + cells["eval_flop"].sum()) / (peak * 1e9)
    overhead = cells["seconds"] - (cells["train_flop"] + cells["eval_flop"]) / (peak * 1e9)
    totals = {"jobs": len(cells), "busy_h": busy / 3600, "job_h": cells["seconds"].sum() / 3600,
              "floor_h": floor / 3600, "max_model_h": cells["max_model_s"].sum() / 3600,
              "sum_model_h": cells["sum_model_s"].sum() / 3600, "floor_training_only_h": cells["train_flop"].sum() / (peak * 1e9) / 3600,
              "busy_over_floor": busy / floor, "time_above_floor_h": overhead.sum() / 3600}
    return table, totals


def project_precision(run: Path, wide: pd.DataFrame, narrow: pd.DataFrame, startup_s: float) -> tuple[pd.DataFrame, dict]:
    """A finished fp32 run's job times projected to bf16: each job keeps its start-up (`startup_s`) and divides the
    rest by its measured per-model-epoch speed-up: `wide` (bench.py --only precision) by scheme at the nearest
    measured N2 for N2 >= 500, `narrow` (--only narrow_precision, stacked seeds) at N2 = 10 for N2 <= 50 and at
    N2 = 100 for the rest (the perceptron, N2 = 0, counts as narrow). Busy hours scale with the job hours."""
    from spectral.design import cell_seconds
    from spectral.publish import job_times, sessions
    published = run / "tables" / "job_times.csv"
    times = pd.read_csv(published) if published.is_file() else job_times(run)
    busy = sum(s["busy_s"] for s in sessions(times)) / 3600  # the jobs' own intervals
    times = times.assign(seconds=cell_seconds(times))  # with the seeds a killed job had kept
    measured = sorted(wide["n2"].unique())

    def speedup(scheme: str, n2: int) -> float:
        if n2 >= min(measured):
            nearest = min(measured, key=lambda m: abs(m - n2))
            return float(wide.loc[(wide["n2"] == nearest) & (wide["scheme"] == scheme), "speedup"].iloc[0])
        return float(narrow.loc[narrow["n2"] == (10 if n2 <= 50 else 100), "speedup"].iloc[0])

    times["speedup"] = [speedup(s, int(n)) for s, n in zip(times["scheme"], times["n2"])]
    train_s = (times["seconds"] - startup_s).clip(lower=0)
    times["bf16_seconds"] = times["seconds"] - train_s + train_s / times["speedup"]
    table = times.groupby("n2").agg(jobs=("seconds", "size"), fp32_job_h=("seconds", "sum"),
                                    bf16_job_h=("bf16_seconds", "sum")).reset_index()
    table[["fp32_job_h", "bf16_job_h"]] /= 3600
    ratio = times["bf16_seconds"].sum() / times["seconds"].sum()
    return table, {"fp32_job_h": times["seconds"].sum() / 3600, "bf16_job_h": times["bf16_seconds"].sum() / 3600,
                   "fp32_busy_h": busy, "bf16_busy_h": busy * ratio, "job_time_ratio": ratio}


def _seconds_per_seed(run: Path) -> pd.DataFrame:
    """Each cell's job seconds (with the seeds a killed job had kept) and its number of trained models."""
    from spectral.design import cell_seconds
    from spectral.publish import JOB_KEYS, job_times
    published = run / "tables" / "job_times.csv"
    times = pd.read_csv(published) if published.is_file() else job_times(run)
    models = pd.read_csv(run / "tables" / "runs.csv").groupby(JOB_KEYS).size().rename("models").reset_index()
    return times.assign(seconds=cell_seconds(times)).merge(models, on=JOB_KEYS)


def measured_speedup(run: Path, reference: Path) -> tuple[pd.DataFrame, dict]:
    """A run's measured job time per model against a reference run's on the cells both trained (for example the bf16
    check against results/paper, fp32): per experiment, scheme and N2 the reference's seconds per model over the run's
    (a speed-up, > 1 when the run is faster), and over all shared cells the reference's time for the run's models
    over the run's own. Job times, start-up included, of jobs that ran two at a time: not an idle-machine figure."""
    from spectral.publish import JOB_KEYS
    both = _seconds_per_seed(run).merge(_seconds_per_seed(reference), on=JOB_KEYS, suffixes=("", "_reference"))
    if both.empty:
        raise ValueError(f"{run} and {reference} share no trained cell")
    both["speedup"] = (both["seconds_reference"] / both["models_reference"]) / (both["seconds"] / both["models"])
    table = both.pivot_table(index=["experiment", "scheme"], columns="n2", values="speedup", aggfunc="median")
    at_reference = (both["seconds_reference"] / both["models_reference"] * both["models"]).sum()
    return table.reset_index(), {"cells": len(both), "job_h": both["seconds"].sum() / 3600,
                                 "job_h_at_reference_speed": at_reference / 3600,
                                 "speedup": at_reference / both["seconds"].sum()}
