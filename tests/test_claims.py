"""Tests for spectral.claims on synthetic run tables: verdicts follow the data, and flip when the data flip."""
import numpy as np
import pandas as pd
import pytest

from spectral.claims import claims_markdown, evaluate_claims, verdict


def synthetic_runs(eigvals_gain=0.05, full_gap=0.002, n2_slope=0.01, retracted_offset=0.0, seeds=5):
    """runs.csv-like rows: direct-restricted at 0.80, spectral-eigvals at 0.80 + gain, plus seed noise."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(seeds):
        for experiment, n2s in (("perceptron", [0]), ("telescopic", [10, 100, 1000]), ("nonlinear", [10, 100])):
            for n2 in n2s:
                base = 0.80 + (n2_slope * np.log10(n2) if n2 else 0)
                noise = rng.normal(0, 0.002)
                acc = {"direct-restricted": 0.80 + noise, "spectral-eigvals": base + eigvals_gain + noise,
                       "direct-full": 0.92 + noise, "spectral-full": 0.92 - full_gap + noise}
                for scheme, a in acc.items():
                    rows.append({"dataset": "mnist", "experiment": experiment, "scheme": scheme, "n2": n2, "seed": seed,
                                 "final_test_accuracy": a,
                                 "retracted_test_accuracy": a + retracted_offset if experiment == "telescopic" else np.nan})
    return pd.DataFrame(rows)


def synthetic_distances(eigvals_closer=True, seeds=5):
    rows = []
    for seed in range(seeds):
        near, far = 0.1 + 0.01 * seed, 0.5 + 0.01 * seed
        for scheme, w in (("spectral-eigvals", near if eigvals_closer else far),
                          ("direct-restricted", far if eigvals_closer else near)):
            rows.append({"dataset": "mnist", "scheme": scheme, "seed": str(seed), "standardised": True, "wasserstein": w})
    return pd.DataFrame(rows)


def verdicts(claims, claim):
    return set(claims.loc[claims["claim"] == claim, "verdict"])


@pytest.mark.parametrize("low,high,threshold,expected", [
    (0.1, 0.2, 0.0, "holds"), (-0.2, -0.1, 0.0, "does not hold"), (-0.1, 0.1, 0.0, "inconclusive"),
    (-0.005, 0.0, -0.01, "holds"), (float("nan"), float("nan"), 0.0, "inconclusive")])
def test_verdict_rule(low, high, threshold, expected):
    assert verdict(low, high, threshold) == expected


def test_all_claims_hold_on_favourable_data():
    claims = evaluate_claims(synthetic_runs(), synthetic_distances())
    assert verdicts(claims, "C1") == {"holds"} and len(claims[claims["claim"] == "C1"]) == 6
    assert verdicts(claims, "C2") == {"holds"} and verdicts(claims, "C3") == {"holds"} and verdicts(claims, "C4") == {"holds"}


def test_verdicts_flip_when_data_flip():
    """Reverse each effect and each claim turns to 'does not hold'."""
    claims = evaluate_claims(synthetic_runs(eigvals_gain=-0.05, full_gap=0.05, n2_slope=-0.02), synthetic_distances(False))
    assert verdicts(claims, "C1") == {"does not hold"}
    assert verdicts(claims, "C2") == {"does not hold"}
    assert verdicts(claims, "C3") == {"does not hold"}
    assert verdicts(claims, "C4") == {"does not hold"}


def test_c4_fails_when_retraction_differs():
    """A telescopic net whose retraction disagrees is not a linear classifier: C4 does not hold."""
    claims = evaluate_claims(synthetic_runs(retracted_offset=0.01), synthetic_distances())
    assert verdicts(claims, "C4") == {"does not hold"}
    assert "NOT linear" in claims.loc[claims["claim"] == "C4", "detail"].iloc[0]


def test_single_seed_is_inconclusive():
    claims = evaluate_claims(synthetic_runs(seeds=1), synthetic_distances(seeds=1))
    assert verdicts(claims, "C1") == {"inconclusive"} and verdicts(claims, "C3") == {"inconclusive"}


def test_markdown_lists_every_row():
    claims = evaluate_claims(synthetic_runs(), synthetic_distances())
    text = claims_markdown(claims)
    assert text.count("**holds**") == len(claims) and "## C4" in text
