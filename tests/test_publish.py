"""Tests for spectral.publish and `python -m spectral publish`: the reference and its README."""
import json
import shutil

import pandas as pd
import pytest
import yaml

from published_run import CONFIG, PROVENANCE, T0, bench, make_output
from spectral.publish import PublishError, job_times, publish, sessions


def test_job_times_keep_this_runs_cells_only(tmp_path):
    """Each benchmark becomes one row with its cell and end time; a stale cell's benchmark is left out."""
    times = job_times(make_output(tmp_path / "out"))
    assert list(times["n2"]) == [10, 0] and list(times["seconds"]) == [200.0, 100.0]
    assert pd.to_datetime(times["end"]).max().timestamp() == T0 + 3600
    out = tmp_path / "out"  # a sensitivity-grid cell (sensitivity/runs.csv) is this run's job too
    bench(out / "benchmarks" / "jobs" / "per-layer" / "mnist" / "perceptron" / "direct-full" / "n0.tsv", 7.0, T0)
    assert 7.0 not in list(job_times(out)["seconds"])
    (out / "sensitivity").mkdir()
    pd.DataFrame([{"protocol": "per-layer", "dataset": "mnist", "experiment": "perceptron", "scheme": "direct-full",
                   "n2": 0, "seed": 0}]).to_csv(out / "sensitivity" / "runs.csv", index=False)
    assert 7.0 in list(job_times(out)["seconds"])
    bench(tmp_path / "out" / "benchmarks" / "jobs" / "paper" / "odd.tsv", 1.0, T0)
    with pytest.raises(PublishError, match="not a training job's benchmark"):
        job_times(tmp_path / "out")


def test_a_resumed_cell_counts_the_seeds_its_killed_job_kept(tmp_path):
    """A job that took back kept seeds (benchmarks/kept/<cell>.json) has them in kept_seconds: the cell's time and
    the summed job time count them, its busy interval does not; without the note they count nothing."""
    from spectral.design import cell_seconds
    from spectral.publish import wall_time_text
    out = make_output(tmp_path / "out")
    note = out / "benchmarks" / "kept" / "paper" / "mnist" / "nonlinear" / "direct-full" / "n10.json"
    note.parent.mkdir(parents=True)
    note.write_text(json.dumps({"seeds": [0], "seconds": 1800.0}))
    times = job_times(out)
    assert list(times["kept_seconds"]) == [1800.0, 0.0] and list(cell_seconds(times)) == [2000.0, 100.0]
    assert wall_time_text(times).endswith("2 jobs, 35.0 min summed, 30.0 min of it in seeds kept from killed jobs")
    assert [s["busy_s"] for s in sessions(times)] == [s["busy_s"] for s in sessions(times.drop(columns="kept_seconds"))]
    note.unlink()
    assert list(job_times(out)["kept_seconds"]) == [0.0, 0.0]


def test_sessions_split_at_gaps_and_count_overlaps_once():
    """Two jobs 1 h apart are two sessions; two jobs running side by side are busy for their union."""
    apart = pd.DataFrame({"seconds": [100.0, 200.0], "end": pd.to_datetime([T0, T0 + 3600], unit="s", utc=True)})
    assert [s["busy_s"] for s in sessions(apart)] == [100.0, 200.0]
    side_by_side = pd.DataFrame({"seconds": [100.0, 100.0], "end": pd.to_datetime([T0, T0 + 50], unit="s", utc=True)})
    assert [s["busy_s"] for s in sessions(side_by_side)] == [150.0]
    assert len(sessions(apart, gap_s=4000)) == 1


