"""Tests for spectral.compare and `python -m spectral compare`: the rule flags what moved, nothing else."""
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spectral.cli import main
from spectral.chance import chance, chance_limit
from spectral.compare import compare_runs, config_differences

CONFIG = {"name": "smoke", "seeds": [0, 1, 2, 3, 4], "threads": 2, "data": {"dir": "/a", "train_subset": 2000},
          "protocols": {"paper": {"epochs": 1}}}


def make_run(path, shift=None, verdict="holds", config=CONFIG):
    """A run directory: runs.csv with 2 cells x 5 seeds (sd ~0.005), claim_verdicts.csv, provenance.json."""
    rng = np.random.default_rng(0)
    rows = []
    for scheme, mean in (("spectral-eigvals", 0.85), ("direct-full", 0.92)):
        values = mean + rng.normal(0, 0.005, 5)
        values = values - values.mean() + mean  # exact cell means, so a shift is exactly what the test says
        sd = values.std(ddof=1)
        if shift and scheme == "spectral-eigvals":
            values = values + shift * sd
        rows += [{"protocol": "paper", "dataset": "mnist", "experiment": "perceptron", "scheme": scheme, "n2": 0,
                  "seed": k, "final_test_accuracy": v} for k, v in enumerate(values)]
    (path / "tables").mkdir(parents=True)
    pd.DataFrame(rows).to_csv(path / "tables" / "runs.csv", index=False)
    pd.DataFrame([{"protocol": "paper", "claim": "C1", "dataset": "all", "verdict": verdict}]).to_csv(
        path / "claim_verdicts.csv", index=False)
    (path / "provenance.json").write_text(json.dumps({"config": config}))
    return path


def add_sensitivity(path, shift: float = 0.0):
    """A sensitivity/runs.csv: the main grid's cells (the reference protocol's, shared) and the same cells under
    protocol per-layer, whose spectral-eigvals accuracies move by `shift`."""
    runs = pd.read_csv(path / "tables" / "runs.csv")
    other = runs.assign(protocol="per-layer")
    other.loc[other["scheme"] == "spectral-eigvals", "final_test_accuracy"] += shift
    (path / "sensitivity").mkdir()
    pd.concat([runs, other]).to_csv(path / "sensitivity" / "runs.csv", index=False)


def test_a_run_agrees_with_itself(tmp_path, capsys):
    run = make_run(tmp_path / "a")
    assert main(["compare", str(run), str(run), "--out", str(tmp_path / "c.csv")]) == 0
    assert "same" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "c.csv")
    assert set(table.loc[table["kind"] == "cell", "status"]) == {"ok"}


def test_small_noise_passes_and_a_5sd_shift_is_flagged(tmp_path, capsys):
    ref = make_run(tmp_path / "ref")
    assert main(["compare", str(ref), str(make_run(tmp_path / "near", shift=0.5))]) == 0
    assert main(["compare", str(ref), str(make_run(tmp_path / "far", shift=5))]) == 1
    out = capsys.readouterr().out
    assert "spectral-eigvals N2=0: flagged" in out and "DIFFERENT" in out
    cells, _ = compare_runs(ref, tmp_path / "far")
    assert cells.set_index("scheme").loc["direct-full", "status"] == "ok"


def test_the_sensitivity_grids_cells_are_compared_once(tmp_path, capsys):
    """The sensitivity grid's own cells are compared too, and its copy of the main grid's cells is not counted twice."""
    ref, run = make_run(tmp_path / "ref"), make_run(tmp_path / "run")
    add_sensitivity(ref)
    add_sensitivity(run)
    cells, _ = compare_runs(ref, run)
    assert len(cells) == 4 and set(cells["status"]) == {"ok"}
    moved = make_run(tmp_path / "moved")
    add_sensitivity(moved, shift=0.05)
    assert main(["compare", str(ref), str(moved)]) == 1
    assert "per-layer mnist perceptron spectral-eigvals N2=0: flagged" in capsys.readouterr().out


def test_the_markdown_page_shows_cells_flags_and_claims(tmp_path):
    ref, run = make_run(tmp_path / "ref"), make_run(tmp_path / "run", shift=5, verdict="does not hold")
    page = tmp_path / "page.md"
    assert main(["compare", "--independent", str(ref), str(run), "--markdown", str(page)]) == 1
    text = page.read_text()
    assert "| paper | perceptron | 1 | 1 | 0 | 0 |" in text  # direct-full agrees, spectral-eigvals is flagged
    assert "## Flagged cells (1)" in text and "| paper | mnist | perceptron | spectral-eigvals | 0 | 5 / 5 |" in text
    assert "| paper | C1 | all | holds | does not hold | contradiction |" in text
    assert main(["compare", "--independent", str(ref), str(ref), "--markdown", str(page)]) == 0
    assert "## Flagged cells (0)" in page.read_text() and "| agrees |" in page.read_text()


