"""The smoke workflow end to end in a temporary directory: tables, figures, claims, provenance, report, publishing, and the
committed smoke reference (the checks without a full run are in test_workflow_control.py)."""
import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from spectral.experiments import merge_config
from workflow_copy import ROOT, SNAKEMAKE, copy_workflow

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """Run config/smoke.yaml with the project's verified data as data.dir; returns (workdir, config, output)."""
    work = copy_workflow(tmp_path_factory.mktemp("smoke"))
    overlay = work / "overlay.yaml"
    smoke_cfg = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    overlay.write_text(yaml.safe_dump({"data": {**smoke_cfg["data"], "dir": str(ROOT / "resources" / "data")}}))
    args = [SNAKEMAKE, "--cores", "2", "--configfile", "config/smoke.yaml", str(overlay)]
    done = subprocess.run(args, cwd=work, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    report = subprocess.run(args + ["--report", "output/smoke/report.html"], cwd=work, capture_output=True, text=True)
    assert report.returncode == 0, report.stderr[-3000:]
    config = merge_config(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()), smoke_cfg)
    return work, config, done.stderr


def expected_cells(cfg):
    """Every (protocol, dataset, experiment, scheme, N2) the smoke DAG must train, derived from the config."""
    def grid(protocols, datasets, schemes, sizes):
        return {(p, d, e, s, n) for p in protocols for d in datasets for s in schemes
                for e, ns in (("perceptron", [0]), ("telescopic", sizes), ("nonlinear", sizes)) for n in ns}
    main = grid(cfg["run_protocols"], cfg["datasets"], cfg["schemes"], cfg["n2"])
    pr = cfg["pruning"]
    c5 = {(pr["protocol"], d, "nonlinear", s, n) for d in cfg["datasets"] for n in pr["n2"]
          for s in (pr["scheme"], pr["baseline_scheme"])}
    sens = cfg["sensitivity"]
    return main, c5, grid(sens["protocols"], sens["datasets"], sens["schemes"], sens["n2"])


