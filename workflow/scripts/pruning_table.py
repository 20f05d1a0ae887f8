"""Test accuracy as hidden nodes are removed in every order (analysis.ORDERS): |lambda|, each connectivity reading, random."""
import sys

import torch

from spectral.analysis import pruning_table

sys.stderr = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)
table = pruning_table(snakemake.input.arrays, snakemake.params.run_keys, snakemake.params.fractions,
                      snakemake.params.activations, snakemake.params.test_subset, snakemake.params.data_dir,
                      snakemake.params.random_repeats)
table.to_csv(snakemake.output[0], index=False)
