"""The statistics behind the claim verdicts: one-sided t tests, intervals, Holm, exact distribution-free checks, power.

Implementation choices:
- Two kinds of comparison. `paired`: one value per seed (a difference or a statistic, e.g. C3's distances to the
  same seed's reference network): a one-sample t test of mean > threshold. `welch`: two independent samples a and
  b (two schemes that share only the batch order of a seed: C1, C2, C4, C5, C6): Welch's t test of
  mean(a) - mean(b) > threshold, Welch-Satterthwaite degrees of freedom.
- Every test returns both one-sided p values (for: H0 effect <= threshold; against: H0 effect >= threshold), the
  estimate, its standard error and degrees of freedom, and the two-sided 95 % and 90 % intervals (the 90 % interval
  inside threshold +- delta is the two one-sided tests' equivalence at alpha = 0.05).
- Distribution-free checks: an exact sign-flip test (paired) and an exact two-sample permutation test (welch) of
  the same mean statistic; exact while the number of rearrangements is at most EXACT_LIMIT, else Monte Carlo with
  MC_RESAMPLES seeded draws (a p value then carries a +1 correction, as scipy.stats.permutation_test does).
- Power: noncentral t, one-sided at the level the cell is tested at, with the df the true sds would give; for Welch
  at n = 8 this is within 0.04 of simulated power and slightly optimistic (tests/test_stats.py). `seeds_needed`
  searches n (per arm for welch).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

EXACT_LIMIT = 2 ** 20  # rearrangements enumerated exactly (2^20 sign flips = n of 20 paired seeds)
MC_RESAMPLES = 100_000  # random rearrangements beyond EXACT_LIMIT
POWER = 0.8  # the power a planned cell must reach (design and mdd80)


@dataclass(frozen=True)
class TTest:
    """A one-sided t test of effect > threshold, with both directions' p values and intervals."""

    kind: str  # "paired" or "welch"
    estimate: float
    se: float
    df: float
    n: int  # seeds (per arm for welch: the smaller arm)
    threshold: float
    p_for: float  # H0: effect <= threshold
    p_against: float  # H0: effect >= threshold

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        if not self.se > 0 or math.isnan(self.df):
            return (self.estimate, self.estimate) if self.se == 0 else (math.nan, math.nan)
        half = float(stats.t.ppf(0.5 + level / 2, self.df)) * self.se
        return self.estimate - half, self.estimate + half


def _directions(estimate, se, df, threshold) -> tuple[float, float]:
    if math.isnan(estimate) or math.isnan(df):
        return math.nan, math.nan
    if se == 0:  # no spread: the sign decides (a tie with the threshold decides nothing)
        return (0.0, 1.0) if estimate > threshold else (1.0, 0.0) if estimate < threshold else (1.0, 1.0)
    t = (estimate - threshold) / se
    return float(stats.t.sf(t, df)), float(stats.t.cdf(t, df))


def paired_test(values, threshold: float) -> TTest:
    """One-sample t test of mean(values) against threshold (values: one per seed)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    if n < 2:
        return TTest("paired", float(v.mean()) if n else math.nan, math.nan, math.nan, n, threshold, math.nan, math.nan)
    se = float(v.std(ddof=1)) / math.sqrt(n)
    df = float(n - 1)
    return TTest("paired", float(v.mean()), se, df, n, threshold, *_directions(float(v.mean()), se, df, threshold))


def welch_test(a, b, threshold: float) -> TTest:
    """Welch's t test of mean(a) - mean(b) against threshold."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    n = min(len(a), len(b))
    estimate = float(a.mean() - b.mean()) if n else math.nan
    if n < 2:
        return TTest("welch", estimate, math.nan, math.nan, n, threshold, math.nan, math.nan)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) if se > 0 else float(len(a) + len(b) - 2)
    return TTest("welch", estimate, se, df, n, threshold, *_directions(estimate, se, df, threshold))


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p values (NaN stays NaN and is not counted)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok], kind="stable")
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[ok][order]).clip(max=1.0)
    values = np.empty(m)
    values[order] = adjusted
    out[ok] = values
    return out


def holm_next_level(adjusted, alpha: float) -> float:
    """The level Holm tests the next, still unrejected, hypothesis at: alpha / (m - rejected)."""
    p = np.asarray(adjusted, dtype=float)
    p = p[~np.isnan(p)]
    rejected = int((p < alpha).sum())
    return alpha / (len(p) - rejected) if len(p) > rejected else alpha


def sign_flip_p(values, threshold: float, greater: bool = True, seed: int = 0) -> float:
    """Sign-flip p value of mean(values - threshold) (H0: symmetric about threshold); exact up to EXACT_LIMIT."""
    d = np.asarray(values, dtype=float) - threshold
    d = d[~np.isnan(d)]
    n = len(d)
    if n == 0:
        return math.nan
    observed = d.mean()
    if 2 ** n <= EXACT_LIMIT:
        signs = 1 - 2 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1)  # (2^n, n) every sign pattern
        return float(_hits((signs * d).mean(axis=1), observed, greater).mean())
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(MC_RESAMPLES, n))
    return _mc_p((signs * d).mean(axis=1), observed, greater)


def permutation_p(a, b, threshold: float, greater: bool = True, seed: int = 0) -> float:
    """Two-sample permutation p value of mean(a) - mean(b) - threshold (H0: a - threshold and b exchangeable)."""
    a = np.asarray(a, dtype=float) - threshold
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if not len(a) or not len(b):
        return math.nan
    pooled, na = np.concatenate([a, b]), len(a)
    observed = a.mean() - b.mean()
    total = pooled.sum()
    if math.comb(len(pooled), na) <= EXACT_LIMIT:
        idx = np.array(list(itertools.combinations(range(len(pooled)), na)))  # (C, na) every split
        sum_a = pooled[idx].sum(axis=1)
        return float(_hits(sum_a / na - (total - sum_a) / len(b), observed, greater).mean())
    rng = np.random.default_rng(seed)
    perms = rng.permuted(np.tile(pooled, (MC_RESAMPLES, 1)), axis=1)
    return _mc_p(perms[:, :na].mean(axis=1) - perms[:, na:].mean(axis=1), observed, greater)