def test_publish_copies_results_but_never_arrays_and_writes_its_readme(tmp_path):
    """Records, tables and figures are copied, arrays never; README.md names the commit and the measured time."""
    out = make_output(tmp_path / "output" / "demo")
    files = publish(out, tmp_path / "results" / "demo")
    names = {str(f.relative_to(tmp_path / "results" / "demo")) for f in files}
    assert {"claims.md", "provenance.json", "tables/runs.csv", "tables/job_times.csv", "README.md",
            "runs/paper/mnist/nonlinear/direct-full/n10/seed0.json"} <= names
    assert not any(n.endswith(".npz") for n in names)
    readme = (tmp_path / "results" / "demo" / "README.md").read_text()
    assert "`0123456789abcdef`" in readme and "5.0 min of training jobs busy in 2 sessions" in readme
    assert "2 jobs, 5.0 min summed" in readme and f"{len(files)} files" in readme
    assert "tables/tune_times.csv" not in names and "learning-rate tuning" not in readme  # this run did not tune
    bench(out / "benchmarks" / "tune" / "paper.tsv", 5400.0, T0 + 7200)
    publish(out, tmp_path / "results" / "demo")
    tuned = pd.read_csv(tmp_path / "results" / "demo" / "tables" / "tune_times.csv")
    assert tuned[["protocol", "seconds"]].values.tolist() == [["paper", 5400.0]]
    readme = (tmp_path / "results" / "demo" / "README.md").read_text()
    assert "| learning-rate tuning | 1 job (paper), 1 h 30 min, beside the training jobs" in readme
    assert "2 jobs, 5.0 min summed" in readme  # the tuning job is not a training job
    lean = {str(f.relative_to(tmp_path / "lean")) for f in publish(out, tmp_path / "lean", tables_only=True)}
    assert "claims.md" in lean and "tables/runs.csv" in lean and not any(n.startswith("runs/") for n in lean)
    (out / "provenance.json").unlink()
    with pytest.raises(PublishError, match="no provenance.json"):
        publish(out, tmp_path / "results" / "demo")
    assert (tmp_path / "results" / "demo" / "README.md").read_text() == readme  # the old reference is intact


def test_publish_leaves_no_partial_directory(tmp_path, monkeypatch):
    """A failure while copying leaves the previous reference in place and no temporary directory behind."""
    out = make_output(tmp_path / "output" / "demo")
    results = tmp_path / "results" / "demo"
    publish(out, results)
    before = sorted(p.name for p in results.rglob("*"))

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(shutil, "copy2", broken)
    with pytest.raises(OSError, match="the previous reference is unchanged"):
        publish(out, results)
    assert sorted(p.name for p in results.rglob("*")) == before and not results.with_name("demo.tmp").exists()


@pytest.mark.parametrize("commits, expected", [
    ((None, None), "the run records predate per-run commits"),
    (("0123456789abcdef",) * 2, "the code that trained every run and wrote every table"),
    (("fedcba",) * 2, "`fedcba` trained every run"),
    (("0123456789abcdef", None), "**the runs come from more than one commit** (runs per commit: "
                                 "`0123456789abcdef`: 1; not recorded: 1)"),
])


def test_the_readme_says_which_commit_trained_the_runs(tmp_path, commits, expected):
    """The published records' commits are read, not provenance's (it counts only the main grid): one training commit
    equal to the tables' is stated as such; any mix of commits is flagged."""
    out = make_output(tmp_path / "out", commits)
    (out / "provenance.json").write_text(json.dumps({**PROVENANCE, "training_commits": {"0123456789abcdef": 2}}))
    publish(out, tmp_path / "results")
    commit_line = next(line for line in (tmp_path / "results" / "README.md").read_text().splitlines()
                       if line.startswith("| commit |"))
    assert expected in commit_line


def test_the_readme_counts_every_published_record(tmp_path):
    """The runs row counts the records published, per protocol, the sensitivity grid's too (provenance.json's
    n_runs counts only the main grid's)."""
    out = make_output(tmp_path / "out")
    extra = out / "runs" / "per-layer" / "mnist" / "nonlinear" / "spectral-eigvals" / "n10"
    extra.mkdir(parents=True)
    for seed in (0, 1):
        (extra / f"seed{seed}.json").write_text(json.dumps({"git_commit": "0123456789abcdef"}))
    publish(out, tmp_path / "results")
    runs = next(line for line in (tmp_path / "results" / "README.md").read_text().splitlines()
                if line.startswith("| runs |"))
    assert runs.startswith("| runs | 4 trained models") and "paper 2, per-layer 2;" in runs


