"""Tests for spectral.declared on a constructed git history: a plan committed before its records, and each way a
run can fail to be declared before its data (records first, a plan edited after, a commit not descended from the
plan, a seed added or missing)."""
import datetime as dt
import json
import os
import subprocess

import pytest
import yaml

from spectral.cli import main
from spectral.declared import check

PLAN = {"design": "test", "first_seed": 10, "cells": [
    {"protocol": "paper", "dataset": "mnist", "experiment": "nonlinear", "scheme": "direct-full", "n2": 50, "seeds": 2},
    {"protocol": "paper", "dataset": "mnist", "experiment": "perceptron", "scheme": "spectral-eigvals", "n2": 0,
     "seeds": 1}]}
DECLARED_AT = dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc)


def _git(repo, *args, when=DECLARED_AT):
    env = {**os.environ, "GIT_AUTHOR_DATE": when.isoformat(), "GIT_COMMITTER_DATE": when.isoformat(),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


def _commit(repo, message, when, plan=None):
    if plan is not None:
        (repo / "plan.yaml").write_text(yaml.safe_dump(plan))
    (repo / "code.txt").write_text(message)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message, when=when)
    return _git(repo, "rev-parse", "HEAD")


def _run(tmp_path, commit, finished, seeds=None):
    """A finished run: provenance naming the plan, one record per (cell, seed) trained at `commit`."""
    run = tmp_path / "output" / "demo"
    run.mkdir(parents=True)
    (run / "provenance.json").write_text(json.dumps({"config": {"design": "plan.yaml"}}))
    cells = seeds or {("paper", "mnist", "nonlinear", "direct-full", 50): [10, 11],
                      ("paper", "mnist", "perceptron", "spectral-eigvals", 0): [10]}
    for (protocol, dataset, experiment, scheme, n2), values in cells.items():
        folder = run / "runs" / protocol / dataset / experiment / scheme / f"n{n2}"
        folder.mkdir(parents=True)
        for seed in values:
            (folder / f"seed{seed}.json").write_text(json.dumps({"seed": seed, "finished_at": finished.isoformat(),
                                                                 "wall_time_s": 60.0, "git_commit": commit}))
    return run


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    return repo


def test_a_plan_committed_before_its_records_passes(repo, tmp_path):
    _commit(repo, "plan", DECLARED_AT, PLAN)
    trained = _commit(repo, "train", DECLARED_AT + dt.timedelta(hours=1))
    found = check(_run(tmp_path, trained, DECLARED_AT + dt.timedelta(hours=2)), repo)
    assert found.ok, found.details
    assert found.training_commits == {trained: 3}


def test_records_that_started_before_the_plan_fail(repo, tmp_path):
    """The same plan and code, but the records finished a minute after the plan's commit after a 60 s run: they
    started before it."""
    trained = _commit(repo, "plan", DECLARED_AT, PLAN)
    found = check(_run(tmp_path, trained, DECLARED_AT + dt.timedelta(seconds=30)), repo)
    assert not found.passed["before"] and found.passed["records"] and not found.ok


def test_a_plan_edited_after_its_declaration_fails(repo, tmp_path):
    """A third seed for one cell committed after the plan (and before training): the plan is no longer the one
    declared; the records of the edited plan also hold a seed the declared plan lacks."""
    _commit(repo, "plan", DECLARED_AT, PLAN)
    edited = {**PLAN, "cells": [{**PLAN["cells"][0], "seeds": 3}, PLAN["cells"][1]]}
    trained = _commit(repo, "more seeds", DECLARED_AT + dt.timedelta(hours=1), edited)
    run = _run(tmp_path, trained, DECLARED_AT + dt.timedelta(hours=2),
               {("paper", "mnist", "nonlinear", "direct-full", 50): [10, 11, 12],
                ("paper", "mnist", "perceptron", "spectral-eigvals", 0): [10]})
    found = check(run, repo)
    assert not found.passed["unchanged"] and not found.passed["records"]
    assert "1 not in the plan" in found.details["records"]


def test_a_training_commit_that_does_not_descend_from_the_plan_fails(repo, tmp_path):
    """Code committed on a branch cut before the plan trained the records: git cannot place them after it, even
    though they finished after the plan's commit."""
    _commit(repo, "start", DECLARED_AT - dt.timedelta(days=1))
    main_branch = _git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    _git(repo, "branch", "early")
    _commit(repo, "plan", DECLARED_AT, PLAN)
    _git(repo, "checkout", "-q", "early")
    trained = _commit(repo, "train elsewhere", DECLARED_AT + dt.timedelta(hours=1))
    _git(repo, "checkout", "-q", main_branch)  # checked from the branch that holds the plan
    found = check(_run(tmp_path, trained, DECLARED_AT + dt.timedelta(hours=2)), repo)
    assert not found.passed["ancestor"] and not found.passed["unchanged"]


