"""benchmarks/runs.py: a run's measured job time per model against a reference run's (the bf16 check's speed-up)."""
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from runs import measured_speedup  # noqa: E402

CELL = {"protocol": "paper", "dataset": "mnist", "experiment": "nonlinear"}


def _run(path: Path, cells) -> Path:
    """A published-like run: tables/job_times.csv (one job per cell) and tables/runs.csv (`models` rows per cell)."""
    (path / "tables").mkdir(parents=True)
    pd.DataFrame([{**CELL, "scheme": s, "n2": n, "seconds": sec, "kept_seconds": kept, "end": "2026-12-07T00:00:00"}
                  for s, n, sec, kept, _ in cells]).to_csv(path / "tables" / "job_times.csv", index=False)
    pd.DataFrame([{**CELL, "scheme": s, "n2": n, "seed": k} for s, n, _, _, models in cells
                  for k in range(models)]).to_csv(path / "tables" / "runs.csv", index=False)
    return path


def test_the_speed_up_is_per_model_on_shared_cells_and_counts_kept_seeds(tmp_path):
    """Reference 100 s per model; the run 50 s per model (one job of it resumed: 300 s + 200 s kept for 10 models):
    2x on each shared cell; a cell only one run trained is left out; per model, so unequal seed counts compare."""
    ref = _run(tmp_path / "ref", [("direct-full", 2000, 2000.0, 0.0, 20), ("spectral-full", 2000, 1000.0, 0.0, 10),
                                  ("direct-full", 100, 50.0, 0.0, 5)])
    run = _run(tmp_path / "run", [("direct-full", 2000, 300.0, 200.0, 10), ("spectral-full", 2000, 250.0, 0.0, 5)])
    table, totals = measured_speedup(run, ref)
    assert totals["cells"] == 2 and totals["speedup"] == pytest.approx(2.0)
    assert list(table[2000]) == pytest.approx([2.0, 2.0])
    assert totals["job_h_at_reference_speed"] == pytest.approx((1000 + 500) / 3600)
    slower = _run(tmp_path / "slower", [("direct-full", 2000, 2000.0, 0.0, 10)])
    assert measured_speedup(slower, ref)[1]["speedup"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="share no trained cell"):
        measured_speedup(_run(tmp_path / "none", [("direct-full", 10, 5.0, 0.0, 2)]), ref)