def test_a_specification_run_publishes_its_join_and_says_what_it_is(tmp_path):
    """A specification run (config `specification:`) publishes its join to the primary (specification_verdicts.csv,
    specification_cells.csv) beside its runs, and its README names the choice and where its verdicts are instead of
    claims it does not have; a run without the join publishes without those files, as before."""
    out = make_output(tmp_path / "output" / "per-width")
    for name in ("claims.csv", "claims.md", "claim_verdicts.csv"):
        (out / name).unlink()
    spec = {"primary": "results/paper", "choice": "tuning", "value": "per width", "reference": "N2 = 100"}
    prov = {**PROVENANCE, "config": {**CONFIG, "name": "per-width", "specification": spec,
                                     "design": "config/design-per-width.yaml"}}
    (out / "provenance.json").write_text(json.dumps(prov))
    for name in ("specification_verdicts.csv", "specification_cells.csv"):
        pd.DataFrame({"claim": ["C1"], "value": ["per width"]}).to_csv(out / name, index=False)
    results = tmp_path / "results" / "per-width"
    files = {p.relative_to(results).as_posix() for p in publish(out, results)}
    assert {"specification_verdicts.csv", "specification_cells.csv", "provenance.json"} <= files
    readme = (results / "README.md").read_text()
    assert "A specification run: tuning = per width against `results/paper`'s N2 = 100" in readme
    assert "`config/design-per-width.yaml`" in readme and "claims.md` (claim level" not in readme
    commit = next(line for line in readme.splitlines() if line.startswith("| commit |"))
    assert "wrote every table" in commit and "specification_verdicts.csv" not in commit
    (out / "specification.json").write_text(json.dumps({"commit": "fedcba9876543210"}))  # the join written later
    commit = next(line for line in (publish(out, results) and (results / "README.md").read_text()).splitlines()
                  if line.startswith("| commit |"))
    assert "wrote tables/; `fedcba9876543210` wrote `specification_verdicts.csv` and `specification_cells.csv`" in commit
    (out / "specification_cells.csv").unlink()
    assert "specification_cells.csv" not in {p.name for p in publish(out, results)}


def test_a_rewritten_reference_readme_names_what_rewrote_it_and_counts_its_files(tmp_path):
    """After a re-analysis and a join write into a published run, refresh_readme's commit row names both commits and
    its size row counts the files as they are now; every other line stays as published."""
    from spectral.publish import refresh_readme
    results = tmp_path / "results" / "demo"
    publish(make_output(tmp_path / "output" / "demo"), results)
    before = (results / "README.md").read_text().splitlines()
    prov = json.loads((results / "provenance.json").read_text())
    prov["reanalysis"] = {"date": "2026-12-02", "commit": "faa5259712cab686"}
    prov["specifications_joined"] = {"date": "2026-12-07", "commit": "6ef63ffd1bc7f8bd", "runs": ["per-width"]}
    (results / "provenance.json").write_text(json.dumps(prov))
    (results / "extra.csv").write_text("x\n1\n")
    refresh_readme(results)
    after = (results / "README.md").read_text().splitlines()
    commit = next(line for line in after if line.startswith("| commit |"))
    assert "then `faa5259` re-decided every claim on 2026-12-02" in commit
    assert "`6ef63ff` joined the specification runs (per-width)" in commit
    size = next(line for line in after if line.startswith("| size |"))
    assert size.startswith(f"| size | {sum(p.is_file() for p in results.rglob('*'))} files")
    assert size != next(line for line in before if line.startswith("| size |"))
    assert [a for a, b in zip(after, before) if a != b] == [commit, size] and len(after) == len(before)
