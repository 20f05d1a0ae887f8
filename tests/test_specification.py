"""Tests for spectral.specification on constructed runs: the join takes each cell from one run, cells whose pairs span
two runs are not judged on either side, and a verdict that a specification changes reads "changes under ..."."""
import json

import pandas as pd
import pytest

from spectral.choices import choice_verdicts, same_verdict
from spectral.specification import (SpecificationError, join_distances, join_runs, judge, published_specifications,
                                    specification, specification_runs, verdict_rows)
from test_claims import DELTA, synthetic_distances, synthetic_runs

CONFIG = {"run_protocols": ["paper"], "claims": {"margins": [0.005, 0.01, 0.02], "equivalence_margin": 0.01,
                                                 "alpha": 0.05, "delta": DELTA}}
SPEC = {"primary": "results/paper", "choice": "eigvec init", "value": "glorot", "reference": "uniform"}


def spec_runs(gain, schemes=("spectral-eigvals",), seeds=10, first_seed=2000, **kw):
    """A specification's runs: `schemes` retrained on seeds first_seed + k, eigenvalue training's gain `gain`."""
    runs = synthetic_runs(eigvals_gain=gain, seeds=seeds, schemes=schemes, **kw)
    return runs.assign(seed=runs["seed"] + first_seed)


def test_join_takes_each_cell_from_one_run():
    """Retrained cells come from the specification only, every other cell from the primary; pooling would show a
    cell with both sources."""
    primary, spec = synthetic_runs(seeds=5), spec_runs(0.05)
    joined = join_runs(primary, spec)
    sources = joined.groupby(["experiment", "scheme", "n2"])["run"].agg(set)
    assert all(len(s) == 1 for s in sources)
    assert sources.loc[("telescopic", "spectral-eigvals", 1000)] == {"specification"}
    assert sources.loc[("telescopic", "direct-full", 1000)] == {"primary"}
    assert len(joined) == len(primary) - (primary["scheme"] == "spectral-eigvals").sum() + len(spec)
    assert set(joined[joined["scheme"] == "spectral-eigvals"]["seed"]) == set(range(2000, 2010))


def test_distances_of_a_retrained_perceptron_are_dropped():
    kept = join_distances(synthetic_distances(), spec_runs(0.05))
    assert not kept["scheme"].str.startswith("spectral-eigvals").any()
    assert kept["scheme"].str.startswith("direct-").any()
    assert len(join_distances(synthetic_distances(), spec_runs(0.05, experiments=("telescopic",)))) == len(
        synthetic_distances())


def _judge(spec, primary=None):
    primary = synthetic_runs(seeds=5) if primary is None else primary
    return judge(primary, synthetic_distances(), spec, CONFIG)


def _all(verdicts, claim):
    return verdicts[(verdicts["claim"] == claim) & (verdicts["dataset"] == "all")]["verdict"].item()


def test_a_verdict_the_specification_changes_reads_changes_under():
    """C1 holds in the primary; a specification whose eigenvalue training loses 5 pp makes it fail, and the headline
    says so; with the same gain it reads 'every choice'."""
    cells, verdicts, not_judged = _judge(spec_runs(-0.05))
    assert _all(verdicts["primary"], "C1") == "holds" and _all(verdicts["specification"], "C1") == "does not hold"
    rows = verdict_rows(verdicts, not_judged, SPEC["choice"], {"primary": "uniform", "specification": "glorot"})
    text = same_verdict(choice_verdicts(pd.DataFrame(columns=["claim"]), None, "l1", rows), "C1")
    assert text == ("changes under φ drawn Glorot-uniform (MNIST: does not hold against holds under φ drawn "
                    "U(−0.2, 0.2) on the same cells)")
    _, verdicts, not_judged = _judge(spec_runs(0.05))
    rows = verdict_rows(verdicts, not_judged, SPEC["choice"], {"primary": "uniform", "specification": "glorot"})
    assert same_verdict(choice_verdicts(pd.DataFrame(columns=["claim"]), None, "l1", rows), "C1") == (
        "every choice (eigvec init)")


