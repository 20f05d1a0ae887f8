"""Declared before its data: was a run's seed plan committed before its first record, and are its records the plan?

A statistician signs a run's verdicts only if the sample sizes were fixed before the samples (docs/verdict-rule.md:
adding seeds after a look is optional stopping). For a run with a seed plan (its config's `design`), read from its
run records (RUN/runs/**/seed*.json, as `make reproduce` writes them and `make publish` copies them) and from git:
1. `ancestor`: the commit that first added the plan file is an ancestor of every commit that trained a record;
2. `before`: that commit's time precedes the first record's start (its finish time less its wall time);
3. `unchanged`: the plan's substance (first seed, and each cell's number of seeds) is the same at the declaring
   commit, at every training commit and in the working tree; its comments and compute estimate may change;
4. `records`: the records are exactly the plan's seeds, cell by cell: none missing, none added.
A record whose commit git does not know (a dirty tree, a commit from another clone) fails 1 and 3: it cannot be
placed after the plan.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from .design import cell_seeds

CHECKS = ("ancestor", "before", "unchanged", "records")


class DeclarationError(ValueError):
    """The run cannot be checked (no provenance, no records, no git history of its plan)."""


@dataclass(frozen=True)
class Declaration:
    plan: str  # the plan's path in the repository
    commit: str  # the commit that first added it
    committed_at: dt.datetime
    first_record: dt.datetime  # the earliest record's start
    training_commits: dict[str, int]  # commit -> records it trained
    passed: dict[str, bool]  # CHECKS -> passed
    details: dict[str, str]  # CHECKS -> what was found

    @property
    def ok(self) -> bool:
        return all(self.passed.values())


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)


def _records(run: Path) -> list[dict]:
    """Each record's cell key, seed, start and commit."""
    out = []
    for path in sorted((run / "runs").rglob("seed*.json")):
        r = json.loads(path.read_text())
        protocol, dataset, experiment, scheme, n2 = path.relative_to(run / "runs").parts[:5]
        end = dt.datetime.fromisoformat(r["finished_at"])
        out.append({"cell": (protocol, dataset, experiment, scheme, int(n2.removeprefix("n"))), "seed": int(r["seed"]),
                    "start": end - dt.timedelta(seconds=r["wall_time_s"]), "commit": str(r.get("git_commit"))})
    return out


def _plan_at(repo: Path, commit: str, plan: str) -> dict | None:
    """{cell: seed values} of the plan as committed at `commit`, or None where it is not there."""
    shown = _git(repo, "show", f"{commit}:{plan}")
    return cell_seeds(yaml.safe_load(shown.stdout)) if shown.returncode == 0 else None


def check(run: Path, repo: Path) -> Declaration:
    """The four checks of the module docstring for a finished or published run directory `run` in `repo`."""
    run, repo = Path(run), Path(repo)
    prov_path = run / "provenance.json"
    if not prov_path.is_file():
        raise DeclarationError(f"{run} has no provenance.json: not a finished run")
    plan = json.loads(prov_path.read_text())["config"].get("design")
    if not plan:
        raise DeclarationError(f"{run} has no seed plan (its config's design is empty): nothing was declared")
    records = _records(run)
    if not records:
        raise DeclarationError(f"{run} has no run records under runs/")
    added = _git(repo, "log", "--all", "--diff-filter=A", "--reverse", "--format=%H %cI", "--", plan).stdout.split()
    if not added:
        raise DeclarationError(f"{plan} has no commit in {repo}'s history: it was never declared")
    commit, committed_at = added[0], dt.datetime.fromisoformat(added[1])
    commits: dict[str, int] = {}
    for r in records:
        commits[r["commit"]] = commits.get(r["commit"], 0) + 1
    passed, details = {}, {}
    late = [c for c in commits if _git(repo, "merge-base", "--is-ancestor", commit, c).returncode != 0]
    passed["ancestor"] = not late
    details["ancestor"] = (f"an ancestor of the {len(commits)} commit(s) that trained the records" if not late else
                           f"not an ancestor of {', '.join(c[:12] for c in late)} (or git does not know it)")
    first = min(r["start"] for r in records)
    passed["before"] = committed_at < first
    details["before"] = f"committed {committed_at.isoformat()}, first record started {first.isoformat(timespec='seconds')}"
    declared = _plan_at(repo, commit, plan)
    versions = {c[:12]: _plan_at(repo, c, plan) for c in commits}
    tree = repo / plan
    versions["working tree"] = cell_seeds(yaml.safe_load(tree.read_text())) if tree.is_file() else None
    moved = [where for where, seeds in versions.items() if seeds != declared]
    passed["unchanged"] = not moved
    details["unchanged"] = ("its cells and seeds the same at " + ", ".join(versions) if not moved else
                            f"its cells or seeds differ (or it is missing) at {', '.join(moved)}")
    planned = {(cell, s) for cell, seeds in declared.items() for s in seeds}
    found = {(r["cell"], r["seed"]) for r in records}
    missing, extra = planned - found, found - planned
    passed["records"] = not missing and not extra and len(found) == len(records)
    details["records"] = (f"{len(found)} records in {len(declared)} cells, {len(missing)} of the plan's seeds missing, "
                          f"{len(extra)} not in the plan" + (", duplicates" if len(found) != len(records) else "")
                          + (f" (e.g. {'/'.join(map(str, sorted(missing or extra)[0][0]))} seed "
                             f"{sorted(missing or extra)[0][1]})" if missing or extra else ""))
    return Declaration(plan, commit, committed_at, first, commits, passed, details)


def report(run: Path, d: Declaration) -> str:
    """What `python -m spectral declared RUN` prints: one line per check."""
    lines = [f"{run}: seed plan {d.plan}, declared at {d.commit[:12]}"]
    lines += [f"  {name:<9} {'yes' if d.passed[name] else 'NO '}  {d.details[name]}" for name in CHECKS]
    lines.append("  declared before its data: " + ("yes" if d.ok else "NO"))
    return "\n".join(lines)
