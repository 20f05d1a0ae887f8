"""Claim verdicts: claims.csv (cells), claim_verdicts.csv (one per claim) and claims.md (for people)."""
import sys
from pathlib import Path

import pandas as pd

from spectral.claims import evaluate_claims, retraction_gap
from spectral.claims_report import claims_markdown, robustness

sys.stderr = open(snakemake.log[0], "w")
c, pr = snakemake.params.claims, snakemake.params.pruning
runs = pd.read_csv(snakemake.input.runs)
cells, verdicts = evaluate_claims(runs, pd.read_csv(snakemake.input.distance), pd.read_csv(snakemake.input.pruning),
                                  protocols=snakemake.params.protocols, margins=c["margins"],
                                  equivalence_margin=c["equivalence_margin"], alpha=c["alpha"],
                                  pruning_protocol=pr["protocol"], pruning_scheme=pr["scheme"],
                                  pruning_fraction=pr["claim_fraction"])
print(f"linearity check: max |retracted - stacked| telescopic test accuracy = {retraction_gap(runs):.2e}", file=sys.stderr)
robust = None
if "sensitivity" in snakemake.input.keys():
    sens = pd.read_csv(snakemake.input.sensitivity)
    robust = robustness(pd.read_csv(snakemake.input.sensitivity_verdicts), sens, snakemake.params.protocols[0])
cells.to_csv(snakemake.output.csv, index=False)
verdicts.to_csv(snakemake.output.verdicts, index=False)
Path(snakemake.output.md).write_text(claims_markdown(cells, verdicts, robust, c["alpha"]))
