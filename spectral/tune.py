"""Learning rates chosen per scheme x family x dataset on a held-out validation split (never the test split).

For each dataset, family ("linear": the perceptron; "telescopic": 784 -> n2 -> 10 with identity activations;
"nonlinear": the same with the protocol's activation) and scheme: every rate of the grid trains `seeds` for `epochs` epochs on
(1 - validation_fraction) of the training split, with the protocol's other choices; the score is the mean final
validation accuracy over seeds. While the best rate sits at an end of the grid, the grid is extended by one x3 step
on that side (at most `max_extensions` per side); a pick still at an end is reported as "edge", else "interior".
The overlay sets `protocols.<name>.lr` keys "scheme/family/dataset".
The per-width search (`tune_width_point`, one job per scheme x family x dataset x N2) starts from the protocol's own
rate for that cell (the N2 = `tune.n2` pick) times `tune.per_width.factors` and extends the same way; its overlay
sets keys "scheme/family/dataset/nN2" (experiments.learning_rate), which refine the pick at that width only.
`compare_picks` says whether a fresh tuning reproduces committed picks, and what a differing pick costs;
`grid_moves` how far every grid point's score moved; `tuning_summary` says both in one paragraph.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from .train import train_cell
from .experiments import FAMILY_EXPERIMENT, cell_config, learning_rate

STEP = 3.0  # grid extension factor
PICK = ["protocol", "dataset", "family", "scheme"]  # one learning rate is chosen per these


def score(protocol: dict, dataset, experiment, n2, scheme, lr, epochs, seeds, validation_fraction, device, data):
    """(mean validation accuracy, per-seed list, seconds) of one grid point; `data` is the config's data block."""
    cfg = cell_config({**protocol, "epochs": epochs, "lr": {scheme: lr}}, dataset, experiment, scheme, n2,
                      validation_fraction=validation_fraction, device=device, train_subset=data.get("train_subset"),
                      test_subset=data.get("test_subset"), data_dir=data.get("dir"))
    start = time.perf_counter()
    records = [r for r, _, _ in train_cell(cfg, seeds, quiet=True)]
    accs = [r["final_val_accuracy"] for r in records]
    return sum(accs) / len(accs), accs, time.perf_counter() - start


def rate(lr: float) -> float:
    """A rate to 3 significant digits, as every grid writes it (0.001 / 3 is 0.000333)."""
    return float(f"{lr:.3g}")


def search(run, tried: dict, lrs, max_extensions: int) -> tuple[float, str]:
    """(best rate, "interior" or "edge"): run(lr) every rate of `lrs` (it fills tried[lr] with the score), then one x3
    step beyond the best rate while it sits at an end of what was tried, at most `max_extensions` per side."""
    for lr in sorted(lrs):
        run(lr)
    low = high = 0
    while True:
        best = max(tried, key=tried.get)
        if best == min(tried) and low < max_extensions:
            low += 1
            run(rate(best / STEP))
        elif best == max(tried) and high < max_extensions:
            high += 1
            run(rate(best * STEP))
        else:
            break
    return best, "interior" if min(tried) < best < max(tried) else "edge"


def tune_width_point(name: str, protocol: dict, dataset: str, family: str, scheme: str, n2: int, factors,
                     max_extensions: int, epochs: int, seeds, validation_fraction: float, device="auto", data=None,
                     log=print) -> pd.DataFrame:
    """The grid of one per-width pick: the protocol's rate for this cell (its N2 = tune.n2 pick) times `factors`,
    extended by `search`; one row per rate, as tune_learning_rates writes them, plus `n2` and `start_lr`."""
    experiment = FAMILY_EXPERIMENT[family]
    assert experiment != "perceptron", "the perceptron has no width: its rate is the linear family's"
    start = learning_rate(protocol["lr"], scheme, experiment, dataset)
    rows, tried = [], {}

    def run(lr):
        mean, accs, seconds = score(protocol, dataset, experiment, n2, scheme, lr, epochs, seeds, validation_fraction,
                                    device, data or {})
        tried[lr] = mean
        rows.append({"protocol": name, "dataset": dataset, "family": family, "scheme": scheme, "n2": n2,
                     "start_lr": start, "lr": lr, "val_accuracy": mean, "val_accuracy_min": min(accs),
                     "val_accuracy_max": max(accs), "seeds": len(accs), "epochs": epochs, "seconds": seconds})
        log(f"{dataset} {family} {scheme} N2={n2} lr={lr:g}: validation accuracy {mean:.4f} ({seconds:.1f} s)")

    best, status = search(run, tried, [rate(start * f) for f in factors], max_extensions)
    return pd.DataFrame(rows).assign(chosen=lambda g: g["lr"] == best, status=status)


def width_overlay(name: str, grid: pd.DataFrame) -> dict:
    """The config overlay of a per-width grid: protocols.<name>.lr."scheme/family/dataset/nN2" = its pick."""
    picks = grid[grid["chosen"].astype(str) == "True"]
    return {"protocols": {name: {"lr": {f"{r.scheme}/{r.family}/{r.dataset}/n{r.n2}": float(r.lr)
                                        for r in picks.itertuples()}}}}