def test_pairs_that_span_two_runs_are_judged_on_neither_side():
    """The specification retrains spectral-eigvals: C4's trend (eigvals at every N2, one run) is judged, its closing
    gap (eigvals against the primary's direct-full, paired by seed) and C3 (distances to the same seed's direct-full)
    are not, and the primary is re-decided on the same cells."""
    cells, verdicts, not_judged = _judge(spec_runs(0.05))
    dropped = set(zip(not_judged["claim"], not_judged["statistic"].str.split(", ").str[-1]))
    assert ("C4", "closing") in dropped and ("C4", "trend") not in dropped
    assert {"C3", "C3-moves"} <= set(not_judged["claim"])
    for side in ("primary", "specification"):
        assert not ((cells[side]["claim"] == "C4") & cells[side]["statistic"].str.endswith("closing")).any()
        assert ((cells[side]["claim"] == "C4") & cells[side]["statistic"].str.endswith("trend")).any()
    keys = ["claim", "dataset", "experiment", "n2", "statistic"]
    assert cells["primary"][keys].equals(cells["specification"][keys])


def test_a_series_mixed_from_two_runs_has_no_trend():
    """Retraining eigenvalue training at N2 = 1000 only leaves no seed trained at every N2 in one run: C4's trend is
    not judged. Retraining the whole series keeps it."""
    mixed = spec_runs(0.05, experiments=("telescopic",), n2s=(1000,))
    mixed = mixed[mixed["n2"] == 1000]
    _, _, not_judged = _judge(mixed)
    assert ((not_judged["claim"] == "C4") & not_judged["statistic"].str.endswith("trend")).any()
    _, _, not_judged = _judge(spec_runs(0.05, experiments=("telescopic",)))
    assert not ((not_judged["claim"] == "C4") & not_judged["statistic"].str.endswith("trend")).any()


def _write_run(path, runs, config, distances=None):
    (path / "tables").mkdir(parents=True)
    runs.to_csv(path / "tables" / "runs.csv", index=False)
    if distances is not None:
        distances.to_csv(path / "tables" / "weights_distance.csv", index=False)
    (path / "provenance.json").write_text(json.dumps({"config": config}))


def test_specification_reads_its_run_and_is_found_beside_its_primary(tmp_path):
    _write_run(tmp_path / "paper", synthetic_runs(seeds=5), CONFIG, synthetic_distances())
    _write_run(tmp_path / "eigvecs-glorot", spec_runs(-0.05), CONFIG | {"specification": SPEC})
    verdicts, cells = specification(tmp_path / "eigvecs-glorot", tmp_path / "paper")
    assert set(verdicts["value"]) == {"uniform", "glorot"} and set(cells["choice_value"]) == {"uniform", "glorot"}
    verdicts.to_csv(tmp_path / "eigvecs-glorot" / "specification_verdicts.csv", index=False)
    found = published_specifications(tmp_path / "paper")
    assert found is not None and len(found) == len(verdicts)
    assert specification_runs(tmp_path / "paper") == [tmp_path / "eigvecs-glorot"]
    assert published_specifications(tmp_path / "eigvecs-glorot") is None
    from spectral.cli import main
    from spectral.provenance import code_commit
    assert main(["specification", str(tmp_path / "eigvecs-glorot"), "--primary", str(tmp_path / "paper")]) == 0
    written = json.loads((tmp_path / "eigvecs-glorot" / "specification.json").read_text())
    assert written["commit"] == code_commit()  # the README names the code that wrote the join


def test_a_run_that_is_not_a_specification_is_refused(tmp_path):
    _write_run(tmp_path / "paper", synthetic_runs(seeds=5), CONFIG, synthetic_distances())
    with pytest.raises(SpecificationError, match="not a specification run"):
        specification(tmp_path / "paper")
    with pytest.raises(SpecificationError, match="does not exist"):
        specification(tmp_path / "nope")


def test_specification_effects_average_the_shared_cells():
    """The curve's effect is the mean of (value - threshold) over a value's cells, its interval from sqrt(sum se^2)/k;
    moving one cell moves the mean by a share of it."""
    from spectral.choices import specification_effects
    cells = pd.DataFrame({"claim": ["C1", "C1"], "dataset": "mnist", "value": [0.02, 0.04], "se": [0.003, 0.004],
                          "threshold": 0.0, "choice": "eigvec init", "choice_value": "glorot", "reference": False})
    e = specification_effects(pd.DataFrame(columns=["claim", "value", "se", "threshold", "dataset"]), None, "l1",
                              cells).iloc[0]
    assert e.effect == pytest.approx(0.03) and e.high - e.effect == pytest.approx(1.96 * 0.005 / 2)
    cells.loc[1, "value"] = -0.04
    assert specification_effects(pd.DataFrame(columns=["claim", "value", "se", "threshold", "dataset"]), None, "l1",
                                 cells).iloc[0].effect == pytest.approx(-0.01)


