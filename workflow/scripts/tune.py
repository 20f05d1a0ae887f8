"""Pick each scheme's learning rate per family and dataset on a validation split; write the grid and an overlay."""
import sys
from pathlib import Path

import torch
import yaml

from spectral.tune import tune_learning_rates

sys.stderr = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)
s = snakemake.params.settings
grid, overlay = tune_learning_rates(snakemake.wildcards.protocol, snakemake.params.protocol, snakemake.params.schemes,
                                    s["datasets"], s["lrs"], s["epochs"], s["seeds"], s["validation_fraction"],
                                    s["n2"], s["max_extensions"], snakemake.params.device, snakemake.params.data,
                                    log=lambda m: print(m, file=sys.stderr, flush=True), families=s["families"])
grid.to_csv(snakemake.output.grid, index=False)
Path(snakemake.output.lrs).write_text(f"# Written by the tune rule ({snakemake.wildcards.protocol}); "
                                      "use with --configfile, or copy into config/config.yaml\n"
                                      + yaml.safe_dump(overlay, sort_keys=True))