def test_a_flipped_verdict_fails(tmp_path, capsys):
    ref = make_run(tmp_path / "ref")
    flip = make_run(tmp_path / "flip", verdict="does not hold")
    assert main(["compare", str(ref), str(flip)]) == 1
    assert f"{ref} holds, {flip} does not hold" in capsys.readouterr().out  # both runs named by their paths


def test_identical_seeds_flag_any_difference(tmp_path):
    """With one seed there is no variance: equality is the test."""
    ref, run = make_run(tmp_path / "ref"), make_run(tmp_path / "run")
    for d, bump in ((ref, 0.0), (run, 1e-4)):
        runs = pd.read_csv(d / "tables" / "runs.csv")
        runs = runs[runs["seed"] == 0].assign(final_test_accuracy=lambda r: r["final_test_accuracy"] + bump)
        runs.to_csv(d / "tables" / "runs.csv", index=False)
    cells, _ = compare_runs(ref, run)
    assert set(cells["status"]) == {"flagged"}


def test_different_configs_are_refused(tmp_path, capsys):
    ref = make_run(tmp_path / "ref")
    other = make_run(tmp_path / "other", config={**CONFIG, "seeds": [0, 1], "threads": 8,
                                                 "protocols": {"paper": {"epochs": 3}}})
    assert main(["compare", str(ref), str(other)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "keys that differ: protocols.paper.epochs, seeds" in err
    assert config_differences(CONFIG, {**CONFIG, "threads": 1, "data": {"dir": "/b", "train_subset": 2000}}) == []


def test_missing_directory_is_refused(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nope"), str(tmp_path)]) == 2
    assert "is not a directory" in capsys.readouterr().err


@pytest.mark.parametrize("corrupt, message", [
    (lambda text: text + "garbage,line\n\"unterminated\n", "malformed"),
    (lambda text: text.replace("final_test_accuracy", "accuracy"), "lacks the columns final_test_accuracy"),
    (lambda text: text.replace(text.splitlines()[1].split(",")[-1], "oops", 1), "non-numbers"),
])
@pytest.mark.parametrize("name", ["tables/runs.csv", "sensitivity/runs.csv"])
def test_a_malformed_runs_table_is_one_line_and_exit_2(tmp_path, capsys, corrupt, message, name):
    """A garbage line, a missing column or a non-number in RUN's runs.csv: exit 2 and one line naming the file."""
    ref, run = make_run(tmp_path / "ref"), make_run(tmp_path / "run")
    for d in (ref, run):
        add_sensitivity(d)
    table = run / name
    table.write_text(corrupt(table.read_text()))
    assert main(["compare", str(ref), str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(table) in err and message in err and "Traceback" not in err
    assert not (run / "compare.csv").exists()


def test_independent_runs_compare_with_different_seeds_and_settings(tmp_path, capsys):
    """Pilot against confirmatory: other seeds and seed counts are fine, a cell trained with other settings is left
    out (listed), a verdict that flips holds <-> does not hold is a contradiction, a less decided one is power."""
    ref = make_run(tmp_path / "ref")
    run = make_run(tmp_path / "run", shift=0.5, config={**CONFIG, "seeds": [7], "design": "plan.yaml",
                                                        "protocols": {"paper": {"epochs": 1, "lr": 0.1}},
                                                        "tune": {"families": ["telescopic"]}})
    runs = pd.read_csv(run / "tables" / "runs.csv")
    extra = runs[runs["seed"] < 3].assign(seed=lambda r: r["seed"] + 100)  # a larger sample on one side
    pd.concat([runs, extra]).assign(lr=lambda r: np.where(r["scheme"] == "direct-full", 0.1, 0.03)).to_csv(
        run / "tables" / "runs.csv", index=False)
    ref_runs = pd.read_csv(ref / "tables" / "runs.csv").assign(lr=0.03)
    ref_runs.to_csv(ref / "tables" / "runs.csv", index=False)
    assert main(["compare", str(ref), str(run)]) == 2  # a rerun needs the same config
    assert "--independent" in capsys.readouterr().err
    other = make_run(tmp_path / "other", config={**CONFIG, "epochs": 1})
    assert main(["compare", "--independent", str(ref), str(other)]) == 2  # anything else must still agree
    assert "keys that differ: epochs" in capsys.readouterr().err
    assert main(["compare", "--independent", str(ref), str(run)]) == 0
    cells, claims = compare_runs(ref, run, independent=True)
    by = cells.set_index("scheme")
    assert by.loc["spectral-eigvals", "status"] == "ok" and by.loc["spectral-eigvals", "n_rerun"] == 8
    assert by.loc["direct-full", "status"] == "settings differ"
    pd.DataFrame([{"protocol": "paper", "claim": "C1", "dataset": "all", "verdict": "does not hold"}]).to_csv(
        run / "claim_verdicts.csv", index=False)
    assert main(["compare", "--independent", str(ref), str(run)]) == 1
    assert "(contradiction)" in capsys.readouterr().out
    pd.DataFrame([{"protocol": "paper", "claim": "C1", "dataset": "all", "verdict": "holds in part"}]).to_csv(
        run / "claim_verdicts.csv", index=False)
    assert main(["compare", "--independent", str(ref), str(run)]) == 0
    assert "(power)" in capsys.readouterr().out


def test_a_re_decided_run_is_read_with_its_re_decision_config(tmp_path):
    ref = make_run(tmp_path / "ref", config={**CONFIG, "claims": {"delta": 0.01}})
    run = make_run(tmp_path / "run")
    with pytest.raises(Exception, match="claims.delta"):
        compare_runs(ref, run)
    prov = json.loads((run / "provenance.json").read_text())
    (run / "provenance.json").write_text(json.dumps({**prov, "reanalysis": {"config": {"claims": {"delta": 0.01}}}}))
    cells, _ = compare_runs(ref, run)
    assert set(cells["status"]) == {"ok"}


def test_the_chance_range_is_binomial():
    """Between independent runs each cell is flagged with probability 0.05: the printed range is Binomial(n, 0.05)'s
    central 95 %, checked against counts drawn from that law."""
    rng = np.random.default_rng(0)
    draws = (rng.random((20000, 200)) < 0.05).sum(axis=1)
    lo, hi = np.quantile(draws, [0.025, 0.975])
    assert chance(200) == f"by chance alone about 10 of 200, 95 % of chance counts within {lo:.0f}–{hi:.0f}"


def test_independent_runs_with_more_flags_than_chance_differ(tmp_path, capsys):
    """Every verdict agrees, but both compared cells moved by 5 sd: 2 flagged of 2, where chance allows 1 (the 97.5 %
    quantile of Binomial(2, 0.05)), so the runs differ; with one cell moved they pass."""
    assert [chance_limit(n) for n in (2, 50, 182)] == [1, 6, 15]
    ref = make_run(tmp_path / "ref")
    run = make_run(tmp_path / "run", shift=5)
    assert main(["compare", "--independent", str(ref), str(run)]) == 0
    assert "independent runs pass with at most 1 flagged" in capsys.readouterr().out
    runs = pd.read_csv(run / "tables" / "runs.csv")
    moved = runs["scheme"] == "direct-full"
    runs.loc[moved, "final_test_accuracy"] += 5 * runs.loc[moved, "final_test_accuracy"].std(ddof=1)
    runs.to_csv(run / "tables" / "runs.csv", index=False)
    assert main(["compare", "--independent", str(ref), str(run)]) == 1
    assert "DIFFERENT: more cells flagged than chance allows" in capsys.readouterr().out


def test_a_specification_run_is_compared_on_its_own_cells_and_the_joined_verdicts(tmp_path, capsys):
    """The bf16 check against results/paper: the specification trains one cell at another precision; the cell it did
    not train is `not in the specification`, its claims are the two values' verdicts on the same cells, and a
    contradiction there fails. Without `python -m spectral specification` first it is refused in one line."""
    ref = make_run(tmp_path / "ref", config={**CONFIG, "run_protocols": ["paper"]})
    spec = {"primary": str(ref), "choice": "precision", "value": "bf16", "reference": "fp32"}
    run = make_run(tmp_path / "run", shift=0.3, config={**CONFIG, "run_protocols": ["paper"], "precision": "bf16",
                                                        "n2": [1000], "specification": spec, "seeds": [9]})
    runs = pd.read_csv(run / "tables" / "runs.csv")
    runs[runs["scheme"] == "spectral-eigvals"].to_csv(run / "tables" / "runs.csv", index=False)
    (run / "claim_verdicts.csv").unlink()
    assert main(["compare", "--independent", str(ref), str(run)]) == 2
    assert "python -m spectral specification" in capsys.readouterr().err
    verdicts = pd.DataFrame({"choice": "precision", "value": ["fp32", "bf16"], "reference": [True, False],
                             "claim": "C1", "dataset": "all", "verdict": ["holds", "holds"]})
    verdicts.to_csv(run / "specification_verdicts.csv", index=False)
    assert main(["compare", "--independent", str(ref), str(run)]) == 0
    cells, claims = compare_runs(ref, run, independent=True)
    assert dict(zip(cells["scheme"], cells["status"])) == {"direct-full": "not in the specification",
                                                          "spectral-eigvals": "ok"}
    assert claims[["reference", "rerun", "status"]].values.tolist() == [["holds", "holds", "agrees"]]
    verdicts.loc[1, "verdict"] = "does not hold"
    verdicts.to_csv(run / "specification_verdicts.csv", index=False)
    assert main(["compare", "--independent", str(ref), str(run)]) == 1
    assert main(["compare", str(ref), str(run)]) == 2  # a rerun still needs the same config


@pytest.mark.parametrize("name,overlay", [("quick", "config/quick.yaml"), ("smoke", "config/smoke.yaml")])
def test_each_published_reference_is_its_configs_run(name, overlay):
    """`make compare CONFIG=config/<name>.yaml` compares a fresh run with results/<name>: the reference must come
    from today's config, or compare stops with 'different configurations'. Every key the config files set has the
    reference's value (the reference also holds the schema's defaults)."""
    from pathlib import Path

    from spectral.compare import IGNORED_KEYS, _flatten, run_config
    from spectral.experiments import load_config
    root = Path(__file__).resolve().parents[1]
    published = json.loads((root / "results" / name / "provenance.json").read_text())
    have = _flatten(run_config(published))
    want = _flatten(json.loads(json.dumps(load_config([root / "config" / "config.yaml", root / overlay]))))
    differ = [k for k, v in want.items() if have.get(k) != v and not any(k == i or k.startswith(i + ".")
                                                                         for i in IGNORED_KEYS)]
    assert differ == [], differ


@pytest.mark.parametrize("page, command", [
    ("compare-pilot.md", ["compare", "--independent", "results/pilot", "results/paper"]),
    ("compare-tuning.md", ["compare-tuning", "config/tuned/paper.csv", "results/paper/tune/paper/grid.csv"]),
])
def test_the_published_comparison_pages_are_current(page, command, tmp_path, monkeypatch):
    """results/compare-*.md equal what their command writes now from the published runs: a page left behind by a
    rule change (as compare-pilot.md's C5 rows once were) fails here; both comparisons pass."""
    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    extra = ["--out", str(tmp_path / "cmp.csv")] if command[0] == "compare" else []
    assert main([*command, *extra, "--markdown", str(tmp_path / page)]) == 0
    assert (tmp_path / page).read_text() == (root / "results" / page).read_text()


def test_a_cell_two_protocols_share_is_counted_once_against_chance(tmp_path, capsys):
    """per-layer's cells copy paper's records on both sides (as pruning-2022's direct-full cells copy paper's): the
    shifted cell is flagged under both protocols, but it is one cell, 1 of 2, which chance allows; counted twice
    (2 of 4) it would fail. A per-layer cell that really differs counts again and fails."""
    ref, run = make_run(tmp_path / "ref"), make_run(tmp_path / "run", shift=5)
    add_sensitivity(ref)
    add_sensitivity(run)
    assert main(["compare", "--independent", str(ref), str(run)]) == 0
    out = capsys.readouterr().out
    assert "2 flagged; 2 cells that two protocols share (the same records) counted once: 1 of 2" in out
    assert chance_limit(4) == 1 and chance_limit(2) == 1
    shutil.rmtree(run / "sensitivity")
    add_sensitivity(run, shift=0.001)  # per-layer's spectral-eigvals no longer paper's records
    assert main(["compare", "--independent", str(ref), str(run)]) == 1


def test_the_mean_difference_counts_each_distinct_cell_once_with_its_welch_se():
    """Two cells (+1 pp, se 0.3 pp; +3 pp, se 0.4 pp) and a copy of the first under another protocol: mean +2 pp,
    se sqrt(0.3^2 + 0.4^2) / 2 = 0.25 pp, so the 95 % interval is +2 -/+ 0.49 pp; the copy changes nothing."""
    from spectral.chance import mean_difference
    cell = {"dataset": "mnist", "experiment": "nonlinear", "scheme": "direct-full", "n_reference": 10, "n_rerun": 10}
    compared = pd.DataFrame([
        {**cell, "protocol": "paper", "n2": 100, "mean_reference": 0.9, "mean_rerun": 0.91, "difference": 0.01, "se": 0.003},
        {**cell, "protocol": "paper", "n2": 1000, "mean_reference": 0.9, "mean_rerun": 0.93, "difference": 0.03, "se": 0.004},
        {**cell, "protocol": "pruning-2022", "n2": 100, "mean_reference": 0.9, "mean_rerun": 0.91, "difference": 0.01,
         "se": 0.003}])
    mean, low, high = mean_difference(compared)
    assert mean == pytest.approx(0.02) and high - mean == pytest.approx(mean - low)
    assert high - mean == pytest.approx(1.959964 * 0.0025, rel=1e-5)
