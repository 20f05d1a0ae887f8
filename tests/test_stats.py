"""Tests for spectral.stats: every test statistic against scipy, power against its definition and simulation."""
import math

import numpy as np
import pytest
from scipy import stats as sps

from spectral import stats


@pytest.mark.parametrize("alternative,attr", [("greater", "p_for"), ("less", "p_against")])
def test_paired_test_matches_scipy(alternative, attr):
    x = np.array([0.01, 0.03, -0.005, 0.02, 0.012])
    expected = sps.ttest_1samp(x, 0.004, alternative=alternative).pvalue
    assert getattr(stats.paired_test(x, 0.004), attr) == pytest.approx(expected)


@pytest.mark.parametrize("alternative,attr", [("greater", "p_for"), ("less", "p_against")])
def test_welch_test_matches_scipy(alternative, attr):
    """Welch's one-sided p value against a threshold, and its 95 % interval, equal scipy's."""
    a, b = np.array([0.91, 0.92, 0.905, 0.915]), np.array([0.88, 0.90, 0.86, 0.87, 0.89])
    res = sps.ttest_ind(a - 0.02, b, equal_var=False, alternative=alternative)
    test = stats.welch_test(a, b, 0.02)
    assert getattr(test, attr) == pytest.approx(res.pvalue)
    ci = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert test.interval(0.95) == pytest.approx((ci.low, ci.high))


def test_holm_matches_hand_computation():
    """Sorted p times (m - rank), running maximum, clipped at 1, in the original order; NaN is left out."""
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(stats.holm([0.5, math.nan, 0.6]), [1.0, math.nan, 1.0])
    assert stats.holm_next_level([0.01, 0.2, 0.3], 0.05) == pytest.approx(0.025)
    assert stats.holm_next_level([0.2, 0.3, 0.4], 0.05) == pytest.approx(0.05 / 3)


@pytest.mark.parametrize("n", [10, 12])
@pytest.mark.parametrize("greater", [True, False])
def test_sign_flip_is_scipy_permutation_test(n, greater):
    """The exact sign-flip p value equals scipy.stats.permutation_test's (paired samples, exact)."""
    d = np.random.default_rng(n).normal(0.01, 0.02, n)
    res = sps.permutation_test((d - 0.003,), np.mean, permutation_type="samples", n_resamples=math.inf,
                               alternative="greater" if greater else "less")
    assert stats.sign_flip_p(d, 0.003, greater) == pytest.approx(res.pvalue)


