"""The report's landing tables (read by workflow/report/workflow.rst, so in reStructuredText): the papers' claims,
then our readings, each with its verdict per dataset and the choices under which it stays the same."""
import os
import sys

import pandas as pd

from spectral.claims_report import verdict_table

sys.stderr = open(snakemake.log[0], "w")
grid = pd.read_csv(snakemake.input.grid[0]) if snakemake.input.grid else None
table = verdict_table(pd.read_csv(snakemake.input.verdicts), pd.read_csv(snakemake.input.claims),
                      snakemake.params.protocol, snakemake.params.datasets,
                      equivalence_margin=snakemake.params.equivalence_margin,
                      connectivity=snakemake.params.connectivity, grid_verdicts=grid)
# reStructuredText: |x| is a substitution reference, and C2@1pp would become an e-mail link
for column in ("statement", "same verdict under"):
    table[column] = table[column].str.replace("|", "\\|")
table["claim"] = table["claim"].str.replace("@", "\\@")
for kind, path in zip(("paper", "ours"), snakemake.output):
    part = table[table["kind"] == kind].drop(columns="kind")
    tmp = path + ".tmp"
    part.drop(columns="source" if kind == "ours" else []).to_csv(tmp, index=False)
    os.replace(tmp, path)