@pytest.mark.parametrize("seeds, detail", [
    ({("paper", "mnist", "nonlinear", "direct-full", 50): [10, 11, 12],
      ("paper", "mnist", "perceptron", "spectral-eigvals", 0): [10]}, "0 of the plan's seeds missing, 1 not in the plan"),
    ({("paper", "mnist", "nonlinear", "direct-full", 50): [10]}, "2 of the plan's seeds missing, 0 not in the plan"),
])
def test_records_must_be_exactly_the_plan(repo, tmp_path, seeds, detail):
    """A seed added to a cell (optional stopping) or seeds missing (a cell cut short) fails `records`."""
    _commit(repo, "plan", DECLARED_AT, PLAN)
    trained = _commit(repo, "train", DECLARED_AT + dt.timedelta(hours=1))
    found = check(_run(tmp_path, trained, DECLARED_AT + dt.timedelta(hours=2), seeds), repo)
    assert not found.passed["records"] and detail in found.details["records"]
    assert found.passed["before"] and found.passed["ancestor"] and found.passed["unchanged"]


def test_the_command_exits_by_outcome(repo, tmp_path, capsys):
    """0 declared before its data, 1 a check fails, 2 nothing to check (one line), unless --if-planned."""
    _commit(repo, "plan", DECLARED_AT, PLAN)
    trained = _commit(repo, "train", DECLARED_AT + dt.timedelta(hours=1))
    run = _run(tmp_path, trained, DECLARED_AT + dt.timedelta(hours=2))
    assert main(["declared", str(run), "--repo", str(repo)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "  seed plan declared before its data: yes"
    (run / "runs" / "paper" / "mnist" / "perceptron" / "spectral-eigvals" / "n0" / "seed10.json").unlink()
    assert main(["declared", str(run), "--repo", str(repo)]) == 1
    (run / "provenance.json").write_text(json.dumps({"config": {"design": None}}))
    assert main(["declared", str(run), "--repo", str(repo)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "no seed plan" in err and "\n" not in err
    assert main(["declared", str(run), "--repo", str(repo), "--if-planned"]) == 0  # make publish: nothing to check


def test_a_record_from_a_dirty_tree_cannot_be_placed_after_the_plan(repo, tmp_path):
    _commit(repo, "plan", DECLARED_AT, PLAN)
    trained = _commit(repo, "train", DECLARED_AT + dt.timedelta(hours=1))
    found = check(_run(tmp_path, trained + "-dirty", DECLARED_AT + dt.timedelta(hours=2)), repo)
    assert not found.passed["ancestor"] and not found.passed["unchanged"] and found.passed["records"]
    assert "trained from a dirty tree" in found.details["ancestor"]


@pytest.mark.parametrize("spoil, message", [
    (lambda run, repo: next((run / "runs").rglob("seed11.json")).write_text(json.dumps({"seed": 11})),
     "is not a run record"),
    (lambda run, repo: (run / "provenance.json").write_text("[]"), "has no config"),
    (lambda run, repo: subprocess.run(["rm", "-rf", str(repo / ".git")], check=True), "is not a git repository"),
])
def test_input_that_cannot_be_checked_is_one_line(repo, tmp_path, capsys, spoil, message):
    _commit(repo, "plan", DECLARED_AT, PLAN)
    trained = _commit(repo, "train", DECLARED_AT + dt.timedelta(hours=1))
    run = _run(tmp_path, trained, DECLARED_AT + dt.timedelta(hours=2))
    assert main(["declared", str(run), "--repo", str(repo)]) == 0
    capsys.readouterr()
    spoil(run, repo)
    assert main(["declared", str(run), "--repo", str(repo)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_the_published_readme_line_says_whether_the_plan_came_first(repo, tmp_path):
    """summary: the plan, its commit and date, the first record's date, and 'declared before its data' only when every
    check passes; NOT with the failed check otherwise; None without a plan."""
    from spectral.declared import summary
    _commit(repo, "plan", DECLARED_AT, PLAN)
    trained = _commit(repo, "train", DECLARED_AT + dt.timedelta(hours=1))
    run = _run(tmp_path, trained, DECLARED_AT + dt.timedelta(hours=2))
    line = summary(run, repo)
    assert line.startswith("`plan.yaml`, committed at ") and "(2026-01-01 12:00 UTC)" in line
    assert ": declared before its data" in line and "the 3 records are exactly its seeds" in line
    next((run / "runs").rglob("seed11.json")).unlink()
    assert ": NOT declared before its data (records: " in summary(run, repo)
    (run / "provenance.json").write_text(json.dumps({"config": {"design": None}}))
    assert summary(run, repo) is None
