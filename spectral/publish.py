"""Publishing a finished run as the reference: `results/<name>/` and its README.

- `publish` copies a run's published outputs (PUBLISHED: tables, claims, figures, report, provenance, and every
  run's JSON record; never the npz arrays) from `output/<name>/` to `results/<name>/`, adds `tables/job_times.csv`
  (every benchmarked training job: seconds and end time) and `tables/tune_times.csv` (the learning-rate tuning's
  jobs, if the run tuned) and writes `README.md` there (commit, config, machine, wall time, size, how to regenerate). It builds the new directory beside the old one and swaps it in only when complete.
- The top-level README's "Results" section is spectral/headline.py's.

Wall time of a run that was resumed across working sessions: the union of the benchmarked jobs' intervals (each
job's end is its benchmark file's time, its start that minus its seconds), split into sessions wherever no job ran
for SESSION_GAP_S. On a machine whose cores are all used by one job at a time this is the run's busy time; jobs
without a benchmark (tables, figures, claims: seconds each) are left out.
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pandas as pd

from .compare import CELL, run_config
from .declared import summary
from .design import cell_seconds
from .records import WriteError, kept_note, write_atomic

TABLES_ONLY = ("tables", "sensitivity", "claims.csv", "claims.md", "claim_verdicts.csv", "provenance.json")
SPECIFICATION = ("specification_verdicts.csv", "specification_cells.csv", "specification.json")  # its join to its primary, and the commit that wrote it
PUBLISHED = TABLES_ONLY + ("figures", "tune", "report.html") + SPECIFICATION
SESSION_GAP_S = 600  # no job for 10 min: the run was stopped and resumed later (a new working session)
JOB_KEYS = CELL  # a training job is one cell
BENCHMARK_COLUMNS = ["seconds", "cpu_seconds", "max_rss_mb", "end"]  # what job_times and tune_times keep of a job


class PublishError(ValueError):
    """The run cannot be published, or the README has no place for its section."""


def job_times(output) -> pd.DataFrame:
    """One row per benchmarked training job of `output` whose cell is in its tables/runs.csv or sensitivity/runs.csv
    (a benchmark left by an earlier config is not this run's): the cell, seconds, CPU seconds, peak RSS and end time,
    and `kept_seconds`, the training seconds of the seeds a killed job of the cell had finished and this one took
    back (benchmarks/kept/<cell>.json; workflow/scripts/train_cell.py): a cell's job time is seconds + kept_seconds."""
    tables = [Path(output) / "tables" / "runs.csv", Path(output) / "sensitivity" / "runs.csv"]
    cells = {tuple(row) for t in tables if t.is_file() for row in pd.read_csv(t)[JOB_KEYS].values}
    rows = []
    for tsv in sorted((Path(output) / "benchmarks" / "jobs").rglob("*.tsv")):
        keys = tsv.relative_to(Path(output) / "benchmarks" / "jobs").with_suffix("").parts
        if len(keys) != len(JOB_KEYS) or not keys[-1].startswith("n"):
            raise PublishError(f"{tsv} is not a training job's benchmark (expected jobs/{'/'.join(JOB_KEYS)}.tsv)")
        key = keys[:-1] + (int(keys[-1][1:]),)
        if key not in cells:
            continue
        kept = kept_note(output, Path(*keys))
        kept_s = json.loads(kept.read_text())["seconds"] if kept.is_file() else 0.0
        rows.append({**dict(zip(JOB_KEYS, key)), **_benchmark(tsv), "kept_seconds": float(kept_s)})
    return pd.DataFrame(rows, columns=JOB_KEYS + BENCHMARK_COLUMNS + ["kept_seconds"])


def _benchmark(tsv: Path) -> dict:
    """A Snakemake benchmark file's seconds, CPU seconds and peak RSS, and its job's end (the file's time)."""
    bench = pd.read_csv(tsv, sep="\t").iloc[-1]
    end = dt.datetime.fromtimestamp(tsv.stat().st_mtime, dt.timezone.utc)
    return {"seconds": float(bench["s"]), "cpu_seconds": float(bench["cpu_time"]),
            "max_rss_mb": float(bench["max_rss"]), "end": end.isoformat(timespec="seconds")}


def tune_times(output) -> pd.DataFrame:
    """One row per learning-rate tuning job of `output` (benchmarks/tune/<protocol>.tsv): the protocol whose rates
    were tuned, seconds, CPU seconds, peak RSS and end time. Empty when the run did not tune."""
    rows = [{"protocol": tsv.stem, **_benchmark(tsv)}
            for tsv in sorted((Path(output) / "benchmarks" / "tune").glob("*.tsv"))]
    return pd.DataFrame(rows, columns=["protocol"] + BENCHMARK_COLUMNS)


def sessions(times: pd.DataFrame, gap_s: float = SESSION_GAP_S) -> list[dict]:
    """Busy spans of the jobs: start, end and busy seconds (union of job intervals) of each working session."""
    ends = pd.to_datetime(times["end"], utc=True)
    spans = sorted(zip(ends - pd.to_timedelta(times["seconds"], unit="s"), ends))
    out = []
    for start, end in spans:
        if out and (start - out[-1]["end"]).total_seconds() <= gap_s:
            last = out[-1]
            last["busy_s"] += max(0.0, (end - max(start, last["end"])).total_seconds())
            last["end"] = max(last["end"], end)
        else:
            out.append({"start": start, "end": end, "busy_s": (end - start).total_seconds()})
    return out


def hours(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{seconds / 60:.1f} min"


def wall_time_text(times: pd.DataFrame) -> str:
    """One line: busy wall time, sessions, job count and summed job time."""
    if times.empty:
        return "no benchmarked jobs"
    spans = sessions(times)
    busy = sum(s["busy_s"] for s in spans)
    parts = "; ".join(f"{s['start']:%Y-%m-%d %H:%M}–{s['end']:%H:%M} UTC: {hours(s['busy_s'])} busy" for s in spans)
    summed = cell_seconds(times).sum()
    kept = summed - times["seconds"].sum()
    taken = f", {hours(kept)} of it in seeds kept from killed jobs" if kept else ""
    return (f"{hours(busy)} of training jobs busy in {len(spans)} session{'s' * (len(spans) > 1)} ({parts}); "
            f"{len(times)} jobs, {hours(summed)} summed{taken}")


def commit_text(prov: dict, joined: str | None = None) -> str:
    """The commit that wrote the tables and, from the run records, the commit(s) that trained the runs; `joined`:
    the commit that wrote a specification run's join to its primary (`python -m spectral specification`)."""
    text = _commit_text(prov)
    if joined is None or joined == prov["git_commit"]:
        return text
    return (text.replace("every table", "tables/").replace("the tables", "tables/") + f"; `{joined}` wrote "
            "`specification_verdicts.csv` and `specification_cells.csv` (`python -m spectral specification`)")


def later_text(prov: dict) -> str:
    """What rewrote a published run's tables after it was published (tools/reanalyse.py, tools/join_specifications.py),
    as a tail of the README's commit row; empty if nothing did."""
    parts = []
    if prov.get("reanalysis"):
        parts.append(f"`{short_commit(prov['reanalysis']['commit'])}` re-decided every claim on "
                     f"{prov['reanalysis']['date']} (*Re-analysis* below)")
    if prov.get("specifications_joined"):
        joined = prov["specifications_joined"]
        views = "claims.md, the specification curve" + (" and report.html" if joined.get("report", True) else "")
        runs = f"the specification runs ({', '.join(joined['runs'])})" if joined["runs"] else "no specification run"
        parts.append(f"`{short_commit(joined['commit'])}` joined {runs} into {views} on {joined['date']}")
    return "; then " + "; ".join(parts) if parts else ""


def refresh_readme(results: Path) -> None:
    """Rewrite a published README's commit and size rows from its provenance and files as they are now (after a
    re-analysis or a join wrote into the directory); every other line stays. A directory without one is left alone."""
    results = Path(results)
    readme = results / "README.md"
    if not readme.is_file():
        return
    files = [p for p in results.rglob("*") if p.is_file()]
    row = commit_row(results, _provenance(results, published_runs(results)[1]))
    text = re.sub(r"^\| commit \|.*\|$", lambda _: row, readme.read_text(), count=1, flags=re.M)
    text = re.sub(r"^\| size \| \d+ files, [\d.]+ MB \|$", lambda _: f"| size | {len(files)} files, "
                  f"{sum(p.stat().st_size for p in files) / 1e6:.1f} MB |", text, count=1, flags=re.M)
    write_atomic(readme, text)


def _provenance(results: Path, commits: collections.Counter) -> dict:
    """A published run's provenance.json with its records' training commits, most runs first."""
    trained = dict(sorted(commits.items(), key=lambda kv: (-kv[1], kv[0])))
    return {**json.loads((results / "provenance.json").read_text()), "training_commits": trained}


def commit_row(results: Path, prov: dict) -> str:
    """The README's commit row: who trained and wrote the tables, a specification's join (specification.json) and
    what rewrote them later."""
    path = results / "specification.json"
    joined = json.loads(path.read_text())["commit"] if path.is_file() else None
    return f"| commit | {commit_text(prov, joined)}{later_text(prov)} |"


def _commit_text(prov: dict) -> str:
    tables = f"`{prov['git_commit'] or 'unknown'}`"
    trained = dict(prov.get("training_commits", {}))  # commit -> runs; "None": records without a commit
    if not trained or list(trained) == ["None"]:
        return f"{tables}: the code that wrote every table (the run records predate per-run commits)"
    if list(trained) == [prov["git_commit"]]:
        return f"{tables}: the code that trained every run and wrote every table"
    if len(trained) == 1:
        return f"{tables} wrote the tables; `{next(iter(trained))}` trained every run"
    runs = "; ".join(f"`{k}`: {v}" if k != "None" else f"not recorded: {v}" for k, v in trained.items())
    return f"{tables} wrote the tables; **the runs come from more than one commit** (runs per commit: {runs})"


def tune_time_text(tune: pd.DataFrame) -> str:
    """One line: the learning-rate tuning's jobs, their time, and that they ran beside the training jobs."""
    return (f"{len(tune)} job{'s' * (len(tune) > 1)} ({', '.join(tune['protocol'])}), {hours(tune['seconds'].sum())}, "
            "beside the training jobs (`tables/tune_times.csv`)")


def published_runs(results: Path) -> tuple[collections.Counter, collections.Counter]:
    """(records per protocol, records per training commit) of every run record published under `results`/runs:
    the main grid's and the sensitivity grid's (provenance.json counts only the main grid's)."""
    records = sorted((results / "runs").rglob("seed*.json"))
    protocols = collections.Counter(p.relative_to(results / "runs").parts[0] for p in records)
    commits = collections.Counter(str(json.loads(p.read_text()).get("git_commit")) for p in records)
    return protocols, commits


def verdicts_text(config: dict) -> str:
    """Where a published run's verdicts are: its own claims, or for a specification run its join to the primary."""
    spec = config.get("specification")
    if not spec:
        return ("Verdicts: `claims.md` (claim level first, then every cell), `claim_verdicts.csv`, `claims.csv`; "
                "figures with captions: `report.html`; every job's time: `tables/job_times.csv`.")
    return (f"A specification run: {spec['choice']} = {spec['value']} against `{spec['primary']}`'s "
            f"{spec['reference']}, trained only on the cells its seed plan names (`{config['design']}`). Verdicts: "
            "`specification_verdicts.csv` (both values re-decided on the same cells: each cell from one run, never "
            "seeds pooled across runs) and `specification_cells.csv` (every cell); the primary's README headline "
            "and claims.md read them. Every job's time: `tables/job_times.csv`.")


def results_readme(results: Path, times: pd.DataFrame, size_mb: float, n_files: int,
                   tune: pd.DataFrame | None = None, declared: str | None = None) -> str:
    protocols, commits = published_runs(results)
    prov = _provenance(results, commits)
    per_protocol = ", ".join(f"{k} {v}" for k, v in sorted(protocols.items()))
    name = prov["config"]["name"]
    by_n2 = times.groupby("n2")["seconds"].agg(jobs="count", total="sum") if not times.empty else pd.DataFrame()
    by_protocol = times.groupby("protocol")["seconds"].agg(jobs="count", total="sum") if not times.empty else pd.DataFrame()
    packages = ", ".join(f"{k} {v}" for k, v in prov["packages"].items() if k in ("torch", "numpy", "snakemake"))
    lines = [
        f"# Reference run of config `{name}`", "",
        f"Published by `make publish` on {dt.date.today().isoformat()} from `output/{name}/`; regenerated, never "
        "edited by hand. A user's run writes `output/` and never this directory.", "",
        "| | |", "|---|---|",
        commit_row(results, prov),
        f"| config | `name: {name}`; the resolved config is `provenance.json` → `config` |",
        f"| machine | {prov['platform']}; devices {', '.join(prov['devices'])}; torch threads per job: "
        f"{', '.join(map(str, prov['threads']))}; Python {prov['python']}, {packages} |",
        f"| runs | {protocols.total()} trained models (`runs/<protocol>/…/seed<S>.json`: {per_protocol}; the npz "
        "arrays are not published) |",
        f"| wall time | {wall_time_text(times)} |",
        *([f"| learning-rate tuning | {tune_time_text(tune)} |"] if tune is not None and not tune.empty else []),
        *([f"| seed plan | {declared} |"] if declared else []),
        f"| size | {n_files} files, {size_mb:.1f} MB |", "",
        verdicts_text(prov["config"]), "",
    ]
    if not times.empty:
        lines += ["## Where the time went", "", "| N2 | jobs | job time |", "|---|---|---|"]
        lines += [f"| {'–' if r.Index == 0 else r.Index} | {r.jobs} | {hours(r.total)} |" for r in by_n2.itertuples()]
        lines += ["", "| protocol | jobs | job time |", "|---|---|---|"]
        lines += [f"| {r.Index} | {r.jobs} | {hours(r.total)} |" for r in by_protocol.itertuples()]
        lines.append("")
    config = "config/config.yaml" if name == "paper" else f"config/{name}.yaml"
    lines += ["## Regenerate", "", "```bash",
              f"make reproduce CORES=2 CONFIG={config}   # writes output/{name}/ (resumable)",
              f"make compare CONFIG={config}             # your output/{name}/ against this directory: exit 0 = same",
              f"make publish CONFIG={config}             # maintainers: replace this directory (and the README section)",
              "```", ""]
    return "\n".join(lines)


def publish(output, results, tables_only: bool = False) -> list[Path]:
    """Copy a finished run's published outputs to `results`: PUBLISHED, every run's JSON record (never arrays),
    tables/job_times.csv, tables/tune_times.csv (if it tuned) and README.md; with `tables_only` just TABLES_ONLY (the
    CI smoke reference)."""
    output, results = Path(output), Path(results)
    if not (output / "provenance.json").is_file():
        raise PublishError(f"{output} has no provenance.json: finish the run before publishing it")
    tmp = results.with_name(results.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _build(output, tmp, tables_only)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise WriteError(err.errno, f"cannot publish {output} to {results} ({err.strerror or err}); "
                                    "the previous reference is unchanged") from None
    shutil.rmtree(results, ignore_errors=True)
    tmp.rename(results)
    return sorted(p for p in results.rglob("*") if p.is_file())


def _build(output: Path, tmp: Path, tables_only: bool) -> None:
    for name in TABLES_ONLY if tables_only else PUBLISHED:
        src = output / name
        if src.is_dir():
            shutil.copytree(src, tmp / name, ignore=shutil.ignore_patterns("*.npz"))
        elif src.is_file():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, tmp / name)
    if not tables_only:
        for record in sorted((output / "runs").rglob("*.json")):
            dest = tmp / record.relative_to(output)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(record, dest)
        times = job_times(output)
        times.to_csv(tmp / "tables" / "job_times.csv", index=False)
        tune = tune_times(output)
        if not tune.empty:
            tune.to_csv(tmp / "tables" / "tune_times.csv", index=False)
        files = [p for p in tmp.rglob("*") if p.is_file()]
        size_mb = sum(p.stat().st_size for p in files) / 1e6
        declared = summary(output, Path(__file__).resolve().parents[1])  # the plan's path is the checkout's
        (tmp / "README.md").write_text(results_readme(tmp, times, size_mb, len(files) + 1, tune, declared))


def short_commit(commit: str | None) -> str:
    """The first 7 hex digits, keeping a `-dirty` mark (uncommitted changes were in the tree)."""
    return "unknown" if not commit else commit[:7] + ("-dirty" if commit.endswith("-dirty") else "")
