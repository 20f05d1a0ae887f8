"""Draw one figure (params.plot names the function in spectral.plots) from its input tables."""
import sys

import pandas as pd

from spectral import plots

sys.stderr = open(snakemake.log[0], "w")
tables = [pd.read_csv(path) for path in snakemake.input]
getattr(plots, snakemake.params.plot)(*tables, snakemake.output.png, snakemake.output.pdf)
