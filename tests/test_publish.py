"""Tests for spectral.publish and `python -m spectral publish`: the reference, its README and the README section."""
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from spectral.claims import CELL_COLUMNS
from spectral.cli import main
from spectral.headline import README_END, README_START, results_section, update_readme
from spectral.publish import PublishError, job_times, publish, sessions

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_800_000_000  # a fixed epoch second for the benchmark files' end times
CONFIG = {"name": "demo", "run_protocols": ["paper"], "datasets": ["mnist", "fashion-mnist"], "sensitivity": {"n2": [10]},
          "claims": {"equivalence_margin": 0.01}, "pruning": {"connectivity": "l1"}}
PROVENANCE = {"git_commit": "0123456789abcdef", "platform": "Linux-x86_64", "devices": ["cpu (x86_64)"],
              "threads": [2], "python": "3.11.7", "packages": {"torch": "2.14.1", "numpy": "2.4.6", "snakemake": "9"},
              "n_runs": 2, "config": CONFIG}
VERDICTS = [("paper", "C1", "mnist", "holds", 2, 2, 0, 0), ("paper", "C1", "fashion-mnist", "holds in part", 2, 1, 1, 0),
            ("paper", "C1", "all", "holds in part", 4, 3, 1, 0), ("pruning-2022", "C5", "all", "does not hold", 2, 0, 0, 1),
            ("per-layer", "C1", "all", "holds", 4, 4, 0, 0)]


def bench(path: Path, seconds: float, end: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"s\th:m:s\tmax_rss\tcpu_time\n{seconds}\t0:00:00\t100.0\t{seconds * 2}\n")
    os.utime(path, (end, end))


def make_output(path: Path, commits=("0123456789abcdef",) * 2) -> Path:
    """A finished run: two cells (one job each, an hour apart), a stale benchmark, records (trained at `commits`,
    None: not recorded), arrays, figures."""
    (path / "tables").mkdir(parents=True)
    cells = [("paper", "mnist", "perceptron", "direct-full", 0), ("paper", "mnist", "nonlinear", "direct-full", 10)]
    pd.DataFrame([dict(zip(["protocol", "dataset", "experiment", "scheme", "n2"], c), seed=0) for c in cells]).to_csv(
        path / "tables" / "runs.csv", index=False)
    jobs = path / "benchmarks" / "jobs" / "paper" / "mnist"
    bench(jobs / "perceptron" / "direct-full" / "n0.tsv", 100.0, T0)
    bench(jobs / "nonlinear" / "direct-full" / "n10.tsv", 200.0, T0 + 3600)
    bench(jobs / "nonlinear" / "direct-full" / "n999.tsv", 5.0, T0)  # an earlier config's cell: not this run's
    for c, commit in zip(cells, commits):
        run = path / "runs" / "/".join(c[:4]) / f"n{c[4]}"
        run.mkdir(parents=True)
        (run / "seed0.json").write_text(json.dumps({} if commit is None else {"git_commit": commit}))
        (run / "seed0.npz").write_bytes(b"arrays")
    pd.DataFrame(VERDICTS, columns=["protocol", "claim", "dataset", "verdict", "cells", "cells_hold",
                                    "cells_at_threshold", "cells_fail"]).assign(detail="").to_csv(
        path / "claim_verdicts.csv", index=False)
    pd.DataFrame(columns=CELL_COLUMNS).to_csv(path / "claims.csv", index=False)
    (path / "claims.md").write_text("# claims")
    (path / "figures").mkdir()
    for fig in ("fig2_linear", "fig3_nonlinear"):
        (path / "figures" / f"{fig}.png").write_bytes(b"png")
    (path / "provenance.json").write_text(json.dumps(PROVENANCE))
    return path


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