def _hits(null, observed: float, greater: bool):
    """Rearrangements at least as extreme as `observed`; one equal to it up to rounding counts (values in steps of
    0.1, as C5's safe fractions, tie often, and their means round differently in every rearrangement)."""
    tol = 1e-12 * max(1.0, abs(observed))
    return (null >= observed - tol) if greater else (null <= observed + tol)


def _mc_p(null, observed: float, greater: bool) -> float:
    """Monte Carlo p value with the +1 correction (as scipy.stats.permutation_test)."""
    return float((_hits(null, observed, greater).sum() + 1) / (len(null) + 1))


def _se_df(sd_a: float, sd_b: float | None, n: int) -> tuple[float, float]:
    """Standard error and df of a paired (sd_b None) or a Welch (n per arm) comparison with n seeds."""
    if sd_b is None:
        return sd_a / math.sqrt(n), float(n - 1)
    va, vb = sd_a ** 2 / n, sd_b ** 2 / n
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / ((va ** 2 + vb ** 2) / (n - 1)) if se > 0 else float(2 * n - 2)
    return se, df


def power(distance: float, sd_a: float, sd_b: float | None, n: int, level: float) -> float:
    """Power of a one-sided t test at `level` when the true effect lies `distance` beyond the threshold."""
    if n < 2 or any(math.isnan(x) for x in (distance, sd_a, sd_b if sd_b is not None else 0.0)):
        return math.nan
    return _power(distance, *_se_df(sd_a, sd_b, n), level)


def _power(distance: float, se: float, df: float, level: float) -> float:
    """Power of a one-sided t test at `level` (standard error se, df) against a true distance beyond the threshold."""
    if se == 0:
        return 1.0 if distance > 0 else 0.0
    return float(stats.nct.sf(stats.t.ppf(1 - level, df), df, distance / se))


def equivalence_power(distance: float, delta: float, sd_a: float, sd_b: float | None, n: int, level: float) -> float:
    """Power of the two one-sided tests at `level` to show |effect - threshold| < delta, true offset `distance`."""
    if n < 2 or delta <= 0 or abs(distance) >= delta:
        return 0.0
    se, df = _se_df(sd_a, sd_b, n)
    if se == 0:
        return 1.0
    crit = stats.t.ppf(1 - level, df)
    p_low = stats.nct.sf(crit, df, (distance + delta) / se)  # rejects effect <= threshold - delta
    p_high = stats.nct.cdf(-crit, df, (distance - delta) / se)  # rejects effect >= threshold + delta
    return float(max(0.0, p_low + p_high - 1))


def mdd(se: float, df: float, level: float, target: float = POWER) -> float:
    """Smallest distance beyond the threshold a one-sided t test at `level` detects with `target` power, at a cell's
    own standard error and df (a Welch cell's from both arms' seeds, however many each has)."""
    if any(math.isnan(x) for x in (se, df)):
        return math.nan
    if se == 0:
        return 0.0
    lo, hi = 0.0, se * 50
    for _ in range(60):  # bisection on the monotone power curve
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _power(mid, se, df, level) < target else (lo, mid)
    return hi


def tost_seeds_needed(value: float, margin: float, sd_a: float, sd_b: float | None, level: float, cap: int,
                      outside_level: float | None = None) -> int | None:
    """Seeds (per arm for welch) that decide a two-one-sided-tests cell, band (-margin, margin) around 0, whose true
    effect is `value`: inside the band both one-sided tests must reject, so the equivalence power at `level` counts
    (the nearer bound binds); outside it, the one-sided test beyond the nearer bound at `outside_level` (default
    `level`). Never the distance from the far bound, which a cell near +margin would make look decided in 3 seeds."""
    if abs(value) < margin:
        return seeds_needed(value, sd_a, sd_b, level, cap, delta=margin, one_sided=False)
    return seeds_needed(abs(value) - margin, sd_a, sd_b, level if outside_level is None else outside_level, cap)


def seeds_needed(distance: float, sd_a: float, sd_b: float | None, level: float, cap: int, delta: float = 0.0,
                 equivalence_level: float | None = None, target: float = POWER, one_sided: bool = True) -> int | None:
    """Smallest n (per arm for welch) at which a cell whose true effect lies `distance` from its threshold gets
    decided with `target` power: by the one-sided test in the direction of `distance` at `level`, or, when
    |distance| < delta, by the equivalence test at `equivalence_level` (default `level`); None if above `cap`.
    `one_sided` False counts the equivalence test only (an equivalence claim such as C2-TOST)."""
    if any(math.isnan(x) for x in (distance, sd_a)) or (sd_b is not None and math.isnan(sd_b)):
        return None
    eq_level = level if equivalence_level is None else equivalence_level

    def enough(n: int) -> bool:  # both powers grow with n, so bisection finds the smallest n
        return (one_sided and power(abs(distance), sd_a, sd_b, n, level) >= target) or (
            delta > 0 and equivalence_power(distance, delta, sd_a, sd_b, n, eq_level) >= target)

    if cap < 2 or not enough(cap):
        return None
    lo, hi = 1, cap  # enough(hi) holds; enough(lo) is taken as false
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if enough(mid) else (mid, hi)
    return hi
