"""results/README.md is generated: the committed page equals a fresh rendering of the published tables."""
from pathlib import Path

import pandas as pd
import pytest

from spectral.results_index import plan_outcome, results_index

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_page_is_the_rendering_of_the_tables():
    """Every count and time in results/README.md comes from the published tables (no hand edits, no drift)."""
    if not (ROOT / "results" / "paper" / "provenance.json").is_file():
        pytest.skip("results/paper is not published")
    assert (ROOT / "results" / "README.md").read_text() == results_index(ROOT / "results", ROOT / "config") + "\n"


def test_the_plan_outcome_counts_follow_the_verdicts():
    """A cell expected to hold that fails moves one count from (hold, holds) to (hold, does not hold); a cell the
    plan did not foresee is counted as `not in the plan`."""
    keys = dict(protocol="paper", claim="C1", dataset="mnist", experiment="nonlinear", statistic="s")
    plan = pd.DataFrame([{**keys, "n2": n, "expectation": "expected to hold"} for n in (10, 20)])
    cells = pd.DataFrame([{**keys, "n2": 10, "verdict": "holds"}, {**keys, "n2": 20, "verdict": "holds"},
                          {**keys, "n2": 50, "verdict": "holds"}])
    table = plan_outcome(plan, cells)
    assert table.loc["expected to hold", "holds"] == 2 and table.loc["not in the plan", "holds"] == 1
    cells.loc[1, "verdict"] = "does not hold"
    table = plan_outcome(plan, cells)
    assert table.loc["expected to hold", "holds"] == 1 and table.loc["expected to hold", "does not hold"] == 1


def test_a_published_specification_and_a_comparison_page_get_their_rows(tmp_path):
    """A specification run of paper/ is listed with its choice and its records' cells, models and seeds; a run of
    another primary is not; any other results/compare-*.md is listed by its title."""
    import json

    from spectral.results_index import specification_rows
    spec = {"primary": "results/paper", "choice": "tuning", "value": "per width", "reference": "N2 = 100"}
    for name, primary in (("per-width", "results/paper"), ("other", "results/pilot")):
        run = tmp_path / name
        for cell, seed in (("a", 3000), ("a", 3001), ("b", 3000)):
            (run / "runs" / cell).mkdir(parents=True, exist_ok=True)
            (run / "runs" / cell / f"seed{seed}.json").write_text("{}")
        (run / "specification_verdicts.csv").write_text("claim\n")
        (run / "provenance.json").write_text(json.dumps({"config": {"specification": {**spec, "primary": primary}}}))
    (tmp_path / "compare-bf16.md").write_text("# `output/bf16-check` against `results/paper`\n")
    (tmp_path / "compare-pilot.md").write_text("# listed elsewhere\n")
    rows = specification_rows(tmp_path)
    assert rows == ["| `per-width/` | a specification of `paper/`: tuning = per width against N2 = 100, 2 cells, 3 models, "
                    "seeds 3000–3001; its verdicts are joined into `paper/claims.md` and the README's answer | "
                    "`per-width/README.md` |",
                    "| [`compare-bf16.md`](compare-bf16.md) | `output/bf16-check` against `results/paper` | |"]