def test_results_section_follows_the_verdicts(tmp_path):
    """The section has one row per claim with each dataset's verdict; a flipped verdict changes it."""
    results = tmp_path / "results" / "demo"
    publish(make_output(tmp_path / "out"), results)
    text = results_section(results, "results/demo")
    answer = next(line for line in text.splitlines() if line.startswith("| **C1**"))
    assert answer == ("| **C1** | Training eigenvalues only beats direct training of as many randomly chosen weights | "
                      "holds on MNIST, holds in part on Fashion-MNIST |")  # the bottom line, from the verdicts
    row = next(line for line in text.splitlines() if line.startswith("| C1 |"))
    assert row.split(" | ")[1] == "NC21 abstract" and "identical number of free parameters" in row
    assert row.split(" | ")[3:6] == ["holds (2/2)", "holds in part (1/2, 1 at threshold)",
                                     "holds in part (3/4, 1 at threshold)"]
    assert "| **C5** " in text and "| C5 |" in text  # C5 under its own protocol; other protocols' C1 rows are not shown
    assert sum(line.startswith("| **C1**") for line in text.splitlines()) == 1
    assert sum(line.startswith("| C1 |") for line in text.splitlines()) == 1
    assert text.index("| **C1**") < text.index("**What is tested.**") < text.index("### The papers' claims in detail") \
        < text.index("### Our readings")  # the answer first, then how to read it, then the detail
    assert "![fig2: linear networks](results/demo/figures/fig2_linear.png)" in text
    verdicts = pd.read_csv(results / "claim_verdicts.csv")
    verdicts.loc[verdicts["dataset"] == "mnist", "verdict"] = "does not hold"
    verdicts.to_csv(results / "claim_verdicts.csv", index=False)
    text = results_section(results, "results/demo")
    assert "| does not hold (2/2) |" in next(line for line in text.splitlines() if line.startswith("| C1 |"))
    assert next(line for line in text.splitlines() if line.startswith("| **C1**")).endswith(
        "| does not hold on MNIST, holds in part on Fashion-MNIST |")
    assert "re-decided" not in results_section(results, "results/demo")
    prov = json.loads((results / "provenance.json").read_text())
    prov["reanalysis"] = {"commit": "4ed1120abc", "retrained_bit_identical": "3 of 3 retrained runs equal", "runs_added": 2}
    (results / "provenance.json").write_text(json.dumps(prov))
    assert "re-decided under the current rule at commit `4ed1120` (3 of 3 retrained runs equal)" in \
        results_section(results, "results/demo")
    assert "predate the re-analysis" in results_section(results, "results/demo")  # the report is the original one
    prov["report"] = {"reanalysis_commit": "4ed1120abc"}  # tools/rebuild_report.py after that re-analysis
    (results / "provenance.json").write_text(json.dumps(prov))
    assert "predate the re-analysis" not in results_section(results, "results/demo")
    prov["reanalysis"]["commit"] = "5fe2231abc"  # re-decided again since: the rebuilt report is stale once more
    (results / "provenance.json").write_text(json.dumps(prov))
    assert "predate the re-analysis" in results_section(results, "results/demo")
    (results / "figures" / "fig3_nonlinear.png").unlink()
    with pytest.raises(PublishError, match="fig3_nonlinear.png is missing"):
        results_section(results, "results/demo")


