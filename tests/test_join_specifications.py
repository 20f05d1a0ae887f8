"""tools/join_specifications.py: a primary's choice views rebuilt from its published tables and the specification
runs published beside it, with no retraining and no re-decision."""
import json
import shutil
import sys
from pathlib import Path

import pandas as pd

from spectral.headline import README_END, README_START
from spectral.specification import specification_runs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from join_specifications import NEEDED, main  # noqa: E402

VIEWS = ("claims.md", "tables/specification_effects.csv")  # what the join rewrites and the re-analysis wrote


def _primary(tmp_path: Path) -> Path:
    """results/paper's published tables the join reads, and the views it rewrites, copied under tmp_path/results."""
    results = tmp_path / "results" / "paper"
    for name in (*NEEDED, *VIEWS):
        (results / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "results" / "paper" / name, results / name)
    (results / "figures").mkdir(exist_ok=True)
    return results


def _specification(results: Path, verdict: str) -> None:
    """A published specification run of `results` (tuning = per width) whose C1 on MNIST reads `verdict`, against the
    primary's `does not hold` on the same cells."""
    spec = results.parent / "per-width"
    spec.mkdir()
    (spec / "provenance.json").write_text(json.dumps({"config": {"name": "per-width", "specification": {
        "primary": "results/paper", "choice": "tuning", "value": "per width", "reference": "N2 = 100"}}}))
    rows = [{"choice": "tuning", "value": value, "reference": value == "N2 = 100", "claim": "C1", "dataset": dataset,
             "verdict": v, "cells": 4, "cells_hold": 4 if v == "holds" else 3, "cells_at_threshold": 0,
             "cells_fail": int(v == "does not hold"), "cells_judged": "N2 = 1000, 2000", "not_judged": 0, "detail": ""}
            for value, v in (("N2 = 100", "does not hold"), ("per width", verdict)) for dataset in ("mnist", "all")]
    pd.DataFrame(rows).to_csv(spec / "specification_verdicts.csv", index=False)


def _published_specifications(results: Path) -> list[str]:
    """The specification runs published beside results/paper, copied beside `results` (the tables the join reads)."""
    names = []
    for run in specification_runs(ROOT / "results" / "paper"):
        (results.parent / run.name).mkdir()
        for name in ("provenance.json", "specification_verdicts.csv", "specification_cells.csv"):
            shutil.copy2(run / name, results.parent / run.name / name)
        names.append(run.name)
    return names


def test_from_the_published_tables_it_rewrites_the_views_exactly_as_published(tmp_path):
    """From the published tables and the specification runs published beside results/paper, claims.md and the
    specification effects come out byte-identical to results/paper's; without those runs, or with a corrupted verdict
    table, claims.md changes."""
    results = _primary(tmp_path)
    names = _published_specifications(results)
    assert names, "results/paper has a published specification run beside it"
    assert main([str(results), "--no-report"]) == 0
    for name in VIEWS:
        assert (results / name).read_bytes() == (ROOT / "results" / "paper" / name).read_bytes(), name
    assert (results / "figures" / "specification_curve.png").stat().st_size > 0
    assert json.loads((results / "provenance.json").read_text())["specifications_joined"]["runs"] == names
    verdicts = pd.read_csv(results / "claim_verdicts.csv")
    verdicts.loc[verdicts["claim"] == "C5", "verdict"] = "holds"
    verdicts.to_csv(results / "claim_verdicts.csv", index=False)
    assert main([str(results), "--no-report"]) == 0
    assert (results / "claims.md").read_bytes() != (ROOT / "results" / "paper" / "claims.md").read_bytes()


def test_with_no_specification_beside_it_the_choice_views_lose_its_rows(tmp_path):
    """With no specification run published beside the primary, the join names none, and claims.md keeps no row of a
    specification's value."""
    results = _primary(tmp_path)
    assert main([str(results), "--no-report"]) == 0
    assert json.loads((results / "provenance.json").read_text())["specifications_joined"]["runs"] == []
    text = (results / "claims.md").read_text()
    assert "| tuning | per width |" not in text
    assert "| tuning | per width |" in (ROOT / "results" / "paper" / "claims.md").read_text()


def test_a_published_specification_enters_claims_md_and_the_headline(tmp_path):
    """A specification under which C1 holds on MNIST adds its rows to claims.md's verdicts per choice and makes the
    README's C1 read 'depends on the tuning: under rates tuned per width, holds on MNIST …'; with the verdict flipped, the row says so and
    the README's C1 reads 'the same under the tuning'."""
    results = _primary(tmp_path)
    _specification(results, "holds")
    readme = tmp_path / "README.md"
    readme.write_text(f"# T\n\n{README_START.format(name='paper')}\nold\n{README_END}\n")
    for name in ("README.md", "figures/fig2_linear.png", "figures/fig3_nonlinear.png", "tables/job_times.csv"):
        shutil.copy2(ROOT / "results" / "paper" / name, results / name)
    assert main([str(results), "--no-report", "--readme", str(readme)]) == 0
    text = (results / "claims.md").read_text()
    assert "| C1 | mnist | tuning | per width | holds | the primary's that both runs test (N2 = 1000, 2000) |" in text
    assert "| C1 | mnist | tuning | N2 = 100 | does not hold |" in text
    answer = next(line for line in readme.read_text().splitlines() if line.startswith("| **C1** |"))
    assert answer.endswith("depends on the tuning: under rates tuned per width, holds on MNIST (against does "
                           "not hold under rates tuned at N2 = 100) |")
    assert json.loads((results / "provenance.json").read_text())["specifications_joined"]["runs"] == ["per-width"]
    readme.write_text(f"# T\n\n{README_START.format(name='paper')}\nold\n{README_END}\n")
    assert main([str(results.parent / "per-width"), "--no-report", "--readme", str(readme)]) == 0  # a nested primary
    assert "depends on the tuning" in readme.read_text()  # joined into its base run, results/paper, and its README
    shutil.rmtree(results.parent / "per-width")
    _specification(results, "does not hold")
    assert main([str(results), "--no-report", "--readme", str(readme)]) == 0
    assert "| C1 | mnist | tuning | per width | does not hold |" in (results / "claims.md").read_text()
    answer = next(line for line in readme.read_text().splitlines() if line.startswith("| **C1** |"))
    assert answer.endswith("(against holds under the paper protocol); the same under the tuning |")


def test_a_directory_that_is_no_published_run_is_refused_in_one_line(tmp_path, capsys):
    assert main([str(tmp_path), "--no-report"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a published run" in err
