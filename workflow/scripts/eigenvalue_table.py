"""Initial and trained eigenvalues of the spectral perceptrons."""
import sys

from spectral.analysis import eigenvalue_table

sys.stderr = open(snakemake.log[0], "w")
eigenvalue_table(snakemake.input, snakemake.params.run_keys).to_csv(snakemake.output[0], index=False)
