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


def _verdicts(rows):
    return pd.DataFrame(rows, columns=["protocol", "claim", "dataset", "verdict"])


def test_a_verdict_that_changes_under_one_choice_says_so():
    """C1 holds on the grid's cells under paper and per-layer but fails under authors-2020: 'changes under protocol
    = authors-2020'; when every protocol agrees, 'every choice'. Flipping one verdict flips the text."""
    from spectral.claims_report import choice_verdicts, same_verdict
    grid = _verdicts([("paper", "C1", "all", "holds"), ("authors-2020", "C1", "all", "does not hold"),
                      ("per-layer", "C1", "all", "holds")])
    choices = choice_verdicts(_verdicts([]), grid, "l1")
    assert same_verdict(choices, "C1") == ("changes under protocol = authors-2020 (overall: does not hold, paper on the same cells: holds)")
    grid.loc[1, "verdict"] = "holds"
    assert same_verdict(choice_verdicts(_verdicts([]), grid, "l1"), "C1") == "every choice (protocol)"


def test_the_protocol_choice_is_judged_on_the_shared_cells_only():
    """The headline verdict (paper's full N2 range: does not hold) never meets the grid's: on the grid's cells every
    protocol holds, so the protocol does not change the verdict, whatever the full range says."""
    from spectral.claims_report import choice_verdicts, same_verdict
    headline = _verdicts([("paper", "C1", "all", "does not hold")])
    grid = _verdicts([(p, "C1", "all", "holds") for p in ("paper", "authors-2020", "per-layer")])
    choices = choice_verdicts(headline, grid, "l1")
    assert set(choices["cells"]) == {"the sensitivity grid's"}
    assert same_verdict(choices, "C1") == "every choice (protocol)"


def test_c5_readings_are_one_choice_and_the_primary_is_the_reference():
    """C5 (l1) holds, C5@abs-sum reads 'baseline no better than random': C5 changes under connectivity = abs-sum."""
    from spectral.claims_report import choice_verdicts, same_verdict
    verdicts = _verdicts([("pruning-2022", "C5", "all", "holds"), ("pruning-2022", "C5@l2", "all", "holds"),
                          ("pruning-2022", "C5@abs-sum", "all", "baseline no better than random")])
    text = same_verdict(choice_verdicts(verdicts, None, "l1"), "C5")
    assert text == "changes under connectivity = abs-sum (overall: baseline no better than random, l1 on the same cells: holds)"


def test_a_choice_that_changes_one_dataset_only_says_which():
    """Overall both readings say 'baseline no better than random', but on Fashion-MNIST l1 does not hold where
    abs-sum's baseline is no better than random: the column names that dataset, not 'every choice'."""
    from spectral.claims_report import choice_verdicts, same_verdict
    bnb = "baseline no better than random"
    verdicts = _verdicts([("pruning-2022", "C5", "fashion-mnist", "does not hold"), ("pruning-2022", "C5", "all", bnb),
                          ("pruning-2022", "C5@abs-sum", "fashion-mnist", bnb), ("pruning-2022", "C5@abs-sum", "all", bnb)])
    text = same_verdict(choice_verdicts(verdicts, None, "l1"), "C5")
    assert text == f"changes under connectivity = abs-sum (Fashion-MNIST: {bnb}, l1 on the same cells: does not hold)"
    verdicts.loc[2, "verdict"] = "does not hold"
    assert same_verdict(choice_verdicts(verdicts, None, "l1"), "C5") == "every choice (connectivity)"


def test_a_permutation_disagreement_quotes_both_directions():
    """A cell whose permutation p_against disagrees with the t test's is listed with both p_against values (the
    listing once quoted p_for only, which hid where the two disagreed)."""
    cells, verdicts = evaluate()
    i = cells.index[0]
    cells.loc[i, ["p_for", "p_perm_for", "p_against", "p_perm_against"]] = [0.9, 0.95, 0.032, 0.066]
    cells.loc[i, "perm_disagrees"] = True
    line = next(x for x in claims_markdown(cells, verdicts).splitlines() if x.startswith(f"- {cells.loc[i, 'protocol']}"))
    assert "p_against t 0.032, permutation 0.066" in line and cells.loc[i, "statistic"] in line


def test_a_choice_that_changes_nothing_is_named_beside_one_that_does():
    """C1 changes under the protocol and not under the tuning: the column says both, so a reader sees the tuning was
    varied; when the tuning changes it too, it moves into 'changes under'."""
    from spectral.claims_report import choice_verdicts, same_verdict
    grid = _verdicts([("paper", "C1", "all", "holds"), ("authors-2020", "C1", "all", "does not hold")])
    spec = pd.DataFrame([{"claim": "C1", "dataset": "all", "choice": "tuning", "value": v, "reference": ref,
                          "verdict": "does not hold", "cells_judged": "34 cells"}
                         for v, ref in (("N2 = 100", True), ("per width", False))])
    text = same_verdict(choice_verdicts(_verdicts([]), grid, "l1", spec), "C1")
    assert text.startswith("changes under protocol = authors-2020 (") and text.endswith("; same under tuning")
    spec.loc[1, "verdict"] = "holds"
    text = same_verdict(choice_verdicts(_verdicts([]), grid, "l1", spec), "C1")
    assert "tuning = per width (overall: holds, N2 = 100 on the same cells: does not hold)" in text
    assert "same under" not in text
