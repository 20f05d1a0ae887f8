"""Tests for spectral.headline: the README's Results section, the answer first, rendered from a published run."""
import json
import re

import pandas as pd
import pytest
import yaml

from published_run import ROOT, make_output
from spectral.cli import main
from spectral.headline import README_END, README_START, results_section, update_readme
from spectral.publish import PublishError, publish


def test_results_section_follows_the_verdicts(tmp_path):
    """The section has one row per claim with each dataset's verdict; a flipped verdict changes it."""
    results = tmp_path / "results" / "demo"
    publish(make_output(tmp_path / "out"), results)
    text = results_section(results, "results/demo")
    answer = next(line for line in text.splitlines() if line.startswith("| **C1**"))
    assert answer == ("| **C1** | Training eigenvalues only beats direct training of as many randomly chosen weights | "
                      "holds on MNIST, holds in part on Fashion-MNIST |")  # the bottom line, from the verdicts
    row = next(line for line in text.splitlines() if line.startswith("| C1 |"))
    assert row.split(" | ")[1] == "NC21 abstract" and "identical number of free parameters" in row
    assert row.split(" | ")[3:6] == ["holds (2/2)", "holds in part (1/2, 1 at threshold)",
                                     "holds in part (3/4, 1 at threshold)"]
    assert "| **C5** " in text and "| C5 |" in text  # C5 under its own protocol; other protocols' C1 rows are not shown
    assert sum(line.startswith("| **C1**") for line in text.splitlines()) == 1
    assert sum(line.startswith("| C1 |") for line in text.splitlines()) == 1
    assert text.index("| **C1**") < text.index("**What is tested.**") < text.index("### The papers' claims in detail") \
        < text.index("### Our readings")  # the answer first, then how to read it, then the detail
    assert "![fig2: linear networks](results/demo/figures/fig2_linear.png)" in text
    verdicts = pd.read_csv(results / "claim_verdicts.csv")
    verdicts.loc[verdicts["dataset"] == "mnist", "verdict"] = "does not hold"
    verdicts.to_csv(results / "claim_verdicts.csv", index=False)
    text = results_section(results, "results/demo")
    assert "| does not hold (2/2) |" in next(line for line in text.splitlines() if line.startswith("| C1 |"))
    assert next(line for line in text.splitlines() if line.startswith("| **C1**")).endswith(
        "| does not hold on MNIST, holds in part on Fashion-MNIST |")
    assert "re-decided" not in results_section(results, "results/demo")
    prov = json.loads((results / "provenance.json").read_text())
    prov["reanalysis"] = {"commit": "4ed1120abc", "retrained_bit_identical": "3 of 3 retrained runs equal", "runs_added": 2}
    (results / "provenance.json").write_text(json.dumps(prov))
    assert "re-decided under the rule as of commit `4ed1120` (3 of 3 retrained runs equal)" in \
        results_section(results, "results/demo")
    assert "predate the re-analysis" in results_section(results, "results/demo")  # the report is the original one
    prov["report"] = {"reanalysis_commit": "4ed1120abc"}  # tools/rebuild_report.py after that re-analysis
    (results / "provenance.json").write_text(json.dumps(prov))
    assert "predate the re-analysis" not in results_section(results, "results/demo")
    prov["reanalysis"]["commit"] = "5fe2231abc"  # re-decided again since: the rebuilt report is stale once more
    (results / "provenance.json").write_text(json.dumps(prov))
    assert "predate the re-analysis" in results_section(results, "results/demo")
    (results / "figures" / "fig3_nonlinear.png").unlink()
    with pytest.raises(PublishError, match="fig3_nonlinear.png is missing"):
        results_section(results, "results/demo")


