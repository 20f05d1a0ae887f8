"""Tests for tools/widest_first.py: a specification's run records, widest N2 first, exactly its plan's."""
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from widest_first import targets_by_width  # noqa: E402

from spectral.experiments import load_config  # noqa: E402


def test_the_bf16_checks_records_come_widest_first_and_match_its_plan():
    config = load_config([ROOT / "config" / "config.yaml", ROOT / "config" / "bf16-check.yaml"])
    targets = targets_by_width(config)
    assert list(targets) == [2000, 1000, 0]
    plan = yaml.safe_load((ROOT / "config" / "design-bf16-check.yaml").read_text())
    assert sum(len(v) for v in targets.values()) == sum(c["seeds"] for c in plan["cells"])
    assert all(f.startswith("output/bf16-check/runs/paper/") and "/seed4" in f for v in targets.values() for f in v)
