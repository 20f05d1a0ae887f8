"""Train every seed of one cell and write each seed's JSON record and npz arrays."""
import sys
import torch

from spectral.train import train_cell
from spectral.records import save_run
from spectral.train import TrainConfig

sys.stderr = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)
settings = dict(snakemake.params.settings)
cfg = TrainConfig(**settings)  # data come from resources/data (the fetch_data rule's cache) or data.dir
protocol, _, experiment, _, n2 = snakemake.params.cell  # common.smk's parse_cell of the cell wildcard
cell = {"protocol": protocol, "experiment": experiment, "n2": n2}
results = train_cell(cfg, snakemake.params.seeds, snakemake.params.strategy, quiet=True)
for (record, final, initial), json_path, npz_path in zip(results, snakemake.output.records, snakemake.output.arrays):
    record["cell"] = cell
    save_run(record, final, initial, json_path, npz_path)
    print(f"seed {record['seed']}: test accuracy {record['final_test_accuracy']:.4f}", file=sys.stderr)
