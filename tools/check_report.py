"""Does a Snakemake report open on its answer? Renders REPORT in headless Chromium and measures its landing page.

    python tools/check_report.py results/paper/report.html [--screenshot report.png]

Exit 0 when, in the rendered landing page (the DOM after the report's scripts ran), the verdict table is there (a
table of class `verdicts` whose header names the claims column and whose rows carry claim names and verdicts) and,
at every window size of SIZES, the landing text's first element (its title) and the table's first and last rows
(the whole answer) lie inside the window without scrolling (their bounding boxes, measured by a script injected
into a copy of the page); exit 1 with one line saying what is
wrong; exit 2 when Chromium or the file is missing. With --screenshot it also writes the first screen at the first
size as PNG and checks that the image is not blank.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--virtual-time-budget=10000"]
ROW_NAMES = {"title": "title", "row": "verdict table's first row", "last": "verdict table's last row"}
VERDICTS = ("holds", "does not hold", "holds in part", "at the threshold", "inconclusive")
SIZES = ((1366, 768), (1920, 1080))  # a common laptop screen and a desktop one
# Injected into a copy of the page: once the verdict table is rendered, the title's and the first row's boxes.
MEASURE = """<script>(function poll(tries) {
  const table = document.querySelector("table.verdicts");
  if (!table && tries > 0) { setTimeout(() => poll(tries - 1), 100); return; }
  const title = document.querySelector(".document > :first-child");  // the landing text's first element
  const row = table && table.querySelector("tbody tr");
  const rows = table ? table.querySelectorAll("tbody tr") : [];
  const box = e => { if (!e) return null; const r = e.getBoundingClientRect(); return [r.top, r.bottom]; };
  const out = document.createElement("pre");
  out.id = "geometry";
  out.textContent = JSON.stringify({height: window.innerHeight, title: box(title), row: box(row),
                                    last: box(rows[rows.length - 1])});
  document.body.appendChild(out);
})(100);</script>"""


def chromium() -> str | None:
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


def render(report: Path, *extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra,
                               report.resolve().as_uri()], capture_output=True, text=True, timeout=180)


def landing_table(dom: str) -> str | None:
    """What is wrong with the landing page's verdict table, or None when it is there."""
    table = re.search(r'<table[^>]*class="[^"]*verdicts[^"]*"[^>]*>(.*?)</table>', dom, re.S)
    if table is None:
        return "no table of class verdicts on the landing page"
    text = re.sub(r"<[^>]+>", " ", table.group(1))
    if "claim" not in text:
        return "the verdict table has no claim header"
    if not re.search(r"\bC1\b", text) or not any(v in text for v in VERDICTS):
        return "the verdict table has no claim rows with verdicts"
    return None


def off_screen(geometry: dict) -> str | None:
    """What of the title and the table's first and last rows lies outside the window (`geometry` as MEASURE writes
    it), or None."""
    for name in ("title", "row", "last"):
        box = geometry.get(name)
        if box is None:
            return f"no {ROW_NAMES[name]} on the landing page"
        top, bottom = box
        if top < 0 or bottom > geometry["height"]:
            return (f"the {ROW_NAMES[name]} is not on the first screen (top {top:.0f} px, bottom {bottom:.0f} px, window "
                    f"{geometry['height']} px high)")
    return None


def measure(report: Path, width: int, height: int) -> dict | str:
    """The landing page's geometry at one window size, or what went wrong."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "report.html"
        html = report.read_text(encoding="utf-8")
        script = MEASURE
        head, body_end, tail = html.rpartition("</body>")  # the page's own end: earlier ones sit in its scripts
        copy.write_text(head + script + body_end + tail if body_end else html + script, encoding="utf-8")
        done = render(copy, "--dump-dom", f"--window-size={width},{height}")
    if done.returncode != 0:
        return f"Chromium failed: {done.stderr.strip()[-200:]}"
    found = re.search(r'<pre id="geometry">(.*?)</pre>', done.stdout, re.S)
    return json.loads(found.group(1).replace("&quot;", '"')) if found else "the page never rendered its table"


def check(report: Path, screenshot: Path | None = None) -> str | None:
    """Everything that is wrong with the report's first screen, or None."""
    done = render(report, "--dump-dom")
    problem = landing_table(done.stdout) if done.returncode == 0 else f"Chromium failed: {done.stderr.strip()[-200:]}"
    if problem:
        return problem
    for width, height in SIZES:
        geometry = measure(report, width, height)
        problem = geometry if isinstance(geometry, str) else off_screen(geometry)
        if problem:
            return f"at {width}x{height}: {problem}"
    if screenshot:
        width, height = SIZES[0]
        render(report, f"--screenshot={screenshot.resolve()}", f"--window-size={width},{height}")
        from PIL import Image
        with Image.open(screenshot) as image:
            lo, hi = image.convert("L").getextrema()
        if hi - lo < 50:
            return f"{screenshot}: the screenshot is blank"
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
    problem = check(args.report, args.screenshot)
    if problem:
        print(f"{args.report}: {problem}", file=sys.stderr)
        return 1
    sizes = " and ".join(f"{w}x{h}" for w, h in SIZES)
    print(f"{args.report}: the landing page opens on its title and whole verdict table at {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
