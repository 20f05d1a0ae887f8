"""Tests for spectral.claims_report: the robustness table and claims.md, on the synthetic tables of test_claims."""
import pandas as pd

from spectral.claims import evaluate_claims
from spectral.claims_report import claims_markdown, robustness
from test_claims import evaluate, synthetic_distances, synthetic_runs


def test_robustness_names_the_protocol_that_flips():
    runs = pd.concat([synthetic_runs(), synthetic_runs(eigvals_gain=-0.05, protocol="authors-2020")])
    dist = pd.concat([synthetic_distances(), synthetic_distances(protocol="authors-2020")])
    cells, verdicts = evaluate_claims(runs, dist, protocols=["paper", "authors-2020"])
    table = robustness(verdicts, cells, "paper").set_index("claim")
    assert not table.loc["C1", "robust"] and "authors-2020 flips it to does not hold" in table.loc["C1", "detail"]
    assert table.loc["C3", "robust"]


def test_markdown_opens_with_the_claim_level_table():
    cells, verdicts = evaluate()
    text = claims_markdown(cells, verdicts)
    assert text.splitlines()[2].startswith("| protocol | claim | dataset | verdict")
    assert text.index("| paper | C1 | all |") < text.index("## C1 (paper)")
    assert text.count("**holds**") == len(cells) + (verdicts["verdict"] == "holds").sum()
