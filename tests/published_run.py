"""A finished run in output/ for the publish and headline tests: make_output writes one (not a test module)."""
import json
import os
from pathlib import Path

import pandas as pd

from spectral.claims import CELL_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_800_000_000  # a fixed epoch second for the benchmark files' end times
CONFIG = {"name": "demo", "run_protocols": ["paper"], "datasets": ["mnist", "fashion-mnist"], "sensitivity": {"n2": [10]},
          "claims": {"equivalence_margin": 0.01}, "pruning": {"connectivity": "l1"}}
PROVENANCE = {"git_commit": "0123456789abcdef", "platform": "Linux-x86_64", "devices": ["cpu (x86_64)"],
              "threads": [2], "python": "3.11.7", "packages": {"torch": "2.14.1", "numpy": "2.4.6", "snakemake": "9"},
              "n_runs": 2, "config": CONFIG}
VERDICTS = [("paper", "C1", "mnist", "holds", 2, 2, 0, 0), ("paper", "C1", "fashion-mnist", "holds in part", 2, 1, 1, 0),
            ("paper", "C1", "all", "holds in part", 4, 3, 1, 0), ("pruning-2022", "C5", "all", "does not hold", 2, 0, 0, 1),
            ("per-layer", "C1", "all", "holds", 4, 4, 0, 0)]


def bench(path: Path, seconds: float, end: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"s\th:m:s\tmax_rss\tcpu_time\n{seconds}\t0:00:00\t100.0\t{seconds * 2}\n")
    os.utime(path, (end, end))


def make_output(path: Path, commits=("0123456789abcdef",) * 2) -> Path:
    """A finished run: two cells (one job each, an hour apart), a stale benchmark, records (trained at `commits`,
    None: not recorded), arrays, figures."""
    (path / "tables").mkdir(parents=True)
    cells = [("paper", "mnist", "perceptron", "direct-full", 0), ("paper", "mnist", "nonlinear", "direct-full", 10)]
    pd.DataFrame([dict(zip(["protocol", "dataset", "experiment", "scheme", "n2"], c), seed=0) for c in cells]).to_csv(
        path / "tables" / "runs.csv", index=False)
    jobs = path / "benchmarks" / "jobs" / "paper" / "mnist"
    bench(jobs / "perceptron" / "direct-full" / "n0.tsv", 100.0, T0)
    bench(jobs / "nonlinear" / "direct-full" / "n10.tsv", 200.0, T0 + 3600)
    bench(jobs / "nonlinear" / "direct-full" / "n999.tsv", 5.0, T0)  # an earlier config's cell: not this run's
    for c, commit in zip(cells, commits):
        run = path / "runs" / "/".join(c[:4]) / f"n{c[4]}"
        run.mkdir(parents=True)
        (run / "seed0.json").write_text(json.dumps({} if commit is None else {"git_commit": commit}))
        (run / "seed0.npz").write_bytes(b"arrays")
    pd.DataFrame(VERDICTS, columns=["protocol", "claim", "dataset", "verdict", "cells", "cells_hold",
                                    "cells_at_threshold", "cells_fail"]).assign(detail="").to_csv(
        path / "claim_verdicts.csv", index=False)
    pd.DataFrame(columns=CELL_COLUMNS).to_csv(path / "claims.csv", index=False)
    (path / "claims.md").write_text("# claims")
    (path / "figures").mkdir()
    for fig in ("fig2_linear", "fig3_nonlinear"):
        (path / "figures" / f"{fig}.png").write_bytes(b"png")
    (path / "provenance.json").write_text(json.dumps(PROVENANCE))
    return path
