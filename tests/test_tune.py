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
