"""The report's landing tables (read by workflow/report/workflow.rst, so in reStructuredText): the answer (the papers'
claims in one line each), the papers' claims in detail, then our readings, each with its verdict per dataset and the
choices under which it stays the same."""
import os
import sys

import pandas as pd

from spectral.choices import choice_verdicts
from spectral.claims_report import verdict_table
from spectral.headline import answer_rows, landing_tables

sys.stderr = open(snakemake.log[0], "w")
grid = pd.read_csv(snakemake.input.grid[0]) if snakemake.input.grid else None
cells = pd.read_csv(snakemake.input.claims)
verdicts = pd.read_csv(snakemake.input.verdicts)
choices = choice_verdicts(verdicts, grid, snakemake.params.connectivity)
table = verdict_table(verdicts, choices, snakemake.params.protocol, snakemake.params.datasets,
                      equivalence_margin=snakemake.params.equivalence_margin)
answer = answer_rows(table, choices, cells, snakemake.params.protocol, snakemake.params.datasets,
                     snakemake.params.equivalence_margin)
for kind, part in landing_tables(table, answer).items():
    path = getattr(snakemake.output, kind)
    tmp = path + ".tmp"
    part.to_csv(tmp, index=False)
    os.replace(tmp, path)
