"""Train every seed of one cell and write each seed's JSON record and npz arrays.

A wide cell's seeds train one after the other, each kept in OUT/partial/<cell>/ as it finishes (spectral.records,
`kept_run`): a job killed mid-cell (a session's end) leaves them there, and its rerun trains only the seeds not kept.
Snakemake deletes an incomplete job's outputs before the rerun, so they live outside them; the folder is removed
once the cell's outputs are written. The kept seeds' training seconds, which this job's Snakemake benchmark does not
count, go to OUT/benchmarks/kept/<cell>.json (spectral.publish.job_times adds them to the cell's job time).
"""
import json
import shutil
import sys
from pathlib import Path

import torch

from spectral.records import kept_note, save_run
from spectral.train import TrainConfig, train_cell

sys.stderr = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)
settings = dict(snakemake.params.settings)
cfg = TrainConfig(**settings)  # data come from resources/data (the fetch_data rule's cache) or data.dir
protocol, _, experiment, _, n2 = snakemake.params.cell  # common.smk's parse_cell of the cell wildcard
cell = {"protocol": protocol, "experiment": experiment, "n2": n2}
cell_dir = Path(snakemake.output.records[0]).parent  # OUT/runs/<cell>
out = cell_dir.parents[len(Path(snakemake.wildcards.cell).parts)]  # OUT
keep = out / "partial" / snakemake.wildcards.cell
results = train_cell(cfg, snakemake.params.seeds, snakemake.params.strategy, quiet=True, keep=keep)
for (record, final, initial), json_path, npz_path in zip(results, snakemake.output.records, snakemake.output.arrays):
    record["cell"] = cell
    save_run(record, final, initial, json_path, npz_path)
    print(f"seed {record['seed']}: test accuracy {record['final_test_accuracy']:.4f}", file=sys.stderr)
kept = [record for record, _, _ in results if record["kept"]]
note = kept_note(out, snakemake.wildcards.cell)
if kept:
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text(json.dumps({"seeds": [r["seed"] for r in kept], "seconds": sum(r["wall_time_s"] for r in kept)}))
else:
    note.unlink(missing_ok=True)  # an earlier run's note is not this job's
shutil.rmtree(keep, ignore_errors=True)
