"""Claims C1-C4 per protocol on the sensitivity grid: sensitivity.csv (cells) and sensitivity_verdicts.csv."""
import sys

import pandas as pd

from spectral.claims import evaluate_claims

sys.stderr = open(snakemake.log[0], "w")
c = snakemake.params.claims
cells, verdicts = evaluate_claims(pd.read_csv(snakemake.input.runs), pd.read_csv(snakemake.input.distance),
                                  protocols=snakemake.params.protocols, margins=c["margins"],
                                  equivalence_margin=c["equivalence_margin"], alpha=c["alpha"])
cells.to_csv(snakemake.output.cells, index=False)
verdicts.to_csv(snakemake.output.verdicts, index=False)
