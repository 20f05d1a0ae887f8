"""Tests for spectral.pruning_claims on synthetic pruning curves: C5 against its baseline, SR22's largest safe
fraction, and the guard that a baseline order no better than random never carries C5."""
import pandas as pd

from spectral.claims import BASELINE_NOT_BETTER
from spectral.pruning_claims import guard_baselines, largest_safe_fraction
from test_claims import evaluate, overall, synthetic_pruning


def test_c5_compares_spectral_by_lambda_with_the_direct_baseline():
    """Spectral |lambda| pruning at the baseline's accuracy holds (non-inferior at 1 pp); 3 pp below it fails."""
    cells, verdicts = evaluate()
    c5 = cells[cells["claim"] == "C5"]
    assert len(c5) == 2 and set(c5["test"]) == {"welch"} and (c5["threshold"] == -0.01).all()
    assert overall(verdicts, "C5", "pruning-2022") == "holds"
    _, worse = evaluate(pruning=synthetic_pruning(0.87))
    assert overall(worse, "C5", "pruning-2022") == "does not hold"
    explore = cells[cells["claim"] == "C5-explore"]
    assert {"paired", "welch"} == set(explore["test"])


def test_largest_safe_fraction():
    curve = pd.DataFrame({"seed": 0, "fraction_removed": [0.0, 0.5, 0.9], "test_accuracy": [0.95, 0.945, 0.90]})
    assert largest_safe_fraction(curve, 0.01).item() == 0.5
    assert largest_safe_fraction(curve, 0.06).item() == 0.9


def test_a_curve_that_dips_and_comes_back_is_safe_only_up_to_its_first_exit():
    """Accuracy leaves the 1 pp margin at 0.3 and is back inside at 0.5: the curve stays within it only up to 0.2."""
    curve = pd.DataFrame({"seed": 0, "fraction_removed": [0.0, 0.2, 0.3, 0.5, 0.9],
                          "test_accuracy": [0.95, 0.945, 0.93, 0.945, 0.90]})
    assert largest_safe_fraction(curve, 0.01).item() == 0.2
    curve.loc[2, "test_accuracy"] = 0.944  # no dip: safe up to 0.5
    assert largest_safe_fraction(curve, 0.01).item() == 0.5


def test_a_baseline_worse_than_random_is_flagged_and_cannot_carry_c5():
    """A baseline order that beats random passes its guard and C5 gets its verdict; when random pruning of the same
    networks does better than every connectivity order, each guard fails and C5 (the primary reading) and every
    C5@<reading> read `baseline no better than random`, whatever the test against the baseline says."""
    cells, verdicts = evaluate()
    assert overall(verdicts, "C5-guard@l1", "pruning-2022") == "holds"
    assert overall(verdicts, "C5", "pruning-2022") == "holds" and overall(verdicts, "C5@abs-sum", "pruning-2022") == "holds"
    assert "C5@l1" not in set(verdicts["claim"])  # the primary reading is C5 itself
    _, flipped = evaluate(pruning=synthetic_pruning(random_keeps=0.93))
    for claim in ("C5", "C5@abs-sum", "C5@l2"):
        for dataset in ("mnist", "all"):
            row = flipped[(flipped["claim"] == claim) & (flipped["dataset"] == dataset)]
            assert row["verdict"].item() == "baseline no better than random", (claim, dataset)
            assert "the test against it: holds" in row["detail"].item()
    assert overall(flipped, "C5-guard@l1", "pruning-2022") == "does not hold"


def test_overall_c5_fails_where_a_dataset_with_a_sound_baseline_fails():
    """Rule 4 before rule 7 overall: C5 does not hold on Fashion-MNIST, whose baseline beats random, and its MNIST
    baseline is no better than random: MNIST reads `baseline no better than random`, overall `does not hold`. When
    Fashion-MNIST holds, overall reads `baseline no better than random`."""
    def frame(fashion):
        rows = [("C5-guard@l1", "mnist", "holds in part"), ("C5-guard@l1", "fashion-mnist", "holds"),
                ("C5", "mnist", "holds"), ("C5", "fashion-mnist", fashion), ("C5", "all", "does not hold"
                                                                            if fashion == "does not hold" else "holds in part")]
        return pd.DataFrame([{"protocol": "pruning-2022", "claim": c, "dataset": d, "verdict": v, "detail": ""}
                             for c, d, v in rows])

    out = guard_baselines(frame("does not hold"), "l1").set_index(["claim", "dataset"])["verdict"]
    assert out[("C5", "mnist")] == BASELINE_NOT_BETTER and out[("C5", "fashion-mnist")] == "does not hold"
    assert out[("C5", "all")] == "does not hold"
    out = guard_baselines(frame("holds"), "l1").set_index(["claim", "dataset"])["verdict"]
    assert out[("C5", "all")] == BASELINE_NOT_BETTER