def test_a_claim_with_no_judged_cell_reads_not_judged_and_says_so_in_the_headline():
    """Retraining the eigenvalue perceptron drops every C3 cell (its distances pair it with the primary's direct-full
    network): C3 gets `not judged under this choice` rows, and its headline column says so instead of 'every
    choice'; C1, whose cells are all judged, has no such note."""
    from spectral.claims import NOT_JUDGED
    _, verdicts, not_judged = _judge(spec_runs(0.05))
    rows = verdict_rows(verdicts, not_judged, SPEC["choice"], {"primary": "uniform", "specification": "glorot"})
    c3 = rows[rows["claim"] == "C3"]
    assert len(c3) and (c3["verdict"] == NOT_JUDGED).all() and (c3["not_judged"] > 0).all()
    choices = choice_verdicts(pd.DataFrame(columns=["claim"]), None, "l1", rows)
    assert same_verdict(choices, "C3") == "not judged under eigvec init"
    assert same_verdict(choices, "C1") == "every choice (eigvec init)"


def test_a_specification_on_the_primarys_seed_values_is_refused():
    """Tests that pair by seed number would pair networks of the two runs: the join refuses shared seed values."""
    with pytest.raises(SpecificationError, match="reuses seed values of its primary"):
        _judge(spec_runs(0.05, first_seed=0))
    _judge(spec_runs(0.05, first_seed=5))  # the primary's seeds are 0-4


def test_the_closing_gap_needs_the_gap_at_every_width_of_the_trend():
    """A specification that retrains eigenvalue training at every N2 (10, 100, 1000) but direct-full only at the two
    widest: on its side the gap pairs by seed at two widths (a rank correlation of +-1), so no closing cell is formed
    there, and the primary's is not judged (left out of both sides) rather than compared with a trend over fewer
    widths."""
    spec = pd.concat([spec_runs(0.05, experiments=("telescopic",)),
                      spec_runs(0.05, schemes=("direct-full",), experiments=("telescopic",))
                      .query("n2 >= 100")], ignore_index=True)
    cells, _, not_judged = _judge(spec)
    closing = not_judged["statistic"].str.endswith("closing")
    assert closing.sum() == 1 and not cells["specification"]["statistic"].str.endswith("closing").any()
    full = spec_runs(0.05, schemes=("spectral-eigvals", "direct-full"), experiments=("telescopic",))
    cells, _, not_judged = _judge(full)  # both series retrained at every width: the closing gap is judged
    assert not not_judged["statistic"].str.endswith("closing").any()
    assert cells["specification"]["statistic"].str.endswith("closing").sum() == 1


def test_retraining_the_direct_full_perceptron_drops_every_distance_of_its_dataset():
    """Every C3 distance is to the same seed's direct-full perceptron: once the specification retrains it, none of
    the primary's distances on that dataset is kept, whichever scheme they measure."""
    assert join_distances(synthetic_distances(), spec_runs(0.05, schemes=("direct-full",))).empty
    assert len(join_distances(synthetic_distances(), spec_runs(0.05, schemes=("direct-full",),
                                                                datasets=("fashion-mnist",)))) == len(
        synthetic_distances())


def test_a_dataset_without_judged_cells_gets_its_own_not_judged_row():
    """A claim judged on one dataset only keeps a `not judged` row for the other, on both sides of the choice."""
    from spectral.claims import NOT_JUDGED
    verdicts = {side: pd.DataFrame([{"claim": "C3", "dataset": d, "verdict": "holds", "cells": 2, "cells_hold": 2,
                                     "cells_at_threshold": 0, "cells_fail": 0, "cells_judged": "2 cells",
                                     "detail": ""} for d in ("mnist", "all")]) for side in ("primary", "specification")}
    not_judged = pd.DataFrame([{"protocol": "paper", "claim": "C3", "dataset": "fashion-mnist", "experiment":
                                "perceptron", "n2": 0, "statistic": "W1"}])
    rows = verdict_rows(verdicts, not_judged, "eigvec init", {"primary": "uniform", "specification": "glorot"})
    fashion = rows[rows["dataset"] == "fashion-mnist"]
    assert len(fashion) == 2 and (fashion["verdict"] == NOT_JUDGED).all()
    assert (rows[rows["dataset"] == "mnist"]["verdict"] == "holds").all()


