"""Tests for spectral.claims and spectral.claim_cells on synthetic tables: each rule, and verdicts that flip with
the data."""
import math
import zlib

import numpy as np
import pandas as pd
import pytest

from spectral.claim_cells import evaluate_claims
from spectral import stats
from spectral.claims import claim_verdict, decide

SCHEMES = ("direct-restricted", "spectral-eigvals", "direct-full", "spectral-full")
C5 = dict(protocol="pruning-2022", scheme="spectral-full", baseline_scheme="direct-full", connectivity="l1",
          claim_fraction=0.5, area_fraction=0.5, margin=0.01)
DELTA = {"C1": 0.005, "C2": 0.0025, "C3": 0.0, "C4": 0.005, "C5": 0.0025, "C6": 0.005}


def synthetic_runs(eigvals_gain=0.05, full_gap=0.0, n2_slope=0.03, tele_full=0.90, seeds=5, protocol="paper",
                   datasets=("mnist",), experiments=("perceptron", "telescopic", "nonlinear"), schemes=SCHEMES,
                   noise=0.002, n2s=(10, 100, 1000)):
    """runs.csv-like rows, independent noise per scheme and seed: direct-restricted at 0.80, spectral-eigvals at
    0.80 + gain (+ slope x log N2), direct-full at 0.90 (telescopic: tele_full), spectral-full 0.90 - gap."""
    rng = np.random.default_rng(zlib.crc32(f"{protocol} {datasets} {seeds}".encode()))
    rows = []
    sizes = {"perceptron": [0], "telescopic": list(n2s), "nonlinear": list(n2s[:2])}
    for dataset in datasets:
        for seed in range(seeds):
            for experiment in experiments:
                for n2 in sizes[experiment]:
                    base = 0.80 + (n2_slope * np.log10(n2) if n2 else 0)
                    full = tele_full if experiment == "telescopic" else 0.90
                    acc = {"direct-restricted": 0.80, "spectral-eigvals": base + eigvals_gain, "direct-full": full,
                           "spectral-full": 0.90 - full_gap}
                    for scheme in schemes:
                        a = acc[scheme] + rng.normal(0, noise)
                        rows.append({"protocol": protocol, "dataset": dataset, "experiment": experiment,
                                     "scheme": scheme, "n2": n2, "seed": seed, "final_test_accuracy": a,
                                     "retracted_test_accuracy": a if experiment == "telescopic" else np.nan})
    return pd.DataFrame(rows)


def synthetic_distances(eigvals_closer=True, moves=True, seeds=5, protocol="paper"):
    """Per-seed distances to direct-full: eigvals near (or far), restricted far (or near), eigvals' initial weights
    farther than its trained ones (or nearer, when not `moves`)."""
    rows = []
    for seed in range(seeds):
        near, far = 0.1 + 0.01 * seed, 0.5 + 0.013 * seed
        eig = near if eigvals_closer else far
        init = eig + (0.2 if moves else -0.05) + 0.002 * seed
        for scheme, w in (("spectral-eigvals", eig), ("direct-restricted", far if eigvals_closer else near),
                          ("spectral-eigvals@init", init), ("direct-full@init", 0.6)):
            for standardised in (False, True):
                rows.append({"protocol": protocol, "dataset": "mnist", "scheme": scheme, "seed": str(seed),
                             "standardised": standardised, "wasserstein": w, "ks_statistic": w / 2})
    return pd.DataFrame(rows)


def synthetic_pruning(spectral_keeps=0.90, seeds=5, noise=0.003, random_keeps=0.80):
    """A spectral network pruned by |lambda| (accuracy `spectral_keeps` at 50 %) and a direct-full baseline pruned
    by connectivity (0.90 at 50 %), independent seeds; both start at 0.95."""
    rng = np.random.default_rng(1)
    rows = []
    for seed in range(seeds):
        curves = {("spectral-full", "eigenvalue"): spectral_keeps, ("spectral-full", "l2"): 0.85,
                  ("spectral-full", "random"): 0.80, ("direct-full", "l1"): 0.90, ("direct-full", "abs-sum"): 0.89,
                  ("direct-full", "l2"): 0.88, ("direct-full", "random"): random_keeps}
        for (scheme, order), half in curves.items():
            e = rng.normal(0, noise)
            for fraction, acc in ((0.0, 0.95), (0.5, half), (0.9, half - 0.2)):
                rows.append({"protocol": "pruning-2022", "dataset": "mnist", "scheme": scheme, "n2": 100,
                             "seed": seed, "order": order, "fraction_removed": fraction, "nodes_kept": 100,
                             "test_accuracy": acc + (e if fraction else 0.0)})
    return pd.DataFrame(rows)


