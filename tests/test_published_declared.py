"""Every published run with a seed plan was declared before its data (spectral.declared on results/*/ and the
repository's own history); skipped where the history cannot date it (a shallow clone, no git)."""
import json
import subprocess

import pytest

from published_run import ROOT
from spectral.declared import check

PLANNED = sorted(p.parent for p in (ROOT / "results").glob("*/provenance.json")
                 if json.loads(p.read_text())["config"].get("design") and (p.parent / "runs").is_dir())


@pytest.mark.parametrize("run", PLANNED, ids=[p.name for p in PLANNED])
def test_a_published_run_was_declared_before_its_data(run):
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=ROOT, capture_output=True, text=True)
    if shallow.returncode or shallow.stdout.strip() != "false":
        pytest.skip("no full git history here to date the seed plan")
    found = check(run, ROOT)
    assert found.ok, found.details
