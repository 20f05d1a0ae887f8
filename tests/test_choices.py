"""Tests for spectral.choices: each claim's verdict per value of each choice, the values that change it, and the two
renderings of that one structure (the tables' "same verdict under" and the answer line's words)."""
import pandas as pd
import pytest

from spectral.choices import (CHOICE_COLUMNS, Change, changes_in_words, choice_verdicts, same_verdict,
                              verdict_changes)


def _verdicts(rows):
    return pd.DataFrame(rows, columns=["protocol", "claim", "dataset", "verdict"])


def test_a_verdict_that_changes_under_one_choice_says_so():
    """C1 holds on the grid's cells under paper and per-layer but fails under authors-2020: 'changes under protocol
    = authors-2020'; when every protocol agrees, 'every choice'. Flipping one verdict flips the text."""
    grid = _verdicts([("paper", "C1", "all", "holds"), ("authors-2020", "C1", "all", "does not hold"),
                      ("per-layer", "C1", "all", "holds")])
    choices = choice_verdicts(_verdicts([]), grid, "l1")
    assert same_verdict(choices, "C1") == ("changes under the authors-2020 protocol (overall: does not hold against holds under the paper protocol on "
                                          "the same cells)")
    grid.loc[1, "verdict"] = "holds"
    assert same_verdict(choice_verdicts(_verdicts([]), grid, "l1"), "C1") == "every choice (protocol)"


def test_the_protocol_choice_is_judged_on_the_shared_cells_only():
    """The headline verdict (paper's full N2 range: does not hold) never meets the grid's: on the grid's cells every
    protocol holds, so the protocol does not change the verdict, whatever the full range says."""
    headline = _verdicts([("paper", "C1", "all", "does not hold")])
    grid = _verdicts([(p, "C1", "all", "holds") for p in ("paper", "authors-2020", "per-layer")])
    choices = choice_verdicts(headline, grid, "l1")
    assert set(choices["cells"]) == {"the sensitivity grid's"}
    assert same_verdict(choices, "C1") == "every choice (protocol)"


def test_c5_readings_are_one_choice_and_the_primary_is_the_reference():
    """C5 (l1) holds, C5@abs-sum reads 'baseline no better than random': C5 changes under connectivity = abs-sum."""
    verdicts = _verdicts([("pruning-2022", "C5", "all", "holds"), ("pruning-2022", "C5@l2", "all", "holds"),
                          ("pruning-2022", "C5@abs-sum", "all", "baseline no better than random")])
    text = same_verdict(choice_verdicts(verdicts, None, "l1"), "C5")
    assert text == ("changes under connectivity read as abs-sum (overall: baseline no better than random against holds under "
                    "connectivity read as l1 on the same cells)")


def test_a_choice_that_changes_one_dataset_only_says_which():
    """Overall both readings say 'baseline no better than random', but on Fashion-MNIST l1 does not hold where
    abs-sum's baseline is no better than random: the column names that dataset, not 'every choice'."""
    bnb = "baseline no better than random"
    verdicts = _verdicts([("pruning-2022", "C5", "fashion-mnist", "does not hold"), ("pruning-2022", "C5", "all", bnb),
                          ("pruning-2022", "C5@abs-sum", "fashion-mnist", bnb), ("pruning-2022", "C5@abs-sum", "all", bnb)])
    text = same_verdict(choice_verdicts(verdicts, None, "l1"), "C5")
    assert text == (f"changes under connectivity read as abs-sum (Fashion-MNIST: {bnb} against does not hold under "
                    "connectivity read as l1 on the same cells)")
    verdicts.loc[2, "verdict"] = "does not hold"
    assert same_verdict(choice_verdicts(verdicts, None, "l1"), "C5") == "every choice (connectivity)"


def test_a_choice_that_changes_nothing_is_named_beside_one_that_does():
    """C1 changes under the protocol and not under the tuning: the column says both, so a reader sees the tuning was
    varied; when the tuning changes it too, it moves into 'changes under'."""
    grid = _verdicts([("paper", "C1", "all", "holds"), ("authors-2020", "C1", "all", "does not hold")])
    spec = pd.DataFrame([{"claim": "C1", "dataset": "all", "choice": "tuning", "value": v, "reference": ref,
                          "verdict": "does not hold", "cells_judged": "34 cells", "not_judged": 0}
                         for v, ref in (("N2 = 100", True), ("per width", False))])
    text = same_verdict(choice_verdicts(_verdicts([]), grid, "l1", spec), "C1")
    assert text.startswith("changes under the authors-2020 protocol (") and text.endswith("; same under tuning")
    spec.loc[1, "verdict"] = "holds"
    text = same_verdict(choice_verdicts(_verdicts([]), grid, "l1", spec), "C1")
    assert ("rates tuned per width (overall: holds against does not hold under rates tuned at N2 = 100 on the same "
            "cells)") in text
    assert "same under" not in text


