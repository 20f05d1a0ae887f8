"""Tests for spectral.claims on synthetic tables: every statistic against scipy, verdicts that flip with the data."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from spectral.claims import claim_verdict, evaluate_claims, holm, mdd80, one_sided_p, welch_interval

SCHEMES = ("direct-restricted", "spectral-eigvals", "direct-full", "spectral-full")


def synthetic_runs(eigvals_gain=0.05, full_gap=0.002, n2_slope=0.03, seeds=5, protocol="paper", datasets=("mnist",),
                   experiments=("perceptron", "telescopic", "nonlinear"), schemes=SCHEMES, noise=0.002, own_noise=0.0):
    """runs.csv-like rows: direct-restricted at 0.80, spectral-eigvals at 0.80 + gain (+ slope x log N2), etc."""
    rng = np.random.default_rng(0)
    rows = []
    sizes = {"perceptron": [0], "telescopic": [10, 100, 1000], "nonlinear": [10, 100]}
    for dataset in datasets:
        for seed in range(seeds):
            for experiment in experiments:
                for n2 in sizes[experiment]:
                    base = 0.80 + (n2_slope * np.log10(n2) if n2 else 0)
                    e = rng.normal(0, noise)
                    acc = {"direct-restricted": 0.80 + e, "spectral-eigvals": base + eigvals_gain + e,
                           "direct-full": 0.90 + e, "spectral-full": 0.90 - full_gap + e}
                    acc = {k: v + rng.normal(0, own_noise) for k, v in acc.items()}  # unpaired seed noise
                    for scheme in schemes:
                        rows.append({"protocol": protocol, "dataset": dataset, "experiment": experiment,
                                     "scheme": scheme, "n2": n2, "seed": seed, "final_test_accuracy": acc[scheme],
                                     "retracted_test_accuracy": acc[scheme] if experiment == "telescopic" else np.nan})
    return pd.DataFrame(rows)


def synthetic_distances(eigvals_closer=True, seeds=5, protocol="paper"):
    rows = []
    for seed in range(seeds):
        near, far = 0.1 + 0.01 * seed, 0.5 + 0.013 * seed
        for scheme, w in (("spectral-eigvals", near if eigvals_closer else far),
                          ("direct-restricted", far if eigvals_closer else near)):
            for standardised in (False, True):
                rows.append({"protocol": protocol, "dataset": "mnist", "scheme": scheme, "seed": str(seed),
                             "standardised": standardised, "wasserstein": w, "ks_statistic": w / 2})
    return pd.DataFrame(rows)


def synthetic_pruning(eigen_better=True, seeds=5):
    rng = np.random.default_rng(1)
    rows = []
    for seed in range(seeds):
        e = rng.normal(0, 0.003)
        for order, acc in (("eigenvalue", 0.90 if eigen_better else 0.70), ("magnitude", 0.85), ("random", 0.80)):
            rows.append({"protocol": "pruning-2022", "dataset": "mnist", "scheme": "spectral-full", "n2": 100,
                         "seed": seed, "order": order, "fraction_removed": 0.5, "nodes_kept": 50,
                         "test_accuracy": acc + e + rng.normal(0, 0.002)})
    return pd.DataFrame(rows)


def evaluate(runs=None, distances=None, pruning=None, **kw):
    return evaluate_claims(synthetic_runs() if runs is None else runs,
                           synthetic_distances() if distances is None else distances,
                           synthetic_pruning() if pruning is None else pruning, pruning_protocol="pruning-2022", **kw)


def overall(verdicts, claim, protocol="paper"):
    row = verdicts[(verdicts["claim"] == claim) & (verdicts["dataset"] == "all") & (verdicts["protocol"] == protocol)]
    return row["verdict"].item()


def test_holm_matches_hand_computation():
    """Sorted p times (m - rank), running maximum, clipped at 1, in the original order; NaN is left out."""
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, math.nan, 0.6]), [1.0, math.nan, 1.0])


@pytest.mark.parametrize("greater", [True, False])
def test_one_sided_p_matches_scipy(greater):
    x = np.array([0.01, 0.03, -0.005, 0.02, 0.012])
    expected = stats.ttest_1samp(x, 0.004, alternative="greater" if greater else "less").pvalue
    assert one_sided_p(x, 0.004, greater) == pytest.approx(expected)


def test_welch_interval_matches_scipy():
    a, b = np.array([0.91, 0.92, 0.905, 0.915]), np.array([0.88, 0.90, 0.86, 0.87, 0.89])
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert welch_interval(a, b) == pytest.approx((ci.low, ci.high))


def test_mdd80_has_80_percent_power():
    """At an effect of mdd80 the noncentral t power of the one-sided test is 0.80 (within the normal shift's error)."""
    sd, n = 0.004, 5
    d = mdd80(sd, n)
    power = 1 - stats.nct.cdf(stats.t.ppf(0.95, n - 1), n - 1, d * math.sqrt(n) / sd)
    assert 0.75 < power < 0.85
    assert mdd80(sd, 20) < d and math.isnan(mdd80(sd, 1))


def test_all_claims_hold_on_favourable_data():
    cells, verdicts = evaluate()
    for claim in ("C1", "C2@0.5pp", "C2@1pp", "C2@2pp", "C2-TOST@1pp", "C3", "C4"):
        assert overall(verdicts, claim) == "holds", claim
    assert overall(verdicts, "C5", "pruning-2022") == "holds"
    assert len(cells[cells["claim"] == "C1"]) == 6 and len(cells[cells["claim"] == "C3"]) == 4
    assert verdicts["dataset"].iloc[0] == "mnist" and (cells["p_for_holm"] >= cells["p_for"] - 1e-12).all()


def test_verdicts_flip_when_data_flip():
    """Reverse each effect and each claim turns to 'does not hold'."""
    _, verdicts = evaluate(synthetic_runs(eigvals_gain=-0.05, full_gap=0.05, n2_slope=-0.03),
                           synthetic_distances(False), synthetic_pruning(False))
    for claim in ("C1", "C2@1pp", "C2-TOST@1pp", "C3", "C4"):
        assert overall(verdicts, claim) == "does not hold", claim
    assert overall(verdicts, "C5", "pruning-2022") == "does not hold"


def test_margin_and_equivalence_decide_c2():
    """A 1.5 pp deficit fails at the 0.5 and 1 pp margins, holds at 2 pp; TOST at 1 pp fails."""
    _, verdicts = evaluate(synthetic_runs(full_gap=0.015))
    assert [overall(verdicts, f"C2@{m}pp") for m in ("0.5", "1", "2")] == ["does not hold", "does not hold", "holds"]
    assert overall(verdicts, "C2-TOST@1pp") == "does not hold"
    _, noisy = evaluate(synthetic_runs(full_gap=0.0, own_noise=0.02, seeds=3))
    assert overall(noisy, "C2-TOST@1pp") == "inconclusive"


def test_claim_level_rule():
    """does not hold beats holds; all hold -> holds; some -> holds in part; none decided -> inconclusive."""
    def cells(*verdicts):
        return pd.DataFrame({"claim": "C1", "dataset": "mnist", "experiment": "nonlinear", "n2": range(len(verdicts)),
                             "statistic": "x", "n": 5, "detail": "", "verdict": list(verdicts)})
    assert claim_verdict(cells("holds", "holds"))[0] == "holds"
    assert claim_verdict(cells("holds", "inconclusive"))[0] == "holds in part"
    assert claim_verdict(cells("holds", "does not hold"))[0] == "does not hold"
    assert claim_verdict(cells("inconclusive"))[0] == "inconclusive"
    assert claim_verdict(cells().iloc[:0])[0] == "inconclusive"


def test_holds_in_part_when_one_dataset_fails_to_decide():
    runs = pd.concat([synthetic_runs(), synthetic_runs(eigvals_gain=0.0, datasets=("fashion-mnist",))])
    _, verdicts = evaluate(runs)
    by = verdicts[(verdicts["claim"] == "C1") & (verdicts["protocol"] == "paper")].set_index("dataset")["verdict"]
    assert by["mnist"] == "holds" and by["fashion-mnist"] != "holds" and by["all"] in ("holds in part", "does not hold")


@pytest.mark.parametrize("runs,claim,reason", [
    (synthetic_runs(seeds=1), "C1", "n = 1 < 2"),
    (synthetic_runs(schemes=("direct-restricted", "direct-full", "spectral-full")), "C1", "no cells"),
    (synthetic_runs(experiments=("perceptron", "nonlinear")), "C4", "fewer than 2 N2"),
])
def test_partial_tables_are_inconclusive_with_a_reason(runs, claim, reason):
    """A single seed, a missing scheme, a dataset without telescopic: inconclusive, never a crash."""
    cells, verdicts = evaluate(runs, synthetic_distances(seeds=1), synthetic_pruning(seeds=1))
    row = verdicts[(verdicts["claim"] == claim) & (verdicts["dataset"] == "all")].iloc[0]
    text = row["detail"] + " ".join(cells.loc[cells["claim"] == claim, "detail"])
    assert row["verdict"] == "inconclusive" and reason in text, text
    assert overall(verdicts, "C5", "pruning-2022") == "inconclusive"
