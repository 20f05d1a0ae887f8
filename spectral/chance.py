"""Two independent runs against chance: how many of their compared cells a seed-noise-only difference flags (each
cell's Welch interval at LEVEL), the most a passing comparison may flag, and the mean difference beside that rule
(spectral/compare.py uses them; docs/compare.md states the rule)."""
from __future__ import annotations

import math

import pandas as pd
from scipy import stats

LEVEL = 0.95  # each cell's Welch interval; a cell is flagged by chance alone with probability 1 - LEVEL


def chance(n: int) -> str:
    """How many of n cells two independent runs flag by chance alone: each cell's Welch 95 % interval misses the true
    difference 0 with probability 1 - LEVEL, so the count is Binomial(n, 1 - LEVEL) if the cells are independent."""
    p = round(1 - LEVEL, 12)  # 0.05, not 0.050000000000000044
    lo, hi = stats.binom.interval(0.95, n, p)
    return f"by chance alone about {p * n:.0f} of {n}, 95 % of chance counts within {lo:.0f}–{hi:.0f}"


def chance_limit(n: int) -> int:
    """The most cells of n that two independent runs may flag and still pass: the 97.5 % quantile of
    Binomial(n, 1 - LEVEL) (6 of 50, 15 of 182). More flags than chance gives 97.5 % of the time is evidence that
    the runs differ beyond seed noise (the bf16 check's rule, declared in docs/speed.md before its runs)."""
    return int(stats.binom.ppf(0.975, n, round(1 - LEVEL, 12)))


def distinct_cells(compared: pd.DataFrame) -> pd.DataFrame:
    """The compared cells with a cell that two protocols share counted once: the same dataset, experiment, scheme and
    N2 with the same seed counts and means on both sides (the same records, e.g. pruning-2022's direct-full cells,
    which are paper's). Chance's binomial counts independent cells; a copy is no second chance to be flagged."""
    return compared.drop_duplicates(["dataset", "experiment", "scheme", "n2", "n_reference", "n_rerun",
                                     "mean_reference", "mean_rerun"])


def mean_difference(compared: pd.DataFrame) -> tuple[float, float, float]:
    """(mean, low, high): the mean difference (rerun - reference) over distinct_cells with its 95 % normal interval,
    se = sqrt(sum of the cells' Welch se^2) / n, the cells taken as independent (a description beside the rule)."""
    distinct = distinct_cells(compared)
    mean = float(distinct["difference"].mean())
    se = math.sqrt(float((distinct["se"] ** 2).sum())) / len(distinct)
    z = stats.norm.ppf(0.975)
    return mean, mean - z * se, mean + z * se


def chance_counts(compared: pd.DataFrame) -> tuple[int, int]:
    """(cells, flagged cells) as chance counts them: over distinct_cells, the counts the pass rule and both pages use."""
    distinct = distinct_cells(compared)
    return len(distinct), int((distinct["status"] == "flagged").sum())
