"""The reader's pages: every relative link in README.md, docs/ and results/README.md points at a file that exists."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "results" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def relative_links(text: str) -> list[str]:
    return [link for link in re.findall(r"\]\(([^)#\s]+)", text) if not re.match(r"[a-z]+:", link)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    missing = [link for link in relative_links(page.read_text()) if not (page.parent / link).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"


def test_a_broken_link_is_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[ok](page.md) [gone](docs/nothing.md) [web](https://example.org/x)")
    assert [link for link in relative_links(page.read_text()) if not (page.parent / link).exists()] == ["docs/nothing.md"]


def test_readme_links_every_docs_page():
    readme = (ROOT / "README.md").read_text()
    assert [p.name for p in sorted((ROOT / "docs").glob("*.md")) if f"docs/{p.name}" not in readme] == []


OUTSIDE = re.compile(r"\.\./shared|shared/EVIDENCE|shared EVIDENCE")  # the workplace's notes, never in a user's clone


def outside_references(paths) -> list[str]:
    return [str(p) for p in paths if p.is_file() and OUTSIDE.search(p.read_text(errors="ignore"))]


def test_no_file_points_outside_the_repository(tmp_path):
    """No tracked page, config or source names a path outside the repository (a user's clone has none of it)."""
    tracked = [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("spectral/*.py"), *ROOT.glob("config/*.yaml"),
               *ROOT.glob("workflow/**/*.smk"), *ROOT.glob("workflow/**/*.rst"), *ROOT.glob("workflow/scripts/*.py"),
               *ROOT.glob("results/**/*.md")]
    assert outside_references(tracked) == []
    (tmp_path / "bad.md").write_text("see ../shared/EVIDENCE.md")
    assert outside_references([tmp_path / "bad.md"]) == [str(tmp_path / "bad.md")]