def test_a_run_missing_cells_of_its_plan_is_refused(tmp_path):
    """A cell of the seed plan with no runs would be filled by the primary's cell, trained at the reference value,
    and filed under the specification's: refused in one line; with every planned cell present it joins."""
    import yaml
    runs = spec_runs(-0.05)
    plan = {"first_seed": 2000, "cells": [{"protocol": "paper", "dataset": "mnist", "experiment": e,
                                           "scheme": "spectral-eigvals", "n2": int(n), "seeds": 10}
                                          for e, n in runs[["experiment", "n2"]].drop_duplicates().values]}
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan))
    _write_run(tmp_path / "paper", synthetic_runs(seeds=5), CONFIG, synthetic_distances())
    _write_run(tmp_path / "spec", runs[runs["n2"] != 1000], CONFIG | {"specification": SPEC,
                                                                    "design": str(tmp_path / "plan.yaml")})
    with pytest.raises(SpecificationError, match="cells of the seed plan .* have no runs"):
        specification(tmp_path / "spec", tmp_path / "paper")
    runs.to_csv(tmp_path / "spec" / "tables" / "runs.csv", index=False)
    verdicts, _ = specification(tmp_path / "spec", tmp_path / "paper")
    assert len(verdicts)


def test_a_specification_of_a_specification_is_judged_against_the_joined_primary(tmp_path):
    """A specification whose primary is itself a specification run (Glorot φ at per-width rates against uniform φ at
    per-width rates) is judged against that run joined onto its own primary: the reference side's C1 cells read the
    middle run's eigenvalue-trained cells, not the base run's; a primary reusing its own primary's seeds, or a loop of
    primaries, is refused."""
    from spectral.specification import primary_tables
    _write_run(tmp_path / "paper", synthetic_runs(seeds=5), CONFIG, synthetic_distances())
    middle = CONFIG | {"specification": SPEC | {"primary": str(tmp_path / "paper"), "choice": "tuning"}}
    _write_run(tmp_path / "per-width", spec_runs(-0.05, first_seed=3000), middle)
    runs, distances = primary_tables(tmp_path / "per-width")
    assert set(runs[runs["scheme"] == "spectral-eigvals"]["seed"]) == set(range(3000, 3010))
    assert set(runs[runs["scheme"] == "direct-full"]["seed"]) == set(range(5))
    assert len(distances) and len(runs) == len(join_runs(synthetic_runs(seeds=5), spec_runs(-0.05, first_seed=3000)))
    combo = CONFIG | {"specification": SPEC | {"primary": str(tmp_path / "per-width")}}
    _write_run(tmp_path / "combo", spec_runs(0.05, first_seed=4000), combo)
    _, cells = specification(tmp_path / "combo")
    c1 = cells[(cells["claim"] == "C1") & cells["reference"]]
    _, flat = specification(tmp_path / "combo", tmp_path / "paper")  # the base run alone as the primary
    flat_c1 = flat[(flat["claim"] == "C1") & flat["reference"]]
    both = c1.merge(flat_c1, on=["experiment", "n2", "statistic"], suffixes=("", "_flat"))
    assert len(both) == len(c1) > 0  # the middle run's eigenvalue gain is 10 pp below the base run's
    assert ((both["value"] - both["value_flat"]).round(2) == -0.10).all()
    for run in ("per-width", "combo"):  # published: both are the base run's specifications, the combo per-width's
        (tmp_path / run / "specification_verdicts.csv").write_text("claim\n")
    assert specification_runs(tmp_path / "paper") == [tmp_path / "combo", tmp_path / "per-width"]
    assert specification_runs(tmp_path / "per-width") == [tmp_path / "combo"]
    _write_run(tmp_path / "reuse", spec_runs(0.05, first_seed=0), combo)
    with pytest.raises(SpecificationError, match="reuses seed values"):
        primary_tables(tmp_path / "reuse")
    loop = CONFIG | {"specification": SPEC | {"primary": str(tmp_path / "loop")}}
    _write_run(tmp_path / "loop", spec_runs(0.05, first_seed=4000), loop)
    with pytest.raises(SpecificationError, match="its own primary"):
        primary_tables(tmp_path / "loop")
    (tmp_path / "loop" / "specification_verdicts.csv").write_text("claim\n")
    assert tmp_path / "loop" not in specification_runs(tmp_path / "paper")  # and the search ends
    from spectral.specification import root_primary
    assert root_primary(tmp_path / "combo") == root_primary(tmp_path / "per-width") == tmp_path / "paper"
    with pytest.raises(SpecificationError, match="its own primary"):
        root_primary(tmp_path / "loop")