def evaluate(runs=None, distances=None, pruning=None, **kw):
    kw.setdefault("delta", DELTA)
    return evaluate_claims(synthetic_runs() if runs is None else runs,
                           synthetic_distances() if distances is None else distances,
                           synthetic_pruning() if pruning is None else pruning, c5=C5, **kw)


def overall(verdicts, claim, protocol="paper", dataset="all"):
    row = verdicts[(verdicts["claim"] == claim) & (verdicts["dataset"] == dataset) & (verdicts["protocol"] == protocol)]
    return row["verdict"].item()


def test_all_claims_hold_on_favourable_data():
    cells, verdicts = evaluate()
    for claim in ("C1", "C2@0.5pp", "C2@1pp", "C2@2pp", "C2-TOST@1pp", "C3", "C3-moves", "C4"):
        assert overall(verdicts, claim) == "holds", claim
    assert overall(verdicts, "C5", "pruning-2022") == "holds"
    assert len(cells[cells["claim"] == "C1"]) == 6 and len(cells[cells["claim"] == "C3"]) == 4
    assert (cells["p_for_holm"] >= cells["p_for"] - 1e-12).all()
    assert set(cells.loc[cells["claim"] == "C1", "test"]) == {"welch"}
    assert set(cells.loc[cells["claim"] == "C3", "test"]) == {"paired"}


def test_verdicts_flip_when_data_flip():
    """Reverse each effect and each claim turns to 'does not hold'."""
    _, verdicts = evaluate(synthetic_runs(eigvals_gain=-0.05, full_gap=0.05, n2_slope=-0.03),
                           synthetic_distances(False, moves=False), synthetic_pruning(0.80))
    for claim in ("C1", "C2@1pp", "C2-TOST@1pp", "C3", "C3-moves", "C4"):
        assert overall(verdicts, claim) == "does not hold", claim
    assert overall(verdicts, "C5", "pruning-2022") == "does not hold"


def _cells(values, sd=0.004, n=5, claim="C1", threshold=0.0, delta=0.0, dataset="mnist", protocol="paper"):
    """Decided cells of one family, each a Welch test of N(value, sd) against N(0, sd) with fixed quantile noise."""
    from spectral.claims import cell
    z = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])[:n] if n == 5 else np.linspace(-1.5, 1.5, n)
    rows = [cell(claim, dataset, "nonlinear", i, "x", threshold, delta=delta, a=v + sd * z, b=sd * z[::-1] * 0.5)
            for i, v in enumerate(values)]
    return decide(pd.DataFrame(rows).assign(protocol=protocol), 0.05)


def test_intersection_union_holds_where_holm_does_not():
    """Five cells each at p ~ 0.02: every one is below alpha unadjusted (the claim holds by IUT) while Holm lists
    none; one cell at p ~ 0.3 breaks the IUT."""
    cells = _cells([0.0042] * 5)
    assert (cells["p_for"] < 0.05).all() and (cells["p_for_holm"] > 0.05).all()
    assert claim_verdict(cells)[0] == "holds" and (cells["verdict"] == "inconclusive").all()
    weaker = _cells([0.0042] * 4 + [0.001])
    assert claim_verdict(weaker)[0] == "inconclusive"
    flipped = _cells([-0.0042] * 5)
    assert claim_verdict(flipped)[0] != "holds" and flipped["wrong_side"].all()


def test_near_tie_is_at_the_threshold():
    """A cell whose 90 % interval lies inside threshold +- delta is `at the threshold`, even if significant."""
    cells = _cells([0.0005, 0.0005], sd=0.0005, delta=0.005)
    assert (cells["verdict"] == "at the threshold").all() and claim_verdict(cells)[0] == "at the threshold"
    far = _cells([0.02, 0.02], sd=0.0005, delta=0.005)
    assert (far["verdict"] == "holds").all() and not far["at_threshold"].any()
    no_margin = _cells([0.0005, 0.0005], sd=0.0005, delta=0.0)
    assert not no_margin["at_threshold"].any()


def test_wrong_side_is_flagged_while_holm_is_undecided():
    """One cell clearly below the threshold among 20: its CI excludes 0 on the wrong side; Holm may not reject."""
    cells = _cells([0.05] * 19 + [-0.0045])
    last = cells.iloc[-1]
    assert last["wrong_side"] and last["ci95_high"] < 0
    assert last["verdict"] == "inconclusive" and last["p_against_holm"] >= 0.05
    assert not cells.iloc[:-1]["wrong_side"].any()