def _choices(rows, claim="C1"):
    """choice_verdicts' table from (choice, value, reference?, dataset, verdict) rows."""
    return pd.DataFrame([{"claim": claim, "dataset": d, "choice": c, "value": v, "reference": ref, "verdict": verdict,
                          "cells": "test"} for c, v, ref, d, verdict in rows], columns=CHOICE_COLUMNS)


PROTOCOL_CHANGES = [("protocol", "paper", True, "mnist", "holds"), ("protocol", "paper", True, "fashion-mnist", "holds"),
                    ("protocol", "authors-2020", False, "fashion-mnist", "holds in part"),
                    ("protocol", "authors-2020", False, "mnist", "holds in part"),
                    ("tuning", "N2 = 100", True, "mnist", "holds"), ("tuning", "per width", False, "mnist", "holds")]


def test_one_structure_gives_both_renderings():
    """verdict_changes lists each changing value per dataset (MNIST first) against the reference's verdict on the
    same cells; the table's text and the answer's words are both rendered from it, and a choice that changes
    nothing is named in both. Making the two protocols agree empties the changes in both renderings."""
    choices = _choices(PROTOCOL_CHANGES)
    found = verdict_changes(choices, "C1")
    assert found.changes == (Change("protocol", "authors-2020", "mnist", "holds in part", "paper", "holds"),
                             Change("protocol", "authors-2020", "fashion-mnist", "holds in part", "paper", "holds"))
    assert found.varied == ("protocol", "tuning") and found.unchanged == ("tuning",)
    assert same_verdict(choices, "C1") == (
        "changes under the authors-2020 protocol (MNIST: holds in part against holds under the paper protocol on the "
        "same cells; Fashion-MNIST: holds in part against holds under the paper protocol on the same cells); same "
        "under tuning")
    assert changes_in_words(found) == ("depends on the protocol (on the cells the protocols share): under the "
                                       "authors-2020 protocol, holds in part on both datasets (against holds under "
                                       "the paper protocol); the same under the tuning")
    choices.loc[choices["value"] == "authors-2020", "verdict"] = "holds"
    assert verdict_changes(choices, "C1").changes == ()
    assert same_verdict(choices, "C1") == "every choice (protocol, tuning)"
    assert changes_in_words(verdict_changes(choices, "C1")) == "the same under every choice varied"


@pytest.mark.parametrize("rows, words", [
    ([], ""),  # no choice varied for the claim
    ([("protocol", "paper", True, "all", "holds"), ("protocol", "authors-2020", False, "all", "does not hold")],
     "depends on the protocol (on the cells the protocols share): under the authors-2020 protocol, does not hold "
     "overall (against holds under the paper protocol)"),
    ([("connectivity", "l1", True, "fashion-mnist", "does not hold"),
      ("connectivity", "abs-sum", False, "fashion-mnist", "baseline no better than random")],
     "depends on the connectivity: under connectivity read as abs-sum, baseline no better than random on "
     "Fashion-MNIST (against does not hold under connectivity read as l1)"),
    ([("eigvec init", "uniform", True, "all", "not judged under this choice"),
      ("eigvec init", "glorot", False, "all", "not judged under this choice")], "not judged under the eigvec init"),
    ([("tuning", "per width", False, "mnist", "holds")], "not judged under the tuning"),  # no reference to compare with
    ([("tuning", "N2 = 100", True, "mnist", "holds"), ("tuning", "per width", False, "mnist",
                                                        "not judged under this choice")],
     "the same under every choice varied"),  # a value not judged on a dataset is no change there
    ([(c, v, ref, d, "holds" if ref or d == "mnist" else "does not hold") for c, v, ref in (
        ("tuning", "N2 = 100", True), ("tuning", "per width", False)) for d in ("mnist", "fashion-mnist", "cifar10")],
     "depends on the tuning: under rates tuned per width, does not hold on Fashion-MNIST, CIFAR-10 (against holds "
     "under rates tuned at N2 = 100)"),  # 2 of 3
    ([("eigvec init at per-width rates", "uniform", True, "all", "does not hold"),
      ("eigvec init at per-width rates", "glorot", False, "all", "holds")],
     "depends on the eigvec init at per-width rates: under φ drawn Glorot-uniform at per-width rates, holds overall "
     "(against does not hold under φ drawn U(−0.2, 0.2) at per-width rates)"),  # never read as the plain eigvec init
])
def test_the_answer_names_each_changing_value_with_its_verdict(rows, words):
    """A value that changes only the overall verdict reads 'overall'; the datasets are named unless they are all the
    claim's (never 'both' for two of three); a choice under which the claim could not be judged (no shared cell, no
    reference) is named as such, and a value not judged on a dataset changes nothing there."""
    assert changes_in_words(verdict_changes(_choices(rows), "C1")) == words


