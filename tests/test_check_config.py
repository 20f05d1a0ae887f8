"""Tests for tools/check_config.py, which `make reproduce` runs before any setup: one line and exit 2 on a bad CONFIG."""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def check(*paths):
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "check_config.py"), *map(str, paths)], cwd=ROOT,
                          capture_output=True, text=True)
    return done.returncode, done.stderr


@pytest.mark.parametrize("overlay", ["config/config.yaml", "config/quick.yaml", "config/smoke.yaml",
                                     "config/eigvecs-glorot.yaml", "config/bf16-check.yaml", "config/per-width.yaml"])
def test_the_shipped_configs_are_valid(overlay):
    assert check(overlay) == (0, "")


@pytest.mark.parametrize("overlay,message", [
    ("config/nope.yaml", "config/nope.yaml does not exist"),
    ({"seeds": "zero"}, "seeds"), ({"unknown_key": 1}, "unknown_key"),
    ({"design": "config/design-nope.yaml"}, "its seed plan config/design-nope.yaml does not exist"),
    ({"specification": {"primary": "results/paper", "choice": "tuning", "value": "per width"}},
     "spectral-eigvals has no per-width rate"),  # config/config.yaml's schemes, rates at N2 = 100 only
    ("config/glorot-per-width.yaml", "spectral-eigvals has no per-width rate")])  # declared before its search
def test_a_bad_config_is_one_line_and_exit_2(overlay, message, tmp_path):
    if isinstance(overlay, dict):
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(overlay))
        overlay = path
    rc, err = check(overlay)
    assert rc == 2 and err.count("\n") == 1 and err.startswith("error: ") and message in err, err
