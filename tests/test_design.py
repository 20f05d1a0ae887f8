"""Tests for spectral.design and `python -m spectral design`: the power table, the seed plan and its file."""
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from spectral import stats
from spectral.cli import main
from spectral.design import cell_seeds, power_table, seed_plan
from test_claims import C5, evaluate, synthetic_runs

PRUNING = {**C5, "n2": [100]}


def pilot_cells(delta=None, **kw):
    """Claims cells of synthetic runs whose C1 effect is the same at every N2 (no slope)."""
    cells, _ = evaluate(synthetic_runs(n2_slope=0.0, **kw), **({"delta": delta} if delta is not None else {}))
    return cells


def test_power_table_gives_each_cell_the_seeds_for_80_percent_power():
    """A clear effect needs few seeds, a small one more; the planned n reaches the power at the planned level."""
    table = power_table(pilot_cells(eigvals_gain=0.012, noise=0.006), 0.05, 1000)
    c1 = table[table["claim"] == "C1"]
    assert (c1["direction"] == "holds").all() and (c1["level"] == 0.05).all()
    for r in c1.itertuples():
        assert stats.power(r.value, r.sd_a, r.sd_b, r.seeds, r.level) >= 0.8 > stats.power(
            r.value, r.sd_a, r.sd_b, r.seeds - 1, r.level) or r.seeds == 2
    big = power_table(pilot_cells(eigvals_gain=0.05), 0.05, 1000)
    assert big.loc[big["claim"] == "C1", "seeds"].max() < c1["seeds"].min()


def test_failing_cells_are_planned_at_holms_first_level():
    table = power_table(pilot_cells(eigvals_gain=-0.012, noise=0.006), 0.05, 1000)
    c1 = table[table["claim"] == "C1"]
    assert (c1["direction"] == "fails").all() and np.allclose(c1["level"], 0.05 / c1["family_size"])


def test_cells_above_the_cap_are_declared_and_not_chased():
    """A near-zero effect with no margin needs more than the cap: undecidable, and it does not raise any training
    cell's seeds above what the other cells need."""
    cells = pilot_cells(eigvals_gain=0.0002, noise=0.004, delta={"C1": 0.0})
    table = power_table(cells, 0.05, 20)
    c1 = table[table["claim"] == "C1"]
    assert (c1["expectation"] == "undecidable at this budget").any()
    plan = seed_plan(table, floor=5, cap=20, pruning=PRUNING, layout=None, telescopic_n2s=[10, 100, 1000])
    restricted = plan[plan["scheme"] == "direct-restricted"]
    decided = table[(table["claim"] == "C1") & (table["expectation"] != "undecidable at this budget")]
    assert restricted["seeds"].max() <= max(5, decided["seeds"].max() if len(decided) else 5)


def test_training_cell_gets_the_largest_need_within_floor_and_cap():
    table = power_table(pilot_cells(eigvals_gain=0.012, noise=0.006), 0.05, 40)
    plan = seed_plan(table, floor=10, cap=40, pruning=PRUNING, layout=None, telescopic_n2s=[10, 100, 1000])
    assert plan["seeds"].between(10, 40).all()
    row = plan[(plan["experiment"] == "nonlinear") & (plan["scheme"] == "spectral-eigvals") & (plan["n2"] == 10)]
    need = table[(table["claim"] == "C1") & (table["experiment"] == "nonlinear") & (table["n2"] == 10)]["seeds"]
    assert row["seeds"].item() == min(40, max(10, need.max()))


def make_pilot(path, cells):
    (path / "tables").mkdir(parents=True)
    cells.to_csv(path / "claims.csv", index=False)
    config = {"seeds": [0, 1, 2, 3, 4], "n2": [10, 100, 1000], "pruning": PRUNING,
              "claims": {"layout_variant": None, "layout_reference": None}}
    (path / "provenance.json").write_text(json.dumps({"git_commit": "abc1234", "config": config}))
    keys = cells[["protocol", "dataset", "experiment", "n2"]].drop_duplicates()
    pd.DataFrame([{**r._asdict(), "scheme": s, "seconds": 10.0 * (1 + r.n2 / 100)} for r in keys.itertuples(index=False)
                  for s in ("spectral-eigvals", "direct-restricted", "spectral-full", "direct-full")]).to_csv(
        path / "tables" / "job_times.csv", index=False)
    return path


