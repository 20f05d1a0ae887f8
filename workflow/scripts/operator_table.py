"""fig1 data (our drawing of the operator): Phi, Lambda and A = Phi Lambda Phi^-1 of a tiny spectral layer, long form."""
import sys

from spectral.analysis import operator_table

sys.stderr = open(snakemake.log[0], "w")
operator_table(snakemake.params.sizes, snakemake.params.seed).to_csv(snakemake.output[0], index=False)