def test_tables_are_well_formed(smoke):
    """Every table has its columns and the row count the config implies; protocols never mix."""
    work, cfg, _ = smoke
    t = work / "output" / "smoke" / "tables"
    main, c5, _ = expected_cells(cfg)
    n_data, n_seeds, n_schemes, n_h = len(cfg["datasets"]), len(cfg["seeds"]), len(cfg["schemes"]), len(cfg["n2"])
    runs = pd.read_csv(t / "runs.csv")
    assert len(runs) == n_seeds * len(main | c5)
    assert set(zip(runs["protocol"], runs["dataset"], runs["experiment"], runs["scheme"], runs["n2"])) == main | c5
    assert runs["final_test_accuracy"].between(0, 1).all() and runs["wall_time_s"].gt(0).all()
    paper = runs[runs["protocol"] == "paper"]
    e1 = paper[paper["experiment"] == "perceptron"].groupby("scheme")["trainable"].first().to_dict()
    assert e1 == {"spectral-eigvals": 794, "direct-restricted": 794, "direct-full": 7840, "spectral-eigvecs": 7840,
                  "spectral-full": 7840 + 794}
    e3 = paper[(paper["experiment"] == "nonlinear") & (paper["n2"] == 10)].groupby("scheme")["trainable"].first()
    assert e3["spectral-eigvals"] == e3["direct-restricted"] == 784 + 10 + 10  # per-node: one eigenvalue per node
    assert set(paper["eigvals"]) == {"per-node"}
    pruned = runs[runs["protocol"] == cfg["pruning"]["protocol"]]
    spectral_c5 = pruned[pruned["scheme"] == cfg["pruning"]["scheme"]]
    assert set(spectral_c5["eigvals"]) == {"out-only"} and (spectral_c5["trainable"] == 784 * 50 + 50 * 10 + 50 + 10).all()
    baseline = pruned[pruned["scheme"] == cfg["pruning"]["baseline_scheme"]]
    assert len(baseline) and (baseline["trainable"] == 784 * 50 + 50 * 10).all()  # every weight, no eigenvalues
    tele = runs[runs["experiment"] == "telescopic"]
    assert tele["retracted_test_accuracy"].notna().all()
    summary = pd.read_csv(t / "summary.csv")
    assert len(summary) == len(main | c5) and (summary["n"] == n_seeds).all()
    assert (summary["ci95_low"] <= summary["mean"]).all() and (summary["mean"] <= summary["ci95_high"]).all()
    dist = pd.read_csv(t / "weights_distance.csv")
    controls = 2  # the initial weights of spectral-eigvals and direct-full (C3's untrained controls)
    assert len(dist) == n_data * (n_schemes - 1 + controls) * (n_seeds + 1) * 2 and dist["wasserstein"].ge(0).all()
    eig = pd.read_csv(t / "eigenvalues.csv")
    assert len(eig) == n_data * 2 * n_seeds * (784 + 10)
    prune = pd.read_csv(t / "pruning.csv")
    spectral_networks = n_seeds * (n_data * 2 * n_h + len(c5) // 2)  # eigenvalue, l2, random
    direct_networks = n_seeds * len(c5) // 2  # l1, abs-sum, l2, random
    assert len(prune) == (spectral_networks * 3 + direct_networks * 4) * len(cfg["pruning"]["fractions"])
    assert set(prune["order"]) == {"eigenvalue", "l1", "abs-sum", "l2", "random"}
    direct = prune[prune["scheme"] == cfg["pruning"]["baseline_scheme"]]
    assert set(direct["order"]) == {"l1", "abs-sum", "l2", "random"}
    full = prune[prune["fraction_removed"] == 0]
    assert (full.groupby(["protocol", "dataset", "scheme", "n2", "seed"])["test_accuracy"].nunique() == 1).all()


def test_claims(smoke):
    """claims.csv holds decided cells; claim_verdicts.csv one verdict per claim x dataset (+ all); claims.md leads with it."""
    work, cfg, _ = smoke
    cells = pd.read_csv(work / "output" / "smoke" / "claims.csv")
    verdicts = pd.read_csv(work / "output" / "smoke" / "claim_verdicts.csv")
    n_data, n_h = len(cfg["datasets"]), len(cfg["n2"])
    counts = cells.groupby(["claim", "protocol"]).size().groupby(level=0).max().to_dict()  # one protocol's cells
    assert counts["C1"] == counts["C2@1pp"] == counts["C2-TOST@1pp"] == n_data * (1 + 2 * n_h)
    assert counts["C3"] == counts["C3-moves"] == n_data * 4
    trend = 2 if n_h >= 3 else 0  # trend and closing need three N2 (rule 8); the gap always
    assert counts["C4"] == n_data * (1 + trend) and counts["C4-perceptron"] == n_data  # and the perceptron gap
    assert set(cells.loc[cells["claim"] == "C1", "protocol"]) == set(cfg["sensitivity"]["protocols"])
    n_c5 = n_data * len(cfg["pruning"]["n2"])
    assert counts["C5"] == counts["C5@abs-sum"] == counts["C5@l2"] == n_c5 * 2  # at 50 % and over the curve
    assert counts["C5-guard@l1"] == n_c5 * 2 and counts["C5-explore"] == n_c5 * 3  # safe fraction, 2 orders
    assert counts["C6"] == n_data * 2 * len(cfg["sensitivity"]["n2"])  # telescopic and nonlinear
    assert set(cells["verdict"]) <= {"holds", "does not hold", "at the threshold", "superior", "inconclusive"}
    assert set(verdicts["verdict"]) <= {"holds", "holds in part", "at the threshold", "does not hold", "inconclusive",
                                        "baseline no better than random"}
    per_protocol = 9  # C1, C2 x 3 margins, TOST, C3, C3-moves, C4, C4-perceptron
    pruning = 8  # C5, C5@abs-sum, C5@l2, three C5-guard, C5-explore; and C6
    assert len(verdicts) == (per_protocol * len(cfg["sensitivity"]["protocols"]) + pruning) * (n_data + 1)
    assert ((cells["p_for_holm"] >= cells["p_for"] - 1e-12) | cells["p_for"].isna()).all()
    text = (work / "output" / "smoke" / "claims.md").read_text()
    assert text.splitlines()[2].startswith("| protocol | claim | dataset | verdict")
    assert "## Verdicts per choice" in text and "## Effect shifts across protocols" in text
    assert "## C5 (pruning-2022)" in text


def test_sensitivity(smoke):
    """Every claim cell under every shipped protocol; the paper protocol's runs are shared with the main grid."""
    work, cfg, log = smoke
    sens = pd.read_csv(work / "output" / "smoke" / "tables" / "sensitivity.csv")
    assert set(sens["protocol"]) == set(cfg["sensitivity"]["protocols"])
    per = sens[sens["claim"] != "C6"].groupby("protocol").size()
    assert per.nunique() == 1  # the same cells under each protocol
    main = pd.read_csv(work / "output" / "smoke" / "claims.csv")
    keys = ["protocol", "claim", "dataset", "experiment", "n2", "statistic"]
    shared = sens.merge(main, on=keys, suffixes=("", "_main"))
    assert len(shared) == len(sens)  # one analysis: every grid cell is a cell of claims.csv, with the same verdict
    assert (shared["verdict"] == shared["verdict_main"]).all() and (shared["p_for_holm"] == shared["p_for_holm_main"]).all()
    runs = pd.read_csv(work / "output" / "smoke" / "sensitivity" / "runs.csv")
    assert set(runs["eigvals"]) == {"per-node", "per-layer", "out-only"}
    png = (work / "output" / "smoke" / "figures" / "sensitivity.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_figures_and_report(smoke):
    """Each figure is a non-trivial PNG and a PDF; the report embeds them."""
    work, _, _ = smoke
    for name in ("fig1_operator", "fig2_linear", "fig3_nonlinear", "fig4_weights", "fig5_spectrum", "sensitivity"):
        png = (work / "output" / "smoke" / "figures" / f"{name}.png").read_bytes()
        pdf = (work / "output" / "smoke" / "figures" / f"{name}.pdf").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000, name
        assert pdf[:5] == b"%PDF-" and len(pdf) > 5_000, name
    assert "fig5_spectrum" in (work / "output" / "smoke" / "figures" / "README.md").read_text()
    report = (work / "output" / "smoke" / "report.html").read_text()
    assert len(report) > 100_000 and "fig2_linear.png" in report and "claims.csv" in report


def test_provenance(smoke):
    work, cfg, _ = smoke
    prov = json.loads((work / "output" / "smoke" / "provenance.json").read_text())
    assert prov["n_runs"] == len(pd.read_csv(work / "output" / "smoke" / "tables" / "runs.csv"))
    assert prov["data"]["mnist"]["sha256"]["train-images-idx3-ubyte"].startswith("ba891046")
    assert "data_dir" in prov["data"]["mnist"]["sources"]["train-images-idx3-ubyte"]
    assert prov["config"]["seeds"] == cfg["seeds"] and prov["packages"]["torch"] == "2.14.1"
    assert prov["start"] <= prov["end"]
    from spectral.provenance import code_commit
    assert prov["training_commits"] == {str(code_commit()): prov["n_runs"]}  # every run trained by this checkout


def test_training_cells_ran_as_ensembles(smoke):
    """Narrow cells used the batched ensemble: one job per cell, all seeds inside, shared cells trained once."""
    work, cfg, log = smoke
    runs = pd.read_csv(work / "output" / "smoke" / "tables" / "runs.csv")
    assert set(runs["strategy"]) == {"batched"}
    main, c5, sens = expected_cells(cfg)
    assert f"train_cell {len(main | c5 | sens)}" in " ".join(log.split())  # Snakemake's job-count table


def test_smoke_run_matches_the_committed_reference(smoke, capsys):
    """The smoke run equals results/smoke (published by `make publish CONFIG=config/smoke.yaml`) cell by cell."""
    from spectral.cli import main
    work, _, _ = smoke
    rc = main(["compare", str(ROOT / "results" / "smoke"), str(work / "output" / "smoke"), "--out",
               str(work / "compare.csv")])
    assert rc == 0, capsys.readouterr().out


def test_publishing_the_smoke_run(smoke, tmp_path):
    """The full smoke run publishes with its README (this commit, every job timed) and renders a Results section."""
    from spectral.headline import results_section
    from spectral.publish import job_times, publish
    work, _, _ = smoke
    output, results = work / "output" / "smoke", tmp_path / "results" / "smoke"
    files = publish(output, results)
    assert not any(f.suffix == ".npz" for f in files) and (results / "report.html").is_file()
    readme = (results / "README.md").read_text()
    commit = json.loads((output / "provenance.json").read_text())["git_commit"] or "unknown"
    assert f"| commit | `{commit}`" in readme and f"{len(job_times(output))} jobs" in readme
    runs = pd.concat([pd.read_csv(output / "tables" / "runs.csv"), pd.read_csv(output / "sensitivity" / "runs.csv")])
    assert len(pd.read_csv(results / "tables" / "job_times.csv")) == len(  # every training job, the grid's too
        runs.drop_duplicates(["protocol", "dataset", "experiment", "scheme", "n2"]))
    section = results_section(results, "results/smoke")
    rows = section.count("\n| C")  # the detail: the papers' claims, then our readings (the answer's rows are bold)
    assert rows == len(pd.read_csv(output / "claim_verdicts.csv")["claim"].unique())
    assert 0 < section.count("\n| **C") < rows  # the answer table: the papers' claims alone


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Chromium (Debian: apt-get install chromium)")
def test_report_landing_page_shows_the_verdicts(smoke, tmp_path):
    """Rendered in headless Chromium, report.html's landing page opens on its title and verdict table (the landing
    style of workflow.rst); without the table the check fails."""
    sys.path.insert(0, str(ROOT / "tools"))
    from check_report import main as check_report
    work, _, _ = smoke
    report = work / "output" / "smoke" / "report.html"
    assert check_report([str(report), "--screenshot", str(tmp_path / "report.png")]) == 0
    broken = tmp_path / "broken.html"
    broken.write_text(report.read_text().replace("verdicts", "verdictz"))
    assert check_report([str(broken)]) == 1
