"""Does a Snakemake report show the verdict table on its landing page? Renders REPORT in headless Chromium.

    python tools/check_report.py output/paper/report.html [--screenshot report.png]

Exit 0 when the rendered landing page (the DOM after the report's scripts ran) holds the verdict table: a table of
class `verdicts` whose header names the claims column and whose rows carry claim names and verdicts; exit 1 with
one line saying what is missing; exit 2 when Chromium or the file is missing. With --screenshot it also writes
the landing page as PNG and checks that the image is not blank.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=10000"]
VERDICTS = ("holds", "does not hold", "holds in part", "at the threshold", "inconclusive")


def chromium() -> str | None:
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


def render(report: Path, *extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra,
                               report.resolve().as_uri()], capture_output=True, text=True, timeout=120)


def landing_table(dom: str) -> str | None:
    """What is wrong with the landing page's verdict table, or None when it is there."""
    table = re.search(r'<table[^>]*class="[^"]*verdicts[^"]*"[^>]*>(.*?)</table>', dom, re.S)
    if table is None:
        return "no table of class verdicts on the landing page"
    text = re.sub(r"<[^>]+>", " ", table.group(1))
    if "claim" not in text or "robust" not in text:
        return "the verdict table has no claim/robust header"
    if not re.search(r"\bC1\b", text) or not any(v in text for v in VERDICTS):
        return "the verdict table has no claim rows with verdicts"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args(argv)
    if chromium() is None:
        print("error: no Chromium (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    if not args.report.is_file():
        print(f"error: {args.report} does not exist", file=sys.stderr)
        return 2
    done = render(args.report, "--dump-dom")
    problem = landing_table(done.stdout) if done.returncode == 0 else f"Chromium failed: {done.stderr.strip()[-200:]}"
    if problem:
        print(f"{args.report}: {problem}", file=sys.stderr)
        return 1
    if args.screenshot:
        render(args.report, f"--screenshot={args.screenshot.resolve()}", "--window-size=1400,1600")
        from PIL import Image
        with Image.open(args.screenshot) as image:
            lo, hi = image.convert("L").getextrema()
        if hi - lo < 50:
            print(f"{args.screenshot}: the screenshot is blank", file=sys.stderr)
            return 1
    print(f"{args.report}: the landing page shows the verdict table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