def test_design_command_writes_and_prints_the_plan(tmp_path, capsys):
    """--from-pilot writes design.yaml and its power table, then prints it; plain `design` prints the file."""
    pilot = make_pilot(tmp_path / "pilot", pilot_cells(eigvals_gain=0.012, noise=0.006))
    file = tmp_path / "design.yaml"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "pruning": PRUNING, "n2": [10, 100, 1000], "datasets": ["mnist"], "run_protocols": ["paper"],
        "schemes": ["spectral-eigvals", "spectral-eigvecs", "direct-restricted", "spectral-full", "direct-full"],
        "experiments": {"perceptron": True, "telescopic": True, "nonlinear": True},
        "sensitivity": {"enabled": False, "protocols": [], "datasets": [], "n2": [], "schemes": []},
        "claims": {"alpha": 0.05, "layout_variant": None, "layout_reference": None}}))
    assert main(["design", "--from-pilot", str(pilot), "--file", str(file), "--floor", "10", "--cap", "20",
                 "--config", str(config)]) == 0
    design = yaml.safe_load(file.read_text())
    assert design["design"] == "fresh confirmatory run" and design["first_seed"] == 1000
    seeds = cell_seeds(design)
    figures = {(c["protocol"], c["dataset"], c["experiment"], c["scheme"], c["n2"]) for c in design["cells"]
               if c["driven_by"] == "no claim: figures only"}
    assert {k for k in seeds if k[3] == "spectral-eigvecs"} <= figures  # no claim uses them: the pilot's 5 seeds
    assert all(len(seeds[k]) == 5 for k in figures)
    assert all(s[0] == 1000 and 10 <= len(s) <= 20 for k, s in seeds.items() if k not in figures)
    assert (tmp_path / "design_power.csv").is_file() and "optional" not in capsys.readouterr().err
    assert main(["design", "--file", str(file)]) == 0
    out = capsys.readouterr().out
    assert "fresh confirmatory run" in out and "training cells" in out


@pytest.mark.parametrize("args, message", [
    (["--from-pilot", "missing"], "missing"),
    (["--floor", "30", "--cap", "20"], "floor"),
])
def test_design_command_refuses_bad_input(tmp_path, capsys, args, message):
    """A missing pilot or floor > cap: exit 2, one line, nothing written."""
    pilot = make_pilot(tmp_path / "pilot", pilot_cells())
    argv = ["design", "--file", str(tmp_path / "d.yaml")] + [a if a != "missing" else str(tmp_path / "none")
                                                            for a in args]
    if "--from-pilot" not in argv:
        argv += ["--from-pilot", str(pilot)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and not (tmp_path / "d.yaml").exists()


def test_a_specification_plan_holds_only_its_main_cells(tmp_path):
    """--main-only with an overlay that keeps the spectral schemes: the plan holds only the main grid's cells of those
    schemes (no C5 networks, no direct schemes), on the new seed values; without the overlay the direct schemes and
    the C5 networks come back."""
    pilot = make_pilot(tmp_path / "pilot", pilot_cells(eigvals_gain=0.012, noise=0.006))
    base = {"name": "paper", "pruning": PRUNING, "n2": [10, 100, 1000], "datasets": ["mnist"],
            "run_protocols": ["paper"], "schemes": ["spectral-eigvals", "direct-restricted", "spectral-full",
                                                    "direct-full"],
            "experiments": {"perceptron": True, "telescopic": True, "nonlinear": True},
            "sensitivity": {"enabled": False, "protocols": [], "datasets": [], "n2": [], "schemes": []},
            "claims": {"alpha": 0.05, "layout_variant": None, "layout_reference": None}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(base))
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump({"name": "spec", "schemes": ["spectral-eigvals",
                                                                                  "spectral-full"]}))
    file = tmp_path / "design-spec.yaml"
    assert main(["design", "--from-pilot", str(pilot), "--file", str(file), "--config", str(tmp_path / "config.yaml"),
                 str(tmp_path / "spec.yaml"), "--main-only", "--first-seed", "2000"]) == 0
    design = yaml.safe_load(file.read_text())
    assert design["design"] == "specification spec" and "specification run" in design["why"]
    seeds = cell_seeds(design)
    assert {k[3] for k in seeds} == {"spectral-eigvals", "spectral-full"} and {k[0] for k in seeds} == {"paper"}
    assert len(seeds) == 2 * (1 + 3 + 3) and all(s[0] == 2000 for s in seeds.values())
    assert main(["design", "--from-pilot", str(pilot), "--file", str(file), "--config",
                 str(tmp_path / "config.yaml")]) == 0
    assert {k[3] for k in cell_seeds(yaml.safe_load(file.read_text()))} >= {"direct-full", "direct-restricted"}


