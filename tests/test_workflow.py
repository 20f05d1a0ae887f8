"""The smoke workflow end to end in a temporary directory: tables, figures, claims, provenance, report, lint."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
pytestmark = pytest.mark.workflow


def copy_workflow(dest: Path) -> Path:
    for item in ("Snakefile", "workflow", "config", "environment.yml"):
        src = ROOT / item
        shutil.copytree(src, dest / item) if src.is_dir() else shutil.copy(src, dest / item)
    return dest


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
    report = subprocess.run(args + ["--report", "results/report.html"], cwd=work, capture_output=True, text=True)
    assert report.returncode == 0, report.stderr[-3000:]
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(smoke_cfg)
    return work, config, done.stderr


def test_tables_are_well_formed(smoke):
    """Every table has its columns and the row count the config implies."""
    work, cfg, _ = smoke
    t = work / "results" / "tables"
    n_data, n_seeds, n_schemes, n_h = len(cfg["datasets"]), len(cfg["seeds"]), len(cfg["schemes"]), len(cfg["hidden_sizes"])
    runs = pd.read_csv(t / "runs.csv")
    assert len(runs) == n_data * n_schemes * n_seeds * (1 + 2 * n_h)
    assert runs["final_test_accuracy"].between(0, 1).all() and runs["wall_time_s"].gt(0).all()
    assert {"dataset", "experiment", "scheme", "sizes", "n2", "activation", "seed", "trainable", "epochs",
            "final_train_accuracy", "final_test_accuracy", "retracted_test_accuracy", "wall_time_s", "device"} <= set(runs)
    e1 = runs[runs["experiment"] == "perceptron"].groupby("scheme")["trainable"].first().to_dict()
    assert e1 == {"spectral-eigvals": 794, "direct-restricted": 794, "direct-full": 7840, "spectral-eigvecs": 7840,
                  "spectral-full": 7840 + 794}
    tele = runs[runs["experiment"] == "telescopic"]
    assert tele["retracted_test_accuracy"].notna().all()
    summary = pd.read_csv(t / "summary.csv")
    assert len(summary) == n_data * n_schemes * (1 + 2 * n_h) and (summary["n"] == n_seeds).all()
    assert (summary["ci95_low"] <= summary["mean"]).all() and (summary["mean"] <= summary["ci95_high"]).all()
    dist = pd.read_csv(t / "weights_distance.csv")
    assert len(dist) == n_data * (n_schemes - 1) * (n_seeds + 1) * 2 and dist["wasserstein"].ge(0).all()
    eig = pd.read_csv(t / "eigenvalues.csv")
    assert len(eig) == n_data * 2 * n_seeds * (784 + 10)
    prune = pd.read_csv(t / "pruning.csv")
    assert len(prune) == n_data * 2 * n_h * n_seeds * 2 * len(cfg["pruning"]["fractions"])
    full = prune[prune["fraction_removed"] == 0]
    assert (full.groupby(["dataset", "scheme", "n2", "seed"])["test_accuracy"].nunique() == 1).all()


def test_claims(smoke):
    """claims.csv has one row per claim x dataset (x experiment x N2) and only the three verdicts."""
    work, cfg, _ = smoke
    claims = pd.read_csv(work / "results" / "claims.csv")
    n_data, n_h = len(cfg["datasets"]), len(cfg["hidden_sizes"])
    assert claims["claim"].value_counts().to_dict() == {"C1": n_data * (1 + 2 * n_h), "C2": n_data * (1 + n_h),
                                                        "C3": n_data, "C4": n_data}
    assert set(claims["verdict"]) <= {"holds", "does not hold", "inconclusive"}
    per_seed = claims["claim"] != "C4"  # C4 pools every seed and N2 of E2
    assert (claims.loc[per_seed, "n"] == len(cfg["seeds"])).all()
    assert (claims.loc[~per_seed, "n"] == len(cfg["seeds"]) * n_h).all()
    assert "## C3" in (work / "results" / "claims.md").read_text()


def test_figures_and_report(smoke):
    """Each figure is a non-trivial PNG and a PDF; the report embeds them."""
    work, _, _ = smoke
    for name in ("fig1_operator", "fig2_linear", "fig3_nonlinear", "fig4_weights", "fig5_spectrum"):
        png = (work / "results" / "figures" / f"{name}.png").read_bytes()
        pdf = (work / "results" / "figures" / f"{name}.pdf").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000, name
        assert pdf[:5] == b"%PDF-" and len(pdf) > 5_000, name
    assert "fig5_spectrum" in (work / "results" / "figures" / "README.md").read_text()
    report = (work / "results" / "report.html").read_text()
    assert len(report) > 100_000 and "fig2_linear.png" in report and "claims.csv" in report


def test_provenance(smoke):
    work, cfg, _ = smoke
    prov = json.loads((work / "results" / "provenance.json").read_text())
    assert prov["n_runs"] == len(pd.read_csv(work / "results" / "tables" / "runs.csv"))
    assert prov["data"]["mnist"]["sha256"]["train-images-idx3-ubyte"].startswith("ba891046")
    assert "data_dir" in prov["data"]["mnist"]["sources"]["train-images-idx3-ubyte"]
    assert prov["config"]["seeds"] == cfg["seeds"] and prov["packages"]["torch"] == "2.14.1"
    assert prov["start"] <= prov["end"]


def test_training_cells_ran_as_ensembles(smoke):
    """Narrow cells used the batched ensemble: one job per cell, all seeds inside."""
    work, cfg, log = smoke
    runs = pd.read_csv(work / "results" / "tables" / "runs.csv")
    assert set(runs["strategy"]) == {"batched"}
    n_cells = len(cfg["datasets"]) * len(cfg["schemes"]) * (1 + 2 * len(cfg["hidden_sizes"]))
    assert f"train_cell {n_cells}" in " ".join(log.split())  # Snakemake's job-count table


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
    assert not (work / "results").exists()