def test_update_readme_replaces_only_the_section(tmp_path, capsys):
    """Text outside the markers is kept; a second run changes nothing; a README without markers is refused."""
    out = make_output(tmp_path / "output" / "demo")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{README_START.format(name='demo')}\nold text\n{README_END}\n\n## After\n")
    assert main(["publish", str(out), str(tmp_path / "results" / "demo"), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# Title\n\n") and text.endswith(f"{README_END}\n\n## After\n") and "old text" not in text
    assert "results/demo/claims.md" in text
    assert not update_readme(readme, tmp_path / "results" / "demo")
    readme.write_text("# no markers\n")
    assert main(["publish", str(out), str(tmp_path / "results" / "demo"), "--readme", str(readme)]) == 2
    assert "has no Results section markers" in capsys.readouterr().err
    assert main(["publish", str(out), str(tmp_path / "x"), "--readme", str(readme), "--tables-only"]) == 2
    assert not (tmp_path / "x").exists()


def test_the_readme_shows_the_committed_reference():
    """README.md's Results section is exactly what the committed results/<name> renders (no hand edits, no drift)."""
    text = (ROOT / "README.md").read_text()
    start = next((line for line in text.splitlines() if line.startswith(README_START.split("{")[0])), None)
    assert start is not None and README_END in text, "README.md has lost its Results section markers"
    name = start.split("from results/")[1].split(";")[0]
    results = ROOT / "results" / name
    if not (results / "README.md").is_file():
        pytest.skip(f"results/{name} is not published yet")
    section = text[text.index(start):text.index(README_END) + len(README_END)]
    assert section == results_section(results, f"results/{name}")


def test_the_readme_opens_on_its_answer():
    """README.md's first lines hold the answer: the title, one intro paragraph and one sentence lead to the answer
    table, whose rows are every paper claim with its verdict, before any reading guide or detail (a reader's first
    screen: at 1366 x 768 the whole answer table fits, docs/tests.md). Fails when prose is put before the answer."""
    text = (ROOT / "README.md").read_text()
    first_row = next((i for i, line in enumerate(text.splitlines()) if line.startswith("| **C1** |")), None)
    assert first_row is not None, "README.md has no answer table (a row starting '| **C1** |')"
    before = "\n".join(text.splitlines()[:first_row])
    prose = re.sub(r"<!--.*?-->|\[([^]]*)\]\([^)]*\)", r"\1", before, flags=re.S)  # what a reader sees of it
    assert len(prose) < 1100, f"{len(prose)} characters of text before the answer table: the answer must come first"
    assert "**What is tested.**" not in before and "### " not in before
    rows = [line for line in text.splitlines()[first_row:] if line.startswith("| **")]
    assert {"C1", "C2@1pp", "C3", "C5"} <= {line.split("**")[1] for line in rows}


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


def test_a_declared_specification_is_pending_until_its_verdicts_are_published(tmp_path):
    """config/*.yaml declaring a specification of results/paper is named under 'Not yet varied' until
    results/<its name>/specification_verdicts.csv exists; a specification of another run never is."""
    from spectral.headline import pending_specifications
    (tmp_path / "config").mkdir()
    (tmp_path / "results" / "paper").mkdir(parents=True)
    spec = {"primary": "results/paper", "choice": "eigvec init", "value": "glorot"}
    (tmp_path / "config" / "g.yaml").write_text(yaml.safe_dump({"name": "g", "specification": spec}))
    (tmp_path / "config" / "o.yaml").write_text(yaml.safe_dump({"name": "o", "specification": {
        **spec, "primary": "results/pilot"}}))
    (tmp_path / "config" / "plain.yaml").write_text(yaml.safe_dump({"name": "quick"}))
    assert pending_specifications(tmp_path / "results" / "paper") == [("eigvec init", "glorot", "config/g.yaml", "")]
    spec["question"] = "do the verdicts change?"
    (tmp_path / "config" / "g.yaml").write_text(yaml.safe_dump({"name": "g", "specification": spec}))
    assert pending_specifications(tmp_path / "results" / "paper")[0][3] == "do the verdicts change?"
    (tmp_path / "results" / "g").mkdir()
    (tmp_path / "results" / "g" / "specification_verdicts.csv").write_text("choice\n")
    assert pending_specifications(tmp_path / "results" / "paper") == []


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
    (out / "specification_cells.csv").unlink()
    assert "specification_cells.csv" not in {p.name for p in publish(out, results)}


@pytest.mark.parametrize("words, same, expected", [
    (("holds (2/2)", "holds (2/2)"), "every choice (protocol)",
     "holds on both datasets; the same under every choice varied"),
    (("does not hold (15/17, 1 fail)", "does not hold (13/17, 1 fail)"), "every choice (protocol)",
     "does not hold on either dataset (1 of 17 claim cells fails on each: telescopic N2 = 2000); the same under "
     "every choice varied"),
    (("holds (4/4)", "does not hold (1/4, 2 fail)"), "–",
     "holds on MNIST, does not hold on Fashion-MNIST (2 of 4 claim cells fail: telescopic N2 = 2000)"),
    (("holds (2/2)", "holds (2/2)"), "changes under protocol = authors-2020 (MNIST: holds in part, paper on the same "
     "cells: holds; Fashion-MNIST: holds in part, paper on the same cells: holds); protocol = per-layer (MNIST: "
     "inconclusive, paper on the same cells: holds)",
     "holds on both datasets; depends on the protocol (on the cells the protocols share): authors-2020 gives holds in "
     "part on both datasets (paper: holds); per-layer gives inconclusive on MNIST (paper: holds)"),
    (("holds (2/2)", "holds (2/2)"), "changes under connectivity = abs-sum (MNIST: baseline no better than random, l1 "
     "on the same cells: holds); tuning = per width (MNIST: does not hold, N2 = 100 on the same cells: holds); same "
     "under protocol",
     "holds on both datasets; depends on the connectivity: abs-sum gives baseline no better than random on MNIST "
     "(l1: holds); depends on the tuning: per width gives does not hold on MNIST (N2 = 100: holds); the same under "
     "the protocol"),
])
def test_the_bottom_line_reads_the_verdicts_and_the_choices(words, same, expected):
    """Both datasets' verdict once ('does not hold on either dataset', never the ambiguous 'on both'), per dataset
    when they differ; how many claim cells fail and where; each choice that changes it, with the verdict each value
    gives against the reference's (the protocol's on the cells the protocols share)."""
    from spectral.headline import bottom_line
    row = {"MNIST": words[0], "Fashion-MNIST": words[1], "same verdict under": same}
    fails = "telescopic N2 = 2000 on both datasets" if "fail" in words[0] else "telescopic N2 = 2000 on Fashion-MNIST"
    assert bottom_line(row, ["mnist", "fashion-mnist"], fails if "fail" in "".join(words) else "") == expected


def test_the_bottom_line_names_where_a_claims_cells_fail():
    """A claim's failing cells under its protocol, grouped by experiment and N2 with their datasets; cells of other
    protocols or claims, and cells that hold, are not named; C5 is read under its own protocol."""
    from spectral.headline import failing_cells
    rows = [("paper", "C1", "mnist", "telescopic", 2000, "does not hold"),
            ("paper", "C1", "fashion-mnist", "telescopic", 2000, "does not hold"),
            ("paper", "C1", "mnist", "nonlinear", 100, "holds"),
            ("authors-2020", "C1", "mnist", "nonlinear", 10, "does not hold"),
            ("pruning-2022", "C5", "fashion-mnist", "nonlinear", 500, "does not hold")]
    cells = pd.DataFrame(rows, columns=["protocol", "claim", "dataset", "experiment", "n2", "verdict"])
    datasets = ["mnist", "fashion-mnist"]
    assert failing_cells(cells, "C1", "paper", datasets) == "telescopic N2 = 2000 on both datasets"
    assert failing_cells(cells, "C5", "paper", datasets) == "nonlinear N2 = 500 on Fashion-MNIST"
    cells.loc[2, "verdict"] = "does not hold"
    assert failing_cells(cells, "C1", "paper", datasets) == ("nonlinear N2 = 100 on MNIST; telescopic N2 = 2000 on "
                                                             "both datasets")
    assert failing_cells(cells, "C3", "paper", datasets) == ""
