"""Claim verdicts: claims.csv (cells), claim_verdicts.csv (one per claim) and claims.md (for people)."""
import sys
from pathlib import Path

import pandas as pd

from spectral.choices import choice_verdicts
from spectral.claim_cells import evaluate_config, evaluate_grid
from spectral.claims import retraction_gap, summarize_claims
from spectral.claims_report import claims_markdown, robustness

sys.stderr = open(snakemake.log[0], "w")
p = snakemake.params
runs = [pd.read_csv(f) for f in snakemake.input.runs]
distances = [pd.read_csv(f) for f in snakemake.input.distance]
cells, verdicts = evaluate_config(runs, distances,
                                  pd.read_csv(snakemake.input.pruning), protocols=p.protocols, claims=p.claims,
                                  pruning_config=p.pruning)
print(f"linearity check: max |retracted - stacked| telescopic test accuracy = {retraction_gap(runs[0]):.2e}",
      file=sys.stderr)
robust = robustness(cells, p.protocols[0]) if len(p.protocols) > 1 else None
grid = summarize_claims(evaluate_grid(runs, distances, p.grid, p.claims)) if p.grid else None
choices = choice_verdicts(verdicts, grid, p.pruning["connectivity"])
cells.to_csv(snakemake.output.csv, index=False)
verdicts.to_csv(snakemake.output.verdicts, index=False)
Path(snakemake.output.md).write_text(claims_markdown(cells, verdicts, robust, p.claims["alpha"], choices))
