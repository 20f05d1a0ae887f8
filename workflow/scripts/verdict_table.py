"""The report's landing tables (read by workflow/report/workflow.rst, so in reStructuredText): the papers' claims,
then our readings, each with its verdict per dataset and the choices under which it stays the same."""
import os
import sys

import pandas as pd

from spectral.claims_report import landing_tables, verdict_table

sys.stderr = open(snakemake.log[0], "w")
grid = pd.read_csv(snakemake.input.grid[0]) if snakemake.input.grid else None
table = verdict_table(pd.read_csv(snakemake.input.verdicts), pd.read_csv(snakemake.input.claims),
                      snakemake.params.protocol, snakemake.params.datasets,
                      equivalence_margin=snakemake.params.equivalence_margin,
                      connectivity=snakemake.params.connectivity, grid_verdicts=grid)
for part, path in zip(landing_tables(table).values(), snakemake.output):
    tmp = path + ".tmp"
    part.to_csv(tmp, index=False)
    os.replace(tmp, path)