def test_the_table_and_the_answer_name_the_same_unjudged_choice():
    """The tables' text and the answer line both say the claim was not judged under the tuning."""
    choices = _choices([*PROTOCOL_CHANGES[:2], ("protocol", "authors-2020", False, "mnist", "holds"),
                        ("tuning", "N2 = 100", True, "all", "not judged under this choice"),
                        ("tuning", "per width", False, "all", "not judged under this choice")])
    assert same_verdict(choices, "C1") == "every choice (protocol); not judged under tuning"
    assert changes_in_words(verdict_changes(choices, "C1")) == ("the same under every choice varied; not judged under "
                                                                "the tuning")


def test_two_references_for_one_choice_are_refused():
    """Two runs varying one choice would each bring a reference on other cells: refused, never compared at random."""
    doubled = _choices(PROTOCOL_CHANGES + [("protocol", "paper", True, "mnist", "does not hold")])
    with pytest.raises(ValueError, match="two reference verdicts on mnist"):
        verdict_changes(doubled, "C1")
    assert verdict_changes(_choices(PROTOCOL_CHANGES), "C1") is not None


def test_a_dataset_not_judged_under_a_choice_is_named_in_both_renderings():
    """C3 judged under the eigenvector init on MNIST but on no Fashion-MNIST cell: 'every choice' would hide that, so
    both renderings name the dataset; judging it there too removes the note."""
    rows = [("eigvec init", v, ref, d, verdict) for v, ref in (("uniform", True), ("glorot", False))
            for d, verdict in (("mnist", "holds"), ("fashion-mnist", "not judged under this choice"), ("all", "holds"))]
    choices = _choices(rows, claim="C3")
    assert same_verdict(choices, "C3") == "every choice (eigvec init); not judged on Fashion-MNIST under eigvec init"
    assert changes_in_words(verdict_changes(choices, "C3")) == (
        "the same under every choice varied; not judged on Fashion-MNIST under the eigvec init")
    choices.loc[choices["dataset"] == "fashion-mnist", "verdict"] = "holds"
    assert same_verdict(choices, "C3") == "every choice (eigvec init)"


def test_a_reference_judged_without_some_cells_says_how_many():
    """Under a specification two of C4's MNIST cells pair samples across the runs and are judged by neither value:
    the reference's verdict on the cells left (holds) is not its full-range one, and both renderings say so; with
    none left out they say nothing of it."""
    spec = pd.DataFrame([{"claim": "C4", "dataset": "mnist", "choice": "eigvec init", "value": v, "reference": ref,
                          "verdict": verdict, "cells_judged": "N2 = 2000; all-N2 trend", "not_judged": left}
                         for v, ref, verdict, left in (("uniform", True, "holds", 2), ("glorot", False, "does not hold", 2))])
    choices = choice_verdicts(_verdicts([]), None, "l1", spec)
    assert set(choices["cells"]) == {"the primary's that both runs test (N2 = 2000; all-N2 trend; 2 claim cells not judged)"}
    assert same_verdict(choices, "C4") == ("changes under φ drawn Glorot-uniform (MNIST: does not hold against holds "
                                           "under φ drawn U(−0.2, 0.2) on the same cells (2 claim cells not judged))")
    assert changes_in_words(verdict_changes(choices, "C4")).endswith(
        "(against holds under φ drawn U(−0.2, 0.2), 2 claim cells not judged)")
    spec["not_judged"] = 0
    choices = choice_verdicts(_verdicts([]), None, "l1", spec)
    assert "not judged" not in same_verdict(choices, "C4") + changes_in_words(verdict_changes(choices, "C4")) + "".join(
        choices["cells"])
