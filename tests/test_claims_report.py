"""Tests for spectral.claims_report: robustness by effects and claims.md, on the synthetic tables of test_claims."""
import pandas as pd

from spectral.claims_report import claims_markdown, effect_shifts, robustness
from test_claims import evaluate, synthetic_distances, synthetic_runs


def _two_protocols(gain_other, noise=0.002):
    runs = pd.concat([synthetic_runs(noise=noise), synthetic_runs(eigvals_gain=gain_other, protocol="authors-2020",
                                                                  noise=noise)])
    dist = pd.concat([synthetic_distances(), synthetic_distances(protocol="authors-2020")])
    cells, _ = evaluate(runs, dist, protocols=["paper", "authors-2020"])
    return cells


def test_a_small_shift_is_robust_even_when_labels_differ():
    """C1's effect moves by 0.1 pp (well inside delta = 0.5 pp): robust, whatever the labels say."""
    table = robustness(_two_protocols(0.051), "paper").set_index("claim")
    assert table.loc["C1", "robust"] and table.loc["C1", "moved"] == 0 and table.loc["C3", "robust"]


def test_a_shift_beyond_delta_or_a_reversal_is_not_robust():
    """A 3 pp shift is `moved`; an effect of -5 pp against +5 pp is `reversed` as well."""
    moved = robustness(_two_protocols(0.02), "paper").set_index("claim")
    assert not moved.loc["C1", "robust"] and moved.loc["C1", "moved"] > 0 and moved.loc["C1", "reversed"] == 0
    assert "authors-2020 moves" in moved.loc["C1", "detail"]
    flipped = robustness(_two_protocols(-0.05), "paper").set_index("claim")
    assert flipped.loc["C1", "reversed"] > 0 and "reverses" in flipped.loc["C1", "detail"]


def test_shift_interval_uses_both_standard_errors():
    shifts = effect_shifts(_two_protocols(0.03), "paper")
    r = shifts[shifts["claim"] == "C1"].iloc[0]
    assert r["shift_low"] < r["shift"] < r["shift_high"] and abs(r["shift"] + 0.02) < 0.01


def test_markdown_opens_with_the_claim_level_table():
    cells, verdicts = evaluate()
    text = claims_markdown(cells, verdicts)
    assert text.splitlines()[2].startswith("| protocol | claim | dataset | verdict")
    assert text.index("| paper | C1 | all |") < text.index("## C1 (paper)")
    assert text.count("**holds**") == (cells["verdict"] == "holds").sum() + (verdicts["verdict"] == "holds").sum()
    assert "intersection-union" in text and "optional stopping" in text


def test_a_permutation_disagreement_quotes_both_directions():
    """A cell whose permutation p_against disagrees with the t test's is listed with both p_against values (the
    listing once quoted p_for only, which hid where the two disagreed)."""
    cells, verdicts = evaluate()
    i = cells.index[0]
    cells.loc[i, ["p_for", "p_perm_for", "p_against", "p_perm_against"]] = [0.9, 0.95, 0.032, 0.066]
    cells.loc[i, "perm_disagrees"] = True
    line = next(x for x in claims_markdown(cells, verdicts).splitlines() if x.startswith(f"- {cells.loc[i, 'protocol']}"))
    assert "p_against t 0.032, permutation 0.066" in line and cells.loc[i, "statistic"] in line


def test_verdict_counts_reads_what_verdict_text_writes():
    """The claim-level verdict text and its reading are one format: every count survives the round trip, and a
    changed count changes the reading."""
    from types import SimpleNamespace

    from spectral.claims_report import verdict_counts, verdict_text
    for verdict, n, hold, threshold, fail in (("does not hold", 17, 15, 1, 1), ("holds", 4, 4, 0, 0),
                                               ("holds in part", 8, 3, 0, 2)):
        row = SimpleNamespace(verdict=verdict, cells=n, cells_hold=hold, cells_at_threshold=threshold, cells_fail=fail)
        assert verdict_counts(verdict_text(row)) == (verdict, fail, n)
    assert verdict_counts("does not hold (15/17, 2 fail)") != ("does not hold", 1, 17)
    assert verdict_counts("–") == ("–", 0, 0)
