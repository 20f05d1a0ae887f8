"""Was a run's seed plan declared before its data, and are its records the plan?

A statistician signs a run's verdicts only if the sample sizes were fixed before the samples (docs/verdict-rule.md:
adding seeds after a look is optional stopping). For a run with a seed plan (its config's `design`), read from its
run records (RUN/runs/**/seed*.json, as `make reproduce` writes them and `make publish` copies them) and from the
history of the commits that trained them:
1. `ancestor`: the commit that first added the plan file is an ancestor of every commit that trained a record;
2. `before`: that commit's time precedes the first record's start (its finish time less its wall time);
3. `unchanged`: the plan's substance (first seed, and each cell's number of seeds) is the same at the declaring
   commit and at every training commit (its comments and compute estimate may change); the working tree's copy is
   reported, not judged, since later edits say nothing of when the data came;
4. `records`: the records are exactly the plan's seeds, cell by cell: none missing, none added.
A record trained from a dirty tree (its commit ends in -dirty) or at a commit git does not know fails 1 and 3: its
code cannot be placed after the plan. The check is about the seed plan only: the verdict rule and the analysis
settings have their own history (docs/verdict-rule.md, the run's provenance.json `reanalysis`).
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
        try:
            r = json.loads(path.read_text())
            protocol, dataset, experiment, scheme, n2 = path.relative_to(run / "runs").parts[:5]
            end = dt.datetime.fromisoformat(r["finished_at"])
            if end.tzinfo is None:
                raise ValueError("finished_at has no time zone")
            out.append({"cell": (protocol, dataset, experiment, scheme, int(n2.removeprefix("n"))),
                        "seed": int(r["seed"]), "start": end - dt.timedelta(seconds=float(r["wall_time_s"])),
                        "commit": str(r.get("git_commit"))})
        except (ValueError, KeyError, TypeError) as err:
            raise DeclarationError(f"{path} is not a run record with a seed, finish time and wall time "
                                   f"({type(err).__name__}: {err})") from None
    return out


def _seeds(text: str) -> dict | None:
    """{cell: seed values} of a plan's text; None where it does not parse as a seed plan."""
    try:
        return cell_seeds(yaml.safe_load(text))
    except (yaml.YAMLError, KeyError, TypeError, ValueError):
        return None


def _plan_at(repo: Path, commit: str, plan: str) -> dict | None:
    """{cell: seed values} of the plan as committed at `commit`; None where it is not there or does not parse."""
    shown = _git(repo, "show", f"{commit}:{plan}")
    return _seeds(shown.stdout) if shown.returncode == 0 else None


