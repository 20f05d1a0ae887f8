"""Claim verdicts: claims.csv (machine-readable) and claims.md (for people)."""
import sys
from pathlib import Path

import pandas as pd

from spectral.claims import claims_markdown, evaluate_claims

sys.stderr = open(snakemake.log[0], "w")
claims = evaluate_claims(pd.read_csv(snakemake.input.runs), pd.read_csv(snakemake.input.distance),
                         snakemake.params.margin)
claims.to_csv(snakemake.output.csv, index=False)
Path(snakemake.output.md).write_text(claims_markdown(claims))
