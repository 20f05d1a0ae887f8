"""The specification curve: tables/specification_effects.csv and figures/specification_curve.{png,pdf}."""
import sys

import pandas as pd

from spectral import plots
from spectral.choices import specification_effects

sys.stderr = open(snakemake.log[0], "w")
grid = pd.read_csv(snakemake.input.grid[0]) if snakemake.input.grid else None
effects = specification_effects(pd.read_csv(snakemake.input.claims), grid, snakemake.params.connectivity)
effects.to_csv(snakemake.output.effects, index=False)
plots.fig_specification_curve(effects, snakemake.output.png, snakemake.output.pdf)
