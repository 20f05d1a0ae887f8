"""tools/rebuild_report.py: a published run's report rebuilt from its published tables opens on the verdicts those
tables hold now (the README headline's table), and the headline stops calling the report stale."""
import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from rebuild_report import main  # noqa: E402

from spectral.headline import published_verdicts, results_section  # noqa: E402


@pytest.mark.skipif(shutil.which("snakemake", path=str(Path(sys.executable).parent)) is None,
                    reason="needs the venv's snakemake")
def test_a_rebuilt_report_carries_the_published_verdicts_now(tmp_path):
    """results/quick copied and re-decided by hand (C1 flipped to 'inconclusive' on every row): the rebuilt report
    holds the new verdict text, which the original report never had, and provenance records the rebuild against the
    re-analysis it follows, so the headline no longer calls the report stale."""
    results = tmp_path / "results" / "quick"
    shutil.copytree(ROOT / "results" / "quick", results)
    verdicts = pd.read_csv(results / "claim_verdicts.csv")
    verdicts.loc[verdicts["claim"] == "C1", "verdict"] = "inconclusive"
    verdicts.to_csv(results / "claim_verdicts.csv", index=False)
    prov = json.loads((results / "provenance.json").read_text())
    prov["reanalysis"] = {"commit": "4ed1120abc", "retrained_bit_identical": "by hand"}
    (results / "provenance.json").write_text(json.dumps(prov))
    table = published_verdicts(results).table
    c1 = table.loc[table["claim"] == "C1", "overall"].iloc[0]
    assert c1.startswith("inconclusive") and c1 not in (ROOT / "results" / "quick" / "report.html").read_text()
    assert "predate the re-analysis" in results_section(results, "results/quick")
    assert main([str(results)]) == 0
    assert c1 in (results / "report.html").read_text()
    assert json.loads((results / "provenance.json").read_text())["report"]["reanalysis_commit"] == "4ed1120abc"
    assert "predate the re-analysis" not in results_section(results, "results/quick")
    assert not list(results.glob("*.tmp"))


def test_a_directory_that_is_no_published_run_is_refused_in_one_line(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert "is not a published run" in capsys.readouterr().err