def width_table(grid: pd.DataFrame) -> str:
    """The per-width picks as a Markdown table: one row per dataset x family x scheme, its N2 = tune.n2 starting
    rate, then the pick at each N2 (`*` marks a pick at the edge of its grid; every published pick should be
    interior)."""
    picks = grid[grid["chosen"].astype(str) == "True"]
    n2s = sorted(picks["n2"].unique())
    lines = ["| dataset | family | scheme | N2 = 100 rate | " + " | ".join(f"N2 = {n}" for n in n2s) + " |",
             "|---" * (4 + len(n2s)) + "|"]
    for (dataset, family, scheme), g in picks.groupby(["dataset", "family", "scheme"], sort=True):
        by = {int(r.n2): f"{r.lr:.3g}" + ("*" if r.status == "edge" else "") for r in g.itertuples()}
        lines.append(f"| {dataset} | {family} | {scheme} | {g['start_lr'].iloc[0]:.3g} | "
                     + " | ".join(by.get(int(n), "–") for n in n2s) + " |")
    return "\n".join(lines)


def tune_learning_rates(name: str, protocol: dict, schemes, datasets, lrs, epochs, seeds, validation_fraction, n2,
                        max_extensions=2, device="auto", data=None, log=print, families=("linear", "nonlinear")):
    """(grid DataFrame, overlay {'protocols': {name: {'lr': {...}}}})."""
    rows, picks = [], {}
    for dataset in datasets:
        for family in families:
            experiment = FAMILY_EXPERIMENT[family]
            cell_n2 = 0 if experiment == "perceptron" else n2
            for scheme in schemes:
                tried = {}

                def run(lr):
                    mean, accs, seconds = score(protocol, dataset, experiment, cell_n2, scheme, lr, epochs, seeds,
                                                validation_fraction, device, data or {})
                    tried[lr] = mean
                    rows.append({"protocol": name, "dataset": dataset, "family": family, "scheme": scheme, "lr": lr,
                                 "val_accuracy": mean, "val_accuracy_min": min(accs), "val_accuracy_max": max(accs),
                                 "seeds": len(accs), "epochs": epochs, "seconds": seconds})
                    log(f"{dataset} {family} {scheme} lr={lr:g}: validation accuracy {mean:.4f} ({seconds:.1f} s)")

                best, status = search(run, tried, lrs, max_extensions)
                picks[f"{scheme}/{family}/{dataset}"] = float(best)
                for row in rows:
                    if (row["dataset"], row["family"], row["scheme"]) == (dataset, family, scheme):
                        row["chosen"] = row["lr"] == best
                        row["status"] = status
    grid = pd.DataFrame(rows)
    return grid, {"protocols": {name: {"lr": picks}}}


def _rates(grid: pd.DataFrame) -> pd.DataFrame:
    """The grid with its rates to 3 significant digits, as tune_learning_rates writes them."""
    return grid.assign(lr=[rate(lr) for lr in grid["lr"]])


def compare_picks(committed: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """Per pick (PICK keys of either grid): the committed and the fresh rate, whether they are the same (to 3
    significant digits, as the grid writes its rates), each grid's validation accuracy at its own pick, and `cost_pp`:
    how far below the fresh pick the committed rate scores on the fresh grid (percentage points; 0 when the picks
    agree, NaN when the fresh grid did not try the committed rate). A pick missing on one side has status `missing`."""
    committed, fresh = _rates(committed), _rates(fresh)
    picks = [g[g["chosen"].astype(str) == "True"][PICK + ["lr", "val_accuracy"]] for g in (committed, fresh)]
    table = picks[0].merge(picks[1], how="outer", on=PICK, suffixes=("_committed", "_fresh"))
    at_committed = table[PICK + ["lr_committed"]].merge(
        fresh.rename(columns={"lr": "lr_committed"}).groupby(PICK + ["lr_committed"], as_index=False)["val_accuracy"]
        .max(), how="left", on=PICK + ["lr_committed"])["val_accuracy"]
    table["cost_pp"] = 100 * (table["val_accuracy_fresh"] - at_committed)
    table["status"] = np.where(table[["lr_committed", "lr_fresh"]].isna().any(axis=1), "missing",
                               np.where(table["lr_committed"] == table["lr_fresh"], "same", "differs"))
    return table


def grid_moves(committed: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """Every grid point (PICK keys and rate) both grids tried, with both validation accuracies and `moved_pp`: the
    fresh minus the committed score in percentage points (0 when the search reproduced that point exactly)."""
    keys = PICK + ["lr"]
    points = _rates(committed)[keys + ["val_accuracy"]].merge(_rates(fresh)[keys + ["val_accuracy"]], on=keys,
                                                                suffixes=("_committed", "_fresh"))
    return points.assign(moved_pp=100 * (points["val_accuracy_fresh"] - points["val_accuracy_committed"]))


def tuning_summary(picks: pd.DataFrame, moves: pd.DataFrame) -> tuple[bool, str]:
    """(every pick the same, one paragraph): the picks of `compare_picks` and the grid points of `grid_moves`."""
    counts = picks["status"].value_counts()
    text = (f"{counts.get('same', 0)} of {len(picks)} picks reproduce"
            + (f"; {counts.get('differs', 0)} differ (the committed rate scores up to {picks['cost_pp'].max():.2f} pp "
               "below the fresh pick on the fresh grid)" if counts.get("differs", 0) else "")
            + (f"; {counts['missing']} missing on one side" if counts.get("missing", 0) else ""))
    if not moves.empty:
        far = moves.loc[moves["moved_pp"].abs().idxmax()]
        text += (f". Grid points both searches tried: {(moves['moved_pp'] == 0).sum()} of {len(moves)} scored the "
                 f"same; the largest move is {far['moved_pp']:+.2f} pp ({', '.join(far[PICK[1:]])}, lr {far['lr']:g}, "
                 f"where the committed pick is {picks.set_index(PICK).loc[tuple(far[PICK]), 'lr_committed']:g})")
    return counts.get("same", 0) == len(picks), text
