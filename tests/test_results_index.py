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
