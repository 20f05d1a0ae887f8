"""The sensitivity grid's view of the claims: sensitivity.csv (its cells) and sensitivity_verdicts.csv."""
import sys

import pandas as pd

from spectral.claim_cells import evaluate_grid
from spectral.claims import summarize_claims

sys.stderr = open(snakemake.log[0], "w")
p = snakemake.params
grid = evaluate_grid([pd.read_csv(f) for f in snakemake.input.runs], [pd.read_csv(f) for f in snakemake.input.distance],
                     p.grid, p.claims)
grid.to_csv(snakemake.output.cells, index=False)
summarize_claims(grid).to_csv(snakemake.output.verdicts, index=False)
