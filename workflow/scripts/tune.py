"""Pick each scheme's learning rate on a validation split; write the grid and a config overlay (lr.yaml)."""
import sys
from pathlib import Path

import torch
import yaml

from spectral.tune import tune_learning_rates

sys.stderr = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)
p = snakemake.params
grid, overlay = tune_learning_rates(p.dataset, p.schemes, p.training, p.lrs, p.epochs, p.validation_fraction,
                                    p.hidden, p.seed, p.device)
grid.to_csv(snakemake.output.grid, index=False)
Path(snakemake.output.lrs).write_text("# Written by the tune rule; use with --configfile results/tune/lr.yaml\n"
                                      + yaml.safe_dump(overlay, sort_keys=True))