def test_family_size_does_not_change_a_verdict():
    """Adding another dataset, protocol or claim's cells leaves every shared cell's Holm p and verdict unchanged."""
    alone, _ = evaluate(synthetic_runs(eigvals_gain=0.004, noise=0.004))
    more = pd.concat([synthetic_runs(eigvals_gain=0.004, noise=0.004),
                      synthetic_runs(datasets=("fashion-mnist",), noise=0.004),
                      synthetic_runs(protocol="per-layer", noise=0.004)])
    together, _ = evaluate(more)
    keys = ["protocol", "claim", "dataset", "experiment", "n2", "statistic"]
    merged = alone.merge(together, on=keys, suffixes=("", "_more"))
    assert len(merged) == len(alone)
    np.testing.assert_allclose(merged["p_for_holm"], merged["p_for_holm_more"])
    assert (merged["verdict"] == merged["verdict_more"]).all()


def test_c3_control_says_whether_training_moves_the_weights():
    """C3-moves holds when the initial spectral weights lie farther from direct-full than the trained ones; flips."""
    _, verdicts = evaluate()
    assert overall(verdicts, "C3-moves") == "holds"
    _, still = evaluate(distances=synthetic_distances(moves=False))
    assert overall(still, "C3-moves") == "does not hold" and overall(still, "C3") == "holds"


def test_c4_has_both_references_and_a_closing_trend():
    """Telescopic eigvals reaching its own direct-full network (0.86) holds C4 but is 4 pp below the direct-full
    perceptron (0.90): C4-perceptron fails. A same-network direct-full 4 pp above fails C4 too."""
    cells, verdicts = evaluate(synthetic_runs(tele_full=0.86, eigvals_gain=-0.03))
    c4 = cells[cells["claim"] == "C4"]
    assert c4["statistic"].str.contains("trend").any() and c4["statistic"].str.contains("closing").any()
    assert overall(verdicts, "C4") == "holds" and overall(verdicts, "C4-perceptron") == "does not hold"
    _, far = evaluate(synthetic_runs(tele_full=0.90, eigvals_gain=-0.03))
    assert overall(far, "C4") == "does not hold"


def test_a_two_point_trend_gets_no_test():
    """With two telescopic N2 a per-seed Spearman rho is always +-1: C4 then has no trend or closing cell, only the
    gap at the largest N2; with three it has both."""
    cells, _ = evaluate(synthetic_runs(n2s=(10, 100)))
    c4 = cells[cells["claim"] == "C4"]
    assert len(c4) == 1 and c4["statistic"].str.contains("gap").all()
    cells, _ = evaluate(synthetic_runs(n2s=(10, 100, 1000)))
    assert cells[cells["claim"] == "C4"]["statistic"].str.contains("trend|closing").sum() == 2


def test_c6_compares_the_per_layer_variant_with_per_node():
    runs = pd.concat([synthetic_runs(), synthetic_runs(protocol="per-layer", eigvals_gain=0.07)])
    cells, verdicts = evaluate(runs, c6=("per-layer", "paper"), protocols=["paper", "per-layer"])
    c6 = cells[cells["claim"] == "C6"]
    assert len(c6) == 5 and (c6["experiment"] != "perceptron").all()
    assert overall(verdicts, "C6", "per-layer") == "holds"
    flipped = pd.concat([synthetic_runs(), synthetic_runs(protocol="per-layer", eigvals_gain=0.03)])
    _, v = evaluate(flipped, c6=("per-layer", "paper"), protocols=["paper", "per-layer"])
    assert overall(v, "C6", "per-layer") == "does not hold"


def test_tost_superiority_is_no_failure():
    """spectral-full 3 pp better than direct-full: C2-TOST reads `superior`, never `does not hold`."""
    cells, verdicts = evaluate(synthetic_runs(full_gap=-0.03))
    tost = cells[cells["claim"] == "C2-TOST@1pp"]
    assert (tost["verdict"] == "superior").all() and overall(verdicts, "C2-TOST@1pp") != "does not hold"
    assert overall(verdicts, "C2@1pp") == "holds"


def test_seeds_needed_and_level_for_undecided_cells():
    """An undecided cell gets its level (alpha towards holding), mdd80 and seeds needed; decided cells get none."""
    cells = _cells([0.002, 0.05])
    undecided, decided = cells.iloc[0], cells.iloc[1]
    assert undecided["verdict"] == "inconclusive" and undecided["level"] == 0.05
    assert undecided["seeds_needed"] > 5 and undecided["mdd80"] > undecided["value"]
    assert undecided["mdd80"] == stats.mdd(undecided["se"], undecided["df"], 0.05)  # at the cell's own se and df
    assert pd.isna(decided["seeds_needed"]) and math.isnan(decided["level"])


