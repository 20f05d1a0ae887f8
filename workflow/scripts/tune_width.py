"""One per-width pick: the grid of one scheme x family x dataset x N2, started from the protocol's N2 = tune.n2 rate."""
import sys

import torch

from spectral.tune import tune_width_point

sys.stderr = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)
s, w = snakemake.params.settings, snakemake.wildcards
grid = tune_width_point(w.protocol, snakemake.params.protocol, w.dataset, w.family, w.scheme, snakemake.params.n2,
                        s["factors"], s["max_extensions"], s["epochs"], s["seeds"], s["validation_fraction"],
                        snakemake.params.device, snakemake.params.data,
                        log=lambda m: print(m, file=sys.stderr, flush=True))
grid.to_csv(snakemake.output[0], index=False)