@pytest.mark.parametrize("greater", [True, False])
def test_two_sample_permutation_is_scipy_permutation_test(greater):
    """The exact two-sample permutation p value equals scipy's (independent samples, exact)."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.9, 0.01, 10), rng.normal(0.895, 0.012, 10)
    res = sps.permutation_test((a - 0.002, b), lambda x, y: x.mean() - y.mean(), n_resamples=math.inf,
                               alternative="greater" if greater else "less")
    assert stats.permutation_p(a, b, 0.002, greater) == pytest.approx(res.pvalue)


def test_permutation_checks_fail_on_flipped_data():
    """A clear positive effect: small p for, large p against; flipping the sign swaps them."""
    d = np.linspace(0.01, 0.03, 12)
    assert stats.sign_flip_p(d, 0.0) < 0.01 < 0.99 < stats.sign_flip_p(d, 0.0, greater=False)
    assert stats.sign_flip_p(-d, 0.0) > 0.99
    a, b = np.linspace(0.9, 0.91, 10), np.linspace(0.8, 0.81, 10)
    assert stats.permutation_p(a, b, 0.0) < 0.001 and stats.permutation_p(b, a, 0.0) > 0.999


@pytest.mark.parametrize("greater", [True, False])
def test_monte_carlo_counts_ties_as_the_exact_enumeration_does(monkeypatch, greater):
    """Values in steps of 0.1 (C5's safe fractions) tie often, and a tie's means round differently in every
    rearrangement: the Monte Carlo p value must count them as the exact one does (within its sampling error)."""
    a = np.array([0.2, 0.3, 0.3, 0.2, 0.3, 0.3, 0.2, 0.3])
    b = np.array([0.2, 0.3, 0.2, 0.2, 0.3, 0.2, 0.3, 0.2])
    d = np.array([0.1, -0.1, 0.1, 0.2, 0.1, -0.1, 0.0, 0.1, 0.2, 0.1])
    exact = stats.permutation_p(a, b, 0.0, greater), stats.sign_flip_p(d, 0.0, greater)
    monkeypatch.setattr(stats, "EXACT_LIMIT", 0)
    mc = stats.permutation_p(a, b, 0.0, greater), stats.sign_flip_p(d, 0.0, greater)
    assert mc == pytest.approx(exact, abs=0.01)


def test_power_matches_simulation():
    """Welch power at the planned n is the rejection rate of simulated experiments, within 0.04 at n = 8 (the
    noncentral-t approximation with the true sds' df is slightly optimistic at small n)."""
    rng = np.random.default_rng(0)
    distance, sd_a, sd_b, n, level = 0.004, 0.004, 0.006, 8, 0.05
    p = stats.power(distance, sd_a, sd_b, n, level)
    hits = [stats.welch_test(rng.normal(distance, sd_a, n), rng.normal(0, sd_b, n), 0.0).p_for < level
            for _ in range(3000)]
    assert abs(np.mean(hits) - p) < 0.04


def test_mdd_has_target_power_and_shrinks_with_n():
    """At mdd the power is 0.80; a stricter level needs a larger effect; more seeds a smaller one."""
    se, df = 0.004 / math.sqrt(5), 4.0
    d = stats.mdd(se, df, 0.05)
    assert stats.power(d, 0.004, None, 5, 0.05) == pytest.approx(0.8, abs=1e-3)
    assert stats.mdd(se, df, 0.05 / 17) > d > stats.mdd(0.004 / math.sqrt(20), 19.0, 0.05)
    assert math.isnan(stats.mdd(math.nan, math.nan, 0.05))


def test_mdd_of_unequal_arms_is_detected_with_80_percent_power():
    """A Welch cell with 5 seeds against 20: at the mdd from its own se and df, simulated experiments of those sizes
    reject in 80 % of cases (within 0.04); the mdd of 5 seeds per arm (the smaller arm twice) would reject in far
    more, so it overstated the distance."""
    rng = np.random.default_rng(1)
    sd, n_a, n_b, level = 0.004, 5, 20, 0.05
    va, vb = sd ** 2 / n_a, sd ** 2 / n_b
    se, df = math.sqrt(va + vb), (va + vb) ** 2 / (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1))
    d = stats.mdd(se, df, level)
    hits = [stats.welch_test(rng.normal(d, sd, n_a), rng.normal(0, sd, n_b), 0.0).p_for < level for _ in range(3000)]
    assert abs(np.mean(hits) - 0.8) < 0.04
    assert stats.mdd(*stats._se_df(sd, sd, n_a), level) > 1.2 * d


def test_seeds_needed_is_the_smallest_sufficient_n():
    """seeds_needed reaches 80 % power and n - 1 does not; a near-tie uses the equivalence test; None above cap."""
    n = stats.seeds_needed(0.003, 0.004, 0.004, 0.05, 1000)
    assert stats.power(0.003, 0.004, 0.004, n, 0.05) >= 0.8 > stats.power(0.003, 0.004, 0.004, n - 1, 0.05)
    tie = stats.seeds_needed(0.0002, 0.004, 0.004, 0.05, 1000, delta=0.003)
    assert tie is not None and stats.equivalence_power(0.0002, 0.003, 0.004, 0.004, tie, 0.05) >= 0.8
    assert stats.seeds_needed(0.0002, 0.004, 0.004, 0.05, 1000) is None


def test_equivalence_power_matches_simulation():
    rng = np.random.default_rng(1)
    n, sd, delta = 12, 0.003, 0.003
    p = stats.equivalence_power(0.0005, delta, sd, sd, n, 0.05)
    hits = []
    for _ in range(3000):
        t = stats.welch_test(rng.normal(0.0005, sd, n), rng.normal(0, sd, n), 0.0)
        lo, hi = t.interval(0.90)
        hits.append(lo > -delta and hi < delta)
    assert abs(np.mean(hits) - p) < 0.04