@pytest.mark.parametrize("runs,claim,reason", [
    (synthetic_runs(seeds=1), "C1", "n = 1 < 2"),
    (synthetic_runs(schemes=("direct-restricted", "direct-full", "spectral-full")), "C1", "no cells"),
])
def test_partial_tables_are_inconclusive_with_a_reason(runs, claim, reason):
    """A single seed, a missing scheme: inconclusive, never a crash."""
    cells, verdicts = evaluate(runs, synthetic_distances(seeds=1), synthetic_pruning(seeds=1))
    row = verdicts[(verdicts["claim"] == claim) & (verdicts["dataset"] == "all")]
    if row.empty:
        assert reason == "no cells" and claim not in set(cells["claim"])
        return
    assert row["verdict"].item() == "inconclusive" and reason in row["detail"].item()


def test_permutation_check_runs_from_ten_seeds():
    """With 10 seeds every test gets its distribution-free p value; with 5 none does."""
    cells, _ = evaluate(synthetic_runs(seeds=10))
    c1 = cells[cells["claim"] == "C1"]
    assert c1["p_perm_for"].notna().all() and not c1["perm_disagrees"].any()
    few, _ = evaluate()
    assert few.loc[few["claim"] == "C1", "p_perm_for"].isna().all()


def test_trend_uses_only_seeds_trained_at_every_n2():
    """A seed that a seed plan gave to one N2 cell only has no trend: it is left out, not fitted on a subset."""
    from spectral.claims import spearman_per_seed
    rows = [{"seed": s, "n2": n, "acc": n * (1 if s < 3 else -1)} for s in range(3) for n in (10, 100, 1000)]
    rows += [{"seed": 7, "n2": 10, "acc": 5.0}, {"seed": 7, "n2": 100, "acc": 1.0}]  # no N2 = 1000 run
    assert spearman_per_seed(pd.DataFrame(rows), "acc") == [1.0, 1.0, 1.0]


def test_the_grid_judges_every_protocol_on_the_same_cells():
    """paper ran N2 = 10, 100, 1000 and per-layer only 10, 100: on the grid (N2 = 10, 100) paper's cells are exactly
    per-layer's, with no eight-width trend and its C4 gap at N2 = 100, never at its own widest N2."""
    from spectral.claim_cells import evaluate_grid
    runs = [synthetic_runs(), synthetic_runs(protocol="per-layer", n2s=(10, 100))]
    grid = {"protocols": ["paper", "per-layer"], "datasets": ["mnist"], "n2": [10, 100]}
    claims = {"margins": [0.01], "equivalence_margin": 0.01, "alpha": 0.05, "delta": DELTA}
    cells = evaluate_grid(runs, [synthetic_distances(), synthetic_distances(protocol="per-layer")], grid, claims)
    keys = ["claim", "dataset", "experiment", "n2", "statistic"]
    by = {p: set(map(tuple, g[keys].values)) for p, g in cells.groupby("protocol")}
    assert by["paper"] == by["per-layer"] and len(by["paper"]) > 10
    assert set(cells["n2"]) <= {0, 10, 100}
    assert cells[cells["claim"] == "C4"]["n2"].tolist() == [100, 100]


def test_an_undecided_equivalence_cell_needs_the_seeds_of_its_nearer_bound():
    """A C2-TOST cell at +0.8 pp inside its ±1 pp band is held back by the +1 pp bound: its seeds needed come from
    the equivalence power (more than the 10 it has), not from the distance to −1 pp (which says 2 or 3); the mirror cell
    at −0.8 pp needs as many."""
    from spectral.claims import cell
    z = np.linspace(-1.5, 1.5, 10)

    def tost(value):
        row = cell("C2-TOST@1pp", "mnist", "nonlinear", 50, "x", 0.0, a=value + 0.006 * z, b=0.006 * z[::-1],
                   equivalence=0.01)
        return decide(pd.DataFrame([row]).assign(protocol="paper"), 0.05).iloc[0]

    near = tost(0.008)
    assert near["verdict"] == "inconclusive" and near["threshold"] == -0.01
    from_far_bound = stats.seeds_needed(near["value"] - near["threshold"], near["sd_a"], near["sd_b"], 0.05, 1000)
    assert from_far_bound <= 3 < 10 < near["seeds_needed"]
    assert tost(-0.008)["seeds_needed"] == near["seeds_needed"]  # the band is symmetric: so is the count
