"""The report's landing table (read by workflow/report/workflow.rst, so in reStructuredText): one row per claim of the main protocol, its verdict per dataset and its robustness."""
import os
import sys

import pandas as pd

from spectral.claims_report import verdict_table

sys.stderr = open(snakemake.log[0], "w")
table = verdict_table(pd.read_csv(snakemake.input.verdicts), pd.read_csv(snakemake.input.claims),
                      snakemake.params.protocol, snakemake.params.datasets)
# reStructuredText: |x| is a substitution reference, and C2@1pp would become an e-mail link
table["statement"] = table["statement"].str.replace("|", "\\|")
table["claim"] = table["claim"].str.replace("@", "\\@")
tmp = snakemake.output[0] + ".tmp"
table.to_csv(tmp, index=False)
os.replace(tmp, snakemake.output[0])
