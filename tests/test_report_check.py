"""The report opens on its answer: tools/check_report.py measures the landing page in headless Chromium."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "results" / "paper" / "report.html"
# The landing style, from the one place it is written: the report's landing text (workflow/report/workflow.rst)
STYLE = re.search(r'<style id="spectral-landing">.*?</style>', (ROOT / "workflow" / "report" / "workflow.rst")
                  .read_text()).group(0)
# Snakemake embeds the landing text in the page as it is, or as a JSON string (a report rebuilt from published tables,
# tools/rebuild_report.py): the style in either form
STYLES = (STYLE, json.dumps(STYLE)[1:-1])
pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Chromium (Debian: chromium)")


def check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "check_report.py"), str(path)], capture_output=True,
                          text=True, timeout=600)


def test_the_published_report_opens_on_its_title_and_whole_answer():
    """At 1366x768 and 1920x1080 the landing text's first element and the answer table's first and last rows are on
    screen."""
    assert any(style in REPORT.read_text(encoding="utf-8") for style in STYLES)
    done = check(REPORT)
    assert done.returncode == 0, done.stderr


def test_snakemake_s_centred_landing_page_fails_the_check(tmp_path):
    """The same report without the landing style (as Snakemake lays it out) hides its title above the screen."""
    plain = tmp_path / "report.html"
    text = REPORT.read_text(encoding="utf-8")
    for style in STYLES:
        text = text.replace(style, "")
    plain.write_text(text, encoding="utf-8")
    done = check(plain)
    assert done.returncode == 1 and "is not on the first screen" in done.stderr, done.stderr


def test_an_answer_table_that_runs_below_the_first_screen_fails_the_check(tmp_path):
    """The same report with the answer table set in large type: its first row is on screen, its last is not, and the
    check names the last row (the whole answer must be on the first screen, not only its start)."""
    tall = tmp_path / "report.html"
    text = REPORT.read_text(encoding="utf-8")
    assert "font-size:11px;line-height:1.3" in text
    tall.write_text(text.replace("font-size:11px;line-height:1.3", "font-size:14px;line-height:1.6"), encoding="utf-8")
    done = check(tall)
    assert done.returncode == 1 and "the verdict table's last row is not on the first screen" in done.stderr, \
        done.stderr
