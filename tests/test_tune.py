"""Tests for `compare_picks`, `grid_moves` and `python -m spectral compare-tuning`: does a fresh tuning reproduce the picks?"""
import math

import pandas as pd

from spectral.cli import main
from spectral.tune import compare_picks, grid_moves


def grid(scores: dict) -> pd.DataFrame:
    """A tuning grid for one pick (paper, mnist, linear, spectral-eigvals): rate -> validation accuracy, best chosen."""
    best = max(scores, key=scores.get)
    return pd.DataFrame([{"protocol": "paper", "dataset": "mnist", "family": "linear", "scheme": "spectral-eigvals",
                          "lr": lr, "val_accuracy": acc, "chosen": lr == best, "status": "interior"}
                         for lr, acc in scores.items()])


def test_the_same_picks_reproduce(tmp_path, capsys):
    committed = grid({0.01: 0.80, 0.03: 0.85, 0.1: 0.82})
    committed.to_csv(tmp_path / "a.csv", index=False)
    assert main(["compare-tuning", str(tmp_path / "a.csv"), str(tmp_path / "a.csv")]) == 0
    assert "1 of 1 picks reproduce. Grid points both searches tried: 3 of 3 scored the same" in capsys.readouterr().out


def test_a_moved_pick_differs_and_costs_what_the_fresh_grid_says(tmp_path, capsys):
    committed = grid({0.01: 0.80, 0.03: 0.85, 0.1: 0.82})
    fresh = grid({0.01: 0.80, 0.0300001: 0.84, 0.1: 0.845})  # rates written to 3 digits: 0.0300001 is 0.03
    row = compare_picks(committed, fresh).iloc[0]
    assert row["status"] == "differs" and row["lr_fresh"] == 0.1 and math.isclose(row["cost_pp"], 0.5)
    committed.to_csv(tmp_path / "a.csv", index=False)
    fresh.to_csv(tmp_path / "b.csv", index=False)
    page = tmp_path / "page.md"
    assert main(["compare-tuning", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--markdown", str(page)]) == 1
    out = capsys.readouterr().out
    assert "0 of 1 picks reproduce; 1 differ" in out and "| differs |" in page.read_text()
    assert ("1 of 3 scored the same; the largest move is +2.50 pp (mnist, linear, spectral-eigvals, lr 0.1, where the "
            "committed pick is 0.03)") in out
    assert grid_moves(committed, fresh)["moved_pp"].round(6).tolist() == [0.0, -1.0, 2.5]
    untried = compare_picks(committed, grid({0.1: 0.845, 0.3: 0.80})).iloc[0]
    assert untried["status"] == "differs" and math.isnan(untried["cost_pp"])
    missing = compare_picks(committed, grid({0.1: 0.845}).assign(dataset="fashion-mnist"))
    assert set(missing["status"]) == {"missing"}


def test_a_file_that_is_no_grid_is_one_line_and_exit_2(tmp_path, capsys):
    grid({0.01: 0.80}).to_csv(tmp_path / "a.csv", index=False)
    grid({0.01: 0.80}).drop(columns="chosen").to_csv(tmp_path / "b.csv", index=False)
    assert main(["compare-tuning", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "b.csv is not a tuning grid: it lacks the columns chosen" in err
    assert main(["compare-tuning", str(tmp_path / "a.csv"), str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv cannot be read" in capsys.readouterr().err


def test_the_per_width_search_starts_at_the_pick_and_extends_until_interior(monkeypatch):
    """tune_width_point starts from the cell's N2 = tune.n2 rate x factors and steps x3 while the best is at an end."""
    from spectral import tune
    peak = 0.0011  # the validation accuracy peaks near 0.001, a decade below the starting pick 0.01
    monkeypatch.setattr(tune, "score", lambda *a: (-abs(math.log(a[5] / peak)), [0.5], 1.0))
    protocol = {"lr": {"direct-full/nonlinear": 0.01}}
    g = tune.tune_width_point("paper", protocol, "mnist", "nonlinear", "direct-full", 2000, [1 / 3, 1, 3], 4, 1, [0],
                              0.2, log=lambda m: None)
    assert g["lr"].tolist()[:3] == [0.00333, 0.01, 0.03] and g["lr"].tolist()[3:] == [0.00111, 0.00037]
    assert g.loc[g["chosen"], "lr"].tolist() == [0.00111] and set(g["status"]) == {"interior"}
    assert set(g["n2"]) == {2000} and set(g["start_lr"]) == {0.01}
    capped = tune.tune_width_point("paper", protocol, "mnist", "nonlinear", "direct-full", 2000, [1 / 3, 1, 3], 1,
                                   1, [0], 0.2, log=lambda m: None)
    assert set(capped["status"]) == {"edge"} and capped["lr"].min() == 0.00111
    overlay = tune.width_overlay("paper", g)
    assert overlay == {"protocols": {"paper": {"lr": {"direct-full/nonlinear/mnist/n2000": 0.00111}}}}
    table = tune.width_table(pd.concat([g, capped.assign(n2=1000)])).splitlines()
    assert table[0] == "| dataset | family | scheme | N2 = 100 rate | N2 = 1000 | N2 = 2000 |"
    assert table[2] == "| mnist | nonlinear | direct-full | 0.01 | 0.00111* | 0.00111 |"  # * = at the edge


def test_a_per_width_pick_refines_only_its_own_width():
    """learning_rate takes scheme/family/dataset/nN2 at that N2 only; the perceptron never reads a width key."""
    from spectral.experiments import learning_rate
    lr = {"direct-full/nonlinear/mnist": 0.003, "direct-full/nonlinear/mnist/n2000": 0.001, "direct-full": 0.1}
    assert learning_rate(lr, "direct-full", "nonlinear", "mnist", 2000) == 0.001
    assert learning_rate(lr, "direct-full", "nonlinear", "mnist", 1000) == 0.003
    assert learning_rate(lr, "direct-full", "nonlinear", "fashion-mnist", 2000) == 0.1
    assert learning_rate({**lr, "direct-full/linear/mnist/n0": 9.0}, "direct-full", "perceptron", "mnist", 0) == 0.1