def test_update_readme_replaces_only_the_section(tmp_path, capsys):
    """Text outside the markers is kept; a second run changes nothing; a README without markers is refused."""
    out = make_output(tmp_path / "output" / "demo")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{README_START.format(name='demo')}\nold text\n{README_END}\n\n## After\n")
    assert main(["publish", str(out), str(tmp_path / "results" / "demo"), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# Title\n\n") and text.endswith(f"{README_END}\n\n## After\n") and "old text" not in text
    assert "results/demo/claims.md" in text
    assert not update_readme(readme, tmp_path / "results" / "demo")
    readme.write_text("# no markers\n")
    assert main(["publish", str(out), str(tmp_path / "results" / "demo"), "--readme", str(readme)]) == 2
    assert "has no Results section markers" in capsys.readouterr().err
    assert main(["publish", str(out), str(tmp_path / "x"), "--readme", str(readme), "--tables-only"]) == 2
    assert not (tmp_path / "x").exists()


def test_the_readme_shows_the_committed_reference():
    """README.md's Results section is exactly what the committed results/<name> renders (no hand edits, no drift)."""
    text = (ROOT / "README.md").read_text()
    start = next((line for line in text.splitlines() if line.startswith(README_START.split("{")[0])), None)
    assert start is not None and README_END in text, "README.md has lost its Results section markers"
    name = start.split("from results/")[1].split(";")[0]
    results = ROOT / "results" / name
    if not (results / "README.md").is_file():
        pytest.skip(f"results/{name} is not published yet")
    section = text[text.index(start):text.index(README_END) + len(README_END)]
    assert section == results_section(results, f"results/{name}")


def test_the_readme_opens_on_its_answer():
    """README.md's first lines hold the answer: the title, one intro paragraph and one sentence lead to the answer
    table, whose rows are every paper claim with its verdict, before any reading guide or detail (a reader's first
    screen: at 1366 x 768 the whole answer table fits, docs/tests.md). Fails when prose is put before the answer."""
    text = (ROOT / "README.md").read_text()
    first_row = next((i for i, line in enumerate(text.splitlines()) if line.startswith("| **C1** |")), None)
    assert first_row is not None, "README.md has no answer table (a row starting '| **C1** |')"
    before = "\n".join(text.splitlines()[:first_row])
    prose = re.sub(r"<!--.*?-->|\[([^]]*)\]\([^)]*\)", r"\1", before, flags=re.S)  # what a reader sees of it
    assert len(prose) < 1100, f"{len(prose)} characters of text before the answer table: the answer must come first"
    assert "**What is tested.**" not in before and "### " not in before
    rows = [line for line in text.splitlines()[first_row:] if line.startswith("| **")]
    assert {"C1", "C2@1pp", "C3", "C5"} <= {line.split("**")[1] for line in rows}


def test_a_declared_specification_is_pending_until_its_verdicts_are_published(tmp_path):
    """config/*.yaml declaring a specification of results/paper is named under 'Not yet varied' until
    results/<its name>/specification_verdicts.csv exists; a specification of another run never is."""
    from spectral.headline import pending_specifications
    (tmp_path / "config").mkdir()
    (tmp_path / "results" / "paper").mkdir(parents=True)
    spec = {"primary": "results/paper", "choice": "eigvec init", "value": "glorot"}
    (tmp_path / "config" / "g.yaml").write_text(yaml.safe_dump({"name": "g", "specification": spec}))
    (tmp_path / "config" / "o.yaml").write_text(yaml.safe_dump({"name": "o", "specification": {
        **spec, "primary": "results/pilot"}}))
    (tmp_path / "config" / "plain.yaml").write_text(yaml.safe_dump({"name": "quick"}))
    assert pending_specifications(tmp_path / "results" / "paper") == [("eigvec init", "glorot", "config/g.yaml", "")]
    spec["question"] = "do the verdicts change?"
    (tmp_path / "config" / "g.yaml").write_text(yaml.safe_dump({"name": "g", "specification": spec}))
    assert pending_specifications(tmp_path / "results" / "paper")[0][3] == "do the verdicts change?"
    (tmp_path / "results" / "g").mkdir()
    (tmp_path / "results" / "g" / "specification_verdicts.csv").write_text("choice\n")
    assert pending_specifications(tmp_path / "results" / "paper") == []
    (tmp_path / "results" / "g" / "provenance.json").write_text(json.dumps({"config": {"specification": spec}}))
    (tmp_path / "config" / "c.yaml").write_text(yaml.safe_dump({"name": "c", "specification": {  # a specification
        **spec, "primary": "results/g", "choice": "eigvec init at per-width rates"}}))  # of g, itself one of paper
    assert [p[2] for p in pending_specifications(tmp_path / "results" / "paper")] == ["config/c.yaml"]


PAPER_AND_AUTHORS = [("protocol", "paper", True, d, "holds") for d in ("mnist", "fashion-mnist")]


@pytest.mark.parametrize("words, choices, expected", [
    (("holds (2/2)", "holds (2/2)"), [*PAPER_AND_AUTHORS, ("protocol", "authors-2020", False, "mnist", "holds")],
     "holds on both datasets; the same under every choice varied"),
    (("does not hold (15/17, 1 fail)", "does not hold (13/17, 1 fail)"), PAPER_AND_AUTHORS,
     "does not hold on either dataset (1 of 17 claim cells fails on each: telescopic N2 = 2000); the same under "
     "every choice varied"),
    (("holds (4/4)", "does not hold (1/4, 2 fail)"), [],
     "holds on MNIST, does not hold on Fashion-MNIST (2 of 4 claim cells fail: telescopic N2 = 2000)"),
    (("holds (2/2)", "holds (2/2)"), [*PAPER_AND_AUTHORS, ("protocol", "authors-2020", False, "mnist", "holds in part"),
                                      ("protocol", "authors-2020", False, "fashion-mnist", "holds in part"),
                                      ("protocol", "per-layer", False, "mnist", "inconclusive")],
     "holds on both datasets; depends on the protocol (on the cells the protocols share): under the authors-2020 "
     "protocol, holds in part on both datasets; under the per-layer protocol, inconclusive on MNIST (against holds "
     "under the paper protocol)"),
    (("holds (2/2)", "holds (2/2)"), [("connectivity", "l1", True, "mnist", "holds"),
                                      ("connectivity", "abs-sum", False, "mnist", "baseline no better than random"),
                                      ("tuning", "N2 = 100", True, "mnist", "holds"),
                                      ("tuning", "per width", False, "mnist", "does not hold"), *PAPER_AND_AUTHORS],
     "holds on both datasets; depends on the connectivity: under connectivity read as abs-sum, baseline no better "
     "than random on MNIST (against holds under connectivity read as l1); depends on the tuning: under rates tuned "
     "per width, does not hold on MNIST (against holds under rates tuned at N2 = 100); the same under the protocol"),
])
def test_the_bottom_line_reads_the_verdicts_and_the_choices(words, choices, expected):
    """Both datasets' verdict once ('does not hold on either dataset', never the ambiguous 'on both'), per dataset
    when they differ; how many claim cells fail and where; each choice that changes it, with the verdict each value
    gives against the reference's (the protocol's on the cells the protocols share)."""
    from spectral.choices import CHOICE_COLUMNS, verdict_changes
    from spectral.headline import bottom_line
    row = {"MNIST": words[0], "Fashion-MNIST": words[1]}
    found = verdict_changes(pd.DataFrame([{"claim": "C1", "dataset": d, "choice": c, "value": v, "reference": ref,
                                           "verdict": verdict, "cells": "test"} for c, v, ref, d, verdict in choices],
                                         columns=CHOICE_COLUMNS), "C1")
    fails = "telescopic N2 = 2000 on both datasets" if "fail" in words[0] else "telescopic N2 = 2000 on Fashion-MNIST"
    assert bottom_line(row, ["mnist", "fashion-mnist"], fails if "fail" in "".join(words) else "", found) == expected


def test_the_bottom_line_names_where_a_claims_cells_fail():
    """A claim's failing cells under its protocol, grouped by experiment and N2 with their datasets; cells of other
    protocols or claims, and cells that hold, are not named; C5 is read under its own protocol."""
    from spectral.headline import failing_cells
    rows = [("paper", "C1", "mnist", "telescopic", 2000, "does not hold"),
            ("paper", "C1", "fashion-mnist", "telescopic", 2000, "does not hold"),
            ("paper", "C1", "mnist", "nonlinear", 100, "holds"),
            ("authors-2020", "C1", "mnist", "nonlinear", 10, "does not hold"),
            ("pruning-2022", "C5", "fashion-mnist", "nonlinear", 500, "does not hold")]
    cells = pd.DataFrame(rows, columns=["protocol", "claim", "dataset", "experiment", "n2", "verdict"])
    datasets = ["mnist", "fashion-mnist"]
    assert failing_cells(cells, "C1", "paper", datasets) == "telescopic N2 = 2000 on both datasets"
    assert failing_cells(cells, "C5", "paper", datasets) == "nonlinear N2 = 500 on Fashion-MNIST"
    cells.loc[2, "verdict"] = "does not hold"
    assert failing_cells(cells, "C1", "paper", datasets) == ("nonlinear N2 = 100 on MNIST; telescopic N2 = 2000 on "
                                                             "both datasets")
    assert failing_cells(cells, "C3", "paper", datasets) == ""