def test_changed_cells_are_the_cells_whose_settings_differ_with_c4s_paired_series():
    """A per-width rate for one nonlinear cell changes that cell only; one for a telescopic eigenvalue cell brings
    both of C4's paired series of that dataset at every N2 (their pairs must lie within one run), and nothing of the
    other dataset; with no change there is nothing to train."""
    import copy

    from spectral.design import changed_cells
    from spectral.experiments import config_cells
    base = yaml.safe_load(open("config/config.yaml"))
    main_cells = config_cells(base)["main"]
    spec = copy.deepcopy(base)
    spec["protocols"]["paper"]["lr"] = dict(spec["protocols"]["paper"]["lr"])
    spec["protocols"]["paper"]["lr"]["direct-full/nonlinear/mnist/n2000"] = 0.0003
    assert changed_cells(spec, base, main_cells) == [("paper", "mnist", "nonlinear", "direct-full", 2000)]
    spec["protocols"]["paper"]["lr"]["spectral-eigvals/telescopic/fashion-mnist/n1000"] = 0.01
    got = changed_cells(spec, base, main_cells)
    series = [c for c in main_cells if c[1] == "fashion-mnist" and c[2] == "telescopic"
              and c[3] in ("spectral-eigvals", "direct-full")]
    assert set(got) == set(series) | {("paper", "mnist", "nonlinear", "direct-full", 2000)}
    assert len(series) == 2 * len(base["n2"])
    assert changed_cells(base, base, main_cells) == []


def test_training_cells_are_a_specifications_plan_exactly_and_refuse_a_plan_that_misses_one(tmp_path):
    """The workflow reads one function: a specification trains exactly its plan's main cells
    (no C5 network, no sensitivity cell), with the plan's seed values; the primary config trains every cell, and a
    plan with one cell removed is refused in one line naming a missing cell."""
    from pathlib import Path

    from spectral.design import training_cells
    from spectral.experiments import load_config
    root = Path(__file__).resolve().parents[1]
    spec = load_config([root / "config" / "config.yaml", root / "config" / "per-width.yaml"])
    cells, seeds = training_cells(spec)
    plan = cell_seeds(yaml.safe_load((root / spec["design"]).read_text()))
    assert sorted(cells["main"]) == sorted(plan) and not cells["pruning"] and not cells["sensitivity"]
    assert all(seeds[c] == plan[c] and min(plan[c]) >= 3000 for c in cells["main"])
    primary = load_config([root / "config" / "config.yaml"])
    cells, seeds = training_cells(primary)
    assert cells["pruning"] and all(c in seeds for part in cells.values() for c in part)
    design = yaml.safe_load((root / primary["design"]).read_text())
    dropped = design["cells"].pop(0)
    (tmp_path / "design.yaml").write_text(yaml.safe_dump(design))
    with pytest.raises(ValueError, match=f"has no seeds for 1 training cells .*{dropped['scheme']}"):
        training_cells({**primary, "design": str(tmp_path / "design.yaml")})


def test_a_resumed_cells_cost_counts_its_kept_seeds():
    """The projected seconds per seed of a cell whose job took back kept seeds include them: a job of 100 s that
    took back 900 s of seeds is a 1000 s cell (10 seeds: 100 s each), not a 10 s-per-seed one."""
    from spectral.design import cost
    keys = {"protocol": "paper", "dataset": "mnist", "experiment": "nonlinear", "scheme": "spectral-eigvals", "n2": 2000}
    plan = pd.DataFrame([keys | {"seeds": 5}])
    times = pd.DataFrame([keys | {"seconds": 100.0, "kept_seconds": 900.0}])
    assert cost(plan, times, 10)["projected_seconds"].item() == 500.0
    assert cost(plan, times.drop(columns="kept_seconds"), 10)["projected_seconds"].item() == 50.0