def _known(repo: Path, commit: str) -> bool:
    return _git(repo, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0


def seed_plan(run: Path) -> str | None:
    """The seed plan the run's config names (provenance.json, the config as merged), or None."""
    prov_path = Path(run) / "provenance.json"
    if not prov_path.is_file():
        raise DeclarationError(f"{run} has no provenance.json: not a finished run")
    try:
        return json.loads(prov_path.read_text())["config"].get("design") or None
    except (ValueError, KeyError, AttributeError, TypeError):
        raise DeclarationError(f"{prov_path} has no config: not a run's provenance") from None


def check(run: Path, repo: Path) -> Declaration:
    """The four checks of the module docstring for a finished or published run directory `run` in `repo`."""
    run, repo = Path(run), Path(repo)
    plan = seed_plan(run)
    if not plan:
        raise DeclarationError(f"{run} has no seed plan (its config's design is empty): nothing was declared")
    shallow = _git(repo, "rev-parse", "--is-shallow-repository")
    if shallow.returncode != 0:
        raise DeclarationError(f"{repo} is not a git repository")
    if shallow.stdout.strip() == "true":
        raise DeclarationError(f"{repo} is a shallow clone: its history cannot date the plan (git fetch --unshallow)")
    records = _records(run)
    if not records:
        raise DeclarationError(f"{run} has no run records under runs/")
    commits: dict[str, int] = {}
    for r in records:
        commits[r["commit"]] = commits.get(r["commit"], 0) + 1
    known = [c for c in commits if _known(repo, c)]  # a -dirty or foreign commit is not
    added = _git(repo, "log", *known, "HEAD", "--diff-filter=A", "--reverse", "--format=%H %cI", "--",
                 plan).stdout.split()  # the histories of the training commits and of HEAD, no other branch
    if not added:
        raise DeclarationError(f"{plan} was never added in the history of HEAD or of the commits that trained {run}")
    commit, committed_at = added[0], dt.datetime.fromisoformat(added[1])
    declared = _plan_at(repo, commit, plan)
    if declared is None:
        raise DeclarationError(f"{plan} as first committed ({commit[:12]}) is not a seed plan")
    passed, details = {}, {}
    late = [c for c in commits if c not in known or _git(repo, "merge-base", "--is-ancestor", commit, c).returncode]
    passed["ancestor"] = not late
    details["ancestor"] = (f"an ancestor of the {len(commits)} commit(s) that trained the records" if not late else
                           "not an ancestor of " + ", ".join(
                               f"{c} (trained from a dirty tree)" if c.endswith("-dirty") else
                               f"{c} (a commit git does not know)" if c not in known else c[:12] for c in late))
    first = min(r["start"] for r in records)
    passed["before"] = committed_at < first
    details["before"] = f"committed {committed_at.isoformat()}, first record started {first.isoformat(timespec='seconds')}"
    moved = [c[:12] if c in known else c for c in commits if c not in known or _plan_at(repo, c, plan) != declared]
    tree = repo / plan
    same_tree = tree.is_file() and _seeds(tree.read_text()) == declared
    passed["unchanged"] = not moved
    details["unchanged"] = (("its cells and seeds the same at every training commit" if not moved else
                             f"its cells or seeds differ (or it is missing) at {', '.join(moved)}")
                            + f"; the working tree's copy {'is the same' if same_tree else 'differs or is missing'}")
    plan_seeds = {(cell, s) for cell, seeds in declared.items() for s in seeds}
    found = {(r["cell"], r["seed"]) for r in records}
    missing, extra = plan_seeds - found, found - plan_seeds
    passed["records"] = not missing and not extra and len(found) == len(records)
    example = sorted(missing or extra)[0] if missing or extra else None
    details["records"] = (f"{len(found)} records in {len(declared)} cells, {len(missing)} of the plan's seeds missing, "
                          f"{len(extra)} not in the plan" + (", duplicates" if len(found) != len(records) else "")
                          + (f" (e.g. {'/'.join(map(str, example[0]))} seed {example[1]})" if example else ""))
    return Declaration(plan, commit, committed_at, first, commits, passed, details)


def report(run: Path, d: Declaration) -> str:
    """What `python -m spectral declared RUN` prints: one line per check."""
    lines = [f"{run}: seed plan {d.plan}, declared at {d.commit[:12]}"]
    lines += [f"  {name:<9} {'yes' if d.passed[name] else 'NO '}  {d.details[name]}" for name in CHECKS]
    lines.append("  seed plan declared before its data: " + ("yes" if d.ok else "NO"))
    return "\n".join(lines)


def summary(run: Path, repo: Path) -> str | None:
    """One line for a published run's README: the plan, its commit and date against the first record's, and whether
    every check passed; None for a run without a seed plan."""
    if not seed_plan(run):
        return None
    try:
        d = check(run, repo)
    except DeclarationError as err:
        return f"not checked: {err}"
    records = sum(d.training_commits.values())
    head = (f"`{d.plan}`, committed at `{d.commit[:7]}` ({d.committed_at.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} "
            f"UTC); first record started {d.first_record.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    if d.ok:
        return (f"{head}: declared before its data, an ancestor of every training commit, unchanged since, and the "
                f"{records} records are exactly its seeds (`python -m spectral declared`)")
    failed = ", ".join(f"{name}: {d.details[name]}" for name in CHECKS if not d.passed[name])
    return f"{head}: NOT declared before its data ({failed})"
